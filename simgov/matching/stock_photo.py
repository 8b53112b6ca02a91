"""Catalogue photos: one picture file shown by several unrelated sellers is the brand's, not a copy.

A copier takes one seller's own photo and edits it (crops the frame, mirrors it, stamps a banner
or its handle on it) or at least saves and uploads it again (one more encoding, often resized);
the original stays with one seller. A manufacturer's stock photo is another pattern: many shops
show the same file, pixel for pixel, none derived from another's, none linked to the others by
shared accounts or devices, each at a normal price. Two sellers alone showing one file prove
nothing either way and stay a copy; from STOCK_MIN_SELLERS unrelated sellers showing it the
picture is the brand's (`SimIndex.pair_relation`: `same_product`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..accounts.identifiers import IdentifierSignal
from ..accounts.index import LinkSession, is_hard
from ..signals.image import same_file

if TYPE_CHECKING:
    from ..index import SimIndex
    from ..storage.items import StoredItem

#: Unrelated sellers (no shared strong identifier) showing one picture file: a catalogue photo.
STOCK_MIN_SELLERS = 3
#: Picture neighbours looked at for other sellers showing the same picture.
SPREAD_NEIGHBOURS = 24


def file_holders(index: SimIndex, item: StoredItem, blob: bytes) -> dict[str, StoredItem]:
    """One listing per seller that shows one of this item's picture files (`same_file`),
    the item's own seller included."""
    signal = index.signals[index.matcher.picture_signal]
    with index.lock:
        found = signal.search([blob], SPREAD_NEIGHBOURS)[0]
    others = [c.vec_id for c in found if c.vec_id != item.vec_id]
    blobs = index.store.blobs(index.matcher.picture_signal, others)
    same = [v for v in others if v in blobs and same_file(blob, blobs[v])]
    holders = {item.seller_id: item}
    for other in index.store.items_by_vec(same).values():
        holders.setdefault(other.seller_id, other)
    return holders


def catalogue_sellers(index: SimIndex, item: StoredItem, blob: bytes) -> list[str]:
    """The unrelated sellers at normal prices showing this item's picture file, when they are
    STOCK_MIN_SELLERS or more (a catalogue photo); else an empty list. A seller priced at or below
    `counterfeit_max_price_ratio` of the dearest one does not count, and any two sellers
    that share a strong identifier (one person's accounts) make the picture no catalogue photo."""
    holders = file_holders(index, item, blob)
    if len(holders) < STOCK_MIN_SELLERS:
        return []
    priced = [h for h in holders.values() if h.item.price]
    currencies = {(h.item.currency or "").upper() for h in priced}
    if len(currencies) == 1 and priced:
        top = max(h.item.price for h in priced)
        cheap = {h.seller_id for h in priced if h.item.price <= index.matcher.counterfeit_price_ratio * top}
        holders = {s: h for s, h in holders.items() if s not in cheap}
    if len(holders) < STOCK_MIN_SELLERS:
        return []
    # shared identifiers only: the accounts' listing signals would look up these very pictures
    identifiers = index.accounts.signals.get(IdentifierSignal.name)
    if identifiers is not None:
        session = LinkSession(index.accounts)
        records = session.get(holders)
        ids = sorted(records)
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                if any(is_hard(t) for t in identifiers.terms(session, records[a], records[b])):
                    return []
    return sorted(holders)


def shared_catalogue_photo(index: SimIndex, a: StoredItem, b: StoredItem, blobs_a: dict[str, bytes],
                           blobs_b: dict[str, bytes]) -> list[str]:
    """The sellers showing the picture two listings share as a catalogue photo (`catalogue_sellers`,
    from either listing's side), or an empty list; a listing priced like a counterfeit of the other
    (at or below `counterfeit_max_price_ratio` of it, same currency) keeps it a copy, as with the
    brand's own photo."""
    name = index.matcher.picture_signal
    sellers: list[str] = []
    for item, blob in ((a, blobs_a.get(name)), (b, blobs_b.get(name))):
        sellers = catalogue_sellers(index, item, blob) if blob is not None else []
        if sellers:
            break
    ratio = index.matcher.counterfeit_price_ratio
    if any(x.seller_id not in sellers and _priced_below(x, y, ratio) for x, y in ((a, b), (b, a))):
        return []
    return sellers


def _priced_below(candidate: StoredItem, reference: StoredItem, ratio: float) -> bool:
    c, r = candidate.item, reference.item
    return (c.price is not None and bool(r.price) and (c.currency or "").upper() == (r.currency or "").upper()
            and c.price <= ratio * r.price)
