"""Identifiers (email, phone, device, payout account, ip, id number …) as keyed hashes.

Candidates: exact blocking on the ``account_identifiers`` table (accounts sharing a hash), skipping
hashes held by more than :data:`MAX_BLOCK_SIZE` accounts. Scoring:
:func:`simgov.accounts.scoring.identifier_terms`, except that a hash held by more than
``MAX_BLOCK_SIZE`` accounts (a shared office phone, a placeholder such as "n/a") does not count as
evidence: its agreement is reported but weighs nothing.
"""
from __future__ import annotations

from itertools import combinations
from typing import Iterator

from .base import AccountRecord, AccountSignal
from .profiling import MAX_BLOCK_SIZE
from .scoring import LinkTerm, identifier_terms


class IdentifierSignal(AccountSignal):
    name = "identifiers"
    version = 1
    description = "exact matches of keyed identifier hashes (email, phone, device, payout account …)"

    def identity(self):
        return {"version": self.version, "max_block": MAX_BLOCK_SIZE}

    def candidates(self, session, records: list[AccountRecord], k: int) -> list[set[str]]:
        holders = session.store.holders((h for r in records for h in r.profile.identifier_hashes.values()),
                                        MAX_BLOCK_SIZE)
        return [{a for h in r.profile.identifier_hashes.values() for a in holders.get(h, ())} for r in records]

    def candidate_pairs(self, session, records, k: int) -> Iterator[tuple[str, str]]:
        for block in session.store.blocks(MAX_BLOCK_SIZE):
            for a, b in combinations(sorted(block), 2):
                yield a, b

    def terms(self, session, a: AccountRecord, b: AccountRecord) -> list[LinkTerm]:
        out = identifier_terms(a.profile, b.profile)
        for t in out:
            if t.kind == "shared_identifier":
                held = session.holder_count(a.profile.identifier_hashes[t.field])
                if held > MAX_BLOCK_SIZE:
                    t.log_odds = 0.0
                    t.detail += f" (held by {held} accounts: a shared or placeholder value, not counted)"
        return out
