"""Grouping linked accounts into rings without chaining weak links.

Links (pairs scored at or above the link threshold) are of two strengths:

* **hard**: the pair shares a strong identifier (an email, phone, device, payout account or id
  number held by few accounts). One such value means one operator, so hard links chain: their
  connected components are the cores of rings (a hub sharing a device with one puppet and a
  payout account with another is one ring, although the puppets share nothing).
* **soft**: profile, address, avatar or listing evidence. Soft links never chain. An account tied
  to a core only softly joins the core through its best soft link (one hop: it does not bring its
  own soft neighbours); accounts outside every core are grouped by average linkage
  (:func:`simgov.matching.grouping.group_links`): A~B and B~C do not make A~C when A and C look unrelated.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable, Mapping

from ..matching.grouping import group_links


def group_rings(
    n: int,
    scores: Mapping[tuple[int, int], float],
    hard: set[tuple[int, int]],
    pair_score: Callable[[int, int], float] | None,
    threshold: float,
) -> list[list[int]]:
    """Groups (two or more members, sorted, largest first) of accounts 0..n-1; see the module
    docstring. `scores` holds the scored pairs (i < j), `hard` the pairs with hard evidence."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for (i, j) in hard:
        if scores.get((i, j), 0.0) >= threshold:
            ri, rj = find(i), find(j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
    cores: dict[int, list[int]] = defaultdict(list)
    for x in list(parent):
        cores[find(x)].append(x)
    core_of = {x: root for root, members in cores.items() if len(members) >= 2 for x in members}

    best: dict[int, tuple[float, int]] = {}  # account outside the cores → (best soft link score, -core)
    for (i, j), s in scores.items():
        if s < threshold:
            continue
        for x, y in ((i, j), (j, i)):
            if x not in core_of and y in core_of:
                option = (s, -core_of[y])  # ties: the core with the smallest root
                if x not in best or option > best[x]:
                    best[x] = option
    groups: dict[int, list[int]] = {root: list(members) for root, members in cores.items() if len(members) >= 2}
    for x, (_, root) in best.items():
        groups[-root].append(x)

    rest = sorted({x for pair, s in scores.items() if s >= threshold for x in pair} - set(core_of) - set(best))
    local = {x: k for k, x in enumerate(rest)}
    sub = {(local[i], local[j]): s for (i, j), s in scores.items() if i in local and j in local}
    score_rest = (lambda a, b: pair_score(rest[a], rest[b])) if pair_score is not None else None
    out = [sorted(g) for g in groups.values()]
    out += [sorted(rest[k] for k in g) for g in group_links(len(rest), sub, score_rest, threshold=threshold)]
    out.sort(key=lambda g: (-len(g), g[0]))
    return out
