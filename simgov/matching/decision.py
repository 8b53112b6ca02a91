"""Turns per-signal scores of an item pair into one score, a `match` decision and a relation.

The formula is `simgov.matching.combine` (the registered signals' declared parts, and whether
the pair is each item's best candidate within the other's seller). The threshold is `item_match`
of `simgov.matching.thresholds` (calibration.json), overridden per index through
`Config.thresholds`; nothing else in the code decides what counts as an item match.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from .combine import combine, combine_both
from .thresholds import threshold

@dataclass(frozen=True)
class Decision:
    score: float
    match: bool


class Matcher:
    """The item-pair decision, with thresholds from calibration (and the index's overrides)."""

    def __init__(self, overrides: Mapping[str, float] | None = None):
        self.threshold: float = threshold("item_match", overrides)

    @staticmethod
    def rank_score(signals: Mapping[str, float]) -> float:
        """The score used to rank a seller's candidates when deciding who is whose best match."""
        return combine(signals, mutual_best=False)

    def decide(self, signals: Mapping[str, float], mutual_best: bool = False) -> Decision:
        score = combine(signals, mutual_best=mutual_best) if signals else 0.0
        return self._decision(score)

    def _decision(self, score: float) -> Decision:
        # The decision is taken on the score as shown (4 decimals), so that a pair shown at the
        # threshold is a match, and thresholds set from shown scores (`simgov calibrate`) mean
        # exactly what they say.
        shown = round(score, 4)
        return Decision(score=shown, match=shown >= self.threshold)

    @staticmethod
    def pair_scores(signals: Mapping[str, float]) -> tuple[float, float]:
        """`rank_score(signals)` and the score of the pair if it is mutual best, computed together
        where a self-join scores its pairs (before it knows which are mutual best)."""
        return combine_both(signals)

    def decide_ranked(self, signals: Mapping[str, float], score: float) -> Decision:
        """`decide(signals, mutual_best)` when its combined score is already known (`rank_score`,
        or `pair_scores` for either flag): the same value, without computing the combination a
        second time (the self-join's hot path)."""
        return self._decision(score if signals else 0.0)


def relation(same_seller: bool, match: bool) -> str:
    if not match:
        return "similar"
    return "same_seller_duplicate" if same_seller else "cross_seller_copy"


def mutual_best(pairs: list[tuple[int, int, str, str, float]]) -> list[bool]:
    """For scored candidate pairs (a, b, seller of a, seller of b, rank score): is each pair the
    best of a within b's seller and the best of b within a's seller? How one product listed once
    per seller looks, and a strong sign of the same merchandise."""
    best: dict[tuple[int, str], tuple[float, int]] = {}
    for a, b, seller_a, seller_b, score in pairs:
        for me, other, other_seller in ((a, b, seller_b), (b, a, seller_a)):
            key = (me, other_seller)
            if key not in best or score > best[key][0]:
                best[key] = (score, other)
    return [best[(a, seller_b)][1] == b and best[(b, seller_a)][1] == a for a, b, seller_a, seller_b, _ in pairs]


def mutual_best_arrays(a, b, seller_a, seller_b, score):
    """`mutual_best` on columns (numpy arrays of equal length; sellers as ints): the same flags,
    ties included (the first pair in order keeps a tied best), without a dict entry per pair
    and side, for self-joins of millions of pairs."""
    n = len(a)
    if n == 0:
        return np.zeros(0, dtype=bool)
    # both sides of every pair, in the order mutual_best visits them: (a, b) then (b, a)
    me = np.empty(2 * n, dtype=np.int64)
    me[0::2], me[1::2] = a, b
    other = np.empty(2 * n, dtype=np.int64)
    other[0::2], other[1::2] = b, a
    other_seller = np.empty(2 * n, dtype=np.int64)
    other_seller[0::2], other_seller[1::2] = seller_b, seller_a
    scores = np.repeat(np.asarray(score, dtype=np.float64), 2)
    # per (me, other seller): highest score first, then the earliest visit
    order = np.lexsort((np.arange(2 * n), -scores, other_seller, me))
    me_s, seller_s = me[order], other_seller[order]
    first = np.ones(2 * n, dtype=bool)
    first[1:] = (me_s[1:] != me_s[:-1]) | (seller_s[1:] != seller_s[:-1])
    group = np.cumsum(first) - 1
    winner = other[order][first]  # the best `other` of each group
    best_of = np.empty(2 * n, dtype=np.int64)
    best_of[order] = winner[group]  # for each visit: the best of its (me, other seller) group
    return (best_of[0::2] == np.asarray(b)) & (best_of[1::2] == np.asarray(a))
