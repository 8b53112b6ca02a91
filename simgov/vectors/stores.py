"""Choosing the dense store: signals ask `create_dense_store` / `open_dense_store` for theirs and
never name a backend. `DenseIndex` (FAISS in this process, the default) or `MilvusDenseIndex` (a
Milvus server, `dense_backend = "milvus"`; pymilvus is imported only when that backend is used).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import IndexMismatch
from .base import DenseStore, dense_backend
from .faiss_index import DenseIndex
from .milvus import MilvusDenseIndex, discard

if TYPE_CHECKING:
    from ..config import Config


def create_dense_store(dim: int, expected: int, config: "Config", name: str) -> DenseStore:
    """An empty store for a dense signal called `name`, on the configured backend."""
    if dense_backend(config)[0] == "milvus":
        return MilvusDenseIndex.create(dim, expected, config, name)
    return DenseIndex.create(dim, expected, config.dense_index)


def open_dense_store(folder: Path, name: str, config: "Config") -> DenseStore:
    """What `DenseStore.write(folder, name)` wrote, opened on the configured backend (a FAISS
    generation opened with the Milvus backend is copied into a collection of its own once)."""
    folder = Path(folder)
    if dense_backend(config)[0] == "milvus":
        return MilvusDenseIndex.open(folder, name, config)
    path = folder / f"{name}.faiss"
    if not path.exists() and (folder / f"{name}.milvus.json").exists():
        raise IndexMismatch(f"this index keeps its {name} vectors in Milvus (dense_backend = \"milvus\"); open it "
                            "with --backend milvus --milvus-uri URI, or rebuild it with the faiss backend")
    return DenseIndex.load(path, config.dense_index.hnsw_ef_search, cfg=config.dense_index)


def release_dense_store(store: DenseStore | None) -> None:
    """A store replaced before any generation pointed to it (a rebuild's reset) is dropped
    where it lives outside this process (a fresh Milvus collection); otherwise nothing."""
    if store is not None and getattr(store, "published", True) is False:
        store.drop()


def discard_dense_store(folder: Path, name: str, config: "Config", keep: DenseStore | None) -> None:
    """Release what a superseded generation's store holds outside its folder (a Milvus
    collection), unless it is `keep`, the store in use. FAISS files go with the folder."""
    if (Path(folder) / f"{name}.milvus.json").exists() or dense_backend(config)[0] == "milvus":
        discard(Path(folder), name, config, keep)
