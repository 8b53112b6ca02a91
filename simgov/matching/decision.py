"""Turns per-signal scores of an item pair into one score, a `match` decision and a relation.

For lookups (`similar`, `search`) the formula is `simgov.matching.combine` (the registered
signals' declared parts, and whether the pair is each item's best candidate within the other's
seller); the self-join (`SimIndex.pairs`) passes the posterior of the index's own level match
model instead (`simgov.matching.catalogue`, via `decide_ranked`). The threshold is `item_match`
of `simgov.matching.thresholds` (calibration.json), overridden per index through
`Config.thresholds`; nothing else in the code decides what counts as an item match.

On top of whatever the base model says, picture evidence counts on its own: a pair whose picture
signal (the registered signal of kind "picture") reaches its own same-picture decision
(`image_same_picture`, geometric check included) is a match, with the picture's score as the
pair's score when that is higher. A video signal's own same-video decision (`video_same_video`) is
likewise a match on its own. `relation` then says what a match means for governance.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ..signals import signal_of_kind
from .combine import combine, combine_both
from .thresholds import threshold

#: The relations a decided pair can have (CONTRACT.md section 3 and the README's contract notes).
RELATIONS = ("same_seller_duplicate", "cross_seller_copy", "picture_reuse", "same_product", "similar")


@dataclass(frozen=True)
class Decision:
    score: float
    match: bool
    #: the picture signal says the two listings show the same picture (an edited copy)
    same_picture: bool = False
    #: a match on the picture (or the video) alone: the base model alone would not have matched
    by_picture: bool = False


class Matcher:
    """The item-pair decision, with thresholds from calibration (and the index's overrides)."""

    def __init__(self, overrides: Mapping[str, float] | None = None):
        self.threshold: float = threshold("item_match", overrides)
        self.picture_threshold: float = threshold("image_same_picture", overrides)
        self.picture_signal: str | None = signal_of_kind("picture")
        self.video_threshold: float = threshold("video_same_video", overrides)
        self.video_signal: str | None = signal_of_kind("video")
        #: at or below this share of the brand's price, a listing showing the brand's picture is no honest reseller
        self.counterfeit_price_ratio: float = threshold("counterfeit_max_price_ratio", overrides)

    def same_picture(self, signals: Mapping[str, float]) -> bool:
        """The picture signal's own decision on this pair's score: the same picture, edited or not."""
        score = signals.get(self.picture_signal) if self.picture_signal else None
        return score is not None and score == score and score >= self.picture_threshold

    def same_video(self, signals: Mapping[str, float]) -> bool:
        """The video signal's own decision on this pair's score: the same video, edited or trimmed."""
        score = signals.get(self.video_signal) if self.video_signal else None
        return score is not None and score == score and score >= self.video_threshold

    @staticmethod
    def rank_score(signals: Mapping[str, float]) -> float:
        """The score used to rank a seller's candidates when deciding who is whose best match."""
        return combine(signals, mutual_best=False)

    def decide(self, signals: Mapping[str, float], mutual_best: bool = False, *,
               picture_alone: bool = True) -> Decision:
        """`picture_alone`: a same-picture pair is a match whatever the base score (False where the
        caller knows the picture alone proves nothing: one seller's own photo for two products)."""
        score = combine(signals, mutual_best=mutual_best) if signals else 0.0
        return self._decision(score, signals, picture_alone)

    def _decision(self, score: float, signals: Mapping[str, float], picture_alone: bool = True) -> Decision:
        # The decision is taken on the score as shown (4 decimals), so that a pair shown at the
        # threshold is a match, and thresholds set from shown scores (`simgov calibrate`) mean
        # exactly what they say.
        shown = round(score, 4)
        match = shown >= self.threshold
        picture = self.same_picture(signals)
        if picture and picture_alone and not match:
            return Decision(score=max(shown, round(float(signals[self.picture_signal]), 4)), match=True,
                            same_picture=True, by_picture=True)
        if picture_alone and not match and self.same_video(signals):
            return Decision(score=max(shown, round(float(signals[self.video_signal]), 4)), match=True,
                            by_picture=True)
        return Decision(score=shown, match=match, same_picture=picture)

    @staticmethod
    def pair_scores(signals: Mapping[str, float]) -> tuple[float, float]:
        """`rank_score(signals)` and the score of the pair if it is mutual best, computed together
        where a self-join scores its pairs (before it knows which are mutual best)."""
        return combine_both(signals)

    def decide_ranked(self, signals: Mapping[str, float], score: float, *, picture_alone: bool = True) -> Decision:
        """`decide(signals, mutual_best)` when its combined score is already known (`rank_score`,
        or `pair_scores` for either flag): the same value, without computing the combination a
        second time (the self-join's hot path)."""
        return self._decision(score if signals else 0.0, signals, picture_alone)


#: Item attributes that name one stock-keeping unit: two listings stating different values sell different products.
PRODUCT_CODE_ATTRIBUTES = ("model_number", "sku", "mpn", "gtin", "ean", "upc")


def stated_code_conflicts(a: Mapping[str, object], b: Mapping[str, object]) -> list[str]:
    """What two listings' own attributes say against their being one product: a product code both
    state (`PRODUCT_CODE_ATTRIBUTES`, case, spaces and dashes aside) that differs, in plain words.
    A colour variant's code (one model in another colour) counts: another stock-keeping unit."""
    def norm(value: object) -> str:
        return "".join(ch for ch in str(value).casefold() if ch.isalnum())
    return [f"different {key.replace('_', ' ')}s stated: {a[key]} vs {b[key]}" for key in PRODUCT_CODE_ATTRIBUTES
            if a.get(key) and b.get(key) and norm(a[key]) and norm(b[key]) and norm(a[key]) != norm(b[key])]


def relation(same_seller: bool, match: bool, *, same_picture: bool = False, contradicted: bool = False,
             brand_picture: bool = False, same_text: bool = False) -> str:
    """What a decided pair means for governance; only copies are accusations.

    * ``same_seller_duplicate``: one seller lists the same merchandise twice (a re-listing);
    * ``picture_reuse``: another seller's picture on a listing whose title names another product
      (`contradicted`: the signals' `contradictions` say so);
    * ``cross_seller_copy``: one seller's listing reuses another seller's own photo (`same_picture`
      and not `brand_picture`: the brand's stock photo, from a reference listing or a reseller
      authorised for the brand, shown by a seller not priced like a counterfeit) or text (`same_text`: the same
      description, word for word);
    * ``same_product``: honest sellers selling the same product, each with their own photos or
      with the brand's: a match, not a copy;
    * ``similar``: not a match.
    """
    if not match:
        return "similar"
    if same_seller:
        return "same_seller_duplicate"
    if same_picture and contradicted:
        return "picture_reuse"
    if (same_picture and not brand_picture) or same_text:
        return "cross_seller_copy"
    return "same_product"


def mutual_best(pairs: list[tuple[int, int, str, str, float]]) -> list[bool]:
    """For scored candidate pairs (a, b, seller of a, seller of b, rank score): is each pair the
    best of a within b's seller and the best of b within a's seller? How one product listed once
    per seller looks, and a strong sign of the same merchandise.

    Within one seller the rule is another: a seller may list one product three times, and its two
    re-listings preferring each other must not cost the original its bonus. A pair of one seller
    counts when it is the best of either side there, ties included (every pair of identical
    re-listings does)."""
    best: dict[tuple[int, str], tuple[float, int]] = {}
    for a, b, seller_a, seller_b, score in pairs:
        for me, other, other_seller in ((a, b, seller_b), (b, a, seller_a)):
            key = (me, other_seller)
            if key not in best or score > best[key][0]:
                best[key] = (score, other)
    return [(score >= best[(a, seller_b)][0] or score >= best[(b, seller_a)][0]) if seller_a == seller_b
            else (best[(a, seller_b)][1] == b and best[(b, seller_a)][1] == a)
            for a, b, seller_a, seller_b, score in pairs]


def mutual_best_arrays(a, b, seller_a, seller_b, score):
    """`mutual_best` on columns (numpy arrays of equal length; sellers as ints): the same flags,
    ties included (the first pair in order keeps a tied best; within one seller a tie counts for
    every pair in it), without a dict entry per pair and side, for self-joins of millions of pairs."""
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
    top = np.empty(2 * n, dtype=np.float64)
    top[order] = scores[order][first][group]  # ... and that best's score
    mutual = (best_of[0::2] == np.asarray(b)) & (best_of[1::2] == np.asarray(a))
    own = np.asarray(seller_a) == np.asarray(seller_b)
    either = (scores[0::2] >= top[0::2]) | (scores[0::2] >= top[1::2])
    return np.where(own, either, mutual)
