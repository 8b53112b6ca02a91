"""Turns per-signal scores of an item pair into one score, a `match` decision and a relation.

Thresholds come from `calibration.json` (written by a measured calibration run), overridable per
index through `Config.thresholds`; nothing else in the code decides what counts as a match.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


@lru_cache(maxsize=1)
def calibration() -> dict:
    return json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Decision:
    score: float
    match: bool


class Matcher:
    """The item-pair decision, with thresholds from calibration (and the index's overrides)."""

    def __init__(self, overrides: Mapping[str, float] | None = None):
        cal = calibration()
        self.weights: dict[str, float] = dict(cal["item"]["weights"])
        self.threshold: float = float((overrides or {}).get("item_match", cal["item"]["match_threshold"]))

    def combine(self, signals: Mapping[str, float]) -> float:
        """Weighted mean of the signals the pair has (absent signals do not count as 0)."""
        present = [(self.weights.get(name, 1.0), s) for name, s in signals.items()]
        total = sum(w for w, _ in present)
        return sum(w * s for w, s in present) / total if total else 0.0

    def decide(self, signals: Mapping[str, float]) -> Decision:
        score = self.combine(signals)
        return Decision(score=round(score, 4), match=score >= self.threshold)


def relation(same_seller: bool, match: bool) -> str:
    if not match:
        return "similar"
    return "same_seller_duplicate" if same_seller else "cross_seller_copy"
