"""The image signal's first-stage descriptor index: exact scan, multi-index hashing and inverted file.

    .venv/bin/python -m benchmarks.orb_index --index demo-marketplace/index [--pictures 40]

Reads the ORB descriptors indexed by a built index (its store's image blobs, the first
``INDEXED_KEYPOINTS`` of every picture), then searches the descriptors of some of its pictures
(as is and mirrored, as a lookup does) in the three structures, built the same way in this run:
time per picture looked up, and how often each agrees with the exact scan on the neighbours
within the vote radius (``INDEX_MATCH_BITS``). Then times `SimIndex.similar` on the index as built.
"""
from __future__ import annotations

import argparse
import os
import random
import time
from pathlib import Path

import faiss
import numpy as np

from simgov.config import BinaryIndexConfig
from simgov.index import SimIndex
from simgov.signals.image import INDEX_MATCH_BITS, INDEXED_KEYPOINTS, ORB_INDEX_FLAT_MAX, _pictures
from simgov.vectors import BinaryIndex


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, required=True, help="a built index folder with pictures (e.g. the demo's)")
    ap.add_argument("--pictures", type=int, default=40, help="pictures looked up")
    ap.add_argument("--lookups", type=int, default=8, help="`similar` calls timed on the index as built")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    faiss.omp_set_num_threads(1)  # as lookups search
    index = SimIndex.open(args.index)
    rows = index.store.connection().execute("SELECT vec_id, blob FROM features WHERE signal = 'image'").fetchall()
    pics = [p for _, blob in rows for p in _pictures(blob)]
    codes = np.concatenate([p.desc[:INDEXED_KEYPOINTS] for p in pics if len(p.desc)])
    rng = random.Random(args.seed)
    probes = rng.sample([p for p in pics if len(p.desc)], min(args.pictures, len(pics)))
    queries = np.ascontiguousarray(np.concatenate([d for p in probes for d in (p.desc, p.mdesc)]))
    print(f"{len(codes)} indexed descriptors from {len(pics)} pictures; {len(probes)} pictures looked up "
          f"({len(queries)} descriptors); load average {os.getloadavg()[0]:.1f}")

    structures = {
        "exact scan": BinaryIndexConfig(kind="flat"),
        "multi-index hashing (16 x 16 bits)": BinaryIndexConfig(kind="multihash", flat_max=1, multihash_tables=16),
        "inverted file (512 lists, 8 probes)": BinaryIndexConfig(kind="ivf",
                                                                 flat_max=min(ORB_INDEX_FLAT_MAX, len(codes) - 1)),
    }
    results = {}
    for name, cfg in structures.items():
        built = BinaryIndex.create(256, len(codes), cfg)
        built.add(np.arange(len(codes), dtype=np.int64), codes)
        built.search(queries[:10], 2)
        started = time.perf_counter()
        dist, ids = built.search(queries, 2)
        results[name] = (dist, ids, (time.perf_counter() - started) / len(probes))
    exact_d, exact_i, exact_t = results["exact scan"]

    def within(d, i, row):
        return set(i[row][d[row] <= INDEX_MATCH_BITS].tolist())

    print(f"{'structure':40} {'ms per picture':>15} {'x exact':>8} {'agrees with exact':>18}")
    for name, (d, i, t) in results.items():
        agree = np.mean([within(d, i, r) == within(exact_d, exact_i, r) for r in range(len(queries))])
        print(f"{name:40} {t * 1000:15.1f} {exact_t / t:8.1f} {agree:18.3f}")

    ids = [r[0] for r in index.store.connection().execute(
        "SELECT item_id FROM items WHERE deleted = 0 AND json_array_length(record, '$.images') > 0").fetchall()]
    chosen = rng.sample(ids, min(args.lookups, len(ids)))
    index.similar(chosen[0], k=20)
    started = time.perf_counter()
    for item_id in chosen:
        index.similar(item_id, k=20)
    per = (time.perf_counter() - started) / len(chosen)
    print(f"SimIndex.similar k=20 on the index as built ({index.signals['image'].orb_index.kind} descriptor index): "
          f"{per * 1000:.0f} ms per lookup over {len(chosen)} items")
    index.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
