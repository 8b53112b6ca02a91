"""The Signal contract: one class per kind of evidence, owning its whole life.

A signal computes a compact feature blob per item (stored in SQLite, so indexes can always be
rebuilt from the store), keeps its own search structure (FAISS or an inverted table), finds
candidate neighbours, scores a pair exactly from two blobs, and explains that score in plain
words. Detectors, the matcher and the surfaces only talk to signals through this interface.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Iterable, Sequence

import numpy as np

from ..config import Config
from ..matching.evidence import MatchPart
from ..schema import Item


@dataclass
class SignalOutput:
    """What a signal made of one item: its blob (None = the item lacks this signal) and any problems."""

    blob: bytes | None
    problems: list[str] = field(default_factory=list)


@dataclass
class BuildContext:
    """Where the items came from, so signals can resolve relative image paths safely."""

    data_roots: list[Path]


@dataclass
class Query:
    """An ad-hoc query (the search API): text and/or an already decoded picture."""

    text: str | None = None
    image: Any = None  # PIL.Image.Image in RGB


@dataclass(frozen=True)
class Candidate:
    vec_id: int
    score: float


@dataclass(frozen=True)
class BankMatch:
    """A known-bad bank entry that an item matches, as the signal of that entry's kind judges it."""

    entry_id: int
    score: float
    detail: str  # plain words, without the bank's name (the banks add it)


class BankIndex(ABC):
    """Bank entries of one kind (`Signal.bank_kind`) made searchable with an item's blob."""

    #: False: what `search` finds is a match (a picture within the near-copy distance). True: it
    #: finds the nearest entries, best first, and the item matcher decides on every signal of the
    #: entry (a title entry is judged as a listing is).
    judged_by_matcher: ClassVar[bool] = False

    @abstractmethod
    def search(self, blob: bytes) -> list[BankMatch]:
        """The entries this blob matches (or its nearest entries, see `judged_by_matcher`)."""


class Signal(ABC):
    """Base class; subclasses set `name` and `version` and register themselves in the registry."""

    name: ClassVar[str]
    version: ClassVar[int]
    description: ClassVar[str] = ""
    #: Its part in the item-match score (`simgov.matching.combine`); None: the signal finds
    #: candidates and explains them, but weighs nothing in the decision and never "agrees".
    match_part: ClassVar[MatchPart | None] = None
    #: What the signal is evidence of, for detectors that need one kind ("picture": the signal
    #: whose score says two listings show the same picture); "" when none asks.
    kind: ClassVar[str] = ""
    #: The kind of known-bad bank entry (`simgov.banks.KINDS`) this signal searches; "" for none.
    bank_kind: ClassVar[str] = ""
    #: `compute` is per-item CPU work with no model to load: a bulk build may run it in a process
    #: pool (simgov/build/local.py). Signals that load a model (titles) compute in the build process.
    parallel: ClassVar[bool] = False

    def __init__(self, config: Config):
        self.config = config

    # -- computing -------------------------------------------------------------------------
    @abstractmethod
    def compute(self, items: list[Item], ctx: BuildContext) -> list[SignalOutput]:
        """One output per item, in order. Must not raise for a bad item: report it instead."""

    def compute_query(self, query: Query) -> bytes | None:
        """The blob of an ad-hoc query, or None when the query carries nothing for this signal."""
        return None

    def identity(self) -> dict[str, Any]:
        """What must not change between build and use (model and weight hash, parameters)."""
        return {"version": self.version}

    # -- storing and searching -------------------------------------------------------------
    @abstractmethod
    def reset(self, expected: int) -> None:
        """Start an empty search structure sized for about `expected` items."""

    @abstractmethod
    def add(self, vec_ids: np.ndarray, blobs: list[bytes]) -> None:
        """Make these items findable."""

    def remove(self, vec_ids: np.ndarray, blobs: list[bytes]) -> None:
        """Forget these items where the structure supports it (results are filtered anyway)."""

    @abstractmethod
    def save(self, folder: Path) -> list[str]:
        """Write the search structure into `folder`; return the file names written."""

    @abstractmethod
    def load(self, folder: Path) -> None:
        """Read what `save` wrote."""

    def discard(self, folder: Path) -> None:
        """A generation folder that `save` wrote is being removed: release what it holds outside
        the folder (a Milvus collection). Files inside it go with the folder."""

    @abstractmethod
    def size(self) -> int:
        """Entries in the search structure (including not yet compacted dead ones)."""

    @abstractmethod
    def search(self, blobs: list[bytes], k: int) -> list[list[Candidate]]:
        """For each blob its best candidates, most similar first (may include the item itself)."""

    # -- scoring and explaining ------------------------------------------------------------
    @abstractmethod
    def score(self, a: bytes, b: bytes) -> float | None:
        """Similarity in [0, 1] of two items' blobs; None when the signal cannot compare them."""

    def score_many(self, a: Sequence[bytes], b: Sequence[bytes]) -> list[float | None]:
        """`score(a[i], b[i])` for every i. A self-join scores millions of pairs, each item in
        several of them: a signal overrides this where scoring them together is cheaper (an item
        decoded once, rows multiplied at once); the values must stay those of `score`."""
        return [self.score(x, y) for x, y in zip(a, b)]

    def scoring_state(self) -> Any:
        """What `score` needs besides the two blobs (catalogue statistics such as IDF weights), in
        a picklable form; None when the blobs are enough. Processes that score pairs without the
        search structure (the self-join's pool) get it through `load_scoring_state`."""
        return None

    def load_scoring_state(self, state: Any) -> None:
        """Score as the signal whose `scoring_state()` gave `state` does."""

    @abstractmethod
    def explain(self, a: bytes, b: bytes) -> list[str]:
        """Plain-language evidence behind `score(a, b)`."""

    def contradictions(self, a: bytes, b: bytes) -> list[str]:
        """What in these two blobs says the listings are different products, in plain words
        (conflicting model codes, brands); empty when the signal sees nothing against them."""
        return []

    def bank_index(self, entries: list[tuple[int, str]]) -> BankIndex | None:
        """Bank entries of `bank_kind`, as (entry id, value), made searchable with items' blobs of
        this signal; None when the signal searches no kind of bank entry."""
        return None

    def describe(self, blob: bytes) -> dict[str, Any]:
        """A small JSON view of one item's blob for the API and console."""
        return {}


def top_candidates(ids: np.ndarray, sims: Iterable[float], shift: int = 0) -> list[Candidate]:
    """Candidates from one FAISS result row, best score per item (ids may carry a sub-index)."""
    best: dict[int, float] = {}
    for ident, sim in zip(ids.tolist(), sims):
        if ident < 0:
            continue
        vec_id = ident >> shift
        if sim > best.get(vec_id, -1.0):
            best[vec_id] = float(sim)
    return [Candidate(v, s) for v, s in sorted(best.items(), key=lambda kv: -kv[1])]
