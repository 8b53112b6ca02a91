"""The account index: account signals' search structures, kept in step with the store like the
item signals, and the two queries built on them: `linked` (one account) and `rings` (all).

Owned by the item index (``SimIndex.accounts``), which it sees only as `ItemSide`: what account
linking needs of the items (their store and lock, neighbours, the cross-seller self-join). Its
structures are saved into the same generation folder by ``SimIndex.publish()`` (manifest section
``accounts``), loaded with the generation, and account writes after the generation are replayed
from the store with the item writes (one sequence counter). Nothing here prints or logs.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol

from ..matching.thresholds import threshold
from ..config import Config
from ..errors import IndexMismatch, UnknownId
from ..records import AccountPair, Group, LinkedAccount, LinkEvidence, Neighbour, Pair
from ..schema import Account, canonical_json
from ..signals.base import BuildContext
from . import REGISTRY, create_account_signals
from .profiling import DEFAULT_K, AccountProfile, ngram_vectors, profile
from .scoring import STRONG_IDENTIFIERS, LinkComparison, LinkTerm, combine
from .base import AccountRecord
from .listings import KEPT_FILE, KeptMatches, live_matches
from .rings import group_rings
from ..storage.accounts import AccountStore, AccountWrite, StoredAccount
from ..storage.items import Store

SECTION = "accounts"
#: Listings of one account whose matches `linked` reads.
MAX_LISTINGS = 200
#: Linked pairs described in a ring's evidence, and details per pair.
RING_EVIDENCE_PAIRS = 25
RING_EVIDENCE_DETAILS = 4


class ItemSide(Protocol):
    """What account linking needs of the item index (simgov.index.SimIndex is one)."""

    config: Config
    folder: Path
    store: Store
    lock: Any  # the item index's re-entrant lock: account structures change under it

    def refresh(self) -> None: ...

    def similar(self, item_id: str, k: int = 10) -> list[Neighbour]: ...

    def pairs(self, *, cross_seller_only: bool = False) -> Iterator[Pair]: ...


@dataclass
class Rings:
    groups: list[Group]
    pairs: list[AccountPair]
    accounts: int
    candidates: int


def is_hard(term: LinkTerm) -> bool:
    """A shared strong identifier that counts (see :mod:`simgov.accounts.rings`)."""
    return term.kind == "shared_identifier" and term.field in STRONG_IDENTIFIERS and term.log_odds > 0


class LinkSession:
    """What one `linked` or `rings` call shares between signals: loaded records and caches."""

    def __init__(self, accounts: "AccountIndex", given_matches: Iterable[tuple[str, str]] | None = None):
        self.accounts = accounts
        self.given_matches = given_matches
        self.sim = accounts.sim
        self.store = accounts.store
        self.lock = accounts.sim.lock
        self.records: dict[str, AccountRecord] = {}
        self.cache: dict = {}
        self._holders: dict[str, int] = {}
        self._partners: dict[str, dict[str, tuple[set[str], set[str]]]] = {}
        self._all_listings = False
        self._item_counts: dict[str, int] = {}

    # -- records ------------------------------------------------------------------------------
    def get(self, account_ids: Iterable[str]) -> dict[str, AccountRecord]:
        """Live accounts by id (unknown ids are left out)."""
        ids = list(dict.fromkeys(account_ids))
        missing = [a for a in ids if a not in self.records]
        if missing:
            for rec in self.accounts.records(self.store.many(missing).values()):
                self.records[rec.account_id] = rec
        return {a: self.records[a] for a in ids if a in self.records}

    def ids_by_acc(self, acc_ids: Iterable[int]) -> dict[int, str]:
        return self.store.ids_by_acc(acc_ids)

    def holder_count(self, digest: str) -> int:
        if digest not in self._holders:
            self._holders.update(self.store.holder_counts([digest]))
        return self._holders.get(digest, 0)

    # -- scoring ------------------------------------------------------------------------------
    def terms(self, a: AccountRecord, b: AccountRecord) -> list[LinkTerm]:
        return [t for signal in self.accounts.signals.values() for t in signal.terms(self, a, b)]

    def compare(self, a: AccountRecord, b: AccountRecord) -> LinkComparison:
        return combine(self.terms(a, b))

    # -- listings -----------------------------------------------------------------------------
    def _has_items(self) -> bool:
        if "has_items" not in self.cache:
            self.cache["has_items"] = self.sim.store.count_items() > 0
        return self.cache["has_items"]

    def _note(self, seller_a: str, item_a: str, seller_b: str, item_b: str) -> None:
        pa = self._partners.setdefault(seller_a, {}).setdefault(seller_b, (set(), set()))
        pa[0].add(item_a)
        pa[1].add(item_b)

    def listing_partners(self, account_id: str) -> dict[str, tuple[set[str], set[str]]]:
        """Other sellers with listings the item matcher matches to this seller's listings:
        seller → (this seller's matching items, the other seller's matching items). From the
        kept matches (:class:`KeptMatches`) where they cover a listing and its partners, else
        from the listing's neighbours now."""
        if self._all_listings or account_id in self._partners or not self._has_items():
            return self._partners.get(account_id, {})
        self._partners[account_id] = {}
        items = self.sim.store.seller_item_ids(account_id, MAX_LISTINGS)
        kept = self.accounts.kept_matches()
        matched: dict[str, list[str]] = {}
        if kept is not None:
            known = {i: kept.partners.get(i, set()) for i in items}
            vec = self.sim.store.live_vec_ids(sorted(set(items).union(*known.values())))
            for item_id in items:  # a listing or a partner written or deleted since: its kept pairs may be stale
                if all(vec.get(i, kept.seq + 1) <= kept.seq for i in (item_id, *known[item_id])):
                    matched[item_id] = sorted(known[item_id])
        for item_id in items:
            if item_id not in matched:
                matched[item_id] = live_matches(self.sim, item_id, account_id)
        sellers = self.sim.store.sellers_of({o for others in matched.values() for o in others})
        for item_id in items:
            for other in matched[item_id]:
                if sellers.get(other, account_id) != account_id:
                    self._note(account_id, item_id, sellers[other], other)
        return self._partners[account_id]

    def all_listing_matches(self) -> Iterable[tuple[str, str]]:
        """Seller pairs (a < b) with matching listings, from one cross-seller self-join (or the
        matched item pairs the caller has from one: `given_matches`)."""
        if not self._all_listings:
            self._partners = {}
            if self._has_items():
                if self.given_matches is not None:
                    matched = list(self.given_matches)
                else:
                    matched = [(p.item_a, p.item_b) for p in self.sim.pairs(cross_seller_only=True) if p.match]
                seller = self.sim.store.sellers_of({i for pair in matched for i in pair})
                for a, b in matched:
                    if a in seller and b in seller and seller[a] != seller[b]:
                        self._note(seller[a], a, seller[b], b)
                        self._note(seller[b], b, seller[a], a)
            self._all_listings = True
        return sorted({(a, b) for a, others in self._partners.items() for b in others if a < b})

    def item_count(self, seller_id: str) -> int:
        if seller_id not in self._item_counts:
            self._item_counts[seller_id] = self.sim.store.count_seller_items(seller_id)
        return self._item_counts[seller_id]

    def listing_overlap(self, a: str, b: str) -> tuple[int, int, int, int] | None:
        """(a's listings matching b's, a's listings, b's listings matching a's, b's listings)."""
        if not self._has_items():
            return None
        found = self.listing_partners(a).get(b)  # `linked` looks from a's side only
        if found is None:
            return None
        return len(found[0]), self.item_count(a), len(found[1]), self.item_count(b)


class AccountIndex:
    """Account structures and queries of one open index (see the module docstring)."""

    def __init__(self, sim: ItemSide):
        self.sim = sim
        self.config = sim.config
        self.store = AccountStore(sim.store)
        self.signals = create_account_signals(sim.config)
        self.indexed = 0
        self.threshold = threshold("account_link", sim.config.thresholds)
        self._kept: tuple[tuple[int, int] | None, KeptMatches | None] = (None, None)

    def warm(self) -> None:
        """Load now what the first `linked` call would: the profile signal's n-gram vectoriser
        (scikit-learn, imported on first use: 2 s of a cold server's first call on the demo, 9 s
        under load) and the kept listing matches. A server calls it on a thread as it starts."""
        ngram_vectors([])
        self.kept_matches()

    def kept_matches(self) -> KeptMatches | None:
        """The matched listing pairs the findings scan keeps in the index folder (re-read when the
        file changes), or None when it keeps none."""
        try:
            st = (self.sim.folder / KEPT_FILE).stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        if stamp != self._kept[0]:
            self._kept = (stamp, KeptMatches.load(self.sim.folder) if stamp else None)
        return self._kept[1]

    def identity(self) -> dict:
        return {name: signal.identity() for name, signal in self.signals.items()}

    # -- structures ---------------------------------------------------------------------------
    def records(self, stored: Iterable[StoredAccount]) -> list[AccountRecord]:
        stored = list(stored)
        acc_ids = [s.acc_id for s in stored]
        blobs = {name: self.store.blobs(name, acc_ids) for name in self.signals}
        return [AccountRecord(s.account_id, s.acc_id, s.profile,
                              {n: b[s.acc_id] for n, b in blobs.items() if s.acc_id in b}) for s in stored]

    def reset(self, expected: int | None = None) -> None:
        expected = max(1, expected if expected is not None else self.store.count())
        for signal in self.signals.values():
            signal.reset(expected)
        self.indexed = 0

    def replay(self, after: int, upto: int) -> None:
        """Make live accounts with after < acc_id <= upto findable."""
        for batch in self.store.iter_live(after=after, upto=upto):
            records = self.records(batch)
            for signal in self.signals.values():
                signal.add(records)
            self.indexed += len(records)

    def rebuild(self, upto: int) -> None:
        self.reset()
        self.replay(-1, upto)

    def load(self, generation: Path | None, section: dict | None, applied_seq: int) -> None:
        """Load the structures of a generation; one published before accounts existed is rebuilt
        from the store up to `applied_seq` (later writes are replayed as usual)."""
        if generation is None or not section:
            self.rebuild(applied_seq)
            return
        order = {n: i for i, n in enumerate(REGISTRY)}  # registry order, whatever order the manifest keeps
        names = sorted(section["signals"], key=lambda n: (order.get(n, len(order)), n))
        signals = create_account_signals(self.config, names)
        for name, signal in signals.items():
            want, have = section["signals"][name], signal.identity()
            if want != have:
                diff = ", ".join(f"{k}: index {want.get(k)!r} vs now {have.get(k)!r}"
                                 for k in sorted(set(want) | set(have)) if want.get(k) != have.get(k))
                raise IndexMismatch(f"the index in {self.sim.folder} was built with a different account {name} "
                                    f"signal ({diff}); rebuild it into a new folder")
        for signal in signals.values():
            signal.load(generation)
        self.signals = signals
        self.indexed = int(section.get("indexed", 0))

    def save(self, folder: Path) -> dict:
        return {"signals": self.identity(), "files": {n: s.save(folder) for n, s in self.signals.items()},
                "accounts": self.store.count(), "indexed": self.indexed}

    def dead_share(self) -> float:
        return 0.0 if self.indexed == 0 else max(0.0, 1 - self.store.count() / self.indexed)

    # -- ingest -------------------------------------------------------------------------------
    def prepare(self, accounts: list[Account], ctx: BuildContext,
                secret: bytes) -> list[tuple[Account, AccountProfile, str]]:
        """Profiles (identifiers hashed here) and content hashes; raw identifier values go no further."""
        out = []
        ident = canonical_json(self.identity())
        for account in accounts:
            prof = profile(account.model_dump(), secret)
            extra = "|".join(f"{n}:{self.signals[n].signature(account, ctx)}" for n in sorted(self.signals))
            blob = canonical_json([account.safe_record(), prof.to_dict(), extra, ident])
            out.append((account, prof, hashlib.sha256(blob.encode("utf-8")).hexdigest()))
        return out

    def compute(self, prepared: list[tuple[Account, AccountProfile, str]], ctx: BuildContext) -> list[AccountWrite]:
        """Run every account signal; a signal's problems never drop the account."""
        accounts = [a for a, _, _ in prepared]
        outputs = {name: signal.compute(accounts, ctx) for name, signal in self.signals.items()}
        writes = []
        for i, (account, prof, digest) in enumerate(prepared):
            blobs = {n: out[i].blob for n, out in outputs.items() if out[i].blob is not None}
            problems = [(n, p) for n, out in outputs.items() for p in out[i].problems]
            writes.append(AccountWrite(account.account_id, digest, account.safe_record(), prof, blobs, problems))
        return writes

    def write(self, writes: list[AccountWrite], *, live: bool = True) -> None:
        """Store a batch durably; with `live`, make it findable in this process at once."""
        with self.sim.lock:
            self.store.write(writes)
            if live:
                self.sim.refresh()

    # -- queries ------------------------------------------------------------------------------
    def account(self, account_id: str) -> StoredAccount:
        stored = self.store.get(account_id)
        if stored is None:
            raise UnknownId("account", account_id)
        return stored

    def linked(self, account_id: str, k: int = 10, min_score: float = 0.0) -> list[LinkedAccount]:
        """The accounts most likely linked to this one, best first, each scored and explained."""
        self.sim.refresh()
        session = LinkSession(self)
        me = session.get([account_id]).get(account_id)
        if me is None:
            raise UnknownId("account", account_id)
        found: set[str] = set()
        for signal in self.signals.values():
            found |= signal.candidates(session, [me], max(k, DEFAULT_K))[0]
        found.discard(account_id)
        out = []
        for other in session.get(sorted(found)).values():
            c = session.compare(me, other)
            if c.score >= min_score:
                out.append(LinkedAccount(account_id=other.account_id, score=round(c.score, 4),
                                         match=c.score >= self.threshold,
                                         evidence=[LinkEvidence(**e) for e in c.evidence]))
        out.sort(key=lambda r: (-r.score, r.account_id))
        return out[:k]

    def rings(self, progress: Callable[[str], None] | None = None,
              listing_matches: Iterable[tuple[str, str]] | None = None) -> Rings:
        """Groups of linked accounts over the whole index, and every scored pair.

        Candidates come from each signal's index lookups (never all pairs); pairs at or above the
        link threshold are grouped by :func:`simgov.accounts.rings.group_rings`: shared strong
        identifiers chain, weaker links never do. A pair's `match` says whether both accounts
        ended in one group. A ring's score is the mean over its members of each member's
        strongest link inside the ring (how firmly every member is tied in). `listing_matches`:
        the matched cross-seller item pairs of a self-join the caller ran (else one is run here).
        """
        self.sim.refresh()
        session = LinkSession(self, listing_matches)
        for batch in self.store.iter_live():
            for rec in self.records(batch):
                session.records[rec.account_id] = rec
        ids = sorted(session.records)
        pos = {a: i for i, a in enumerate(ids)}
        recs = [session.records[a] for a in ids]
        pairs: set[tuple[int, int]] = set()
        for name, signal in self.signals.items():
            if progress:
                progress(f"candidates: {name}")
            for a, b in signal.candidate_pairs(session, recs, DEFAULT_K):
                i, j = pos.get(a), pos.get(b)
                if i is not None and j is not None and i != j:
                    pairs.add((i, j) if i < j else (j, i))
        if progress:
            progress(f"scoring {len(pairs)} candidate pairs")
        scores: dict[tuple[int, int], float] = {}
        hard: set[tuple[int, int]] = set()
        for i, j in sorted(pairs):
            terms = session.terms(recs[i], recs[j])
            scores[(i, j)] = combine(terms).score
            if any(is_hard(t) for t in terms):
                hard.add((i, j))

        def pair_score(i: int, j: int) -> float:
            key = (i, j) if i < j else (j, i)
            if key not in scores:
                scores[key] = session.compare(recs[key[0]], recs[key[1]]).score
            return scores[key]

        groups = group_rings(len(ids), dict(scores), hard, pair_score, self.threshold)
        out_groups: list[Group] = []
        group_of: dict[int, int] = {}
        for g, members in enumerate(groups, start=1):
            inside = [(members[x], members[y]) for x in range(len(members)) for y in range(x + 1, len(members))]
            tie = {i: max(pair_score(*p) for p in inside if i in p) for i in members}
            out_groups.append(Group(group_id=f"ring-{g:04d}", members=[ids[i] for i in members],
                                    score=round(sum(tie.values()) / len(tie), 4),
                                    evidence=self._ring_evidence(session, recs, inside, scores)))
            group_of.update({i: g for i in members})
        out_pairs = [AccountPair(account_a=ids[i], account_b=ids[j], score=round(s, 4),
                                 match=group_of.get(i, -1) == group_of.get(j, -2))
                     for (i, j), s in sorted(scores.items())]
        return Rings(out_groups, out_pairs, len(ids), len(pairs))

    def _ring_evidence(self, session: LinkSession, recs: list[AccountRecord], inside: list[tuple[int, int]],
                       scores: dict[tuple[int, int], float]) -> list[str]:
        linked = sorted(((scores[p], p) for p in inside if scores.get(p, 0.0) >= self.threshold), key=lambda t: -t[0])
        lines = []
        for s, (i, j) in linked[:RING_EVIDENCE_PAIRS]:
            terms = sorted((t for t in session.terms(recs[i], recs[j]) if t.log_odds > 0), key=lambda t: -t.log_odds)
            details = "; ".join(t.detail for t in terms[:RING_EVIDENCE_DETAILS])
            lines.append(f"{recs[i].account_id} ~ {recs[j].account_id} ({s:.2f}): {details}")
        if len(linked) > RING_EVIDENCE_PAIRS:
            lines.append(f"… and {len(linked) - RING_EVIDENCE_PAIRS} more linked pairs")
        return lines


__all__ = ["AccountIndex", "ItemSide", "LinkSession", "Rings", "SECTION"]
