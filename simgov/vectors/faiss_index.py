"""FAISS index wrappers: one dense and one binary kind, chosen by size and persisted as files.

`DenseIndex` is the in-process `DenseStore` (simgov/vectors/base.py); `BinaryIndex` holds the
bit-string fingerprints (PDQ, ORB) that only FAISS serves.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import faiss
import numpy as np

from ..config import BinaryIndexConfig, DenseIndexConfig
from .base import ivfpq_layout
from .self_join import ivf_self_join

#: k-means rounds that train IVF-Flat lists (FAISS's default is 25; with 10, 1M titles gave recall@10
#: 0.993 at 48 probes)
IVF_TRAIN_ITERATIONS = 10


class DenseIndex:
    """Normalised float vectors searched by inner product (cosine): exact when small, IVF-Flat when
    large (or HNSW when asked for); IVF-PQ (compressed, trained on a sample) when the ray engine
    builds a large index.

    IVF-Flat needs its lists trained before it holds a vector, and a build adds its vectors one
    batch at a time: until the first search, save or copy, an "ivf" index only keeps what it is
    given (`pending`), then trains its lists on a sample spread over all of it and adds it in bulk.
    Bulk adds cost a nearest-list search per vector, where HNSW insertion costs a graph search
    (about 770 s of 1M vectors' build)."""

    def __init__(self, index: faiss.Index | None, kind: str, oversample: int = 1, *,
                 cfg: DenseIndexConfig | None = None, dim: int = 0):
        self.index = index
        self.kind = kind
        self.oversample = oversample if kind == "ivfpq" else 1
        self.cfg = cfg or DenseIndexConfig()
        self._dim = int(index.d) if index is not None else dim
        #: an untrained "ivf" index's vectors, as (ids, vectors) per add, in order
        self.pending: list[tuple[np.ndarray, np.ndarray]] = []

    @classmethod
    def create(cls, dim: int, expected: int, cfg: DenseIndexConfig) -> "DenseIndex":
        kind = cfg.kind
        if kind == "auto":
            kind = "flat" if expected <= cfg.flat_max else "ivf"
        if kind == "ivfpq":
            # IVF-PQ needs its training sample before the first vector: the ray engine makes it
            # with `train_ivfpq`. A local rebuild (one batch at a time) builds HNSW instead; an
            # IVF-PQ index it loads is appended to as it is.
            kind = "hnsw"
        if kind == "ivf":
            return cls(None, kind, cfg=cfg, dim=dim)  # trained once it has its vectors
        if kind == "flat":
            inner = faiss.IndexFlatIP(dim)
        else:
            inner = faiss.IndexHNSWFlat(dim, cfg.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = cfg.hnsw_ef_construction
            inner.hnsw.efSearch = cfg.hnsw_ef_search
        return cls(faiss.IndexIDMap2(inner), kind)

    @property
    def ntotal(self) -> int:
        if self.index is None:
            return sum(len(ids) for ids, _ in self.pending)
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        return self._dim

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if not len(ids):
            return
        vectors, ids = np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64)
        if self.index is None:
            self.pending.append((ids.copy(), vectors.copy()))
        else:
            self.index.add_with_ids(vectors, ids)

    def remove(self, ids: np.ndarray) -> None:
        if not len(ids):
            return
        ids = np.asarray(ids, dtype=np.int64)
        if self.index is None:
            self.pending = [(held[keep], vectors[keep]) for held, vectors in self.pending
                            if (keep := ~np.isin(held, ids)).any()]
        elif self.kind in ("flat", "ivf", "ivfpq"):
            self.index.remove_ids(ids)

    def _train(self) -> None:
        """An "ivf" index's lists, trained on an even sample of what it was given, which then
        moves in batch by batch (so that the vectors are not held twice). Up to flat_max
        vectors it becomes an exact index instead: lists are of no use to so few."""
        if self.index is not None:
            return
        held = sum(len(ids) for ids, _ in self.pending)
        if held <= self.cfg.flat_max:
            self.index, self.kind = faiss.IndexIDMap2(faiss.IndexFlatIP(self._dim)), "flat"
        else:
            n_train = min(held, self.cfg.ivf_train_size)
            nlist = ivfpq_layout(self._dim, held, n_train, self.cfg)[0]
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(self._dim), self._dim, nlist, faiss.METRIC_INNER_PRODUCT)
            index.cp.niter = IVF_TRAIN_ITERATIONS
            index.train(self._sample(held, n_train))
            index.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct by id (search_ids)
            index.nprobe = self.cfg.ivf_flat_nprobe
            self.index = index
        while self.pending:
            ids, vectors = self.pending.pop(0)
            self.index.add_with_ids(vectors, ids)

    def _sample(self, held: int, size: int) -> np.ndarray:
        """`size` pending vectors evenly spread over all `held` of them, in order."""
        wanted = np.unique(np.linspace(0, held - 1, size).round().astype(np.int64))
        parts, start = [], 0
        for _, vectors in self.pending:
            rows = wanted[(wanted >= start) & (wanted < start + len(vectors))] - start
            parts.append(vectors[rows])
            start += len(vectors)
        return np.concatenate(parts)

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(similarities, ids) of shape (n, k); missing neighbours have id -1."""
        self._train()
        k = max(1, min(k, max(self.ntotal, 1)))
        return self.index.search(np.ascontiguousarray(vectors, dtype=np.float32), k)

    def self_join_search(self, vectors: np.ndarray, k: int, nprobe: int) -> tuple[np.ndarray, np.ndarray]:
        """`search` for a self-join's block of queries, an IVF-Flat index scanning `nprobe` lists:
        there list by list (`ivf_self_join`), about 4x less CPU than the search. Other kinds search.
        Not thread-safe: the caller holds the index's lock."""
        self._train()
        if self.kind != "ivf":
            return self.search(vectors, k)
        return ivf_self_join(self.index, vectors, max(1, min(k, max(self.ntotal, 1))), nprobe)

    @contextmanager
    def probing(self, nprobe: int):
        """Searches inside the block scan `nprobe` lists of an IVF-Flat index (other kinds: as
        they are). Not thread-safe: the caller holds the index's lock."""
        self._train()
        if self.kind != "ivf" or self.index is None:
            yield
            return
        before = self.index.nprobe
        self.index.nprobe = nprobe
        try:
            yield
        finally:
            self.index.nprobe = before

    def _reconstruct(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(stored vectors, mask of ids found); IVF-PQ gives its decoded (approximate) vectors."""
        self._train()
        if self.kind in ("ivf", "ivfpq") and self.index.direct_map.type != faiss.DirectMap.Hashtable:
            self.index.set_direct_map_type(faiss.DirectMap.Hashtable)
        found = np.zeros(len(ids), dtype=bool)
        out = np.zeros((len(ids), self.dim), dtype=np.float32)
        for n, ident in enumerate(np.asarray(ids, dtype=np.int64).tolist()):
            try:
                out[n] = self.index.reconstruct(ident)
                found[n] = True
            except RuntimeError:  # not stored
                pass
        return out, found

    def search_ids(self, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        vectors, found = self._reconstruct(ids)
        sims, hits = self.search(vectors, k) if len(ids) else (np.zeros((0, k), np.float32), np.zeros((0, k), np.int64))
        sims[~found], hits[~found] = np.finfo(np.float32).min, -1
        return sims, hits

    def vectors(self, batch: int = 65536):
        """Every stored (ids, vectors) in batches, for a copy into another store."""
        self._train()
        if self.kind in ("ivf", "ivfpq"):
            invlists = self.index.invlists
            ids = np.concatenate([faiss.rev_swig_ptr(invlists.get_ids(lst), invlists.list_size(lst)).copy()
                                  for lst in range(self.index.nlist)] or [np.zeros(0, np.int64)])
            for start in range(0, len(ids), batch):
                part = ids[start:start + batch]
                yield part, self._reconstruct(part)[0]
            return
        all_ids = faiss.vector_to_array(self.index.id_map)
        inner = faiss.downcast_index(self.index.index)
        for start in range(0, len(all_ids), batch):
            stop = min(len(all_ids), start + batch)
            yield all_ids[start:stop], inner.reconstruct_n(start, stop - start)

    def write(self, folder: Path, name: str) -> list[str]:
        self.save(Path(folder) / f"{name}.faiss")
        return [f"{name}.faiss"]

    def save(self, path: Path) -> None:
        self._train()
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, ef_search: int | None = None, *, cfg: DenseIndexConfig | None = None) -> "DenseIndex":
        index = faiss.read_index(str(path))
        cfg = cfg or DenseIndexConfig()
        if isinstance(index, faiss.IndexIVFFlat):
            index.nprobe = cfg.ivf_flat_nprobe
            return cls(index, "ivf", cfg=cfg)
        if isinstance(index, faiss.IndexIVF):
            index.nprobe = cfg.ivf_nprobe
            return cls(index, "ivfpq", cfg.ivf_refine, cfg=cfg)
        inner = faiss.downcast_index(index.index) if hasattr(index, "index") else index
        kind = "hnsw" if isinstance(inner, faiss.IndexHNSW) else "flat"
        if kind == "hnsw" and ef_search:
            inner.hnsw.efSearch = ef_search
        return cls(index, kind, cfg=cfg)

    # -- IVF-PQ, built in pieces (simgov/build/ray_engine.py) --------------------------------------
    @classmethod
    def train_ivfpq(cls, sample: np.ndarray, expected: int, cfg: DenseIndexConfig) -> "DenseIndex":
        """An empty IVF-PQ index trained on `sample`: the shared quantiser every shard is added with."""
        sample = np.ascontiguousarray(sample, dtype=np.float32)
        dim = sample.shape[1]
        nlist, m, nbits = ivfpq_layout(dim, max(expected, len(sample)), len(sample), cfg)
        index = faiss.IndexIVFPQ(faiss.IndexFlatIP(dim), dim, nlist, m, nbits, faiss.METRIC_INNER_PRODUCT)
        index.train(sample)
        index.nprobe = cfg.ivf_nprobe
        return cls(index, "ivfpq", cfg.ivf_refine, cfg=cfg)

    def empty_copy(self) -> "DenseIndex":
        """The same trained quantiser with no vectors (what a shard is added to)."""
        index = faiss.deserialize_index(faiss.serialize_index(self.index))
        index.reset()
        return DenseIndex(index, self.kind, self.oversample, cfg=self.cfg)

    def merge_from(self, other: "DenseIndex") -> None:
        """Move another shard's vectors in (both trained with the same quantiser)."""
        if self.kind != "ivfpq" or other.kind != "ivfpq":
            raise ValueError("only IVF-PQ shards are merged")
        self.index.merge_from(other.index, 0)


class BinaryIndex:
    """Bit-string hashes searched by Hamming distance: exact scan, multi-index hashing, or an inverted
    file (IVF) when large.

    An "ivf" index starts as an exact scan and, once it holds more than ``flat_max`` hashes, is
    rebuilt as an inverted file trained on them: training needs data, which a live index only has
    once it has grown. Measured on the demo marketplace's ORB descriptors (118k, 256 bit), IVF with
    512 lists and 8 probes answered 7x faster than multi-index hashing and agreed more often with
    the exact scan on the neighbours within the image signal's vote radius (0.83 against 0.62).
    """

    def __init__(self, index: faiss.IndexBinary, kind: str, cfg: BinaryIndexConfig | None = None):
        self.index = index
        self.kind = kind
        self.cfg = cfg

    @classmethod
    def create(cls, bits: int, expected: int, cfg: BinaryIndexConfig) -> "BinaryIndex":
        kind = cfg.kind
        if kind == "auto":
            kind = "flat" if expected <= cfg.flat_max else "multihash"
        if kind in ("flat", "ivf"):
            inner = faiss.IndexBinaryFlat(bits)
        else:
            inner = faiss.IndexBinaryMultiHash(bits, cfg.multihash_tables, bits // cfg.multihash_tables)
        return cls(faiss.IndexBinaryIDMap2(inner), kind, cfg)

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    def _inner(self) -> faiss.IndexBinary:
        return faiss.downcast_IndexBinary(self.index.index)

    def add(self, ids: np.ndarray, codes: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(codes, dtype=np.uint8), np.asarray(ids, dtype=np.int64))
            if self.kind == "ivf" and self.cfg is not None and self.ntotal > self.cfg.flat_max \
                    and isinstance(self._inner(), faiss.IndexBinaryFlat):
                self._train_ivf()

    def _train_ivf(self) -> None:
        """Move every held hash from the exact scan into an inverted file trained on them."""
        flat = self._inner()
        codes = faiss.vector_to_array(flat.xb).reshape(flat.ntotal, flat.code_size)
        ids = faiss.vector_to_array(self.index.id_map).astype(np.int64)
        nlist = max(1, min(self.cfg.ivf_lists, flat.ntotal // 39))  # FAISS asks for 39 points per list
        ivf = faiss.IndexBinaryIVF(faiss.IndexBinaryFlat(flat.d), flat.d, nlist)
        ivf.cp.seed = 1234  # the same hashes always give the same lists
        ivf.train(codes)
        ivf.nprobe = self.cfg.ivf_probe
        index = faiss.IndexBinaryIDMap2(ivf)
        index.add_with_ids(codes, ids)
        self.index = index

    def remove(self, ids: np.ndarray) -> None:
        if self.kind in ("flat", "ivf") and len(ids):
            self.index.remove_ids(np.asarray(ids, dtype=np.int64))

    def search(self, codes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(Hamming distances, ids) of shape (n, k); missing neighbours have id -1."""
        k = max(1, min(k, max(self.ntotal, 1)))
        return self.index.search(np.ascontiguousarray(codes, dtype=np.uint8), k)

    def save(self, path: Path) -> None:
        faiss.write_index_binary(self.index, str(path))

    @classmethod
    def load(cls, path: Path, cfg: BinaryIndexConfig | None = None) -> "BinaryIndex":
        index = faiss.read_index_binary(str(path))
        inner = faiss.downcast_IndexBinary(index.index) if hasattr(index, "index") else index
        if isinstance(inner, faiss.IndexBinaryIVF):
            inner.nprobe = cfg.ivf_probe if cfg is not None else inner.nprobe
            return cls(index, "ivf", cfg)
        kind = "multihash" if isinstance(inner, faiss.IndexBinaryMultiHash) else "flat"
        if cfg is not None and cfg.kind == "ivf" and kind == "flat":
            kind = "ivf"  # still below the size at which it becomes an inverted file
        return cls(index, kind, cfg)
