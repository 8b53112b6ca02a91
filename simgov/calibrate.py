"""Match thresholds set from investigator verdicts (`simgov calibrate`).

Each detector decides `match` by comparing one score with one threshold. Verdicts label findings
(confirmed = a true match, rejected = not), each with the score it had when it was judged; the
lowest threshold whose labelled precision still reaches the target keeps the most recall at that
precision. Precision and recall are measured on the labelled findings only and given with Wilson
95% intervals: they describe the findings investigators looked at, so they speak for the whole
catalogue only when those findings were a fair sample of what the detector reports.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .matcher import calibration
from .records import Verdict

if TYPE_CHECKING:
    from .index import SimIndex

#: Fewer labels than this (or no label of one class) set no threshold: the figures would say nothing.
MIN_LABELS = 20
MIN_PER_CLASS = 3


@dataclass(frozen=True)
class Detector:
    """A detector's match decision: which threshold, which verdicts label it, which score it compares."""

    name: str
    threshold_key: str
    kinds: tuple[str, ...]
    score_of: str  # "score", or a signal name whose score the threshold applies to

    def default(self) -> float:
        cal = calibration()
        from .accounts.index import DEFAULT_LINK_THRESHOLD

        return {"item_match": cal["item"]["match_threshold"], "image_match": cal["counterfeit"]["image_match"],
                "account_link": DEFAULT_LINK_THRESHOLD}[self.threshold_key]

    def label(self, v: Verdict) -> tuple[float, bool] | None:
        value = v.score if self.score_of == "score" else v.signals.get(self.score_of)
        return None if value is None else (float(value), v.decision == "confirmed")


DETECTORS = (
    Detector("item pairs (similar, pairs, duplicates)", "item_match", ("pair", "group"), "score"),
    Detector("counterfeits (picture near-copy level)", "image_match", ("counterfeit",), "image"),
    Detector("linked accounts (linked, rings)", "account_link", ("link",), "score"),
)


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion: sound at small n and near 0 or 1, unlike p ± z·se."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class Figures:
    """Precision and recall of one threshold on the labelled findings, with Wilson intervals."""

    threshold: float
    true_positives: int
    false_positives: int
    false_negatives: int
    precision: float
    precision_ci: tuple[float, float]
    recall: float
    recall_ci: tuple[float, float]

    @classmethod
    def at(cls, threshold: float, labels: list[tuple[float, bool]]) -> "Figures":
        tp = sum(1 for s, y in labels if s >= threshold and y)
        fp = sum(1 for s, y in labels if s >= threshold and not y)
        fn = sum(1 for s, y in labels if s < threshold and y)
        return cls(round(threshold, 4), tp, fp, fn, round(tp / (tp + fp), 4) if tp + fp else 0.0,
                   tuple(round(x, 4) for x in wilson(tp, tp + fp)), round(tp / (tp + fn), 4) if tp + fn else 0.0,
                   tuple(round(x, 4) for x in wilson(tp, tp + fn)))


@dataclass
class Calibration:
    detector: str
    threshold_key: str
    confirmed: int
    rejected: int
    current: Figures | None
    proposed: Figures | None
    note: str
    written: bool = False
    skipped: list[int] = field(default_factory=list)  # verdict ids without the score this detector needs


def choose_threshold(labels: list[tuple[float, bool]], precision: float) -> float | None:
    """The lowest threshold at which the labelled precision reaches `precision`, placed halfway to
    the next lower labelled score; None when no threshold reaches it."""
    scores = sorted({s for s, _ in labels}, reverse=True)
    best = None
    tp = fp = 0
    by_score: dict[float, list[bool]] = {}
    for s, y in labels:
        by_score.setdefault(s, []).append(y)
    for i, s in enumerate(scores):
        tp += sum(by_score[s])
        fp += len(by_score[s]) - sum(by_score[s])
        if tp and tp / (tp + fp) >= precision:
            lower = scores[i + 1] if i + 1 < len(scores) else s
            best = (s + lower) / 2 if lower < s else s
    return best


def calibrate(index: "SimIndex", verdicts: list[Verdict], precision: float) -> list[Calibration]:
    """One calibration per detector from the verdicts that count (the latest per finding)."""
    out = []
    for det in DETECTORS:
        mine = [v for v in verdicts if v.kind in det.kinds]
        labels, skipped = [], []
        for v in mine:
            label = det.label(v)
            (labels.append(label) if label is not None else skipped.append(v.verdict_id))
        current_t = float(index.config.thresholds.get(det.threshold_key, det.default()))
        pos = sum(1 for _, y in labels if y)
        neg = len(labels) - pos
        current = Figures.at(current_t, labels) if labels else None
        if len(labels) < MIN_LABELS or min(pos, neg) < MIN_PER_CLASS:
            out.append(Calibration(det.name, det.threshold_key, pos, neg, current, None,
                                   f"too few verdicts to set a threshold (need {MIN_LABELS}, with at least "
                                   f"{MIN_PER_CLASS} confirmed and {MIN_PER_CLASS} rejected)", skipped=skipped))
            continue
        chosen = choose_threshold(labels, precision)
        if chosen is None:
            out.append(Calibration(det.name, det.threshold_key, pos, neg, current, None,
                                   f"no threshold reaches precision {precision} on the verdicts", skipped=skipped))
            continue
        out.append(Calibration(det.name, det.threshold_key, pos, neg, current, Figures.at(round(chosen, 4), labels),
                               f"lowest threshold with labelled precision >= {precision}", skipped=skipped))
    return out


def write_thresholds(index: "SimIndex", results: list[Calibration]) -> dict[str, float]:
    """Record the proposed thresholds in the index's configuration (its manifest), atomically."""
    from .index import MANIFEST, read_manifest, write_json_atomic

    new = {r.threshold_key: r.proposed.threshold for r in results if r.proposed is not None}
    if not new:
        return {}
    manifest = read_manifest(index.folder)
    manifest["config"]["thresholds"] = {**manifest["config"].get("thresholds", {}), **new}
    write_json_atomic(index.folder / MANIFEST, manifest)
    for r in results:
        r.written = r.proposed is not None
    return new
