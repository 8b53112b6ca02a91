"""`simgov pairs` self-join: SimIndex.pairs over every item vs the FAISS k-NN self-join alone.

    .venv/bin/python -m benchmarks.pairs [--full] [--config F] [--index DIR] [--no-baseline]

Builds (once) an index of `n` synthetic items with the static title engine (or takes `--index`).
The baseline is the floor of any self-join here: one batched FAISS search of every title vector for
its k+1 nearest neighbours. The figure is the whole `pairs()` (candidates from every signal, exact
scoring of each unique pair, mutual-best ranks, decisions), consumed as `simgov pairs` consumes it.
`--config`: the index opened under that configuration (as `SimIndex.open(create_with=...)`), e.g. a
candidate default with the lexical source and the exact re-scoring on. Each phase's wall time, this
process's CPU time and its peak RSS (sampled from /proc) are printed after the figure.
"""
from __future__ import annotations

import functools
import json
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks.common import built_index, load_info, parser, peak_rss_mib, report, size, timer
from simgov import index as index_module
from simgov.config import Config
from simgov.index import SimIndex
from simgov.pair_scoring import PairScoring


class Phases:
    """Wall time, CPU time of this process and its peak RSS per named phase of `pairs()`."""

    def __init__(self):
        self.rows: list[tuple[str, float, float, float]] = []
        self.returned: dict[str, object] = {}  # each phase's last return value
        self.peak = 0
        self._stop = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, _rss_kib())

    def wrap(self, owner, name: str, label: str) -> None:
        """Time every call of `owner.name` as the phase `label`."""
        inner = getattr(owner, name)

        @functools.wraps(inner)
        def timed(*args, **kwargs):
            self.peak = _rss_kib()
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                self.returned[label] = inner(*args, **kwargs)
                return self.returned[label]
            finally:
                self.rows.append((label, time.perf_counter() - wall, time.process_time() - cpu, self.peak / 1024))
        setattr(owner, name, timed)

    def lines(self) -> str:
        return "\n".join(f"  {label:<12} wall {w:8.1f} s  cpu {c:8.1f} s  peak RSS {r:8,.0f} MiB"
                         for label, w, c, r in self.rows)


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> int:
    ap = parser(__doc__.splitlines()[0], reduced=100_000, full=1_000_000)
    ap.add_argument("--config", type=Path, help="open the index under this configuration (JSON)")
    ap.add_argument("--index", type=Path, help="an index already built (default: built in --work)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the FAISS k-NN baseline")
    args = ap.parse_args()
    n = size(args)
    index_dir = args.index or built_index(args.work, n)
    print(f"index of {n:,} items: {index_dir}; {load_info()}", flush=True)

    config = Config.model_validate(json.loads(args.config.read_text())) if args.config else None
    index = SimIndex.open(index_dir, create_with=config)
    k = index.config.search.pairs_k
    knn_s = None
    if not args.no_baseline:
        title = index.signals["title"]
        with timer() as t:
            ids = [r[0] for batch in index.store.iter_live() for r in batch]
            blobs = index.store.blobs("title", ids)
            vectors = np.stack([np.frombuffer(blobs[v], dtype=np.float32) for v in ids])
            for start in range(0, len(vectors), 20_000):
                title.index.search(vectors[start:start + 20_000], k + 1)
        knn_s = t["s"]
        del ids, blobs, vectors
    phases = Phases()
    phases.wrap(SimIndex, "_candidate_keys", "candidates")
    phases.wrap(index_module, "lexical_extra_keys", "lexical")
    phases.wrap(PairScoring, "finish", "scoring")
    phases.wrap(index_module, "table_from_chunks", "table")
    phases.wrap(SimIndex, "_decide_levels", "decide")
    phases.wrap(index_module, "rescore_pairs", "rescore")
    with timer() as t:
        count = matches = 0
        cpu, wall = time.process_time(), time.perf_counter()
        for pair in index.pairs(reuse=False):  # the self-join itself, not a kept table
            if not count:
                cpu, wall = time.process_time(), time.perf_counter()
            count += 1
            matches += pair.match
        phases.rows.append(("output", time.perf_counter() - wall, time.process_time() - cpu, phases.peak / 1024))
    exact = getattr(index.signals.get("title"), "exact_encoded", 0)
    report(args, f"pairs self-join, {n:,} items", t["s"], "s", knn_s, "FAISS title k-NN self-join alone",
           higher_is_better=False,
           note=f"{count:,} pairs, {matches:,} matches; {n / t['s']:,.0f} items/s; peak RSS {peak_rss_mib():,.0f} MiB "
                f"(pool {peak_rss_mib(children=True):,.0f} MiB); CPU {time.process_time():,.0f} s; "
                f"re-scored {phases.returned.get('rescore', 0):,} pairs, {exact:,} titles encoded exactly; "
                f"goal <= 900 s at 1M")
    print(phases.lines(), flush=True)
    index.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
