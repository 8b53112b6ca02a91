"""Match thresholds set from investigator verdicts (`simgov calibrate`), and the queue that asks for them.

Each detector decides `match` by comparing one score with one threshold. Verdicts label findings
(confirmed = a true match, rejected = not), each with the score it had when it was judged. The judged
findings are not a fair sample of what a detector reports — the review queue deliberately asks about
findings near the current threshold, where a verdict can move it, and most findings sit far from it —
so labels are not simply counted. Findings are grouped in fixed score bands; each band's verdicts give
its share of true matches and each verdict stands for (findings in its band now) / (verdicts in its
band), taken from the current self-join (a stratified estimate). Precision, recall and F1 of any
threshold are then estimates for all current findings, not only the judged ones. Without the current
findings' scores the judged findings stand only for themselves.

A threshold is moved only when the verdicts tell it apart from the current one: the choice is repeated
on bootstrap resamples of the verdicts (within each band), and the current threshold is kept while it
lies inside the range of those choices or no verdict lies between the two.
"""
from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..generations import MANIFEST, read_manifest, write_json_atomic
from ..records import Verdict
from ..signals import signal_of_kind
from . import thresholds

if TYPE_CHECKING:
    from ..index import SimIndex

#: Fewer labels than this (or no label of one class) set no threshold: the figures would say nothing.
MIN_LABELS = 20
MIN_PER_CLASS = 3
#: Score bands: fixed edges, so a queue drawn today and a calibration run later stratify alike.
N_BANDS = 20
#: Every band with findings gets at least this many in a review queue (all, if it has fewer).
QUEUE_FLOOR = 3
#: How fast a band's share of the review queue falls with its distance from the current threshold.
QUEUE_SPREAD = 0.15
#: Bootstrap resamples of the verdicts, and the share of their threshold choices that makes the range
#: the verdicts support.
REPLICATES = 500
CONFIDENCE = 0.9
OBJECTIVES = ("precision", "f1")


@dataclass(frozen=True)
class Detector:
    """A detector's match decision: which threshold, which verdicts label it, which score it compares."""

    name: str
    threshold_key: str
    kinds: tuple[str, ...]
    score_of: str  # "score", or a signal name whose score the threshold applies to

    def default(self) -> float:
        return float(thresholds.default(self.threshold_key))

    def label(self, v: Verdict) -> tuple[float, bool] | None:
        value = v.score if self.score_of == "score" else v.signals.get(self.score_of)
        return None if value is None else (float(value), v.decision == "confirmed")


DETECTORS = (
    Detector("item pairs (similar, pairs, duplicates)", "item_match", ("pair", "group"), "score"),
    Detector("counterfeits (picture near-copy level)", "image_match", ("counterfeit",), signal_of_kind("picture")),
    Detector("linked accounts (linked, rings)", "account_link", ("link",), "score"),
)


def band(score: float) -> int:
    """The score band (0 .. N_BANDS-1) of a score in [0, 1]; scores are kept to 4 decimals, so exact."""
    return min(max(int(round(score * 10_000)) * N_BANDS // 10_000, 0), N_BANDS - 1)


def band_name(b: int) -> str:
    return f"{b / N_BANDS:.2f}-{(b + 1) / N_BANDS:.2f}"


def wilson(successes: float, n: float, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion: sound at small n and near 0 or 1, unlike p ± z·se."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(max(p * (1 - p), 0.0) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def review_queue(findings: list[tuple[list[str], float]], size: int, threshold: float,
                 rng: random.Random) -> list[tuple[list[str], float]]:
    """`size` findings to judge, drawn at random within score bands: each band gets a few (so every
    band's share of true matches can be estimated), the rest go to bands in proportion to their findings
    times their closeness to the threshold, where verdicts decide where it belongs."""
    by_band: dict[int, list[tuple[list[str], float]]] = {}
    for f in findings:
        by_band.setdefault(band(f[1]), []).append(f)
    centre = lambda b: (b + 0.5) / N_BANDS  # noqa: E731
    take = dict.fromkeys(by_band, 0)
    left = size
    for b in sorted(by_band, key=lambda b: abs(centre(b) - threshold)):
        take[b] = min(len(by_band[b]), QUEUE_FLOOR, left)
        left -= take[b]
    weight = {b: len(fs) * math.exp(-0.5 * ((centre(b) - threshold) / QUEUE_SPREAD) ** 2) for b, fs in by_band.items()}
    while left > 0:
        room = {b: len(by_band[b]) - take[b] for b in sorted(by_band) if take[b] < len(by_band[b])}
        if not room:
            break
        total = sum(weight[b] for b in room) or 1.0
        shares = {b: left * weight[b] / total for b in room}
        given = {b: min(room[b], int(shares[b])) for b in room}
        if not any(given.values()):  # every share under one finding: one each to the largest
            given = {b: 1 for b in sorted(room, key=lambda b: -shares[b])[:left]}
        for b, n in given.items():
            take[b] += n
            left -= n
    return [f for b in sorted(by_band) for f in rng.sample(by_band[b], take[b])]


@dataclass
class Figures:
    """Precision, recall and F1 of one threshold with 95% intervals. Counts are estimates for all
    current findings when verdicts are weighted by a population, else counts of judged findings."""

    threshold: float
    true_positives: float
    false_positives: float
    false_negatives: float
    precision: float
    precision_ci: tuple[float, float]
    recall: float
    recall_ci: tuple[float, float]
    f1: float
    f1_ci: tuple[float, float]


class Estimate:
    """Weighted labels of one detector: figures of any threshold, the threshold for an objective, and
    bootstrap resamples (within each band) of both."""

    def __init__(self, labels: list[tuple[float, bool]], population: list[float] | None, seed: int = 0):
        order = sorted(labels, key=lambda label: -label[0])
        self.scores = np.array([s for s, _ in order], dtype=float)
        self.y = np.array([y for _, y in order], dtype=float)
        bands = np.array([band(s) for s in self.scores])
        judged = sorted(set(bands.tolist()))
        stands_for = Counter(bands.tolist())  # no population: each verdict stands for itself
        if population:
            # a band without verdicts borrows the share of the nearest band with some
            stands_for = Counter()
            for b, n in Counter(band(s) for s in population).items():
                stands_for[min(judged, key=lambda j: (abs(j - b), -j))] += n
        per_band = Counter(bands.tolist())
        self.weights = np.array([stands_for[b] / per_band[b] for b in bands.tolist()])
        self.weighted = bool(population)
        rng = np.random.default_rng(seed)
        self.replicates = np.zeros((REPLICATES, len(self.scores)))
        for b in judged:
            idx = np.flatnonzero(bands == b)
            draws = rng.multinomial(len(idx), np.full(len(idx), 1 / len(idx)), size=REPLICATES)
            self.replicates[:, idx] = draws * self.weights[idx]
        self.cuts = np.flatnonzero(np.r_[self.scores[1:] != self.scores[:-1], True])  # last of each distinct score

    def _curves(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """True and false positives when cutting after each label (scores descending), and all positives."""
        tp, fp = np.cumsum(w * self.y, axis=-1), np.cumsum(w * (1 - self.y), axis=-1)
        return tp, fp, tp[..., -1:]

    def choose(self, target: float, objective: str, w: np.ndarray | None = None) -> np.ndarray:
        """Threshold per weight row (NaN where none reaches `target`): the lowest whose precision reaches
        it, or ("f1") the one of highest F1 among those; halfway to the next lower labelled score."""
        w = np.atleast_2d(self.weights if w is None else w)
        tp, fp, pos = self._curves(w)
        tp, fp = tp[:, self.cuts], fp[:, self.cuts]
        with np.errstate(divide="ignore", invalid="ignore"):
            ok = (tp > 0) & (tp >= target * (tp + fp) - 1e-9)
            value = np.where(ok, 2 * tp / (tp + fp + pos) if objective == "f1" else np.arange(len(self.cuts)), -1.0)
        best = np.argmax(value, axis=1) if objective == "f1" else len(self.cuts) - 1 - np.argmax(ok[:, ::-1], axis=1)
        pick = self.cuts[best]
        lower = np.where(pick + 1 < len(self.scores), self.scores[np.minimum(pick + 1, len(self.scores) - 1)],
                         self.scores[pick])
        return np.where(ok.any(axis=1), np.round((self.scores[pick] + lower) / 2, 4), np.nan)

    def figures(self, threshold: float) -> Figures:
        above = self.scores >= threshold
        w, y = self.weights, self.y
        tp, fp, pos = float((w * y)[above].sum()), float((w * (1 - y))[above].sum()), float((w * y).sum())
        # Wilson on the effective number of verdicts (Kish) for precision and recall; F1 by bootstrap
        n_eff = lambda ws: ws.sum() ** 2 / (ws ** 2).sum() if ws.sum() else 0.0  # noqa: E731
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / pos if pos else 0.0
        rep = self.replicates
        rtp, rfp, rpos = (rep * y)[:, above].sum(1), (rep * (1 - y))[:, above].sum(1), (rep * y).sum(1)
        with np.errstate(divide="ignore", invalid="ignore"):
            f1s = np.nan_to_num(2 * rtp / (rtp + rfp + rpos))
        ne_p, ne_r = n_eff(w[above]), n_eff(w[y == 1])
        four = lambda pair: tuple(round(float(x), 4) for x in pair)  # noqa: E731
        return Figures(round(threshold, 4), round(tp, 1), round(fp, 1), round(pos - tp, 1), round(p, 4),
                       four(wilson(p * ne_p, ne_p)), round(r, 4), four(wilson(r * ne_r, ne_r)),
                       round(2 * tp / (tp + fp + pos), 4) if tp + fp + pos else 0.0,
                       four(np.percentile(f1s, [2.5, 97.5])))


@dataclass
class Calibration:
    detector: str
    threshold_key: str
    confirmed: int
    rejected: int
    current: Figures | None
    proposed: Figures | None  # None: the threshold stays (see note)
    note: str
    written: bool = False
    skipped: list[int] = field(default_factory=list)  # verdict ids without this detector's score, or below min_score
    objective: str = "precision"
    basis: str = ""
    estimate: float | None = None  # the threshold the verdicts point to, adopted or not
    threshold_range: tuple[float, float] | None = None  # the range of that choice over bootstrap resamples


def _basis(population: list[float] | None, min_score: float, n_labels: int) -> str:
    if population:
        return (f"{n_labels} verdicts weighted by score band over the {len(population)} current findings "
                f"scored >= {min_score}")
    return f"the {n_labels} judged findings only (no current findings to weigh them by)"


def calibrate(index: "SimIndex", verdicts: list[Verdict], precision: float, *, objective: str = "precision",
              population: dict[str, list[float]] | None = None, min_score: float = 0.0,
              seed: int = 0) -> list[Calibration]:
    """One calibration per detector from the verdicts that count (the latest per finding).

    `population`: the current findings' scores per threshold key (for item_match, the self-join's);
    where given, verdicts are weighted to stand for them and findings below `min_score` (not reviewed)
    are left out of both. `objective`: "precision" (the lowest threshold reaching `precision`) or
    "f1" (the highest estimated F1 among the thresholds reaching it)."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}")
    out = []
    for det in DETECTORS:
        pop = (population or {}).get(det.threshold_key)
        pop = [s for s in pop if s >= min_score] if pop else None
        labels, skipped = [], []
        for v in verdicts:
            if v.kind not in det.kinds:
                continue
            label = det.label(v)
            ok = label is not None and (pop is None or label[0] >= min_score)
            (labels.append(label) if ok else skipped.append(v.verdict_id))
        current_t = float(index.config.thresholds.get(det.threshold_key, det.default()))
        pos = sum(1 for _, y in labels if y)
        neg = len(labels) - pos
        result = Calibration(det.name, det.threshold_key, pos, neg, None, None, "", skipped=skipped,
                             objective=objective, basis=_basis(pop, min_score, len(labels)))
        out.append(result)
        if not labels:
            result.note = "no verdicts"
            continue
        est = Estimate(labels, pop, seed)
        result.current = est.figures(current_t)
        if len(labels) < MIN_LABELS or min(pos, neg) < MIN_PER_CLASS:
            result.note = (f"too few verdicts to set a threshold (need {MIN_LABELS}, with at least "
                           f"{MIN_PER_CLASS} confirmed and {MIN_PER_CLASS} rejected)")
            continue
        chosen = float(est.choose(precision, objective)[0])
        if math.isnan(chosen):
            result.note = f"no threshold reaches estimated precision {precision}"
            continue
        resampled = est.choose(precision, objective, est.replicates)
        found = resampled[~np.isnan(resampled)]
        result.estimate = round(chosen, 4)
        aim = f"precision >= {precision}" + (", highest F1" if objective == "f1" else ", lowest threshold")
        if len(found) < CONFIDENCE * REPLICATES:
            result.note = (f"evidence too thin: {aim} is reached in only {len(found) / REPLICATES:.0%} of "
                           f"resamples of the verdicts; threshold kept")
            continue
        lo, hi = (round(float(x), 4) for x in np.percentile(found, [50 * (1 - CONFIDENCE), 50 * (1 + CONFIDENCE)]))
        result.threshold_range = (lo, hi)
        if lo <= current_t <= hi:
            result.note = (f"{aim}: {chosen:.4f}, but the verdicts support anything in [{lo}, {hi}] "
                           f"({CONFIDENCE:.0%} of resamples), which holds the current {current_t}; threshold kept")
            continue
        if not ((est.scores >= min(chosen, current_t)) & (est.scores < max(chosen, current_t))).any():
            result.note = (f"{aim}: {chosen:.4f}, but no verdict lies between it and the current {current_t}, "
                           f"so the verdicts cannot tell them apart; threshold kept")
            continue
        result.proposed = est.figures(chosen)
        result.note = f"{aim} (resamples of the verdicts put it in [{lo}, {hi}])"
    return out


def write_thresholds(index: "SimIndex", results: list[Calibration]) -> dict[str, float]:
    """Record the proposed thresholds in the index's configuration (its manifest), atomically."""
    new = {r.threshold_key: r.proposed.threshold for r in results if r.proposed is not None}
    if not new:
        return {}
    manifest = read_manifest(index.folder)
    manifest["config"]["thresholds"] = {**manifest["config"].get("thresholds", {}), **new}
    write_json_atomic(index.folder / MANIFEST, manifest)
    for r in results:
        r.written = r.proposed is not None
    return new
