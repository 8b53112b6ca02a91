"""The item-pair score: the registered signals' declared parts added in logits.

    z = BIAS + MUTUAL_BEST * coverage * mutual_best + sum over present signals of part.logit(s)
    score = 1 / (1 + exp(-z)); a match when score >= the `item_match` threshold (0.5).

Each signal class declares its part (`match_part`, a `simgov.matching.evidence.MatchPart`); a
signal without one finds candidates but weighs nothing. coverage = (weight of the present
signals) / (weight of the calibrated ones), capped at 1: without it a mutual-best pair whose text
were missing would match on the rank flag alone; with it the flag's bonus shrinks with the
evidence behind it. An absent uncalibrated signal (the image) adds nothing, so a pair without
images is judged on title and text exactly as calibrated.

Where the numbers come from (evaluation/abt_buy_matcher.py, calibration half of Abt-Buy only):
* the title and text weights and MUTUAL_BEST: a grid of (title, text, mutual) weights, each with
  its own best threshold, scored by the mean F1 of two calibration sets: the calibration half of
  Abt-Buy, and the same half resampled so that half of each shop's offers have no twin (Abt-Buy is
  one-to-one, which flatters "mutual best"); ``--fit`` prints it. The top points (title 1-2, text
  6, mutual >= 6) lie within 0.002 mean F1 of each other; title 2 was kept as a hedge for
  catalogues with fewer model codes, where the embedding must carry more. A plain logistic fit is
  unstable here (title and text are collinear; the title weight can come out negative, which
  would break monotonicity), hence the grid. The best threshold at (2, 6, 6), logit about 3.6, is
  folded into BIAS so that the decision threshold is 0.5.
* Then 0.4 was moved from MUTUAL_BEST into BIAS: pairs that are mutual best decide as before,
  while a pair that is not can still match on overwhelming evidence (e.g. title cosine 0.9 and
  text score 0.97). One-to-one Abt-Buy cannot show the need for that path, but a marketplace can
  (a seller who lists a product twice: only one copy is the other seller's best). Cost on
  Abt-Buy: about 0.002 F1.
* So BIAS = -3.6 + 0.4 - 0.15: the last term from re-running the threshold calibration with all
  final constants (it then gives 0.50-0.51) and MUTUAL_BEST = 6 - 0.4.
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from ..signals import REGISTRY
from .evidence import MatchPart

BIAS = -3.35
MUTUAL_BEST = 5.6
#: Score sets whose logits `_logit` remembers (a few hundred bytes each); the memo starts over when full.
LOGIT_MEMO = 4096


def match_parts() -> list[tuple[str, MatchPart]]:
    """(signal name, its declared part) of every registered signal that weighs, in registry order."""
    return [(name, cls.match_part) for name, cls in REGISTRY.items() if cls.match_part is not None]


def combine(signals: Mapping[str, float], *, mutual_best: bool) -> float:
    """The final pair score in [0, 1] from per-signal scores in [0, 1].

    Missing signals (or NaN) add nothing and shrink the bonus of ``mutual_best`` (the pair is each
    item's best candidate within the other's seller, which is how one product listed once per
    seller looks). Monotone in every signal whose weight is positive and in ``mutual_best``.
    """
    z, bonus = _logit(signals)
    if mutual_best:
        z += bonus
    return 1.0 / (1.0 + math.exp(-z))


def combine_both(signals: Mapping[str, float]) -> tuple[float, float]:
    """:func:`combine` without and with ``mutual_best``, the signals summed once (a self-join
    scores each pair before it knows which pairs are mutual best)."""
    z, bonus = _logit(signals)
    return 1.0 / (1.0 + math.exp(-z)), 1.0 / (1.0 + math.exp(-(z + bonus)))


def combine_both_columns(columns: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`combine_both` of many score sets at once, one column (float64, NaN: absent) per
    signal: bit for bit the floats `combine_both` gives for each row's {signal: score} (the kept
    neighbour lists decide millions of pairs at their build). Each part's term is computed once per
    distinct score by `_summed`'s own expression and the terms added in its order; exp is math's."""
    parts, full, _ = _weighed_parts()
    n = len(next(iter(columns.values()))) if columns else 0
    z, present = np.full(n, BIAS), np.zeros(n)
    for name, part, linear, weight in parts:
        if name not in columns:
            continue
        have = np.nonzero(~np.isnan(columns[name]))[0]
        values, which = np.unique(columns[name][have], return_inverse=True)
        clipped = [min(1.0, max(0.0, s)) for s in values.tolist()]
        terms = np.array([linear[0] * (s - linear[1]) for s in clipped] if linear else
                         [part.logit(s) for s in clipped], dtype=np.float64)
        z[have] += terms[which]
        present[have] += weight
    bonus = MUTUAL_BEST * np.minimum(1.0, present / (full or 1.0))

    def sigmoid(x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.fromiter(map(math.exp, (-x).tolist()), dtype=np.float64, count=len(x)))

    return sigmoid(z), sigmoid(z + bonus)


def agreeing(signals: Mapping[str, float]) -> list[str]:
    """Signals that agree: on its own, each raises the combined score (a signal that weighs
    nothing never agrees)."""
    base = combine({}, mutual_best=False)
    return sorted(n for n, s in signals.items() if combine({n: s}, mutual_best=False) > base)


def _logit(signals: Mapping[str, float]) -> tuple[float, float]:
    """:func:`combine`'s logit without the mutual-best term, and that term; remembered for the
    last LOGIT_MEMO score sets (a lookup combines each candidate's scores three times: its rank
    score and its decision with and without the mutual-best flag)."""
    parts, full, memo = _weighed_parts()
    key = tuple(signals.items())
    found = memo.get(key)
    if found is None:
        found = _summed(signals, parts, full)
        if len(memo) >= LOGIT_MEMO:
            memo.clear()
        memo[key] = found
    return found


def _summed(signals: Mapping[str, float], parts, full: float) -> tuple[float, float]:
    z = BIAS
    present = 0.0
    for name, part, linear, weight in parts:
        s = signals.get(name)
        if s is None or (isinstance(s, float) and math.isnan(s)):
            continue
        s = min(1.0, max(0.0, float(s)))
        # MatchPart.logit written out (a method call per signal and pair added up); other parts' own
        z += linear[0] * (s - linear[1]) if linear else part.logit(s)
        present += weight
    return z, MUTUAL_BEST * min(1.0, present / (full or 1.0))


#: The registry's classes with their parts as last seen, and what `_weighed_parts` made of them.
_seen: tuple = ((), ([], 0.0, {}))


def _weighed_parts() -> tuple[list[tuple[str, MatchPart, tuple[float, float] | None, float]], float, dict]:
    """(name, part, (weight, centre) where the part is a plain MatchPart, |weight|) of each part that
    weighs, the calibrated parts' total |weight| (summed in registry order, as it always was), and
    `_logit`'s memo for these parts. Kept while the registry and its parts stay as they are: rebuilt
    per pair, `match_parts` took a third of a lookup's scoring."""
    global _seen
    key = tuple((cls, cls.match_part) for cls in REGISTRY.values())
    if key != _seen[0]:
        parts = match_parts()
        full = 0.0
        for _, part in parts:
            if part.calibrated:
                full += abs(part.weight)
        _seen = (key, ([(name, part, (part.weight, part.centre) if type(part) is MatchPart else None,
                         abs(part.weight)) for name, part in parts], full, {}))
    return _seen[1]
