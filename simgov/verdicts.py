"""Investigator verdicts on findings, and what they change in every later view of those findings.

A finding is an item pair, a duplicate group, a counterfeit suspect (item, reference) or a linked
account pair. A verdict confirms or rejects it, with a reason, an optional note, the key that
decided, the person behind it (the key's holder) and when. The evidence at verdict time is
recorded with it (the score, each signal's score, and which signals agreed), because a rejection
must hold only while nothing new turns up: a rejected finding is not shown as a match again
unless a signal agrees now that did not agree when it was rejected. Verdicts are also the labels
`simgov calibrate` sets thresholds from.
A verdict can be undone: it stays in the history, marked, and the finding's earlier verdict (or
none: open again) counts.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Iterator

from .accounts.index import LinkSession
from .banks import brand_bank, brand_of, item_pdq_entries
from .errors import BadInput, SimgovError, UnknownId
from .matching.combine import agreeing
from .matching.decision import Decision
from .records import LinkEvidence, Verdict
from .storage.verdicts import VerdictTables

if TYPE_CHECKING:
    from .index import SimIndex
    from .records import CounterfeitAssessment, CounterfeitSuspect, Group, LinkedAccount, Neighbour, Pair

KINDS = ("pair", "group", "counterfeit", "link")
DECISIONS = ("confirmed", "rejected")
MAX_GROUP = 50
#: Neighbours searched for a pair's own score (the score `similar` shows, mutual-best flag included).
PAIR_NEIGHBOURS = 50
#: A part of an account comparison agrees when its similarity is at least this.
LINK_AGREE = 0.5
_SEP = "\x1f"  # ids cannot hold control characters (simgov.schema), so this joins them unambiguously


class AlreadyUndone(SimgovError):
    """The verdict was undone before."""


@dataclass
class Evidence:
    score: float | None
    signals: dict[str, float]
    agreeing: list[str]


def subject(kind: str, ids: list[str]) -> list[str]:
    """The finding's ids in canonical order: pairs and groups sorted, counterfeit (item, reference)."""
    if kind not in KINDS:
        raise BadInput(f"unknown finding kind {kind!r} (kinds: {', '.join(KINDS)})")
    ids = [str(i) for i in ids]
    if len(set(ids)) != len(ids) or any(not i.strip() for i in ids):
        raise BadInput("a finding's ids must be distinct and non-empty")
    if kind == "group":
        if not 2 <= len(ids) <= MAX_GROUP:
            raise BadInput(f"a group finding has 2 to {MAX_GROUP} members")
        return sorted(ids)
    if len(ids) != 2:
        raise BadInput(f"a {kind} finding has exactly two ids"
                       + (" (item, reference)" if kind == "counterfeit" else ""))
    return ids if kind == "counterfeit" else sorted(ids)


def key(ids: list[str]) -> str:
    return _SEP.join(ids)


def agreeing_signals(signals: dict[str, float]) -> list[str]:
    """Item-pair signals that agree: on its own, each raises the combined score."""
    return agreeing(signals)


def new_evidence(verdict: Verdict, agreeing_now: Iterable[str]) -> list[str]:
    """Signals that agree now and did not when the verdict was given."""
    return sorted(set(agreeing_now) - set(verdict.agreeing))


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(at))


class Verdicts:
    """The verdicts of one index: recording, listing, and applying them to findings."""

    def __init__(self, index: "SimIndex"):
        self.index = index
        self.tables = VerdictTables(index.store)

    # -- evidence of a finding now ---------------------------------------------------------------
    def _pair_evidence(self, a: str, b: str) -> Evidence:
        for query, other in ((a, b), (b, a)):
            for n in self.index.similar(query, k=PAIR_NEIGHBOURS):
                if n.item_id == other:
                    return Evidence(n.score, n.signals, agreeing_signals(n.signals))
        sa, sb = self.index.item(a), self.index.item(b)
        blobs = self.index.item_blobs([sa.vec_id, sb.vec_id])
        scores = self.index.signal_scores(blobs[sa.vec_id], blobs[sb.vec_id])
        return Evidence(self.index.matcher.decide(scores).score, scores, agreeing_signals(scores))

    def evidence(self, kind: str, ids: list[str]) -> Evidence:
        """The finding's score, signal scores and agreeing signals now (unknown ids: UnknownId)."""
        if kind in ("pair", "counterfeit"):
            self.index.item(ids[0]), self.index.item(ids[1])
            return self._pair_evidence(ids[0], ids[1])
        if kind == "group":
            stored = [self.index.item(i) for i in ids]
            blobs = self.index.item_blobs([s.vec_id for s in stored])
            scores, signals, agreeing = [], {}, set()
            for x, a in enumerate(stored):
                for b in stored[x + 1:]:
                    pair = self.index.signal_scores(blobs[a.vec_id], blobs[b.vec_id])
                    scores.append(self.index.matcher.decide(pair).score)
                    agreeing |= set(agreeing_signals(pair))
                    for name, s in pair.items():
                        signals[name] = max(signals.get(name, 0.0), s)
            return Evidence(round(sum(scores) / len(scores), 4), signals, sorted(agreeing))
        accounts = self.index.accounts
        for account_id in ids:
            accounts.account(account_id)
        session = LinkSession(accounts)
        recs = session.get(ids)
        c = session.compare(recs[ids[0]], recs[ids[1]])
        parts = {n: round(float(s), 4) for n, s in c.parts.items()}
        return Evidence(round(c.score, 4), parts, sorted(n for n, s in parts.items() if s >= LINK_AGREE))

    # -- recording and reading -------------------------------------------------------------------
    def record(self, kind: str, ids: list[str], decision: str, reason: str, note: str | None, key_id: str,
               holder: str | None = None) -> Verdict:
        """Store a verdict with the finding's evidence now and who gave it (`holder`: the person
        behind the key). Confirming a counterfeit also adds the suspect's pictures to its brand's bank."""
        ids = subject(kind, ids)
        if decision not in DECISIONS:
            raise BadInput(f"decision must be one of {', '.join(DECISIONS)}")
        if not reason or not reason.strip():
            raise BadInput("a verdict needs a reason")
        ev = self.evidence(kind, ids)
        verdict_id = self.tables.insert(kind, key(ids), ids, decision, reason.strip(), note, key_id,
                                        holder.strip() if holder and holder.strip() else None, ev.score,
                                        ev.signals, ev.agreeing)
        if kind == "counterfeit" and decision == "confirmed":
            self._bank_counterfeit(ids, verdict_id, key_id)
        return self.get(verdict_id)

    def _bank_counterfeit(self, ids: list[str], verdict_id: int, key_id: str) -> None:
        reference = self.index.item(ids[1]).item
        bank = brand_bank(brand_of(reference))
        entries = item_pdq_entries(self.index, ids[0], f"counterfeit {ids[0]} of {ids[1]}")
        if entries:
            self.index.banks.ensure(bank, f"pictures of confirmed counterfeits of {brand_of(reference) or 'the brand'}",
                                    key_id)
            self.index.banks.add(bank, entries, source=f"verdict:{verdict_id}", by=key_id)

    def undo(self, verdict_id: int, key_id: str) -> Verdict:
        """Undo a verdict: it is kept, marked undone, and no longer counts (the finding's earlier
        verdict does, else it is open again). Undoing a confirmed counterfeit disables the bank
        entries that verdict added."""
        verdict = self.get(verdict_id)
        if not self.tables.undo(verdict_id, key_id):
            raise AlreadyUndone(f"verdict {verdict_id} was undone already")
        if verdict.kind == "counterfeit" and verdict.decision == "confirmed":
            self._unbank_counterfeit(verdict)
        return self.get(verdict_id)

    def _unbank_counterfeit(self, verdict: Verdict) -> None:
        try:
            bank = brand_bank(brand_of(self.index.item(verdict.ids[1]).item))
            entries = self.index.banks.entries(bank)
        except UnknownId:  # the reference or the bank is gone, and the entries with it
            return
        for entry in entries:
            if entry.source == f"verdict:{verdict.verdict_id}" and entry.enabled:
                self.index.banks.set_entry_enabled(bank, entry.entry_id, False)

    def get(self, verdict_id: int) -> Verdict:
        found = self.tables.get(verdict_id)
        if found is None:
            raise UnknownId("verdict", str(verdict_id))
        return found

    def list(self, *, kind: str | None = None, decision: str | None = None, item_id: str | None = None,
             since: float | None = None, latest_only: bool = False, limit: int | None = None) -> list[Verdict]:
        """Verdicts, oldest first; `latest_only`: only the one that counts for each finding."""
        return self.tables.list(kind=kind, decision=decision, item_id=item_id, since=since,
                                latest_only=latest_only, limit=limit)

    def latest(self, kind: str, subjects: Iterable[list[str]]) -> dict[str, Verdict]:
        """The verdict that counts for each of these findings that has one, by `key(ids)`."""
        return self.tables.latest(kind, (key(s) for s in subjects))

    # -- applying them ---------------------------------------------------------------------------
    @staticmethod
    def _note(verdict: Verdict, new: list[str]) -> str:
        said = f"{verdict.decision} by an investigator on {_when(verdict.at)} ({verdict.reason})"
        if verdict.decision == "confirmed":
            return said
        if new:
            return f"{said}, but {', '.join(new)} now agree{'s' if len(new) == 1 else ''}: shown again"
        return f"{said}; no signal agrees now that did not then, so not a match"

    def review_neighbours(self, item_id: str, neighbours: list["Neighbour"]) -> dict[str, Verdict]:
        """Apply pair verdicts to an item's neighbours (in place); returns them by neighbour id."""
        found = self.latest("pair", (sorted([item_id, n.item_id]) for n in neighbours))
        out = {}
        for n in neighbours:
            v = found.get(key(sorted([item_id, n.item_id])))
            if v is None:
                continue
            out[n.item_id] = v
            new = new_evidence(v, agreeing_signals(n.signals))
            if v.decision == "rejected" and not new and n.match:
                n.match, n.relation = False, "similar"
            elif v.decision == "confirmed" and not n.match:  # a confirmed pair is a match again
                n.match, n.relation = True, self._confirmed_relation(item_id, n)
            n.evidence.append(self._note(v, new))
        return out

    def _confirmed_relation(self, item_id: str, n: "Neighbour") -> str:
        a, b = self.index.item(item_id), self.index.item(n.item_id)
        blobs = self.index.item_blobs([a.vec_id, b.vec_id])
        decision = Decision(score=n.score, match=True, same_picture=self.index.matcher.same_picture(n.signals))
        return self.index.pair_relation(a, b, blobs[a.vec_id], blobs[b.vec_id], decision)[0]

    def review_pairs(self, pairs: Iterable["Pair"]) -> Iterator["Pair"]:
        """Pairs with rejected ones (and no new evidence) no longer a match, and confirmed ones a
        match again (the self-join, duplicates)."""
        latest = {key(v.ids): v for v in self.list(kind="pair", latest_only=True)}
        for p in pairs:
            v = latest.get(key([p.item_a, p.item_b])) if latest else None
            if v is not None and v.decision == "confirmed":
                p.match = True
            elif v is not None and p.match and not new_evidence(v, agreeing_signals(p.signals)):
                p.match = False  # rejected, and nothing new agrees
            yield p

    def _pair_signals(self, a: str, b: str) -> dict[str, float]:
        sa, sb = self.index.item(a), self.index.item(b)
        blobs = self.index.item_blobs([sa.vec_id, sb.vec_id])
        return self.index.signal_scores(blobs[sa.vec_id], blobs[sb.vec_id])

    def review_suspects(self, suspects: list["CounterfeitSuspect"]
                        ) -> tuple[list["CounterfeitSuspect"], dict[str, Verdict]]:
        """Counterfeit suspects without those rejected (and no new evidence), and the verdicts of
        the rest by reference id."""
        found = self.latest("counterfeit", ([s.item_id, s.reference_item_id] for s in suspects))
        kept, verdicts = [], {}
        for s in suspects:
            v = found.get(key([s.item_id, s.reference_item_id]))
            if v is not None:
                new = (new_evidence(v, agreeing_signals(self._pair_signals(s.item_id, s.reference_item_id)))
                       if v.decision == "rejected" else [])
                if v.decision == "rejected" and not new:
                    continue
                verdicts[s.reference_item_id] = v
                s.evidence.append(self._note(v, new))
            kept.append(s)
        return kept, verdicts

    def review_assessment(self, assessment: "CounterfeitAssessment") -> "CounterfeitAssessment":
        """One item's counterfeit assessment with verdicts applied; dropped suspects are noted."""
        kept, verdicts = self.review_suspects(assessment.suspects)
        dropped = {s.reference_item_id for s in assessment.suspects} - {s.reference_item_id for s in kept}
        found = self.latest("counterfeit", ([assessment.item_id, r] for r in dropped))
        notes = list(assessment.notes) + [f"{self._note(v, [])} (reference {v.ids[1]})" for v in found.values()]
        verdicts.update({v.ids[1]: v for v in found.values()})
        return assessment.model_copy(update={"suspects": kept, "suspect": bool(kept), "notes": notes,
                                             "verdicts": verdicts})

    def review_linked(self, account_id: str, linked: list["LinkedAccount"]) -> dict[str, Verdict]:
        """Apply link verdicts to an account's linked accounts (in place); returns them by account id."""
        found = self.latest("link", (sorted([account_id, r.account_id]) for r in linked))
        out = {}
        for r in linked:
            v = found.get(key(sorted([account_id, r.account_id])))
            if v is None:
                continue
            out[r.account_id] = v
            now = self.evidence("link", sorted([account_id, r.account_id])).agreeing if v.decision == "rejected" else []
            new = new_evidence(v, now)
            if v.decision == "rejected" and not new:
                r.match = False
            r.evidence.append(LinkEvidence(kind="verdict", detail=self._note(v, new), score=r.score))
        return out

    def review_groups(self, groups: list["Group"]) -> list["Group"]:
        """Duplicate groups with their verdicts; a rejected group goes unless a signal agrees anew."""
        found = self.latest("group", (sorted(g.members) for g in groups))
        return [g for g in groups if self._apply_group(g, found.get(key(sorted(g.members))))]

    def review_group(self, group: "Group") -> bool:
        """One duplicate group with its verdict attached and noted (in place), kept even when
        rejected so that the item view can show the verdict; False while a rejection holds."""
        members = sorted(group.members)
        return self._apply_group(group, self.latest("group", [members]).get(key(members)))

    def _apply_group(self, group: "Group", verdict: Verdict | None) -> bool:
        if verdict is None:
            return True
        members = sorted(group.members)
        new = new_evidence(verdict, self.evidence("group", members).agreeing) if verdict.decision == "rejected" else []
        group.verdict = verdict
        group.evidence.append(self._note(verdict, new))
        return verdict.decision == "confirmed" or bool(new)
