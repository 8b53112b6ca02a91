"""Known-bad banks: named sets of confirmed-bad pictures (PDQ), titles and account identifiers.

Every listing written to the index (a build, `PUT /v1/items`) is checked against the enabled
entries of the enabled banks as it is stored, so a re-upload of known-bad content is flagged at
once with the bank and the entry it matched. Each kind of entry is searched by the signal of that
kind (`Signal.bank_kind`, `Signal.bank_index`), with the signals' own thresholds: a picture
matches a PDQ entry within the image signal's near-copy distance (`pdq_near` in
calibration.json, ThreatExchange's customary PDQ threshold) in any of its eight orientations; a
title matches when the item matcher would call the two titles a match on their text evidence
alone (the nearest entry counting as the listing's best match in the bank, as the best match in
another seller's shop counts for two listings); an identifier matches when the seller's account
holds the same keyed hash. Entries are kept in the store; the search structures
are rebuilt in memory whenever the banks change (a counter in the store's meta table tells every
process).
"""
from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path
from typing import Iterable, Protocol

from .accounts.profiling import keyed_hash
from .accounts.secret import identifier_secret
from .config import Config
from .errors import BadInput, UnknownId
from .matching.decision import Matcher
from .records import Bank, BankEntry, BankHit
from .signals import Query, Signal
from .signals.base import BankIndex
from .signals.image import read_pictures
from .signals.video_vpdq import format_vpdq, parse_vpdq
from .storage.accounts import AccountStore
from .storage.banks import BankTables
from .storage.items import ItemWrite, Store, StoredItem

log = logging.getLogger(__name__)

KINDS = ("pdq", "title", "identifier", "vpdq")
NAME_RE = re.compile(r"^[\w][\w .:@+\-]{0,99}$")
HEX64_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_LABEL = 500


class ItemScoring(Protocol):
    """What the banks need of the item index (simgov.index.SimIndex is one): its signals, to make
    an entry's blobs and score a listing against them as the item matcher would."""

    config: Config
    folder: Path
    store: Store
    signals: dict[str, Signal]
    matcher: Matcher

    def item(self, item_id: str) -> StoredItem: ...

    def item_blobs(self, vec_ids: list[int], names: list[str] | None = None) -> dict[int, dict[str, bytes]]: ...

    def signal_scores(self, a: dict[str, bytes], b: dict[str, bytes]) -> dict[str, float]: ...


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise BadInput(f"bad bank name {name!r}: 1 to 100 letters, digits, spaces or . : @ + - _, "
                       "starting with a letter or digit")
    return name


def normalise_pdq(text: str) -> str:
    """A PDQ hash as 64 lower-case hex digits (256 bits), or BadInput."""
    value = text.strip().lower()
    if not HEX64_RE.match(value):
        raise BadInput(f"not a PDQ hash (64 hex digits): {text[:80]!r}")
    return value


class _Matchers:
    """The enabled entries of enabled banks, ready to search (one snapshot per banks version): each
    signal's bank index over the entries of its kind, and the blobs of the entries that the item
    matcher judges (titles, as a listing with that title)."""

    def __init__(self, index: ItemScoring, entries: list[BankEntry]):
        self.entries = {e.entry_id: e for e in entries}
        self.identifiers = {e.value: e for e in entries if e.kind == "identifier"}
        self.indexes: dict[str, BankIndex] = {}
        self.entry_blobs: dict[int, dict[str, bytes]] = {}
        for name, signal in index.signals.items():
            own = [e for e in entries if signal.bank_kind and e.kind == signal.bank_kind]
            found = signal.bank_index([(e.entry_id, e.value) for e in own]) if own else None
            if found is None:
                continue
            self.indexes[name] = found
            if found.judged_by_matcher:
                for e in own:
                    self.entry_blobs[e.entry_id] = {n: b for n, s in index.signals.items()
                                                    if (b := s.compute_query(Query(text=e.value))) is not None}

    @property
    def empty(self) -> bool:
        return not self.entries


class Banks:
    """Banks of one index: managing them, and flagging listings that match their entries."""

    def __init__(self, index: ItemScoring):
        self.index = index
        self.tables = BankTables(index.store)
        self.store = index.store
        self._lock = threading.Lock()
        self._matchers: tuple[str, _Matchers] | None = None

    # -- managing -----------------------------------------------------------------------------
    def create(self, name: str, description: str | None = None, by: str | None = None) -> Bank:
        check_name(name)
        self.tables.create(name, description, by)
        return self.get(name)

    def ensure(self, name: str, description: str | None, by: str | None) -> None:
        """Create the bank unless it exists (the automatic brand banks)."""
        check_name(name)
        self.tables.ensure(name, description, by)

    def list(self) -> list[Bank]:
        return self.tables.banks()

    def get(self, name: str) -> Bank:
        found = [b for b in self.list() if b.name == name]
        if not found:
            raise UnknownId("bank", name)
        return found[0]

    def set_enabled(self, name: str, enabled: bool) -> Bank:
        self.tables.set_enabled(name, enabled)
        return self.get(name)

    def add(self, name: str, entries: Iterable[tuple[str, str, str | None]], *, source: str | None = None,
            by: str | None = None) -> tuple[int, int]:
        """Add (kind, value, label) entries; returns (added, already there). Identifier values must
        already be keyed hashes (`identifier_hash`); PDQ values are normalised to lower-case hex."""
        rows = []
        for kind, value, label in entries:
            if kind not in KINDS:
                raise BadInput(f"unknown bank entry kind {kind!r} (kinds: {', '.join(KINDS)})")
            if kind == "pdq":
                value = normalise_pdq(value)
            elif kind == "identifier" and not HEX64_RE.match(value):
                raise BadInput("an identifier entry holds the identifier's keyed hash (64 hex digits)")
            elif kind == "vpdq":
                value = format_vpdq(parse_vpdq(value))  # one video's vPDQ file, in its canonical form
            elif kind == "title" and not value.strip():
                raise BadInput("a title entry needs a non-empty title")
            if label is not None and len(label) > MAX_LABEL:
                raise BadInput(f"label longer than {MAX_LABEL} characters")
            rows.append((name, kind, value, label, source, time.time(), by))
        covered = self.brand_pictures_covered(name, [r[2] for r in rows if r[1] == "pdq"])
        if covered:
            log.warning("%d PDQ entries not added to bank %s: they match pictures of brand-verified reference "
                        "listings or of sellers authorised for the brand", len(covered), name)
            rows = [r for r in rows if not (r[1] == "pdq" and r[2] in covered)]
        added = self.tables.add_entries(name, rows)
        return added, len(rows) - added

    def brand_pictures_covered(self, bank: str, values: list[str]) -> set[str]:
        """The PDQ values that match (as a listing's picture matches an entry) a picture of an
        honoured reference listing, or, for a brand's bank (`brand:NAME`), of any listing by a
        seller authorised for that brand: the brand's own photos, which no bank may hold (a
        counterfeit shows them too)."""
        if not values:
            return set()
        entries = [BankEntry(entry_id=n, bank=bank, kind="pdq", value=v, label=None, source=None, enabled=True,
                             added_at=0.0, added_by=None) for n, v in enumerate(values)]
        matchers = _Matchers(self.index, entries)
        brand = bank.removeprefix("brand:").casefold() if bank.startswith("brand:") else None
        authorised = {a.account_id: {str(b).casefold() for b in a.record.get("authorized_brands") or []}
                      for batch in AccountStore(self.store).iter_live() for a in batch}
        sellers = {seller for seller, brands in authorised.items() if brand and brand in brands}
        references = set()
        for ref_id in self.store.reference_item_ids():
            try:
                stored = self.store.get_item(ref_id)
            except UnknownId:  # a record that cannot be read back
                continue
            ref_brand = brand_of(stored.item) if stored else None
            if ref_brand and ref_brand.casefold() in authorised.get(stored.seller_id, set()):
                references.add(ref_id)
        covered: set[str] = set()
        for batch in self.store.iter_live(batch=1000):
            vec_ids = [vec for vec, item_id, seller in batch if seller in sellers or item_id in references]
            if not vec_ids:
                continue
            blobs = self.index.item_blobs(vec_ids, list(matchers.indexes))
            for vec_id in vec_ids:
                for name, bank_index in matchers.indexes.items():
                    if name in blobs[vec_id]:
                        covered.update(entries[f.entry_id].value for f in bank_index.search(blobs[vec_id][name]))
        return covered

    def identifier_hash(self, name: str, value: str) -> str:
        """The keyed hash an account identifier is stored as (the index's identifier secret)."""
        if not name.strip() or not value.strip():
            raise BadInput("an identifier entry needs the identifier's name and value")
        return keyed_hash(identifier_secret(self.index.config, self.index.folder, self.index.store), name, value)

    def entries(self, name: str, kind: str | None = None) -> list[BankEntry]:
        self.get(name)
        return self.tables.entries(name, kind)

    def set_entry_enabled(self, name: str, entry_id: int, enabled: bool) -> BankEntry:
        self.tables.set_entry_enabled(name, entry_id, enabled)
        return next(e for e in self.entries(name) if e.entry_id == entry_id)

    # -- matching -----------------------------------------------------------------------------
    def _current(self) -> _Matchers | None:
        version = self.tables.version()
        if version is None:
            return None  # no bank was ever made: the common case costs one read
        with self._lock:
            if self._matchers is None or self._matchers[0] != version:
                self._matchers = (version, _Matchers(self.index, self.tables.enabled_entries()))
            return self._matchers[1]

    def match(self, item_id: str, seller_id: str, blobs: dict[str, bytes]) -> list[BankHit]:
        """The bank entries one listing (its signal blobs and seller) matches."""
        m = self._current()
        if m is None or m.empty:
            return []
        now = time.time()
        hits: dict[int, BankHit] = {}

        def hit(entry_id: int, detail: str, score: float) -> None:
            e = m.entries[entry_id]
            label = f" ({e.label})" if e.label else ""
            if entry_id not in hits or hits[entry_id].score < score:
                hits[entry_id] = BankHit(item_id=item_id, bank=e.bank, entry_id=entry_id, kind=e.kind,
                                         detail=detail + label, score=round(score, 4), at=now)

        for name, bank_index in m.indexes.items():
            if name not in blobs:
                continue
            for rank, found in enumerate(bank_index.search(blobs[name])):
                entry = m.entries[found.entry_id]
                if not bank_index.judged_by_matcher:
                    hit(found.entry_id, f"{found.detail} of bank {entry.bank}", found.score)
                    continue
                theirs = m.entry_blobs[found.entry_id]
                scores = self.index.signal_scores({n: blobs[n] for n in theirs if n in blobs}, theirs)
                # the listing's nearest entry is judged as a listing's best match in another shop is
                decision = self.index.matcher.decide(scores, mutual_best=rank == 0)
                if decision.match:
                    said = ", ".join(f"{n} {s:.2f}" for n, s in scores.items())
                    hit(found.entry_id, f"{entry.kind} matches {entry.kind} entry {found.entry_id} of bank "
                                        f"{entry.bank} ({said})", decision.score)
        if m.identifiers:
            for digest, name in AccountStore(self.store).identifier_hashes(seller_id):
                e = m.identifiers.get(digest)
                if e is not None:
                    hit(e.entry_id,
                        f"seller {seller_id}'s {name} matches identifier entry {e.entry_id} of bank {e.bank}", 1.0)
        return sorted(hits.values(), key=lambda h: (-h.score, h.entry_id))

    def _record(self, item_ids: list[str], found: list[BankHit]) -> None:
        """Replace the hits of these listings (a new version is judged afresh)."""
        self.tables.record_hits(item_ids, found)

    def flag(self, writes: list[ItemWrite]) -> list[BankHit]:
        """Check listings as they are written and record what they match (`SimIndex.write`)."""
        if self._current() is None:
            return []
        found = [h for w in writes for h in self.match(w.item.item_id, w.item.seller_id, w.blobs)]
        self._record([w.item.item_id for w in writes], found)
        return found

    def scan(self) -> list[BankHit]:
        """Check every live listing again (after loading a hash list, say)."""
        found: list[BankHit] = []
        for batch in self.store.iter_live(batch=1000):
            vec_ids = [r[0] for r in batch]
            blobs = self.index.item_blobs(vec_ids)
            hits = [h for vec_id, item_id, seller in batch for h in self.match(item_id, seller, blobs[vec_id])]
            self._record([r[1] for r in batch], hits)
            found += hits
        return found

    def hits(self, *, item_ids: list[str] | None = None, bank: str | None = None, since: float | None = None,
             limit: int = 1000) -> list[BankHit]:
        """Recorded hits of live listings, newest first."""
        return self.tables.hits(item_ids=item_ids, bank=bank, since=since, limit=limit)


def brand_of(item) -> str | None:
    """The brand a listing names (its field, else its `brand` attribute)."""
    brand = item.brand or (item.attributes or {}).get("brand")
    return str(brand).strip() if brand else None


def brand_bank(brand: str | None) -> str:
    """The bank a confirmed counterfeit's pictures go to."""
    cleaned = re.sub(r"[^\w .:@+\-]", "", (brand or "unknown brand")).strip()[:90] or "unknown brand"
    return f"brand:{cleaned}"


def item_pdq_entries(index: ItemScoring, item_id: str, label: str) -> list[tuple[str, str, str]]:
    """(kind, value, label) PDQ entries of an indexed listing's usable pictures."""
    stored = index.item(item_id)
    blob = index.store.blobs("image", [stored.vec_id]).get(stored.vec_id)
    if blob is None:
        return []
    return [("pdq", bytes(p.pdq[0]).hex(), f"{label}, picture {p.image + 1}")
            for p in read_pictures(blob) if p.pdq_usable]

