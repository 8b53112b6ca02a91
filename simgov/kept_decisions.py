"""The kept neighbour lists' decisions (simgov.neighbours) made in bulk: for every entry of every
list, the decision a lookup of the listing with the lists' largest k and no least score makes
(`SimIndex._decided`), as numpy over the whole table. One `_decided` per listing cost ~1.2 ms of
CPU: ~20 min at 1M listings.

With every pair score kept (no other signal has entries), a lookup's decisions come down to its
list, its entries' kept scores and the lists of its best candidates. Its mutual-best flag of a
candidate v of another seller than the query's (`mutual_best` over the query's pairs and the
reverse pairs of `SimIndex._kept_reverse_pairs`) is set when v is the query's best in v's seller
(the first in ascending vec_id among equal rank scores) and, where v may be among the k shown (a
contender, `SimIndex._contenders`), no listing of the query's seller but the query ranks above the
query's pair in v's own list. Within the query's seller every flag is set while none of its own
listings is a contender (no own head is looked up then); a listing with an own contender is left to
`_decided` (`own` rows: the own heads' lists make the rule longer to write in bulk than it is worth
while they are rare, well under 1% of the synthetic catalogues' listings).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .matching.combine import combine_both_columns
from .matching.decision import Matcher

if TYPE_CHECKING:
    from .neighbours import NeighbourLists

#: Shown scores are multiples of 1e-4 in [0, 1]: their integer steps (the contenders' order).
STEPS = 10_000


def shown(values: np.ndarray) -> np.ndarray:
    """Python's `round(x, 4)` of each value: the double nearest to k / 10**4, k the exact x * 10**4
    rounded half to even. `rint(x * 1e4) / 1e4` gives the same k but where x * 1e4 lies within its
    own rounding error of a half; those few go through `round` itself."""
    y = values * 1e4
    out = np.rint(y) / 1e4
    near = np.nonzero(np.abs(y - np.floor(y) - 0.5) < 1e-6)[0]
    out[near] = [round(x, 4) for x in values[near].tolist()]
    return out


def _firsts(keys: np.ndarray) -> np.ndarray:
    """Where each run of equal keys starts, in a sorted array of keys."""
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    return first


def kept_decisions(lists: "NeighbourLists", matcher: Matcher, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(shown score, flags: 1 a match, 2 mutual best) of each entry of the lists, NaN and 0 where
    the candidate is not live, and the rows (listings) left to `SimIndex._decided` (see the module
    docstring), whose entries are left NaN and 0 here."""
    rows_n, entries = len(lists.vec_ids), len(lists.neighbour_ids)
    score = np.full(entries, np.nan, dtype=np.float32)
    flag = np.zeros(entries, dtype=np.uint8)
    if not rows_n or not entries:
        return score, flag, np.zeros(0, dtype=np.int64)
    # the live entries, as (query row, candidate row): the candidates the lookup's owners hold
    row = np.repeat(np.arange(rows_n, dtype=np.int64), np.diff(lists.offsets))
    cand = np.minimum(np.searchsorted(lists.vec_ids, lists.neighbour_ids), rows_n - 1)
    live = np.nonzero(lists.vec_ids[cand] == lists.neighbour_ids)[0]
    q, c = row[live], cand[live]
    del row, cand
    mine, theirs = lists.sellers[q].astype(np.int64), lists.sellers[c].astype(np.int64)
    # each pair's scores as the lookup reads them (`NeighbourLists._scored`), combined either way
    columns = {name: shown(lists.scores[live, j].astype(np.float64)) for j, name in enumerate(lists.score_names)}
    scored = np.zeros(len(live), dtype=bool)
    for column in columns.values():
        scored |= ~np.isnan(column)
    rank, as_mutual = combine_both_columns(columns)
    del columns
    # decide_ranked: the score as shown, 0 for a pair no signal scores
    either = [np.where(scored, shown(x), 0.0) for x in (rank, as_mutual)]
    # contenders: fewer than k candidates surely before them (shown score, then item id)
    steps = [np.rint(x * STEPS).astype(np.int64) for x in either]
    low, high = np.minimum(*steps), np.maximum(*steps)
    item_rank = np.empty(rows_n, dtype=np.int64)
    item_rank[lists._by_item] = np.arange(rows_n)
    base = q * ((STEPS + 1) * rows_n)  # < 2**63 up to some 30M listings
    surely = np.sort(base + (STEPS - low) * rows_n + item_rank[c])
    contender = np.searchsorted(surely, base + (STEPS - high) * rows_n + item_rank[c]) \
        - np.searchsorted(surely, base) < k
    del surely, base, low, high, steps
    # each (query, candidate seller): its candidates by rank score, best first, the first in
    # ascending vec_id among equals (entries are in ascending vec_id within a list)
    order = np.lexsort((np.arange(len(q)), -rank, theirs, q))
    group = q[order] * len(lists.seller_names) + theirs[order]
    first = _firsts(group)
    head = np.zeros(len(q), dtype=bool)
    head[order[first]] = True
    # ... and its best and second best rank scores: a head's best in the query's seller but the query
    starts = np.nonzero(first)[0]
    keys, top, top_cand = group[starts], rank[order[starts]], c[order[starts]]
    second = np.full(len(starts), -np.inf)
    has_second = starts + 1 < len(order)
    has_second[has_second] = ~first[starts[has_second] + 1]
    second[has_second] = rank[order[starts[has_second] + 1]]
    del order, group, first
    own = mine == theirs
    asked = c * len(lists.seller_names) + mine  # the head's own list, in the query's seller
    at = np.minimum(np.searchsorted(keys, asked), len(keys) - 1)
    there = keys[at] == asked
    best_else = np.where(top_cand[at] == q, second[at], top[at])
    beaten = there & (best_else > rank)
    mutual = np.where(own, True, head & ~(contender & beaten))
    decided = np.where(mutual, either[1], either[0])
    left = np.unique(q[own & contender])
    keep = ~np.isin(q, left)
    score[live[keep]] = decided[keep]
    flag[live[keep]] = (decided[keep] >= matcher.threshold).astype(np.uint8) | (mutual[keep].astype(np.uint8) << 1)
    return score, flag, left
