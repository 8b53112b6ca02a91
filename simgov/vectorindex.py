"""FAISS index wrappers: one dense and one binary kind, chosen by size and persisted as files.

Ids are int64 chosen by the caller (signals encode an item's vector id and a sub-index in them).
Deleted or replaced vectors stay in approximate indexes until the next rebuild; callers filter
results by liveness, so removal is an optimisation, never a correctness requirement.
"""
from __future__ import annotations

import os
from pathlib import Path

import faiss
import numpy as np

from .config import BinaryIndexConfig, DenseIndexConfig


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DenseIndex:
    """Normalised float vectors searched by inner product (cosine): exact when small, HNSW when large."""

    def __init__(self, index: faiss.Index, kind: str):
        self.index = index
        self.kind = kind

    @classmethod
    def create(cls, dim: int, expected: int, cfg: DenseIndexConfig) -> "DenseIndex":
        kind = cfg.kind
        if kind == "auto":
            kind = "flat" if expected <= cfg.flat_max else "hnsw"
        if kind == "flat":
            inner = faiss.IndexFlatIP(dim)
        else:
            inner = faiss.IndexHNSWFlat(dim, cfg.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = cfg.hnsw_ef_construction
            inner.hnsw.efSearch = cfg.hnsw_ef_search
        return cls(faiss.IndexIDMap2(inner), kind)

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray) -> None:
        if self.kind == "flat" and len(ids):
            self.index.remove_ids(np.asarray(ids, dtype=np.int64))

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(similarities, ids) of shape (n, k); missing neighbours have id -1."""
        k = max(1, min(k, max(self.ntotal, 1)))
        return self.index.search(np.ascontiguousarray(vectors, dtype=np.float32), k)

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))
        _fsync_file(path)

    @classmethod
    def load(cls, path: Path, ef_search: int | None = None) -> "DenseIndex":
        index = faiss.read_index(str(path))
        inner = faiss.downcast_index(index.index) if hasattr(index, "index") else index
        kind = "hnsw" if isinstance(inner, faiss.IndexHNSW) else "flat"
        if kind == "hnsw" and ef_search:
            inner.hnsw.efSearch = ef_search
        return cls(index, kind)


class BinaryIndex:
    """Bit-string hashes searched by Hamming distance: exact scan, or multi-index hashing when large."""

    def __init__(self, index: faiss.IndexBinary, kind: str):
        self.index = index
        self.kind = kind

    @classmethod
    def create(cls, bits: int, expected: int, cfg: BinaryIndexConfig) -> "BinaryIndex":
        kind = cfg.kind
        if kind == "auto":
            kind = "flat" if expected <= cfg.flat_max else "multihash"
        if kind == "flat":
            inner = faiss.IndexBinaryFlat(bits)
        else:
            inner = faiss.IndexBinaryMultiHash(bits, cfg.multihash_tables, bits // cfg.multihash_tables)
        return cls(faiss.IndexBinaryIDMap2(inner), kind)

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    def add(self, ids: np.ndarray, codes: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(codes, dtype=np.uint8), np.asarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray) -> None:
        if self.kind == "flat" and len(ids):
            self.index.remove_ids(np.asarray(ids, dtype=np.int64))

    def search(self, codes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(Hamming distances, ids) of shape (n, k); missing neighbours have id -1."""
        k = max(1, min(k, max(self.ntotal, 1)))
        return self.index.search(np.ascontiguousarray(codes, dtype=np.uint8), k)

    def save(self, path: Path) -> None:
        faiss.write_index_binary(self.index, str(path))
        _fsync_file(path)

    @classmethod
    def load(cls, path: Path) -> "BinaryIndex":
        index = faiss.read_index_binary(str(path))
        inner = faiss.downcast_IndexBinary(index.index) if hasattr(index, "index") else index
        kind = "multihash" if isinstance(inner, faiss.IndexBinaryMultiHash) else "flat"
        return cls(index, kind)
