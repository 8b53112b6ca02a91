"""Lookup latency by id, in-process: FAISS search alone (the baseline) vs SimIndex.similar.

    .venv/bin/python -m benchmarks.lookup [--full]

Builds (once) an index of `n` synthetic items with the static title engine, then looks up
random item ids one at a time as the API does: p50/p99 latency and lookups/s of
``SimIndex.similar(item_id, k=10)``, next to the FAISS title search alone for the same items
(one query vector, k = candidates_per_signal + 1). Also the ANN recall@10 of the title index
against exact search when the index is approximate (HNSW above dense_index.flat_max items).
"""
from __future__ import annotations

import random

import faiss
import numpy as np

from benchmarks.common import built_index, load_info, parser, report, size, timer
from simgov.faiss_threads import faiss_threads
from simgov.index import SimIndex
from simgov.vectors import DenseIndex


def percentile(values, q):
    return float(np.percentile(np.asarray(values) * 1000, q))


def measure(args, index, picks, vectors, fetch, n, label) -> None:
    """p50/p99 of SimIndex.similar and of the FAISS title search alone (single-threaded, as
    lookups run it), interleaved so that load changes hit both alike."""
    title = index.signals["title"]
    for _ in range(2):  # warm up both paths (page cache, lazy loads)
        index.similar(picks[0][1], k=10)
        title.index.search(vectors[:1], fetch)
    faiss_t, similar_t = [], []
    for i, (vec_id, item_id, _) in enumerate(picks):
        with timer() as t, faiss_threads(1):
            title.index.search(vectors[i:i + 1], fetch)
        faiss_t.append(t["s"])
        with timer() as t:
            index.similar(item_id, k=10)
        similar_t.append(t["s"])
    f50, f99 = percentile(faiss_t, 50), percentile(faiss_t, 99)
    s50, s99 = percentile(similar_t, 50), percentile(similar_t, 99)
    report(args, f"lookup by id, SimIndex.similar k=10, {n:,} items, {label}, p50", s50, "ms", f50,
           "FAISS title search alone, p50", higher_is_better=False)
    report(args, f"lookup by id, SimIndex.similar k=10, {n:,} items, {label}, p99", s99, "ms", f99,
           "FAISS title search alone, p99", higher_is_better=False, note="goal p99 <= 20 ms over HTTP")


def main() -> int:
    ap = parser(__doc__.splitlines()[0], reduced=100_000, full=1_000_000)
    ap.add_argument("--lookups", type=int, default=200)
    args = ap.parse_args()
    n = size(args)
    index_dir = built_index(args.work, n)
    print(f"index of {n:,} items: {index_dir}; {load_info()}", flush=True)

    index = SimIndex.open(index_dir)
    title = index.signals["title"]
    rng = random.Random(5)
    live = [r for batch in index.store.iter_live() for r in batch]
    picks = [live[rng.randrange(len(live))] for _ in range(args.lookups)]
    fetch = index.config.search.candidates_per_signal + 1
    blobs = index.store.blobs("title", [p[0] for p in picks])
    vectors = np.stack([np.frombuffer(blobs[p[0]], dtype=np.float32) for p in picks])

    label = f"{title.index.kind} title index"
    measure(args, index, picks, vectors, fetch, n, label)
    if title.index.kind == "flat":
        # the same lookups with an HNSW title index over the same vectors (what `auto` picks
        # above dense_index.flat_max, e.g. at 1M items), and its recall@10 against the flat one
        flat = title.index
        inner = faiss.downcast_index(flat.index.index)
        ids = faiss.vector_to_array(flat.index.id_map).astype(np.int64)
        cfg = index.config.dense_index.model_copy(update={"kind": "hnsw"})
        with timer() as t:
            hnsw = DenseIndex.create(inner.d, len(ids), cfg)
            hnsw.add(ids, inner.reconstruct_n(0, inner.ntotal))
        print(f"(HNSW M={cfg.hnsw_m} efConstruction={cfg.hnsw_ef_construction} built over {len(ids):,} vectors in "
              f"{t['s']:.0f} s)", flush=True)
        _, want = flat.search(vectors, 10)
        _, got = hnsw.search(vectors, 10)
        recall = float(np.mean([len(set(w) & set(g)) / 10 for w, g in zip(want, got)]))
        report(args, f"title ANN recall@10 (HNSW, efSearch {cfg.hnsw_ef_search}), {n:,} items", recall, "",
               note="against exact search; goal >= 0.98")
        title.index = hnsw
        measure(args, index, picks, vectors, fetch, n, "HNSW title index")
    elif title.index.kind == "hnsw":
        inner = faiss.downcast_index(title.index.index.index)
        exact = faiss.IndexIDMap2(faiss.IndexFlatIP(inner.d))
        exact.add_with_ids(inner.reconstruct_n(0, inner.ntotal), faiss.vector_to_array(title.index.index.id_map))
        _, want = exact.search(vectors, 10)
        _, got = title.index.search(vectors, 10)
        recall = float(np.mean([len(set(w) & set(g)) / 10 for w, g in zip(want, got)]))
        report(args, f"title ANN recall@10 (HNSW, efSearch {inner.hnsw.efSearch}), {n:,} items", recall, "",
               note="against exact search; goal >= 0.98")
    index.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
