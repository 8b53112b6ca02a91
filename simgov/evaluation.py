"""Precision, recall and F1 of pair decisions against gold pairs, and a precision-recall curve.

Works for item pairs (`item_a`, `item_b`) and account pairs (`account_a`, `account_b`) alike: the
first two id columns of each file are read, and a pair is unordered.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from .errors import BadInput

PAIR_KEYS = (("item_a", "item_b"), ("account_a", "account_b"))


def _key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


@dataclass
class ScoredDecision:
    pair: tuple[str, str]
    score: float
    match: bool


def read_predictions(path: Path) -> Iterator[ScoredDecision]:
    """Pairs written by `simgov pairs`, `rings` or `linked` exports: JSON Lines or CSV."""
    def from_record(rec: dict) -> ScoredDecision:
        for ka, kb in PAIR_KEYS:
            if ka in rec and kb in rec:
                match = rec.get("match", True)
                if isinstance(match, str):
                    match = match.strip().lower() in ("true", "1", "yes")
                return ScoredDecision(_key(str(rec[ka]), str(rec[kb])), float(rec.get("score", 1.0)), bool(match))
        raise BadInput(f"{path}: a record has none of the pair columns {PAIR_KEYS}")

    with open(path, encoding="utf-8", newline="") as fh:
        if path.suffix.lower() == ".csv":
            for rec in csv.DictReader(fh):
                yield from_record(rec)
        else:
            for line in fh:
                if line.strip():
                    yield from_record(json.loads(line))


def read_gold(path: Path) -> set[tuple[str, str]]:
    """Gold pairs: a CSV (separator `,` or `|` or tab) whose first two columns are the two ids."""
    text = Path(path).read_text(encoding="utf-8")
    dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",|\t;")
    rows = list(csv.reader(text.splitlines(), dialect))
    return {_key(r[0].strip(), r[1].strip()) for r in rows[1:] if len(r) >= 2}


@dataclass
class Metrics:
    precision: float
    recall: float
    f1: float
    true_positives: int
    false_positives: int
    false_negatives: int
    predicted: int
    gold: int

    def to_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def metrics(predicted: set, gold: set) -> Metrics:
    tp = len(predicted & gold)
    fp, fn = len(predicted) - tp, len(gold) - tp
    p = tp / len(predicted) if predicted else 0.0
    r = tp / len(gold) if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return Metrics(p, r, f, tp, fp, fn, len(predicted), len(gold))


def pr_curve(decisions: list[ScoredDecision], gold: set) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds, precision, recall) when predicting every pair scored at least each threshold."""
    if not decisions:
        return np.array([]), np.array([]), np.array([])
    order = sorted(decisions, key=lambda d: -d.score)
    hits = np.cumsum([d.pair in gold for d in order])
    counts = np.arange(1, len(order) + 1)
    return np.array([d.score for d in order]), hits / counts, hits / max(len(gold), 1)


def best_f1(decisions: list[ScoredDecision], gold: set) -> tuple[float, float]:
    """(best F1, its threshold) over all score cut-offs: what a perfectly tuned threshold reaches."""
    thresholds, precision, recall = pr_curve(decisions, gold)
    if not len(thresholds):
        return 0.0, 1.0
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0)
    i = int(np.argmax(f1))
    return float(f1[i]), float(thresholds[i])


def plot_pr(decisions: list[ScoredDecision], gold: set, out: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, precision, recall = pr_curve(decisions, gold)
    matched = metrics({d.pair for d in decisions if d.match}, gold)
    fig, ax = plt.subplots(figsize=(5, 4), dpi=120)
    ax.plot(recall, precision, label="all scored pairs, by score")
    ax.scatter([matched.recall], [matched.precision], color="red", zorder=3, label="simgov match decision")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def _pairs_within(groups: list[list[str]]) -> set[tuple[str, str]]:
    return {_key(a, b) for g in groups for i, a in enumerate(g) for b in g[i + 1:]}


def evaluate_planted(planted: dict, duplicates: list, suspects: list, rings: list) -> dict:
    """How many planted cases of the demo marketplace were found, and how many findings are false.

    Duplicates: a planted (original, re-listing or copy) pair counts as found when both sit in
    one found group; a found pair is false when its two listings are different products.
    Counterfeits: (item, reference) pairs. Rings: account pairs inside one planted ring.
    """
    product = planted["item_product"]
    found_dup = _pairs_within([g.members for g in duplicates])

    def recall(groups: list[list[str]]) -> dict:
        wanted = {_key(g[0], other) for g in groups for other in g[1:]}
        hit = len(wanted & found_dup)
        return {"planted_pairs": len(wanted), "found": hit, "recall": round(hit / len(wanted), 4) if wanted else 1.0}

    false_dup = sorted(p for p in found_dup if product.get(p[0]) != product.get(p[1]))
    planted_cf = {(c["item_id"], c["reference_item_id"]) for c in planted["counterfeits"]}
    found_cf = {(s.item_id, s.reference_item_id) for s in suspects}
    resellers = {c["item_id"] for c in planted.get("authorized_resellers", [])}
    ring_pairs = _pairs_within([r["account_ids"] for r in planted["rings"]])
    found_rings = _pairs_within([g.members for g in rings])
    return {
        "same_seller_duplicates": recall([g["item_ids"] for g in planted["same_seller_duplicates"]]),
        "cross_seller_copies": recall([g["item_ids"] for g in planted["cross_seller_copies"]]),
        "duplicate_false_pairs": len(false_dup),
        "duplicate_found_pairs": len(found_dup),
        "counterfeits": {"planted": len(planted_cf), "found": len(planted_cf & found_cf),
                         "recall": round(len(planted_cf & found_cf) / len(planted_cf), 4) if planted_cf else 1.0,
                         "false": len(found_cf - planted_cf),
                         "authorized_resellers_flagged": len({i for i, _ in found_cf} & resellers)},
        "rings": {"planted_pairs": len(ring_pairs), "found": len(ring_pairs & found_rings),
                  "recall": round(len(ring_pairs & found_rings) / len(ring_pairs), 4) if ring_pairs else 1.0,
                  "false_pairs": len(found_rings - ring_pairs)},
    }
