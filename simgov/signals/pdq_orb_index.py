"""The first-stage search structure of the picture and video signals: a FAISS binary index of PDQ
hashes, a FAISS binary index of ORB descriptors, and how many pictures (videos) they were given,
kept as three files of an index folder (``<prefix>_pdq.faiss``, ``<prefix>_orb.faiss``,
``<prefix>_meta.json``). Each signal decides which ids and codes go in and how to search them
(`PdqOrbSignal`)."""
from __future__ import annotations

import json
from abc import abstractmethod
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..config import BinaryIndexConfig
from ..vectors import BinaryIndex
from .base import Candidate, Signal

PDQ_BITS = 256
ORB_BITS = 256


class HashEntries(NamedTuple):
    """What some items put into (or take out of) the structure: one id and hash per PDQ entry,
    and per picture or segment an array of descriptor ids with its stack of descriptors."""

    pdq_ids: list[int]
    pdq_codes: list[np.ndarray]
    orb_ids: list[np.ndarray]
    orb_codes: list[np.ndarray]


class PdqOrbIndex:
    """A PDQ hash index and an ORB descriptor index (exact when small, an inverted file above
    `orb_flat_max` descriptors), with a count of the things added saved under `counted` in the
    meta file (``{"pictures": n}``)."""

    def __init__(self, prefix: str, counted: str, orb_flat_max: int):
        self.pdq_file, self.orb_file, self.meta_file = (f"{prefix}_pdq.faiss", f"{prefix}_orb.faiss",
                                                        f"{prefix}_meta.json")
        self.counted = counted
        self.orb_config = BinaryIndexConfig(kind="ivf", flat_max=orb_flat_max)
        self.pdq: BinaryIndex | None = None
        self.orb: BinaryIndex | None = None
        self.count = 0

    def reset(self, pdq_expected: int, orb_expected: int, pdq_config: BinaryIndexConfig) -> None:
        self.pdq = BinaryIndex.create(PDQ_BITS, pdq_expected, pdq_config)
        self.orb = BinaryIndex.create(ORB_BITS, orb_expected, self.orb_config)
        self.count = 0

    def add(self, entries: HashEntries, count: int) -> None:
        """Index the entries; `count` more pictures (videos) were given."""
        self.count += count
        if entries.pdq_ids:
            self.pdq.add(np.array(entries.pdq_ids, dtype=np.int64), np.stack(entries.pdq_codes))
        if entries.orb_ids:
            self.orb.add(np.concatenate(entries.orb_ids), np.concatenate(entries.orb_codes))

    def remove(self, entries: HashEntries) -> None:
        """Take the entries' ids out (the count stays: it says what the indexes were given)."""
        if entries.pdq_ids:
            self.pdq.remove(np.array(entries.pdq_ids, dtype=np.int64))
        if entries.orb_ids:
            self.orb.remove(np.unique(np.concatenate(entries.orb_ids)))

    def has_pdq(self) -> bool:
        return self.pdq is not None and self.pdq.ntotal > 0

    def has_orb(self) -> bool:
        return self.orb is not None and self.orb.ntotal > 0

    def save(self, folder: Path) -> list[str]:
        self.pdq.save(folder / self.pdq_file)
        self.orb.save(folder / self.orb_file)
        (folder / self.meta_file).write_text(json.dumps({self.counted: self.count}), encoding="utf-8")
        return [self.pdq_file, self.orb_file, self.meta_file]

    def load(self, folder: Path) -> None:
        self.pdq = BinaryIndex.load(folder / self.pdq_file)
        self.orb = BinaryIndex.load(folder / self.orb_file, self.orb_config)
        meta = folder / self.meta_file
        self.count = int(json.loads(meta.read_text(encoding="utf-8"))[self.counted]) if meta.exists() else 0


class PdqOrbSignal(Signal):
    """A signal whose first stage is a PdqOrbIndex (`hash_index`, made by the subclass): it says
    what a batch of items puts in (`index_entries`), how many pictures (videos) a blob holds
    (`units`) and how one blob searches (`search_one`)."""

    hash_index: PdqOrbIndex

    @abstractmethod
    def index_entries(self, vec_ids: list[int], blobs: list[bytes]) -> HashEntries:
        """The index entries of these items."""

    @abstractmethod
    def units(self, blob: bytes) -> int:
        """Pictures (videos) in one blob, for the count that `size` reports."""

    @abstractmethod
    def search_one(self, blob: bytes, k: int) -> list[Candidate]:
        """One blob's candidates, most similar first."""

    def add(self, vec_ids: np.ndarray, blobs: list[bytes]) -> None:
        self.hash_index.add(self.index_entries(vec_ids.tolist(), blobs), sum(self.units(b) for b in blobs))

    def remove(self, vec_ids: np.ndarray, blobs: list[bytes]) -> None:
        self.hash_index.remove(self.index_entries(vec_ids.tolist(), blobs))

    def save(self, folder: Path) -> list[str]:
        return self.hash_index.save(folder)

    def load(self, folder: Path) -> None:
        self.hash_index.load(folder)

    def size(self) -> int:
        return self.hash_index.count

    def search(self, blobs: list[bytes], k: int) -> list[list[Candidate]]:
        return [self.search_one(blob, k) for blob in blobs]
