"""Profile text: display name, handle, bio and address.

Candidates come from a FAISS inner-product index of hashed character n-gram vectors of
:func:`simgov.accounts.profiling.candidate_text` (name tokens sorted, handle, address); the pair is
scored by :func:`simgov.accounts.scoring.text_terms`. The vectors are a pure function of the stored
profile, so nothing is stored per account besides the profile itself.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..vectors import DenseIndex
from .base import AccountRecord, AccountSignal
from .profiling import DEFAULT_K, candidate_text, ngram_vectors
from .scoring import LinkTerm, text_terms

INDEX_FILE = "account_profile.faiss"
NGRAM_DIM = 512


class ProfileSignal(AccountSignal):
    name = "profile"
    version = 1
    description = "display name, handle, bio and address (character n-grams; FAISS top-k candidates)"

    def __init__(self, config):
        super().__init__(config)
        self.index: DenseIndex | None = None

    def identity(self) -> dict[str, Any]:
        return {"version": self.version, "ngram_dim": NGRAM_DIM}

    def _vectors(self, records: list[AccountRecord]) -> tuple[list[AccountRecord], np.ndarray]:
        usable = [(r, t) for r in records if (t := candidate_text(r.profile))]
        return [r for r, _ in usable], ngram_vectors([t for _, t in usable], NGRAM_DIM)

    def reset(self, expected: int) -> None:
        self.index = DenseIndex.create(NGRAM_DIM, max(1, expected), self.config.dense_index)

    def add(self, records: list[AccountRecord]) -> None:
        usable, x = self._vectors(records)
        if usable:
            self.index.add(np.array([r.acc_id for r in usable], dtype=np.int64), x)

    def save(self, folder: Path) -> list[str]:
        self.index.save(folder / INDEX_FILE)
        return [INDEX_FILE]

    def load(self, folder: Path) -> None:
        self.index = DenseIndex.load(folder / INDEX_FILE, self.config.dense_index.hnsw_ef_search)

    def size(self) -> int:
        return self.index.ntotal if self.index else 0

    def candidates(self, session, records: list[AccountRecord], k: int) -> list[set[str]]:
        out: list[set[str]] = [set() for _ in records]
        usable, x = self._vectors(records)
        if not usable or self.size() == 0:
            return out
        with session.lock:
            _, ids = self.index.search(x, max(k, DEFAULT_K) + 1)
        names = session.ids_by_acc(int(i) for i in ids.ravel() if i >= 0)
        where = {id(r): n for n, r in enumerate(records)}
        for rec, row in zip(usable, ids):
            out[where[id(rec)]] = {names[int(i)] for i in row if int(i) in names}
        return out

    def terms(self, session, a: AccountRecord, b: AccountRecord) -> list[LinkTerm]:
        return text_terms(a.profile, b.profile)
