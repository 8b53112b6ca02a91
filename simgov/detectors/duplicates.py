"""Groups of duplicated merchandise: same-seller re-listings and cross-seller copies.

Matched pairs from the self-join are grouped without chaining: a plain connected-components pass
would join A and C through B even when A and C look nothing alike, so components are re-clustered
by average linkage over all their pairs' exact scores (`simgov.matching.grouping`). Only pairs whose
relation is a copy or a re-listing link (`SimIndex.pair_relation`): honest sellers of one product,
each with their own photos or the brand's (`same_product`), are a match but not duplicated
merchandise, and neither is another seller's photo on another product (`picture_reuse`).
"""
from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

from ..matching.grouping import group_links, grow_component
from ..errors import UnreadableRecord
from ..index import SimIndex
from ..matching.decision import Decision
from ..records import Group, Pair
from ..storage.items import StoredItem
from ..verdicts import MAX_GROUP, Verdicts, key

MAX_EVIDENCE_PAIRS = 3
log = logging.getLogger(__name__)


def _readable(index: SimIndex, item_ids: Iterable[str]) -> dict[str, StoredItem]:
    """The stored items, without those whose record cannot be read back (logged): one damaged row
    must not stop the grouping of every other."""
    out = {}
    for item_id in item_ids:
        try:
            out[item_id] = index.item(item_id)
        except UnreadableRecord as exc:
            log.warning("%s; left out of the duplicate groups", exc)
    return out


def duplicate_groups(index: SimIndex, pairs: Iterable[Pair] | None = None) -> list[Group]:
    """Every group of two or more listings that simgov decides are the same merchandise.
    `pairs`: the self-join's pairs when the caller already made it (the findings scan)."""
    verdicts = Verdicts(index)
    pairs = [p for p in verdicts.review_pairs(index.pairs() if pairs is None else pairs) if p.match]
    stored = _readable(index, sorted({i for p in pairs for i in (p.item_a, p.item_b)}))
    pairs = [p for p in pairs if p.item_a in stored and p.item_b in stored]
    blobs = index.item_blobs([s.vec_id for s in stored.values()])
    pairs = [p for p in pairs if _duplicated(index, p, stored, blobs)]
    ids = sorted({i for p in pairs for i in (p.item_a, p.item_b)})
    number = {item_id: n for n, item_id in enumerate(ids)}
    links = {(number[p.item_a], number[p.item_b]): p.score for p in pairs}
    pair_score = _pair_scorer(index, ids, stored, blobs)
    groups = []
    for members in group_links(len(ids), links, pair_score, threshold=index.matcher.threshold):
        member_ids = [ids[m] for m in members]
        groups.extend(_describe(index, member_ids, stored, blobs, links, number))
    groups = verdicts.review_groups(groups)
    for n, group in enumerate(sorted(groups, key=lambda g: (-len(g.members), -g.score, g.members[0])), start=1):
        group.group_id = f"dup-{n:05d}"
    return sorted(groups, key=lambda g: g.group_id)


#: The relations of duplicated merchandise. Not `same_product` (honest sellers of one product, with
#: their own photos or the brand's) nor `picture_reuse` (another seller's photo on another product:
#: a finding of its own, not the same merchandise).
DUPLICATED = ("same_seller_duplicate", "cross_seller_copy")


def _duplicated(index: SimIndex, p: Pair, stored, blobs) -> bool:
    """Is a matched pair duplicated merchandise: a re-listing or a copy?"""
    a, b = stored[p.item_a], stored[p.item_b]
    decision = Decision(score=p.score, match=True, same_picture=index.matcher.same_picture(p.signals))
    return index.pair_relation(a, b, blobs[a.vec_id], blobs[b.vec_id], decision)[0] in DUPLICATED


@dataclass
class ItemGroup:
    """The duplicate group holding one item, as the item view shows it."""

    group: Group | None  # None: the item is in no group
    member_scores: dict[str, float]  # each other member's score with the item
    match: bool  # False: no group, or a rejection of it holds
    truncated: bool  # the group reached max_members and linked listings were left out


def item_group(index: SimIndex, item_id: str, *, max_members: int = MAX_GROUP) -> ItemGroup:
    """The group `duplicate_groups` would put this item in, grown live from the item through its
    matched neighbours (`similar`), so that one item's group costs its component, not a self-join.

    The component stops at `max_members` (a group verdict names at most that many); it is then
    re-clustered exactly as the self-join's components are. Rejected pairs do not link; a group
    whose rejection holds is still returned, with its verdict, and `match` False. Its `group_id`
    is a digest of its members, the same from every member (the CLI numbers its groups instead).
    """
    verdicts = Verdicts(index)
    k = index.config.search.pairs_k * len(index.signals)  # as far as the self-join looks from one item

    def matches(node: str) -> list[tuple[str, float]]:
        try:
            neighbours = index.similar(node, k=k)
        except UnreadableRecord:  # a neighbour whose record cannot be read back leads nowhere
            return []
        verdicts.review_neighbours(node, neighbours)
        return [(n.item_id, n.score) for n in neighbours if n.match and n.relation in DUPLICATED]

    ids, found, truncated = grow_component(item_id, matches, max_members=max_members)
    stored = _readable(index, ids)
    ids = [i for i in ids if i in stored]
    number = {i: n for n, i in enumerate(ids)}
    links = {tuple(sorted((number[a], number[b]))): score for (a, b), score in found.items()
             if a in stored and b in stored}
    blobs = index.item_blobs([s.vec_id for s in stored.values()])
    pair_score = _pair_scorer(index, ids, stored, blobs)
    for members in group_links(len(ids), links, pair_score, threshold=index.matcher.threshold):
        if number[item_id] not in members:
            continue
        member_ids = sorted(ids[m] for m in members)
        one_seller = len({stored[i].seller_id for i in member_ids}) == 1
        group = _group(index, member_ids, stored, blobs, links, number,
                       "same_seller_relisting" if one_seller else "cross_seller_copy")
        group.group_id = "dup-" + hashlib.sha256(key(member_ids).encode("utf-8")).hexdigest()[:12]
        me = number[item_id]
        scores = {}
        for m in members:
            if m != me:
                pair = tuple(sorted((me, m)))
                scores[ids[m]] = links[pair] if pair in links else pair_score(*pair)
        return ItemGroup(group, scores, verdicts.review_group(group), truncated)
    return ItemGroup(None, {}, False, truncated)


def _pair_scorer(index, ids, stored, blobs):
    """Score of a pair of numbered items that no link scored (the matcher on their signals)."""
    def pair_score(i: int, j: int) -> float:
        a, b = stored[ids[i]], stored[ids[j]]
        return index.matcher.decide(index.signal_scores(blobs[a.vec_id], blobs[b.vec_id])).score
    return pair_score


def _describe(index, member_ids, stored, blobs, links, number) -> list[Group]:
    """The group itself, plus each seller's re-listings inside a cross-seller group."""
    by_seller: dict[str, list[str]] = defaultdict(list)
    for item_id in member_ids:
        by_seller[stored[item_id].seller_id].append(item_id)
    out = [_group(index, member_ids, stored, blobs, links, number,
                  "same_seller_relisting" if len(by_seller) == 1 else "cross_seller_copy")]
    if len(by_seller) > 1:
        out += [_group(index, sorted(items), stored, blobs, links, number, "same_seller_relisting")
                for items in by_seller.values() if len(items) > 1]
    return out


def _group(index, member_ids, stored, blobs, links, number, kind) -> Group:
    scored = []
    for x, a in enumerate(member_ids):
        for b in member_ids[x + 1:]:
            key = tuple(sorted((number[a], number[b])))
            score = links.get(key)
            if score is None:
                scores = index.signal_scores(blobs[stored[a].vec_id], blobs[stored[b].vec_id])
                score = index.matcher.decide(scores).score
            scored.append((score, a, b))
    scored.sort(reverse=True)
    sellers = sorted({stored[i].seller_id for i in member_ids})
    evidence = [f"{len(member_ids)} listings by {len(sellers)} seller{'s' if len(sellers) > 1 else ''}"]
    for score, a, b in scored[:MAX_EVIDENCE_PAIRS]:
        ba, bb = blobs[stored[a].vec_id], blobs[stored[b].vec_id]
        details = [line for name in sorted(ba.keys() & bb.keys())
                   for line in index.signals[name].explain(ba[name], bb[name])]
        evidence.append(f"{a} ~ {b} ({score:.2f}): " + "; ".join(details))
    mean = sum(s for s, _, _ in scored) / len(scored)
    return Group(group_id="", members=sorted(member_ids), score=round(mean, 4), evidence=evidence, kind=kind,
                 sellers=sellers)
