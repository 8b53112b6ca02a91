"""Dense vectors served by Milvus (`dense_backend = "milvus"`, `pip install 'simgov[milvus]'`).

`MilvusDenseIndex` implements `simgov.vectors.base.DenseStore` over one Milvus collection with two
fields: `id` (INT64 primary key, the caller's id, e.g. an item's vec_id) and `vector`
(FLOAT_VECTOR, metric IP on normalised vectors, i.e. cosine, exactly like the FAISS store).
Writes are upserts, so replaying the store's writes after a restart, or in every API worker, is
idempotent; collections are created with Strong consistency so a search sees the writes before it.

Collections follow the index's generations (simgov/index.py): a rebuild writes into a fresh
collection, the generation folder holds a pointer to it (`<name>.milvus.json`), and the collection
is dropped when its generation is superseded (`discard`). A generation built with FAISS and opened
with the Milvus backend is copied into a collection named after that generation, once, by
whichever process opens it first; the others find it complete and use it.

The URI is a Milvus server (``http://host:19530``) or a Milvus Lite file (``/path/milvus.db``,
an embedded server for one machine: what the tests use). A token, where the server wants one,
comes from ``$SIMGOV_MILVUS_TOKEN``.
"""
from __future__ import annotations

import atexit
import hashlib
import json
import os
import threading
import time
from pathlib import Path

import numpy as np

from ..config import MILVUS_TOKEN_ENV, Config, env
from ..errors import IndexMismatch, SimgovError
from .base import dense_backend, ivfpq_layout, padded_results
from .faiss_index import DenseIndex

POINTER = "{name}.milvus.json"
BATCH = 2000  # rows per upsert request (384 floats each: ~3 MB, well under Milvus's request limit)

_clients: dict[str, object] = {}
_clients_lock = threading.Lock()


def _require_pymilvus():
    try:
        import pymilvus  # noqa: F401
    except ImportError:
        raise SimgovError("the Milvus backend needs pymilvus: pip install 'simgov[milvus]'") from None
    return pymilvus


def client(uri: str):
    """One MilvusClient per URI and process (Milvus Lite allows one process per file)."""
    pymilvus = _require_pymilvus()
    with _clients_lock:
        found = _clients.get(uri)
        if found is None:
            token = env(MILVUS_TOKEN_ENV, "")
            try:
                found = pymilvus.MilvusClient(uri, token=token) if token else pymilvus.MilvusClient(uri)
            except Exception as exc:  # pymilvus raises its own MilvusException and gRPC errors
                raise SimgovError(f"cannot reach Milvus at {uri}: {exc}") from None
            _clients[uri] = found
        return found


def close_all() -> None:
    """Close every client of this process (releases a Milvus Lite file for another process)."""
    with _clients_lock:
        for c in _clients.values():
            try:
                c.close()
            except Exception:
                pass
        _clients.clear()


atexit.register(close_all)


def _uri(config: Config) -> str:
    uri = dense_backend(config)[1]
    if not uri:
        raise SimgovError("the Milvus backend needs a URI: --milvus-uri URI, milvus_uri in the config, "
                          "or $SIMGOV_MILVUS_URI")
    return uri


def _index_spec(dim: int, expected: int, config: Config) -> tuple[str, dict, dict]:
    """(Milvus index type, build params, search params) from the dense_index settings: the same
    choice as the FAISS store (exact up to flat_max, HNSW above, IVF-PQ when asked for)."""
    cfg = config.dense_index
    kind = cfg.kind if cfg.kind != "auto" else ("flat" if expected <= cfg.flat_max else "hnsw")
    if kind == "flat":
        return "FLAT", {}, {}
    if kind == "hnsw":
        return "HNSW", {"M": cfg.hnsw_m, "efConstruction": cfg.hnsw_ef_construction}, {"ef": cfg.hnsw_ef_search}
    nlist, m, _ = ivfpq_layout(dim, expected, expected, cfg)
    return "IVF_PQ", {"nlist": nlist, "m": m, "nbits": 8}, {"nprobe": cfg.ivf_nprobe}


class MilvusDenseIndex:
    """A `DenseStore` in one Milvus collection (see the module docstring)."""

    def __init__(self, uri: str, collection: str, dim: int, kind: str, search_params: dict, oversample: int = 1):
        self.uri = uri
        self.collection = collection
        self._dim = dim
        self.kind = kind
        self.search_params = search_params
        self.oversample = oversample
        self._count: int | None = None
        self.published = True  # a generation points to it; False for a fresh collection until `write`

    @property
    def client(self):
        return client(self.uri)

    # -- making and finding collections -------------------------------------------------------
    @classmethod
    def _make(cls, uri: str, collection: str, dim: int, expected: int, config: Config) -> "MilvusDenseIndex":
        from pymilvus import DataType

        c = client(uri)
        if c.has_collection(collection):
            c.drop_collection(collection)
        index_type, build, search = _index_spec(dim, expected, config)
        schema = c.create_schema(auto_id=False, enable_dynamic_field=False,
                                 description="simgov dense vectors (id = the item's vec_id)")
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        params = c.prepare_index_params()
        params.add_index(field_name="vector", index_type=index_type, metric_type="IP", params=build)
        c.create_collection(collection, schema=schema, index_params=params, consistency_level="Strong")
        oversample = config.dense_index.ivf_refine if index_type == "IVF_PQ" else 1
        store = cls(uri, collection, dim, index_type.lower(), search, oversample)
        store._count = 0
        store.published = False
        return store

    @classmethod
    def _attach(cls, uri: str, collection: str, dim: int, config: Config) -> "MilvusDenseIndex":
        c = client(uri)
        if not c.has_collection(collection):
            raise IndexMismatch(f"Milvus at {uri} has no collection {collection} (this index generation's "
                                "vectors); rebuild the index or check --milvus-uri")
        index_type = "FLAT"
        try:
            index_type = c.describe_index(collection, "vector").get("index_type", "FLAT")
        except Exception:
            pass
        search = {"HNSW": {"ef": config.dense_index.hnsw_ef_search}}.get(
            index_type, {"nprobe": config.dense_index.ivf_nprobe} if index_type.startswith("IVF") else {})
        oversample = config.dense_index.ivf_refine if index_type == "IVF_PQ" else 1
        c.load_collection(collection)  # a reopened Milvus Lite file has its collections released
        return cls(uri, collection, dim, index_type.lower(), search, oversample)

    @classmethod
    def create(cls, dim: int, expected: int, config: Config, name: str) -> "MilvusDenseIndex":
        """A fresh, empty collection for a new generation of this index."""
        collection = f"{config.milvus_collection}_{name}_b{time.time_ns():x}{os.getpid():x}"
        return cls._make(_uri(config), collection, dim, expected, config)

    @classmethod
    def open(cls, folder: Path, name: str, config: Config) -> "MilvusDenseIndex":
        """The collection a generation folder points to; a FAISS generation is copied in once."""
        uri = _uri(config)
        pointer = folder / POINTER.format(name=name)
        if pointer.exists():
            meta = json.loads(pointer.read_text(encoding="utf-8"))
            return cls._attach(uri, meta["collection"], int(meta["dim"]), config)
        faiss_file = folder / f"{name}.faiss"
        if not faiss_file.exists():
            raise IndexMismatch(f"no {name} vectors in {folder} (neither {pointer.name} nor {faiss_file.name})")
        source = DenseIndex.load(faiss_file, cfg=config.dense_index)
        collection = imported_name(folder, name, config)
        c = client(uri)
        if c.has_collection(collection):
            store = cls._attach(uri, collection, source.dim, config)
            if store.ntotal == source.ntotal:
                return store
        store = cls._make(uri, collection, source.dim, source.ntotal, config)
        store.published = True  # named after its generation
        for ids, vectors in source.vectors():
            store.add(ids, vectors)
        # copies of generations that are gone (superseded since) are dropped
        live = {imported_name(g, name, config) for g in folder.parent.iterdir() if g.is_dir()}
        prefix = f"{config.milvus_collection}_{name}_g"
        for other in c.list_collections():
            if other.startswith(prefix) and other not in live:
                c.drop_collection(other)
        return store

    # -- DenseStore ---------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return self._dim

    @property
    def ntotal(self) -> int:
        if self._count is None:
            rows = self.client.query(self.collection, filter="", output_fields=["count(*)"], consistency_level="Strong")
            self._count = int(rows[0]["count(*)"]) if rows else 0
        return self._count

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        for start in range(0, len(ids), BATCH):
            rows = [{"id": int(i), "vector": v} for i, v in zip(ids[start:start + BATCH], vectors[start:start + BATCH])]
            self.client.upsert(self.collection, rows)
        if len(ids):
            self._count = None  # an upsert may replace: count again when asked

    def remove(self, ids: np.ndarray) -> None:
        ids = [int(i) for i in np.asarray(ids, dtype=np.int64)]
        if ids:
            self.client.delete(self.collection, ids=ids)
            self._count = None

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        k = max(1, min(k, 16384))  # Milvus's topk limit
        if not len(vectors):
            return np.zeros((0, k), np.float32), np.zeros((0, k), np.int64)
        hits = self.client.search(self.collection, data=list(vectors), limit=k, output_fields=[],
                                  search_params={"metric_type": "IP", "params": self.search_params},
                                  consistency_level="Strong")
        sims = [np.array([h["distance"] for h in row], dtype=np.float32) for row in hits]
        ids = [np.array([h["id"] for h in row], dtype=np.int64) for row in hits]
        return padded_results(sims, ids, k)

    def search_ids(self, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        ids = [int(i) for i in np.asarray(ids, dtype=np.int64)]
        rows = self.client.get(self.collection, ids=ids, output_fields=["vector"]) if ids else []
        got = {int(r["id"]): r["vector"] for r in rows}
        out_s, out_i = padded_results([np.zeros(0, np.float32)] * len(ids), [np.zeros(0, np.int64)] * len(ids), k)
        present = [n for n, i in enumerate(ids) if i in got]
        if present:
            sims, hits = self.search(np.array([got[ids[n]] for n in present], dtype=np.float32), k)
            out_s[present], out_i[present] = sims, hits
        return out_s, out_i

    def write(self, folder: Path, name: str) -> list[str]:
        try:
            self.client.flush(self.collection)  # sealed and persisted before the generation is published
        except Exception:
            pass  # Milvus Lite persists on write and may not offer flush
        self.published = True
        pointer = POINTER.format(name=name)
        data = {"collection": self.collection, "dim": self.dim, "kind": self.kind, "count": self.ntotal}
        path = Path(folder) / pointer
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        return [pointer]

    def drop(self) -> None:
        if self.client.has_collection(self.collection):
            self.client.drop_collection(self.collection)


def imported_name(folder: Path, name: str, config: Config) -> str:
    """The collection a FAISS generation is copied into: named by the generation, so every API
    replica opening it finds the same one."""
    digest = hashlib.sha1(Path(folder).name.encode()).hexdigest()[:16]
    return f"{config.milvus_collection}_{name}_g{digest}"


def discard(folder: Path, name: str, config: Config, keep) -> None:
    """Drop the collection of a superseded generation unless it is the one in use (`keep`)."""
    pointer = folder / POINTER.format(name=name)
    try:
        if pointer.exists():
            collection = json.loads(pointer.read_text(encoding="utf-8"))["collection"]
        elif dense_backend(config)[0] == "milvus":
            collection = imported_name(folder, name, config)
        else:
            return
        if isinstance(keep, MilvusDenseIndex) and keep.collection == collection:
            return
        c = client(_uri(config))
        if c.has_collection(collection):
            c.drop_collection(collection)
    except (OSError, ValueError, KeyError, SimgovError):
        pass  # an unreachable server or a torn pointer must not fail a publish; the collection stays
