"""Turning the detectors' output into findings: a full scan of an index, and the re-check of the
listings a write changed.

Kinds and their severity: a counterfeit suspect, a bank hit and a ring of three or more accounts are
high; a cross-seller copy group and a ring of two are medium; a seller's own re-listings and another
seller's picture on another product (picture reuse) are low.
A finding names the sellers it blames: never the seller of a brand-verified reference listing, nor a
seller authorised for the brand of the listings in question.
"""
from __future__ import annotations

import time
from collections import defaultdict
from typing import Callable

from ..banks import brand_of
from ..detectors.counterfeits import (NEIGHBOURS_CHECKED, AuthorizedBrands, CounterfeitPolicy, assess_item,
                                      assess_pair, authorizations, honoured_reference, price_ratio, reference_ids,
                                      title_conflicts)
from ..detectors.duplicates import duplicate_groups, item_group
from ..errors import UnknownId
from ..index import SimIndex
from ..matching.decision import Decision
from ..records import BankHit, CounterfeitSuspect, Group, Neighbour, Pair
from ..verdicts import MAX_GROUP, Verdicts
from .model import Finding, Review, finding_id

Progress = Callable[[str], None]
#: Bank hits read per full scan (newest first); more than this many hit listings is a bank problem.
MAX_BANK_HITS = 100_000
#: Neighbours of a written listing checked for picture reuse.
REUSE_NEIGHBOURS = 20


def counterfeit_finding(s: CounterfeitSuspect, at: float) -> Finding:
    ratio = "" if s.price_ratio is None else f", priced at {s.price_ratio:.0%} of it"
    return Finding(
        finding_id=finding_id("counterfeit", [s.item_id, s.reference_item_id]), kind="counterfeit", severity="high",
        score=s.score, items=[s.item_id, s.reference_item_id], accounts=[s.seller_id], sellers=[s.seller_id],
        brand=s.brand, summary=f"{s.item_id} by {s.seller_id} looks like a counterfeit of {s.brand or 'a'} reference "
                               f"listing {s.reference_item_id}{ratio}",
        evidence=s.evidence, found_at=at, review=Review(kind="counterfeit", ids=[s.item_id, s.reference_item_id]))


def group_finding(index: SimIndex, g: Group, authorized: AuthorizedBrands, at: float) -> Finding:
    """A duplicate group; the sellers of reference listings and sellers authorised for the group's
    brand are in it but not blamed."""
    stored = {}
    for member in g.members:
        try:
            stored[member] = index.item(member)
        except UnknownId:  # deleted since the scan
            continue
    brands = {b.casefold() for s in stored.values() if (b := brand_of(s.item))}
    sellers = sorted({s.seller_id for s in stored.values()})
    blamed = [seller for seller in sellers
              if not any(honoured_reference(s, authorized) for s in stored.values() if s.seller_id == seller)
              and not (brands and brands <= {b.casefold() for b in authorized(seller)})]
    kind = "relisting" if len(sellers) == 1 else "cross_seller_copy"
    brand = next((brand_of(s.item) for s in stored.values() if brand_of(s.item)), None)
    if kind == "relisting":
        summary = f"{sellers[0]} lists the same merchandise {len(g.members)} times"
    else:
        summary = f"{len(g.members)} listings by {len(sellers)} sellers are the same merchandise"
    return Finding(
        finding_id=finding_id(kind, g.members), kind=kind, severity="low" if kind == "relisting" else "medium",
        score=g.score, items=list(g.members), accounts=sellers, sellers=blamed, brand=brand, summary=summary,
        evidence=g.evidence, found_at=at,
        review=Review(kind="group", ids=sorted(g.members)) if len(g.members) <= MAX_GROUP else None)


def ring_finding(g: Group, at: float) -> Finding:
    members = sorted(g.members)
    return Finding(
        finding_id=finding_id("ring", members), kind="ring", severity="high" if len(members) >= 3 else "medium",
        score=g.score, items=[], accounts=members, sellers=members,
        summary=f"{len(members)} accounts look like one operator ({', '.join(members[:4])}"
                f"{', …' if len(members) > 4 else ''})",
        evidence=g.evidence, found_at=at, review=Review(kind="link", ids=members))


def picture_reuse_finding(a: str, seller_a: str, b: str, seller_b: str, score: float, evidence: list[str],
                          at: float) -> Finding:
    """Another seller's picture on a listing whose title names another product: shown, blaming no
    one (which of the two took the other's photo the data cannot say)."""
    items = sorted([a, b])
    return Finding(
        finding_id=finding_id("picture_reuse", items), kind="picture_reuse", severity="low", score=round(score, 4),
        items=items, accounts=sorted({seller_a, seller_b}), sellers=[],
        summary=f"{a} ({seller_a}) and {b} ({seller_b}) show the same picture for different products",
        evidence=evidence, found_at=at, review=Review(kind="pair", ids=items))


def picture_reuses(index: SimIndex, pairs: list[Pair], at: float) -> list[Finding]:
    """Matched pairs of two sellers that the index calls picture reuse (`SimIndex.pair_relation`)."""
    out = []
    for p in pairs:
        if not p.match:
            continue
        try:
            a, b = index.item(p.item_a), index.item(p.item_b)
        except UnknownId:
            continue
        if a.seller_id == b.seller_id or not index.matcher.same_picture(p.signals):
            continue
        blobs = index.item_blobs([a.vec_id, b.vec_id])
        decision = Decision(score=p.score, match=True, same_picture=True)
        rel, said = index.pair_relation(a, b, blobs[a.vec_id], blobs[b.vec_id], decision)
        if rel == "picture_reuse":
            out.append(picture_reuse_finding(a.item_id, a.seller_id, b.item_id, b.seller_id, p.score, said, at))
    return out


def bank_finding(item_id: str, seller_id: str, hits: list[BankHit], at: float) -> Finding:
    banks = sorted({h.bank for h in hits})
    return Finding(
        finding_id=finding_id("bank_hit", [item_id]), kind="bank_hit", severity="high",
        score=round(max(h.score for h in hits), 4), items=[item_id], accounts=[seller_id], sellers=[seller_id],
        summary=f"{item_id} by {seller_id} matches the known-bad "
                f"bank{'s' if len(banks) > 1 else ''} {', '.join(banks)}",
        evidence=[f"[{h.bank}] {h.detail}" for h in hits], found_at=at)


def bank_findings(index: SimIndex, hits: list[BankHit], at: float) -> list[Finding]:
    by_item: dict[str, list[BankHit]] = defaultdict(list)
    for h in hits:
        by_item[h.item_id].append(h)
    sellers = index.store.sellers_of(by_item)
    return [bank_finding(item_id, sellers[item_id], found, at) for item_id, found in sorted(by_item.items())
            if item_id in sellers]


def suspects_from_pairs(index: SimIndex, pairs: list[Pair], authorized: AuthorizedBrands) -> list[CounterfeitSuspect]:
    """Counterfeit suspects among the self-join's pairs that hold a reference listing: the same
    conditions as `simgov counterfeits`, without a neighbour search per reference listing (that
    search, with its mutual-best checks, cost about 2 s a reference on the demo). Rejected
    suspects go unless new evidence turned up, as everywhere."""
    policy = CounterfeitPolicy.from_index(index)
    references = set(reference_ids(index, authorized))
    found: dict[tuple[str, str], CounterfeitSuspect] = {}
    for p in pairs:
        for cand_id, ref_id in ((p.item_a, p.item_b), (p.item_b, p.item_a)):
            if ref_id not in references or cand_id in references:
                continue
            try:
                candidate, reference = index.item(cand_id), index.item(ref_id)
            except UnknownId:  # deleted since, or a record that cannot be read back
                continue
            ratio = price_ratio(candidate.item, reference.item)
            if ratio is None or ratio > policy.max_price_ratio or candidate.seller_id == reference.seller_id:
                continue  # cheap conditions first: most pairs fail them
            blobs = index.item_blobs([candidate.vec_id, reference.vec_id])
            mine, theirs = blobs[candidate.vec_id], blobs[reference.vec_id]
            evidence = [line for name in p.signals if name in mine and name in theirs
                        for line in index.signals[name].explain(mine[name], theirs[name])]
            neighbour = Neighbour(item_id=cand_id, seller_id=candidate.seller_id, score=p.score, signals=p.signals,
                                  match=p.match, relation="similar", evidence=evidence)
            suspect, _ = assess_pair(candidate, reference, neighbour, policy, authorized,
                                     title_conflicts(index, candidate, reference))
            if suspect:
                found[(cand_id, ref_id)] = suspect
    kept, _ = Verdicts(index).review_suspects(list(found.values()))
    return sorted(kept, key=lambda s: (-s.score, s.item_id))


def cross_seller_matches(index: SimIndex, pairs: list[Pair]) -> list[tuple[str, str]]:
    """The matched pairs of two live listings of two sellers (the listing overlap of account linking)."""
    matched = [(p.item_a, p.item_b) for p in pairs if p.match]
    seller = index.store.sellers_of({i for pair in matched for i in pair})
    return [(a, b) for a, b in matched if a in seller and b in seller and seller[a] != seller[b]]


def scan(index: SimIndex, progress: Progress | None = None) -> tuple[list[Finding], list[tuple[str, str]]]:
    """Every finding of the index: one self-join for counterfeits, duplicate groups and the listing
    overlap of the rings of linked accounts, and the recorded bank hits; with the self-join's
    matched cross-seller pairs (kept for `linked`)."""
    say = progress or (lambda message: None)
    at = time.time()
    authorized = authorizations(index)
    references = set(reference_ids(index, authorized))
    say("pairs of similar listings (the self-join)")
    pairs = [p for p in index.pairs() if p.match or p.item_a in references or p.item_b in references]
    say(f"counterfeit suspects among {sum(p.item_a in references or p.item_b in references for p in pairs)} "
        "pairs with a reference listing")
    found = [counterfeit_finding(s, at) for s in suspects_from_pairs(index, pairs, authorized)]
    say(f"picture reuse among {sum(p.match for p in pairs)} matched pairs")
    found += picture_reuses(index, pairs, at)
    say("duplicate groups")
    found += [group_finding(index, g, authorized, at) for g in duplicate_groups(index, pairs)]
    say("rings of linked accounts")
    matches = cross_seller_matches(index, pairs)
    found += [ring_finding(g, at) for g in index.accounts.rings(listing_matches=matches).groups]
    say("bank hits")
    found += bank_findings(index, index.banks.hits(limit=MAX_BANK_HITS), at)
    unique = {f.finding_id: f for f in found}  # a cross-seller group and one seller's part of it differ in kind
    return list(unique.values()), matches


def recheck(index: SimIndex, item_ids: list[str]) -> list[Finding]:
    """The findings that hold now of these live listings: their counterfeit suspects (and, for a
    reference listing, the listings that copy it), their bank hits and their duplicate group."""
    at = time.time()
    authorized = authorizations(index)
    policy = CounterfeitPolicy.from_index(index)
    out: dict[str, Finding] = {}
    grouped: set[str] = set()
    for item_id in item_ids:
        try:
            stored = index.item(item_id)
        except UnknownId:
            continue
        if honoured_reference(stored, authorized):
            for n in index.similar(item_id, k=NEIGHBOURS_CHECKED):
                candidate = index.item(n.item_id)
                suspect, _ = assess_pair(candidate, stored, n, policy, authorized,
                                         title_conflicts(index, candidate, stored))
                if suspect:
                    f = counterfeit_finding(suspect, at)
                    out[f.finding_id] = f
        else:
            for s in assess_item(index, item_id, authorized).suspects:
                f = counterfeit_finding(s, at)
                out[f.finding_id] = f
        for n in index.similar(item_id, k=REUSE_NEIGHBOURS):
            if n.relation == "picture_reuse":
                f = picture_reuse_finding(item_id, stored.seller_id, n.item_id, n.seller_id, n.score, n.evidence, at)
                out[f.finding_id] = f
        hits = index.banks.hits(item_ids=[item_id])
        if hits:
            f = bank_finding(item_id, stored.seller_id, hits, at)
            out[f.finding_id] = f
        if item_id not in grouped:
            found = item_group(index, item_id)
            if found.group is not None and (found.match or found.group.verdict is not None):
                f = group_finding(index, found.group, authorized, at)
                out[f.finding_id] = f
                grouped.update(found.group.members)
    return list(out.values())
