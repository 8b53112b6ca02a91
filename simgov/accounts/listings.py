"""Listing overlap: the share of one seller's listings that are near-duplicates of another's.

An item pair counts when the item matcher decides `match` for it (as in `simgov similar` and
`simgov pairs`). For all accounts (`rings`) one cross-seller similarity self-join is run. The
findings scan runs that self-join anyway and keeps its matched cross-seller pairs in
`IDX/listing_matches.json` (:class:`KeptMatches`, kept current with the findings): `linked` answers
one account from them, and looks up the neighbours (`similar`, about 1 s an account on the demo)
only of its listings written since, or whose kept partners were. Without the file every listing is
looked up. Sellers with matching listings are also candidates.

Weighting: overlap is evidence in favour only (most linked accounts do not cross-list), and it
is not decisive alone because honest shops share manufacturer pictures: a full overlap of at
least :data:`FULL_AT` listings adds :data:`WEIGHT`, a smaller share or a single listing less.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Protocol

from ..generations import write_json_atomic
from ..records import Neighbour
from .base import AccountRecord, AccountSignal
from .scoring import LinkTerm

#: Log-likelihood ratio of a complete overlap (every listing of one seller matches the other's).
WEIGHT = 4.0
#: Matching listings needed for the full weight; one shared listing (a copied photo) counts half.
FULL_AT = 2
#: Neighbours per listing looked up when a listing's matches are not kept.
LISTING_NEIGHBOURS = 10
#: The kept matched pairs, in the index folder.
KEPT_FILE = "listing_matches.json"
KEPT_FORMAT = 1


class Neighbours(Protocol):
    def similar(self, item_id: str, k: int = 10) -> list[Neighbour]: ...


def live_matches(sim: Neighbours, item_id: str, seller_id: str) -> list[str]:
    """The listings of other sellers the item matcher matches to this listing now."""
    return [n.item_id for n in sim.similar(item_id, k=LISTING_NEIGHBOURS) if n.match and n.seller_id != seller_id]


@dataclass
class KeptMatches:
    """Matched listing pairs of two sellers, as of store sequence number `seq`: every listing
    with a vec_id at most `seq` has all its cross-seller matches here (the self-join's, and the
    `similar` matches of listings re-checked since)."""

    seq: int
    partners: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def of_pairs(cls, seq: int, pairs: Iterable[tuple[str, str]]) -> "KeptMatches":
        kept = cls(seq)
        for a, b in pairs:
            kept.add(a, b)
        return kept

    def add(self, a: str, b: str) -> None:
        self.partners[a].add(b)
        self.partners[b].add(a)

    def drop(self, item_id: str) -> None:
        """Forget a listing's pairs (it was rewritten or deleted)."""
        for other in self.partners.pop(item_id, set()):
            self.partners[other].discard(item_id)

    def pairs(self) -> list[tuple[str, str]]:
        return sorted({(a, b) for a, others in self.partners.items() for b in others if a < b})

    def save(self, folder: Path) -> None:
        write_json_atomic(folder / KEPT_FILE, {"format": KEPT_FORMAT, "seq": self.seq, "pairs": self.pairs()})

    @classmethod
    def load(cls, folder: Path) -> "KeptMatches | None":
        """The kept pairs, or None when there are none (or a file of another layout)."""
        try:
            data = json.loads((folder / KEPT_FILE).read_text(encoding="utf-8"))
            if data.get("format") != KEPT_FORMAT:
                return None
            return cls.of_pairs(int(data["seq"]), ((str(a), str(b)) for a, b in data["pairs"]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None


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
