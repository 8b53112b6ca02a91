"""FAISS's OpenMP threads for a block of work: lookups search with one (see SimIndex.LOOKUP_GROUP),
batched searches with what suits them."""
from __future__ import annotations

import faiss


class faiss_threads:
    """Run FAISS with `n` OpenMP threads inside the block (process-wide; restored after)."""

    def __init__(self, n: int):
        self.n = n

    def __enter__(self):
        self.before = faiss.omp_get_max_threads()
        if self.before != self.n:
            faiss.omp_set_num_threads(self.n)
        return self

    def __exit__(self, *exc):
        if self.before != self.n:
            faiss.omp_set_num_threads(self.before)
