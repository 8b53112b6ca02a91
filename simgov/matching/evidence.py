"""What a signal declares about its part in the item-match decision (no signal is named here).

A signal class sets `match_part` (see `simgov.signals.base.Signal`); `simgov.matching.combine`
adds the parts of the signals a pair has. Today a part is linear in the signal's score, in logits;
the per-level match weights that an EM fit will estimate can replace `logit` without changing the
combination's callers.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MatchPart:
    """`weight * (score - centre)` added to the match logit when the signal has a score.

    `calibrated`: the weight was fitted with the others (title and text on Abt-Buy) and counts in
    the evidence that the mutual-best bonus scales with; an uncalibrated part (a prior) still
    counts towards that evidence when present, but its absence does not shrink the bonus.
    """

    weight: float
    centre: float = 0.5
    calibrated: bool = False

    def logit(self, score: float) -> float:
        """This signal's addition to the match logit for a score in [0, 1]."""
        return self.weight * (score - self.centre)
