"""The self-join's nearest neighbours on an IVF-Flat index, computed list by list (`ivf_self_join`).

`SimIndex.pairs` searches every listing's title among all titles. FAISS's IVF-Flat search scans,
for each query, the `nprobe` lists nearest to it one stored vector at a time (0.63 ms of CPU a
listing at 1M titles, 32 lists). Here a block of queries is first assigned its lists by the same
coarse quantiser, then each list is visited once for all the block's queries that probe it: one
matrix product (BLAS) of those queries against the list's vectors, whose rows go through FAISS's
own top-k heap. The queries meet the same vectors as in the search, so the neighbours are the
search's, except where two candidates' inner products tie within float rounding (the product
sums in another order than FAISS's one-vector kernel).
"""
from __future__ import annotations

import faiss
import numpy as np
from threadpoolctl import threadpool_limits

from ..faiss_threads import faiss_threads


def ivf_lists(index: faiss.IndexIVFFlat) -> list[tuple[np.ndarray, np.ndarray]]:
    """(ids, vectors) of each inverted list, as views of FAISS's memory (valid while `index` is unchanged)."""
    invlists, dim, out = index.invlists, index.d, []
    for lst in range(index.nlist):
        n = invlists.list_size(lst)
        if not n:
            out.append((np.zeros(0, np.int64), np.zeros((0, dim), np.float32)))
            continue
        ids = faiss.rev_swig_ptr(invlists.get_ids(lst), n)
        codes = faiss.rev_swig_ptr(invlists.get_codes(lst), n * index.code_size)
        out.append((ids, codes.view(np.float32).reshape(n, dim)))
    return out


def ivf_self_join(index: faiss.IndexIVFFlat, queries: np.ndarray, k: int, nprobe: int) -> tuple[np.ndarray, np.ndarray]:
    """(similarities, ids) of shape (n, k), best first, as `index.search(queries, k)` with `nprobe`
    lists gives them (inner product; missing neighbours id -1). Blocks of some 30,000 queries keep
    the products large; one thread, as the self-join's pool works meanwhile."""
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    nprobe = max(1, min(nprobe, index.nlist))
    with faiss_threads(1), threadpool_limits(1, user_api="blas"):
        probes = index.quantizer.search(queries, nprobe)[1] if len(queries) else np.zeros((0, nprobe), np.int64)
    return ivf_join(index, queries, probes, k)


def ivf_join(index: faiss.IndexIVFFlat, queries: np.ndarray, probes: np.ndarray,
             k: int) -> tuple[np.ndarray, np.ndarray]:
    """`ivf_self_join` with each query's lists given (`probes`, one row per query, as
    `search_preassigned` takes them)."""
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    lists = ivf_lists(index)
    sims = np.full((len(queries), k), np.finfo(np.float32).min, dtype=np.float32)
    ids = np.full((len(queries), k), -1, dtype=np.int64)
    if not len(queries):
        return sims, ids
    nprobe = probes.shape[1]
    heap = faiss.float_minheap_array_t()  # the k largest inner products, as FAISS's IVF scan keeps them
    heap.k = k
    with faiss_threads(1), threadpool_limits(1, user_api="blas"):
        probed = probes.ravel()
        order = np.argsort(probed, kind="stable")  # the (query, list) probes grouped by list
        bounds = np.searchsorted(probed[order], np.arange(index.nlist + 1))
        for lst in np.flatnonzero(np.diff(bounds)).tolist():
            list_ids, vectors = lists[lst]
            if not len(list_ids):
                continue
            rows = order[bounds[lst]:bounds[lst + 1]] // nprobe
            products = queries[rows] @ vectors.T
            row_sims, row_ids = sims[rows], ids[rows]  # these queries' heaps so far, copied out and back
            heap.nh, heap.val, heap.ids = len(rows), faiss.swig_ptr(row_sims), faiss.swig_ptr(row_ids)
            heap.addn_with_ids(len(list_ids), faiss.swig_ptr(products), faiss.swig_ptr(list_ids), 0)
            sims[rows], ids[rows] = row_sims, row_ids
        heap.nh, heap.val, heap.ids = len(queries), faiss.swig_ptr(sims), faiss.swig_ptr(ids)
        heap.reorder()  # best first
    return sims, ids
