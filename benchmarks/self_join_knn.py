"""Title k-NN self-join on IVF-Flat: one IVF search per vector against list blocks multiplied at once.

    .venv/bin/python -m benchmarks.self_join_knn [-n 300000] [--probes 72 96]

The self-join's queries are the indexed vectors themselves, so the members of one inverted list can
be searched as one block: multiplied (BLAS, `faiss.knn`) against the members of the `probe` lists
whose centroids are nearest that list's centroid. The figure is that block join's CPU per vector
and recall@k+1 against an exact search on a 1,000-vector sample; the baseline is the index's own
search (nprobe of the config) of the same sample. Measured at 300k (2,190 lists, 256 dims) on the
2-core machine under load 7-11, the block join needed probe 96 to come near the search's recall
(0.984 against 0.989) and then cost 0.39-0.41 ms of CPU a vector against the search's 0.39-0.65 ms
(two runs): at most 1.6x less, with fewer true neighbours, so `pairs` keeps the search. Scanning
per block the union of its members' own probes would give the search's neighbours exactly, but
that union is about ten times the probes (489 lists for a 217-member list at 48 probes).
"""
from __future__ import annotations

import time
from typing import Iterator

import faiss
import numpy as np

from benchmarks.common import built_index, load_info, parser, report, size
from simgov.config import Config

SAMPLE = 1000


def ivf_lists(index: faiss.IndexIVFFlat) -> list[tuple[np.ndarray, np.ndarray]]:
    """(ids, vectors) of each inverted list of an IVF-Flat index (copied out of FAISS)."""
    invlists, dim = index.invlists, index.d
    out = []
    for lst in range(index.nlist):
        n = invlists.list_size(lst)
        ids = faiss.rev_swig_ptr(invlists.get_ids(lst), n).copy() if n else np.zeros(0, np.int64)
        codes = faiss.rev_swig_ptr(invlists.get_codes(lst), n * index.code_size).copy() if n else np.zeros(0, np.uint8)
        out.append((ids, codes.view(np.float32).reshape(n, dim)))
    return out


def block_join(index: faiss.IndexIVFFlat, lists, k: int, probe: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(query ids, neighbour ids (n, k)) per inverted list: its members' k best among the members
    of the `probe` lists nearest its centroid."""
    centroids = index.quantizer.reconstruct_n(0, index.nlist)
    _, near = index.quantizer.search(centroids, min(probe, index.nlist))
    for lst, (ids, vectors) in enumerate(lists):
        if not len(ids):
            continue
        probed = [lists[p] for p in near[lst].tolist() if p >= 0 and len(lists[p][0])]
        cand_ids = np.concatenate([p[0] for p in probed])
        want = min(k, len(cand_ids))
        _, rows = faiss.knn(vectors, np.concatenate([p[1] for p in probed]), want, faiss.METRIC_INNER_PRODUCT)
        yield ids, np.where(rows >= 0, cand_ids[np.maximum(rows, 0)], -1)


def recall(found: dict[int, np.ndarray], exact: dict[int, np.ndarray], k: int) -> float:
    return float(np.mean([len(set(found[q].tolist()) & set(exact[q].tolist())) / k for q in exact]))


def main() -> int:
    ap = parser(__doc__.splitlines()[0], reduced=300_000, full=1_000_000)
    ap.add_argument("--probes", type=int, nargs="+", default=[72, 96], help="lists joined per list block")
    args = ap.parse_args()
    n = size(args)
    index_dir = built_index(args.work, n)
    gen = sorted(index_dir.glob("indexes/gen-*"))[-1]
    index = faiss.read_index(str(gen / "title.faiss"))
    if not isinstance(index, faiss.IndexIVFFlat):
        raise SystemExit(f"the title index of {n:,} items is not IVF-Flat (IVF starts above dense_index.flat_max)")
    config = Config()
    index.nprobe = config.dense_index.ivf_flat_nprobe
    k = config.search.pairs_k + 1
    print(f"{n:,} titles, {index.nlist:,} lists, {index.d} dims; {load_info()}", flush=True)

    lists = ivf_lists(index)
    ids = np.concatenate([ids for ids, _ in lists])
    vectors = np.concatenate([v for _, v in lists])
    sample = np.random.default_rng(0).choice(len(ids), min(SAMPLE, len(ids)), replace=False)
    _, rows = faiss.knn(vectors[sample], vectors, k, faiss.METRIC_INNER_PRODUCT)
    exact = dict(zip(ids[sample].tolist(), ids[rows]))
    cpu = time.process_time()
    _, hits = index.search(vectors[sample], k)
    search_ms = (time.process_time() - cpu) / len(sample) * 1e3
    search_recall = recall(dict(zip(ids[sample].tolist(), hits)), exact, k)
    for probe in args.probes:
        cpu, found = time.process_time(), {}
        for qids, neighbours in block_join(index, lists, k, probe):
            found.update((q, row) for q, row in zip(qids.tolist(), neighbours) if q in exact)
        block_ms = (time.process_time() - cpu) / len(ids) * 1e3
        report(args, f"title k-NN self-join by list blocks ({probe} lists), {n:,} items, CPU a vector", block_ms, "ms",
               search_ms, f"IVF search, nprobe {index.nprobe}", higher_is_better=False,
               note=f"recall@{k} {recall(found, exact, k):.4f} against the search's {search_recall:.4f} "
                    f"(exact on {len(sample):,} vectors); {load_info()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
