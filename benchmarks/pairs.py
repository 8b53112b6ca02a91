"""`simgov pairs` self-join: SimIndex.pairs over every item vs the FAISS k-NN self-join alone.

    .venv/bin/python -m benchmarks.pairs [--full]

Builds (once) an index of `n` synthetic items with the static title engine. The baseline is the
floor of any self-join here: one batched FAISS search of every title vector for its k+1 nearest
neighbours. The figure is the whole `pairs()` (candidates from every signal, exact scoring of each
unique pair, mutual-best ranks, decisions), consumed as `simgov pairs` consumes it.
"""
from __future__ import annotations

import numpy as np

from benchmarks.common import built_index, load_info, parser, peak_rss_mib, report, size, timer
from simgov.index import SimIndex


def main() -> int:
    ap = parser(__doc__.splitlines()[0], reduced=100_000, full=1_000_000)
    args = ap.parse_args()
    n = size(args)
    index_dir = built_index(args.work, n)
    print(f"index of {n:,} items: {index_dir}; {load_info()}", flush=True)

    index = SimIndex.open(index_dir)
    k = index.config.search.pairs_k
    title = index.signals["title"]
    with timer() as t:
        ids = [r[0] for batch in index.store.iter_live() for r in batch]
        blobs = index.store.blobs("title", ids)
        vectors = np.stack([np.frombuffer(blobs[v], dtype=np.float32) for v in ids])
        for start in range(0, len(vectors), 20_000):
            title.index.search(vectors[start:start + 20_000], k + 1)
    knn_s = t["s"]
    with timer() as t:
        count = matches = 0
        for pair in index.pairs():
            count += 1
            matches += pair.match
    report(args, f"pairs self-join, {n:,} items", t["s"], "s", knn_s, "FAISS title k-NN self-join alone",
           higher_is_better=False,
           note=f"{count:,} pairs, {matches:,} matches; {n / t['s']:,.0f} items/s; peak RSS {peak_rss_mib():,.0f} MiB; "
                f"goal <= 900 s at 1M")
    index.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
