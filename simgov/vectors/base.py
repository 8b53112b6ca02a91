"""What every dense vector store promises (`DenseStore`), and what the FAISS and Milvus stores share:
the padded results shape, the IVF-PQ layout, and which backend the config names.

Ids are int64 chosen by the caller (signals encode an item's vector id and a sub-index in them).
Deleted or replaced vectors stay in approximate indexes until the next rebuild; callers filter
results by liveness, so removal is an optimisation, never a correctness requirement.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from ..config import BACKEND_ENV, MILVUS_URI_ENV, DenseIndexConfig, env
from ..errors import IndexMismatch

if TYPE_CHECKING:
    from ..config import Config


@runtime_checkable
class DenseStore(Protocol):
    """Where a dense signal's vectors are kept and searched. The results contract, for every
    implementation: `search` returns (similarities, ids), both of shape (n, k), best first, inner
    product of normalised vectors (cosine), of shape (n, k') with k' <= k; a row with fewer
    hits is padded with id -1.
    `add` inserts or replaces by id; ids absent from a `remove` are ignored."""

    kind: str
    #: candidates to fetch per wanted neighbour (above 1 for compressed codes whose order is rough;
    #: callers rank them exactly from the stored vectors)
    oversample: int

    @property
    def ntotal(self) -> int: ...

    @property
    def dim(self) -> int: ...

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    def remove(self, ids: np.ndarray) -> None: ...

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...

    def search_ids(self, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Search with the stored vectors of these ids (a row of -1 for an id not stored)."""
        ...

    def write(self, folder: Path, name: str) -> list[str]:
        """Persist into a generation folder; returns the file names written."""
        ...


def padded_results(sims: list[np.ndarray], ids: list[np.ndarray], k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-row hits as (n, k) arrays, best first, short rows padded with id -1."""
    out_s = np.full((len(ids), k), np.finfo(np.float32).min, dtype=np.float32)
    out_i = np.full((len(ids), k), -1, dtype=np.int64)
    for row, (s, i) in enumerate(zip(sims, ids)):
        out_s[row, :len(s)], out_i[row, :len(i)] = s[:k], i[:k]
    return out_s, out_i


def ivfpq_layout(dim: int, n: int, n_train: int, cfg: DenseIndexConfig) -> tuple[int, int, int]:
    """(lists, sub-quantisers, bits per code) of an IVF-PQ index for about `n` vectors trained on
    `n_train`: ~4 sqrt(n) lists with at least 39 training vectors each, dim/8 one-byte codes
    (fewer bits when the sample is below the ~10k vectors that 256 centroids need)."""
    n_train = max(1, n_train)
    nlist = cfg.ivf_nlist or int(4 * math.sqrt(max(1, n)))
    nlist = max(1, min(nlist, n_train // 39 or 1, 1 << 16))
    m = cfg.pq_m or max(1, dim // 8)
    while dim % m:
        m -= 1
    nbits = 8 if n_train >= 39 * 256 else max(1, min(8, int(math.log2(n_train / 39)) if n_train >= 78 else 1))
    return nlist, m, nbits


def dense_backend(config: "Config") -> tuple[str, str | None]:
    """(backend, Milvus URI): the config's, unless $SIMGOV_DENSE_BACKEND / $SIMGOV_MILVUS_URI say otherwise."""
    backend = env(BACKEND_ENV) or config.dense_backend
    if backend not in ("faiss", "milvus"):
        raise IndexMismatch(f"${BACKEND_ENV} must be faiss or milvus, not {backend!r}")
    return backend, env(MILVUS_URI_ENV) or config.milvus_uri
