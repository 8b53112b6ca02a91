"""The findings queue of one index: a full scan kept in the index folder, kept current as listings
are written, read with filters and an opaque cursor, and reviewed through the verdicts.

The scan (`simgov findings`, or the server's first request when the folder has none) is saved as
`findings.json` with the store's sequence number it covers. Later writes (API uploads, deletes) are
picked up by re-checking only the listings they touched, on a background thread, so that a read
never waits for them; the answer says how far it is current. Verdicts are never copied into the
file: each read takes the latest verdict of every finding from the verdicts table.
"""
from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..accounts.listings import KeptMatches, live_matches
from ..errors import BadInput, SimgovError, UnknownId
from ..generations import write_json_atomic
from ..index import SimIndex
from ..keys import KeyStore
from ..records import Verdict
from ..storage.findings import changed_items
from ..verdicts import Verdicts, key
from .collect import Progress, recheck, scan
from .model import SEVERITY_RANK, Finding, FindingPage

FILE = "findings.json"
FORMAT = 1
SORTS = ("severity", "score", "newest")
STATUSES = ("open", "confirmed", "rejected")
MAX_LIMIT = 500


class FindingsPending(SimgovError):
    """The first scan of the index is still running."""


class NothingToUndo(SimgovError):
    """The finding has no verdict that counts."""


@dataclass
class Filters:
    kind: str | None = None
    status: str | None = None
    seller_id: str | None = None
    item_id: str | None = None
    brand: str | None = None
    min_score: float = 0.0

    def keep(self, f: Finding) -> bool:
        return ((self.kind is None or f.kind == self.kind)
                and (self.status is None or f.status == self.status)
                and (self.seller_id is None or self.seller_id in f.sellers or self.seller_id in f.accounts)
                and (self.item_id is None or self.item_id in f.items)
                and (self.brand is None or (f.brand or "").casefold() == self.brand.casefold())
                and f.score >= self.min_score)


def sort_key(sort: str) -> Callable[[Finding], tuple]:
    if sort == "severity":
        return lambda f: (SEVERITY_RANK[f.severity], -f.score, f.finding_id)
    if sort == "score":
        return lambda f: (-f.score, f.finding_id)
    if sort == "newest":
        return lambda f: (-f.found_at, f.finding_id)
    raise BadInput(f"unknown sort {sort!r} (sorts: {', '.join(SORTS)})")


def encode_cursor(sort: str, last: tuple) -> str:
    return base64.urlsafe_b64encode(json.dumps([sort, *last]).encode("utf-8")).decode("ascii").rstrip("=")


def _same_shape(value, probe) -> bool:
    if isinstance(probe, str):
        return isinstance(value, str)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def decode_cursor(cursor: str, sort: str) -> tuple:
    probe = sort_key(sort)(_PROBE)
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        ok = (isinstance(raw, list) and len(raw) == len(probe) + 1 and raw[0] == sort
              and all(_same_shape(v, p) for v, p in zip(raw[1:], probe)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        ok = False
    if not ok:
        raise BadInput("cursor is not one this server gave for this sort order; start again without it")
    return tuple(raw[1:])


_PROBE = Finding(finding_id="", kind="relisting", severity="low", score=0, items=[], accounts=[], sellers=[],
                 summary="", evidence=[], found_at=0)


def ring_pairs(members: list[str]) -> list[list[str]]:
    """The links a ring's verdict is recorded as: its first member with each other member."""
    return [sorted([members[0], m]) for m in members[1:]]


class FindingsQueue:
    """Findings of one open index, safe to share between request threads."""

    def __init__(self, index: SimIndex):
        self.index = index
        self.path = Path(index.folder) / FILE
        self.lock = threading.RLock()
        self.findings: dict[str, Finding] = {}
        self.seq: int | None = None  # store sequence number the findings cover; None: no scan yet
        self.computed_at: float | None = None
        self._worker: threading.Thread | None = None
        self.error: str | None = None
        self._load()

    # -- the file -------------------------------------------------------------------------------
    def _load(self) -> None:
        """The saved scan; one that cannot be read (another layout, a damaged file) is scanned again."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                return
            findings = {f["finding_id"]: Finding.model_validate(f) for f in data["findings"]}
            seq, computed_at = int(data["seq"]), float(data["computed_at"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):  # pydantic's errors are ValueErrors
            return
        self.findings, self.seq, self.computed_at = findings, seq, computed_at

    def _save(self) -> None:
        write_json_atomic(self.path, {"format": FORMAT, "seq": self.seq, "computed_at": self.computed_at,
                                      "findings": [f.model_dump(mode="json",
                                                                exclude={"verdict", "status", "decided_by"})
                                                   for f in self.findings.values()]})

    # -- computing ------------------------------------------------------------------------------
    def rescan(self, progress: Progress | None = None) -> None:
        """A full scan; findings seen before keep when they were first found, and those whose
        rejection made a detector drop them stay listed as rejected."""
        seq = self.index.store.current_seq()
        findings, matches = scan(self.index, progress)
        found = {f.finding_id: f for f in findings}
        with self.lock:
            for fid, f in found.items():
                if fid in self.findings:
                    f.found_at = self.findings[fid].found_at
            reviewed = self._verdicts(list(self.findings.values()))
            for fid, old in self.findings.items():
                v = reviewed.get(fid)
                if fid not in found and v is not None and v.decision == "rejected" and self._live(old):
                    found[fid] = old
            self.findings, self.seq, self.computed_at = found, seq, time.time()
            self._save()
            KeptMatches.of_pairs(seq, matches).save(self.path.parent)

    def _live(self, f: Finding) -> bool:
        return len(self.index.store.live_vec_ids(f.items)) == len(f.items)

    def catch_up(self) -> int:
        """Re-check the listings written or deleted since the findings were made; returns how many."""
        with self.lock:
            if self.seq is None:
                return 0
            seq = self.index.store.current_seq()
            if seq <= self.seq:
                return 0
            changed = dict(changed_items(self.index.store, self.seq))
            touched = set(changed)
            for f in self.findings.values():
                if touched.intersection(f.items) and f.kind in ("cross_seller_copy", "relisting"):
                    touched.update(f.items)  # the rest of a changed group is grouped again
        self.index.refresh()
        fresh = recheck(self.index, sorted(i for i in touched if not changed.get(i, False)))
        matches = self._kept_matches_after(changed, seq)
        with self.lock:
            kept = {fid: f for fid, f in self.findings.items() if not touched.intersection(f.items)}
            for f in fresh:
                f.found_at = self.findings[f.finding_id].found_at if f.finding_id in self.findings else f.found_at
                kept[f.finding_id] = f
            self.findings, self.seq = kept, seq
            self._save()
            if matches is not None:
                matches.save(self.path.parent)
        return len(changed)

    def _kept_matches_after(self, changed: dict[str, bool], seq: int) -> KeptMatches | None:
        """The kept cross-seller matches with the changed listings' pairs looked up again (None
        when the folder keeps none: a scan made before they were kept)."""
        matches = KeptMatches.load(self.path.parent)
        if matches is None:
            return None
        sellers = self.index.store.sellers_of(i for i, deleted in changed.items() if not deleted)
        for item_id in changed:
            matches.drop(item_id)
        for item_id, seller_id in sorted(sellers.items()):
            for other in live_matches(self.index, item_id, seller_id):
                matches.add(item_id, other)
        matches.seq = seq
        return matches

    def _run(self, job: Callable[[], object]) -> None:
        try:
            job()
            self.error = None
        except Exception as exc:  # kept for the next reader, which reports it
            self.error = f"{type(exc).__name__}: {exc}"

    def start(self, wait_s: float = 0.0) -> None:
        """Bring the findings up to date in the background: the first scan, or the writes since.
        Waits up to `wait_s` for it; with no scan yet after that, FindingsPending."""
        with self.lock:
            if self._worker is None or not self._worker.is_alive():
                job = self.rescan if self.seq is None else self.catch_up
                if self.seq is None or self.index.store.current_seq() > self.seq:
                    self._worker = threading.Thread(target=self._run, args=(job,), daemon=True,
                                                    name="simgov-findings")
                    self._worker.start()
            worker = self._worker
        if worker is not None and wait_s > 0:
            worker.join(wait_s)
        if self.seq is None:
            why = f" (the last attempt failed: {self.error})" if self.error else ""
            raise FindingsPending(f"the findings of this index are being computed{why}; ask again shortly, or run "
                                  f"`simgov findings --index {self.index.folder}` once")

    # -- reading --------------------------------------------------------------------------------
    def _verdicts(self, findings: list[Finding]) -> dict[str, Verdict]:
        """The latest verdict of each finding that has one, by finding id."""
        verdicts = Verdicts(self.index)
        subjects: dict[str, list[list[str]]] = {"counterfeit": [], "group": [], "pair": [], "link": []}
        for f in findings:
            if f.review is not None:
                subjects[f.review.kind] += ring_pairs(f.review.ids) if f.kind == "ring" else [f.review.ids]
        latest = {kind: verdicts.latest(kind, ids) for kind, ids in subjects.items() if ids}
        out: dict[str, Verdict] = {}
        for f in findings:
            if f.review is None:
                continue
            found = latest.get(f.review.kind, {})
            subjects_of = ring_pairs(f.review.ids) if f.kind == "ring" else [f.review.ids]
            mine = [found[key(s)] for s in subjects_of if key(s) in found]
            if mine:
                out[f.finding_id] = max(mine, key=lambda v: v.verdict_id)
        return out

    def current(self) -> list[Finding]:
        """Every finding with its latest verdict and status."""
        with self.lock:
            findings = [f.model_copy() for f in self.findings.values()]
        reviewed = self._verdicts(findings)
        unnamed = any(v.holder is None for v in reviewed.values())
        labels = {k.key_id: k.holder or k.label for k in KeyStore(self.index.store).list()} if unnamed else {}
        for f in findings:
            f.verdict = reviewed.get(f.finding_id)
            f.status = f.verdict.decision if f.verdict else "open"
            f.decided_by = (f.verdict.holder or labels.get(f.verdict.key_id)) if f.verdict else None
        return findings

    def page(self, filters: Filters, sort: str = "severity", limit: int = 50, cursor: str | None = None) -> FindingPage:
        if not 1 <= limit <= MAX_LIMIT:
            raise BadInput(f"limit must be between 1 and {MAX_LIMIT}")
        order = sort_key(sort)
        after = decode_cursor(cursor, sort) if cursor else None
        chosen = sorted((f for f in self.current() if filters.keep(f)), key=order)
        rest = [f for f in chosen if after is None or order(f) > after]
        shown = rest[:limit]
        more = len(rest) > limit
        return FindingPage(findings=shown, next_cursor=encode_cursor(sort, order(shown[-1])) if more else None,
                           total=len(chosen), computed_at=self.computed_at)

    def get(self, finding_id: str) -> Finding:
        for f in self.current():
            if f.finding_id == finding_id:
                return f
        raise UnknownId("finding", finding_id)

    # -- reviewing ------------------------------------------------------------------------------
    def decide(self, finding_id: str, decision: str, reason: str, note: str | None, key_id: str,
               holder: str | None = None) -> Finding:
        """Record a verdict on a finding as the verdicts of what it is made of (a ring: the link of
        its first member to each other one); the finding comes back with it."""
        f = self.get(finding_id)
        if f.review is None:
            raise BadInput(f"a {f.kind.replace('_', ' ')} finding takes no verdict here; "
                           "manage the entry it matched in its bank")
        verdicts = Verdicts(self.index)
        subjects = ring_pairs(f.review.ids) if f.kind == "ring" else [f.review.ids]
        for ids in subjects:
            verdicts.record(f.review.kind, ids, decision, reason, note, key_id, holder)
        return self.get(finding_id)

    def undo(self, finding_id: str, key_id: str) -> Finding:
        """Undo the verdicts that count for a finding's parts (those a verdict on it recorded); the
        finding comes back with its earlier verdict, or open."""
        f = self.get(finding_id)
        if f.review is None or f.verdict is None:
            raise NothingToUndo(f"finding {finding_id} has no verdict to undo")
        verdicts = Verdicts(self.index)
        subjects = ring_pairs(f.review.ids) if f.kind == "ring" else [f.review.ids]
        for v in verdicts.latest(f.review.kind, subjects).values():
            verdicts.undo(v.verdict_id, key_id)
        return self.get(finding_id)
