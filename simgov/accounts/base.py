"""The AccountSignal contract: one class per kind of account evidence, owning its whole life.

Mirrors :mod:`simgov.signals.base` for items. An account signal may compute a compact blob per
account at ingest (stored in SQLite, so its search structure can always be rebuilt), may keep a
search structure saved in the index generation folder, proposes candidate accounts for an
account (an index lookup, never all pairs), and scores a pair as Fellegi-Sunter terms
(:class:`simgov.accounts.scoring.LinkTerm`: a log-likelihood ratio plus plain-words evidence) that
:func:`simgov.accounts.scoring.combine` adds into one link score.

Adding a signal is one module with a subclass and one line in :data:`simgov.accounts.REGISTRY`.
"""
from __future__ import annotations

from abc import ABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Iterator

from ..config import Config
from ..schema import Account
from ..signals.base import BuildContext, SignalOutput
from .profiling import AccountProfile
from .scoring import LinkTerm

if TYPE_CHECKING:  # pragma: no cover
    from .index import LinkSession


@dataclass
class AccountRecord:
    """What linking knows about one live account: its profile (hashes, no raw identifiers) and
    its signals' blobs."""

    account_id: str
    acc_id: int
    profile: AccountProfile
    blobs: dict[str, bytes] = field(default_factory=dict)


class AccountSignal(ABC):
    """Base class; every method has a do-nothing default so a signal implements only what it uses."""

    name: ClassVar[str]
    version: ClassVar[int] = 1
    description: ClassVar[str] = ""

    def __init__(self, config: Config):
        self.config = config

    def identity(self) -> dict[str, Any]:
        """What must not change between build and use."""
        return {"version": self.version}

    # -- computing at ingest ---------------------------------------------------------------
    def compute(self, accounts: list[Account], ctx: BuildContext) -> list[SignalOutput]:
        """One output per account, in order (blob None: nothing stored). Must not raise for a bad
        account: report it in `problems` (never with an identifier value)."""
        return [SignalOutput(None) for _ in accounts]

    def signature(self, account: Account, ctx: BuildContext) -> str:
        """Extra input of `compute` outside the record (e.g. a picture file's size and time), so
        that a changed file re-encodes the account."""
        return ""

    # -- search structure ------------------------------------------------------------------
    def reset(self, expected: int) -> None:
        """Start an empty search structure sized for about `expected` accounts."""

    def add(self, records: list[AccountRecord]) -> None:
        """Make these accounts findable."""

    def save(self, folder: Path) -> list[str]:
        """Write the search structure into `folder`; return the file names written."""
        return []

    def load(self, folder: Path) -> None:
        """Read what `save` wrote."""

    def size(self) -> int:
        """Entries in the search structure (including replaced ones not yet compacted)."""
        return 0

    # -- linking -----------------------------------------------------------------------------
    def candidates(self, session: "LinkSession", records: list[AccountRecord], k: int) -> list[set[str]]:
        """For each record, the account ids this signal proposes (may include the account itself)."""
        return [set() for _ in records]

    def candidate_pairs(self, session: "LinkSession", records: Iterable[AccountRecord],
                        k: int) -> Iterator[tuple[str, str]]:
        """Candidate pairs over many accounts (for `rings`); by default from :meth:`candidates` in
        batches. Signals with a cheaper global join override it."""
        batch: list[AccountRecord] = []

        def emit() -> Iterator[tuple[str, str]]:
            for rec, found in zip(batch, self.candidates(session, batch, k)):
                for other in found:
                    if other != rec.account_id:
                        yield (rec.account_id, other) if rec.account_id < other else (other, rec.account_id)

        for rec in records:
            batch.append(rec)
            if len(batch) >= 2000:
                yield from emit()
                batch = []
        if batch:
            yield from emit()

    def terms(self, session: "LinkSession", a: AccountRecord, b: AccountRecord) -> list[LinkTerm]:
        """This signal's log-likelihood terms for the pair (none when it has nothing to say)."""
        return []
