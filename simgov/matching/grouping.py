"""Grouping scored pairs into groups without chaining weak links (duplicates and rings alike)."""
from __future__ import annotations

from collections import defaultdict, deque
from typing import Callable, Iterable, Mapping, TypeVar

import numpy as np

# Two clusters merge only when at least this share of their cross pairs are links by themselves.
MIN_LINKED_SHARE = 0.5

Node = TypeVar("Node")  # hashable and orderable: ids or numbers


def group_links(
    n: int,
    links: Mapping[tuple[int, int], float],
    pair_score: Callable[[int, int], float] | None = None,
    *,
    threshold: float,
    max_component: int = 400,
) -> list[list[int]]:
    """Group items 0..n-1 from scored pairs without chaining weak links.

    Connected components of the pairs scored at/above ``threshold`` are only a first cut: A~B and
    B~C must not make A~C when A and C look unrelated. Each component is re-clustered by average
    linkage on the scores of all its pairs (``pair_score(i, j)`` fills pairs that were not
    scored; without it they count as 0), merging two clusters only while their mean pairwise
    score is at least ``threshold``. A component larger than ``max_component`` is first cut by
    single linkage at ten times stricter odds (repeatedly) so that scoring all its pairs stays
    affordable. Returns groups of two or more, each sorted, largest first.
    """
    groups: list[list[int]] = []
    for members in _components(range(n), links, threshold):
        groups.extend(_refine(members, links, pair_score, threshold, max_component))
    groups = [sorted(g) for g in groups if len(g) >= 2]
    groups.sort(key=lambda g: (-len(g), g[0]))
    return groups


def grow_component(
    start: Node,
    links_of: Callable[[Node], Iterable[tuple[Node, float]]],
    *,
    max_members: int,
) -> tuple[list[Node], dict[tuple[Node, Node], float], bool]:
    """The connected component of ``start`` (links found breadth first), for when only one item's
    group is wanted and a self-join over everything would cost too much.

    ``links_of(node)`` gives a node's linked nodes with their scores. The component takes at most
    ``max_members`` nodes; every member's links are still read, so the links among the members are
    complete. Returns the members in the order found, the links among them (keyed by sorted pairs,
    the higher score when both sides report one) and whether the bound left linked nodes out.
    """
    members, queue, cut = {start: None}, deque([start]), False
    links: dict[tuple[Node, Node], float] = {}
    while queue:
        node = queue.popleft()
        for other, score in links_of(node):
            if other == node:
                continue
            if other not in members:
                if len(members) >= max_members:
                    cut = True
                    continue
                members[other] = None
                queue.append(other)
            pair = (node, other) if node < other else (other, node)
            links[pair] = max(score, links.get(pair, score))
    return list(members), links, cut


def _components(nodes: Iterable[int], links: Mapping[tuple[int, int], float], threshold: float) -> list[list[int]]:
    """Connected components (size >= 2) of the links at/above threshold among ``nodes``."""
    parent = {i: i for i in nodes}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for (i, j), s in links.items():
        if s >= threshold and i != j and i in parent and j in parent:
            ri, rj = find(i), find(j)
            if ri != rj:
                parent[ri] = rj
    comps: dict[int, list[int]] = defaultdict(list)
    for i in parent:
        comps[find(i)].append(i)
    return [c for c in comps.values() if len(c) >= 2]


def _refine(
    members: list[int],
    links: Mapping[tuple[int, int], float],
    pair_score: Callable[[int, int], float] | None,
    threshold: float,
    max_component: int,
    cut: float | None = None,
) -> list[list[int]]:
    if len(members) == 2:
        return [members]
    if len(members) > max_component:
        cut = 1.0 - (1.0 - (threshold if cut is None else cut)) / 10.0
        if cut >= 1.0 - 1e-9:  # cannot cut further: keep it whole rather than score ~n^2 pairs
            return [members]
        inside = set(members)
        sub = {k: s for k, s in links.items() if k[0] in inside and k[1] in inside}
        out: list[list[int]] = []
        for piece in _components(members, sub, cut):
            out.extend(_refine(piece, sub, pair_score, threshold, max_component, cut))
        return out
    m = len(members)
    sim = np.zeros((m, m), dtype=np.float64)
    for x in range(m):
        for y in range(x + 1, m):
            i, j = members[x], members[y]
            key = (i, j) if i < j else (j, i)
            s = links.get(key)
            if s is None:
                s = pair_score(*key) if pair_score is not None else 0.0
            sim[x, y] = sim[y, x] = s
    return _average_linkage(members, sim, threshold)


def _average_linkage(members: list[int], sim: np.ndarray, threshold: float) -> list[list[int]]:
    """Merge the closest pair of clusters while their mean pairwise score is at least `threshold`
    and at least half of their cross pairs are links on their own. The second rule keeps two
    tight groups of look-alikes (a product in two colours) apart even when their mean is lifted
    by a few very strong pairs."""
    clusters = [[x] for x in range(len(members))]
    total = sim.copy()  # sum of pairwise scores between clusters
    linked = (sim >= threshold).astype(np.float64)  # number of linked pairs between clusters
    sizes = np.ones(len(members))
    alive = np.ones(len(members), dtype=bool)
    np.fill_diagonal(total, -np.inf)
    while True:
        pairs = np.outer(sizes, sizes)
        avg = total / pairs
        avg[(linked / pairs) < MIN_LINKED_SHARE] = -np.inf
        avg[~alive, :] = -np.inf
        avg[:, ~alive] = -np.inf
        x, y = np.unravel_index(np.argmax(avg), avg.shape)
        if avg[x, y] < threshold:
            break
        clusters[x].extend(clusters[y])
        clusters[y] = []
        for m in (total, linked):
            m[x, :] += m[y, :]
            m[:, x] += m[:, y]
        total[x, x] = -np.inf
        sizes[x] += sizes[y]
        alive[y] = False
    return [[members[i] for i in c] for c in clusters if c]
