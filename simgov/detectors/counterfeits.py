"""Counterfeit suspects: listings that copy a brand-verified reference listing, sold cheap by an
unauthorised seller.

A listing X is a suspect of reference R when all of these hold, and the evidence says which did:
1. X resembles R: a near-copy of R's picture (image score at least `image_match`), or strong
   title and picture agreement (the item pair is a match, not on the picture alone, and both have
   pictures), and X's title does not name another product: conflicting model codes or different
   brands mean X shows a look-alike picture of a sibling product (brand photos of one range look
   alike), not R's;
2. X's seller is neither R's seller nor authorised for R's brand (`authorized_brands`);
3. X is priced well below R: price ratio at most `max_price_ratio` (same currency).

A listing's `reference: true` is honoured only when its seller is authorised for its brand
(`honoured_reference`); otherwise the listing is checked like any other.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from ..banks import brand_of
from ..errors import UnknownId, UnreadableRecord
from ..index import SimIndex
from ..matching.decision import Matcher
from ..matching.thresholds import threshold
from ..records import CounterfeitAssessment, CounterfeitSuspect, Neighbour
from ..signals import Signal, signal_of_kind
from ..storage.items import StoredItem
from ..verdicts import Verdicts

log = logging.getLogger(__name__)
AuthorizedBrands = Callable[[str], set[str]]
NEIGHBOURS_CHECKED = 50
#: The signal whose score says two listings show the same picture (the image signal).
PICTURE = signal_of_kind("picture")


@dataclass(frozen=True)
class CounterfeitPolicy:
    max_price_ratio: float
    image_match: float
    #: the item decision; a match on the picture alone (below `image_match`) is no agreement here
    matcher: Matcher = field(default_factory=Matcher)

    @classmethod
    def from_index(cls, index: SimIndex) -> "CounterfeitPolicy":
        overrides = index.config.thresholds
        return cls(max_price_ratio=threshold("counterfeit_max_price_ratio", overrides),
                   image_match=threshold("image_match", overrides), matcher=index.matcher)

    def agrees(self, neighbour: Neighbour) -> bool:
        """Title and picture agree: the pair is a match, and not on the picture alone (a picture
        below `image_match` is no accusation by itself; a same-picture pair counts when its other
        signals would match with the mutual-best bonus, as a reference's copy has it)."""
        signals = neighbour.signals
        return neighbour.match and not (self.matcher.same_picture(signals) and not self.matcher.decide(
            signals, mutual_best=True, picture_alone=False).match)


def price_ratio(candidate, reference) -> float | None:
    """Candidate price over reference price, when both are known in the same currency."""
    if candidate.price is None or not reference.price:
        return None
    if (candidate.currency or "").upper() != (reference.currency or "").upper():
        return None
    return round(candidate.price / reference.price, 4)


def title_conflicts(index: SimIndex, candidate: StoredItem, reference: StoredItem) -> list[str]:
    """What in the two listings says they are different products: each signal's contradictions
    (conflicting model codes or brands, from the text signal)."""
    names = [n for n, s in index.signals.items() if type(s).contradictions is not Signal.contradictions]
    blobs = index.item_blobs([candidate.vec_id, reference.vec_id], names)
    a, b = blobs[candidate.vec_id], blobs[reference.vec_id]
    return [line for n in names if n in a and n in b for line in index.signals[n].contradictions(a[n], b[n])]


def assess_pair(candidate: StoredItem, reference: StoredItem, neighbour: Neighbour, policy: CounterfeitPolicy,
                authorized: AuthorizedBrands, conflicts: list[str]) -> tuple[CounterfeitSuspect | None, list[str]]:
    """The suspect record when every condition holds, and plain-language notes either way.

    ``conflicts``: :func:`title_conflicts` of the pair; any one of them rules the resemblance out.
    """
    ref, cand = reference.item, candidate.item
    brand = brand_of(ref)
    notes: list[str] = []
    image = neighbour.signals.get(PICTURE)
    look_alike = image is not None and image >= policy.image_match
    copy_picture = look_alike and not conflicts
    agreement = policy.agrees(neighbour) and image is not None and not conflicts
    if conflicts:
        notes.append(f"the title names another product than reference {ref.item_id}: {'; '.join(conflicts)}"
                     + (f" (the pictures look alike, image {image:.2f})" if look_alike else ""))
    elif copy_picture:
        notes.append(f"picture is a near-copy of reference {ref.item_id}'s picture (image {image:.2f})")
    elif agreement:
        notes.append(f"title and picture agree with reference {ref.item_id} (score {neighbour.score:.2f})")
    else:
        notes.append(f"does not resemble reference {ref.item_id} closely enough (score {neighbour.score:.2f})")
    allowed = {b.casefold() for b in authorized(cand.seller_id)}
    if cand.seller_id == ref.seller_id:
        notes.append(f"same seller as the reference ({cand.seller_id})")
        unauthorised = False
    elif brand and brand.casefold() in allowed:
        notes.append(f"seller {cand.seller_id} is authorised for {brand}")
        unauthorised = False
    else:
        notes.append(f"seller {cand.seller_id} is not authorised for {brand or 'the brand'}")
        unauthorised = True
    ratio = price_ratio(cand, ref)
    if ratio is None:
        notes.append("price not comparable with the reference (missing price or other currency)")
        cheap = False
    else:
        cheap = ratio <= policy.max_price_ratio
        prices = f"{cand.price:g} vs {ref.price:g} {ref.currency or ''}"
        notes.append(f"priced at {ratio:.0%} of the reference ({prices})"
                     + ("" if cheap else f", not below {policy.max_price_ratio:.0%}"))
    if not ((copy_picture or agreement) and unauthorised and cheap) or honoured_reference(candidate, authorized):
        return None, notes
    score = max(neighbour.score, image or 0.0)
    return CounterfeitSuspect(item_id=cand.item_id, seller_id=cand.seller_id, reference_item_id=ref.item_id,
                              brand=brand, score=round(score, 4), price_ratio=ratio,
                              evidence=notes + neighbour.evidence), notes


def honoured_reference(stored: StoredItem, authorized: AuthorizedBrands) -> bool:
    """Is this listing a brand-verified reference? Only when it says so and its seller is authorised
    for its brand: a seller cannot make its own listing a reference (SECURITY.md)."""
    brand = brand_of(stored.item)
    return bool(stored.item.reference and brand
                and brand.casefold() in {b.casefold() for b in authorized(stored.seller_id)})


def reference_ids(index: SimIndex, authorized: AuthorizedBrands) -> list[str]:
    """The honoured reference listings of the index."""
    return [i for i in index.store.reference_item_ids()
            if (stored := _readable(index, i)) is not None and honoured_reference(stored, authorized)]


def _readable(index: SimIndex, item_id: str) -> StoredItem | None:
    """The stored item, or None for one whose record cannot be read back (logged): whole-catalogue
    checks go on without it."""
    try:
        return index.item(item_id)
    except UnreadableRecord as exc:
        log.warning("%s; left out of the counterfeit check", exc)
        return None


def assess_item(index: SimIndex, item_id: str, authorized: AuthorizedBrands) -> CounterfeitAssessment:
    """Check one listing against the reference listings that resemble it."""
    policy = CounterfeitPolicy.from_index(index)
    stored = index.item(item_id)
    suspects, checked, notes = [], [], []
    if honoured_reference(stored, authorized):
        return CounterfeitAssessment(item_id=item_id, suspect=False, suspects=[], checked_references=[],
                                     notes=["this listing is itself a brand-verified reference"])
    if stored.item.reference:
        notes.append(f"marked as a reference listing, but seller {stored.seller_id} is not authorised for "
                     f"{brand_of(stored.item) or 'its brand'}: not honoured, checked like any listing")
    for n in index.similar(item_id, k=NEIGHBOURS_CHECKED):
        other = _readable(index, n.item_id)
        if other is None or not honoured_reference(other, authorized):
            continue
        checked.append(n.item_id)
        suspect, why = assess_pair(stored, other, n, policy, authorized, title_conflicts(index, stored, other))
        notes.extend(why)
        if suspect:
            suspects.append(suspect)
    if not checked:
        notes.append("no brand-verified reference listing resembles this item")
    return Verdicts(index).review_assessment(CounterfeitAssessment(
        item_id=item_id, suspect=bool(suspects), suspects=suspects, checked_references=checked, notes=notes))


def counterfeit_suspects(index: SimIndex, authorized: AuthorizedBrands) -> list[CounterfeitSuspect]:
    """Every suspect of every reference listing, strongest first."""
    policy = CounterfeitPolicy.from_index(index)
    found: dict[tuple[str, str], CounterfeitSuspect] = {}
    for ref_id in reference_ids(index, authorized):
        reference = index.item(ref_id)
        for n in index.similar(ref_id, k=NEIGHBOURS_CHECKED):
            candidate = _readable(index, n.item_id)
            if candidate is None:
                continue
            suspect, _ = assess_pair(candidate, reference, n, policy, authorized,
                                     title_conflicts(index, candidate, reference))
            if suspect:
                found[(suspect.item_id, ref_id)] = suspect
    kept, _ = Verdicts(index).review_suspects(list(found.values()))
    return sorted(kept, key=lambda s: (-s.score, s.item_id))


def authorizations(index: SimIndex) -> AuthorizedBrands:
    """Brands each seller may sell, from the accounts ingested into the index (none if unknown)."""
    cache: dict[str, set[str]] = {}

    def lookup(seller_id: str) -> set[str]:
        if seller_id not in cache:
            try:
                brands = index.accounts.account(seller_id).record.get("authorized_brands") or []
            except UnknownId:
                brands = []
            cache[seller_id] = {str(b) for b in brands}
        return cache[seller_id]

    return lookup
