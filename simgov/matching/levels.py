"""The level match model: Fellegi-Sunter match weights per comparison level, fitted jointly.

A pair of listings falls in one level of each comparison (`LEVELS`: the title embedding's cosine
band, and the text signal's levels of `simgov.signals.text.levels`); a few pairs of comparisons
also have joint levels (`JOINT`), where two signals are not independent (the title and word
cosines, codes and measures). The pair's match logit is the model's intercept plus the weight of
every non-null level it falls in; its posterior decides (>= 0.5). `MatchModel.waterfall` lists
those additions, the explanation shown with every decision.

The bundled weights (`level_model.json`) are a logistic regression on the one-hot levels of the
labelled development sets, each set weighted equally (`python -m evaluation.fit_level_model`
writes them): the match weights of Fellegi-Sunter, estimated together so that correlated
comparisons are not counted twice. The runtime needs numpy and this JSON only.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from ..signals.text.levels import TEXT_LEVELS

#: comparison -> its level names; index 0 is the null level (no information, weight 0).
LEVELS: dict[str, list[str]] = {
    "title": ["absent", "<0.50", "0.50-0.65", "0.65-0.75", "0.75-0.85", "0.85-0.93", ">=0.93"],
    **TEXT_LEVELS,
}
#: Upper edges of the title cosine bands above.
TITLE_EDGES = (0.50, 0.65, 0.75, 0.85, 0.93)
#: Pairs of comparisons that get a weight per combination of their levels.
JOINT: tuple[tuple[str, str], ...] = (("title", "tokens"), ("title", "code"), ("code", "numbers"), ("mw", "code"))
MODEL_FILE = Path(__file__).with_name("level_model.json")


def title_level(cosine: float | None) -> int:
    """The title comparison's level of an embedding cosine (None: a side has no title)."""
    if cosine is None or math.isnan(cosine):
        return 0
    return 1 + sum(min(1.0, max(0.0, cosine)) >= e for e in TITLE_EDGES)


def level_name(comparison: str, level: int) -> str:
    return f"{comparison}={LEVELS[comparison][level]}"


def active_levels(levels: Mapping[str, int], joint: Iterable[tuple[str, str]] = JOINT) -> list[str]:
    """The names of the non-null levels a pair falls in, single then joint: the model's features
    and the rows of its waterfall."""
    names = [level_name(k, v) for k, v in levels.items() if v > 0]
    names += [f"{level_name(x, levels[x])}&{level_name(y, levels[y])}" for x, y in joint
              if levels.get(x, 0) > 0 and levels.get(y, 0) > 0]
    return names


def feature_names(comparisons: Iterable[str] = tuple(LEVELS), joint: Iterable[tuple[str, str]] = JOINT) -> list[str]:
    """Every level that can carry a weight, in the order of `design`'s columns."""
    names = [level_name(k, v) for k in comparisons for v in range(1, len(LEVELS[k]))]
    names += [f"{level_name(x, i)}&{level_name(y, j)}" for x, y in joint
              for i in range(1, len(LEVELS[x])) for j in range(1, len(LEVELS[y]))]
    return names


def design(rows: list[Mapping[str, int]], comparisons: Iterable[str] = tuple(LEVELS),
           joint: Iterable[tuple[str, str]] = JOINT) -> np.ndarray:
    """One-hot matrix of the pairs' active levels (columns: `feature_names`), for fitting."""
    names = feature_names(comparisons, joint)
    column = {name: i for i, name in enumerate(names)}
    out = np.zeros((len(rows), len(names)), dtype=np.float64)
    for r, levels in enumerate(rows):
        for name in active_levels({k: levels.get(k, 0) for k in comparisons}, joint):
            out[r, column[name]] = 1.0
    return out


@dataclass(frozen=True)
class Step:
    """One row of a waterfall: a level (or "prior") and what it adds to the match logit."""

    level: str
    weight: float


class MatchModel:
    """Intercept plus one weight (log odds) per level: logit(pair) = intercept + its levels' weights."""

    def __init__(self, intercept: float, weights: Mapping[str, float], *, comparisons: Iterable[str] = tuple(LEVELS),
                 joint: Iterable[tuple[str, str]] = JOINT, train_prior: float = 0.5, source: str = ""):
        self.intercept = float(intercept)
        self.weights = dict(weights)
        self.comparisons = list(comparisons)
        self.joint = [tuple(p) for p in joint]
        self.train_prior = float(train_prior)
        self.source = source
        unknown = [k for k in self.comparisons if k not in LEVELS]
        if unknown:
            raise ValueError(f"unknown comparison(s) in the match model: {', '.join(unknown)}")

    @classmethod
    def from_dict(cls, d: Mapping) -> "MatchModel":
        return cls(d["intercept"], d["weights"], comparisons=d["comparisons"], joint=d["joint"],
                   train_prior=d.get("train_prior", 0.5), source=d.get("source", ""))

    def to_dict(self) -> dict:
        return {"comparisons": self.comparisons, "joint": [list(p) for p in self.joint], "intercept": self.intercept,
                "weights": self.weights, "train_prior": self.train_prior, "source": self.source}

    def waterfall(self, levels: Mapping[str, int]) -> list[Step]:
        """The prior, then each active level's weight: they add up to the pair's logit."""
        active = active_levels({k: levels.get(k, 0) for k in self.comparisons}, self.joint)
        return [Step("prior", self.intercept)] + [Step(n, self.weights.get(n, 0.0)) for n in active]

    def logit(self, levels: Mapping[str, int]) -> float:
        return math.fsum(step.weight for step in self.waterfall(levels))

    def posterior(self, levels: Mapping[str, int]) -> float:
        return posterior(self.logit(levels))

    def table(self) -> list[tuple[str, str, float]]:
        """(comparison, level, weight) of every level, null levels at 0, joint levels last."""
        rows = [(k, name, self.weights.get(level_name(k, v), 0.0) if v else 0.0)
                for k in self.comparisons for v, name in enumerate(LEVELS[k])]
        rows += [(f"{x}&{y}", n.replace(f"{x}=", "").replace(f"{y}=", ""), w)
                 for x, y in self.joint for n, w in self.weights.items()
                 if n.startswith(f"{x}=") and f"&{y}=" in n]
        return rows


def posterior(logit: float) -> float:
    """1 / (1 + exp(-logit)), without overflow."""
    if logit >= 0:
        return 1.0 / (1.0 + math.exp(-logit))
    e = math.exp(logit)
    return e / (1.0 + e)


@lru_cache(maxsize=1)
def bundled_model() -> MatchModel:
    """The match model shipped with simgov (fitted on the development sets)."""
    return MatchModel.from_dict(json.loads(MODEL_FILE.read_text(encoding="utf-8")))
