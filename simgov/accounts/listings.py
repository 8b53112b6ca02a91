"""Listing overlap: the share of one seller's listings that are near-duplicates of another's.

Computed from the item index at query time (nothing stored per account): an item pair counts
when the item matcher decides `match` for it (as in `simgov similar` and `simgov pairs`). For one
account (`linked`) its listings' neighbours are looked up; for all accounts (`rings`) one
cross-seller similarity self-join is run. Sellers with matching listings are also candidates.

Weighting: overlap is evidence in favour only (most linked accounts do not cross-list), and it
is not decisive alone because honest shops share manufacturer pictures: a full overlap of at
least :data:`FULL_AT` listings adds :data:`WEIGHT`, a smaller share or a single listing less.
"""
from __future__ import annotations

from typing import Iterator

from .base import AccountRecord, AccountSignal
from .scoring import LinkTerm

#: Log-likelihood ratio of a complete overlap (every listing of one seller matches the other's).
WEIGHT = 4.0
#: Matching listings needed for the full weight; one shared listing (a copied photo) counts half.
FULL_AT = 2


def overlap_term(a: str, b: str, n_a: int, total_a: int, n_b: int, total_b: int) -> LinkTerm | None:
    """The term for `n_a` of `total_a` listings of `a` matching listings of `b`, and vice versa."""
    options = [(n / total, n, total, x, y) for n, total, x, y in ((n_a, total_a, a, b), (n_b, total_b, b, a)) if total]
    if not options or max(o[1] for o in options) == 0:
        return None
    share, n, total, x, y = max(options)
    w = WEIGHT * share * min(1.0, n / FULL_AT)
    return LinkTerm("listing_overlap", "listing_overlap", share, w,
                    f"{n} of {total} listings of {x} match listings of {y}")


class ListingOverlapSignal(AccountSignal):
    name = "listing_overlap"
    version = 1
    description = "share of a seller's listings that are near-duplicates of another seller's"

    def candidates(self, session, records: list[AccountRecord], k: int) -> list[set[str]]:
        return [set(session.listing_partners(r.account_id)) for r in records]

    def candidate_pairs(self, session, records, k: int) -> Iterator[tuple[str, str]]:
        yield from session.all_listing_matches()

    def terms(self, session, a: AccountRecord, b: AccountRecord) -> list[LinkTerm]:
        found = session.listing_overlap(a.account_id, b.account_id)
        if found is None:
            return []
        term = overlap_term(a.account_id, b.account_id, *found)
        return [term] if term is not None else []
