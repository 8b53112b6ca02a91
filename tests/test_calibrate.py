"""`simgov calibrate` and `simgov verdicts queue` on synthetic findings whose right answers are known."""
from __future__ import annotations

import json
import random
from types import SimpleNamespace

import numpy as np
import pytest

from api_support import copy_market
from simgov import cli
from simgov.matching.calibrate import N_BANDS, QUEUE_FLOOR, Estimate, band, calibrate, review_queue
from simgov.records import Verdict


def world(seed: int = 0, n: int = 6000):
    """Findings scored 0..1, most low and false, a thousand near 1 and true, a few in doubt between;
    P(true match | score) rises from 0.05 at 0.3 to 0.95 at 0.7."""
    rng = np.random.default_rng(seed)
    scores = np.round(np.concatenate([rng.beta(0.5, 6, n - 1000), rng.uniform(0.9, 1, 1000)]), 4)
    truth = rng.random(len(scores)) < 1 / (1 + np.exp(-(scores - 0.5) / 0.068))
    return scores, truth


def true_figures(scores, truth, t):
    tp, fp = (truth & (scores >= t)).sum(), (~truth & (scores >= t)).sum()
    return tp / (tp + fp), tp / truth.sum(), 2 * tp / (tp + fp + truth.sum())


def verdicts_of(picked, truth_of):
    return [Verdict(verdict_id=i, kind="pair", ids=ids, decision="confirmed" if truth_of[tuple(ids)] else "rejected",
                    reason="r", note=None, key_id="k", at=0.0, score=s, signals={}, agreeing=[])
            for i, (ids, s) in enumerate(picked)]


def fake_index(threshold: float):
    return SimpleNamespace(config=SimpleNamespace(thresholds={"item_match": threshold}))


def test_bands_have_exact_edges():
    assert [band(s) for s in (0.0, 0.0499, 0.05, 0.15, 0.4999, 0.5, 0.95, 1.0)] == [0, 0, 1, 3, 9, 10, 19, 19]


def test_review_queue_is_stratified_and_densest_near_the_threshold():
    scores, _ = world()
    findings = [([f"a{i}", f"b{i}"], float(s)) for i, s in enumerate(scores)]
    picked = review_queue(findings, 300, 0.5, random.Random(1))
    assert len(picked) == 300 and len({tuple(ids) for ids, _ in picked}) == 300
    per_band = {b: sum(1 for _, s in findings if band(s) == b) for b in range(N_BANDS)}
    taken = {b: sum(1 for _, s in picked if band(s) == b) for b in range(N_BANDS)}
    assert all(taken[b] >= min(QUEUE_FLOOR, per_band[b]) for b in range(N_BANDS))
    rate = {b: taken[b] / per_band[b] for b in range(N_BANDS) if per_band[b]}
    assert rate[band(0.5)] > 5 * rate[band(0.02)] and rate[band(0.5)] > 5 * rate[band(0.97)]
    assert len(review_queue(findings[:50], 300, 0.5, random.Random(1))) == 50  # fewer findings than asked: all


def test_weighting_by_the_population_corrects_a_queue_that_over_samples_the_threshold():
    scores, truth = world()
    findings = [([f"a{i}", f"b{i}"], float(s)) for i, s in enumerate(scores)]
    truth_of = {tuple(ids): bool(y) for (ids, _), y in zip(findings, truth)}
    picked = review_queue(findings, 400, 0.5, random.Random(2))
    labels = [(s, truth_of[tuple(ids)]) for ids, s in picked]
    weighted, judged_only = Estimate(labels, scores.tolist()), Estimate(labels, None)
    p, r, f1 = true_figures(scores, truth, 0.5)
    w = weighted.figures(0.5)
    assert w.precision_ci[0] <= p <= w.precision_ci[1] and abs(w.precision - p) < 0.03
    assert w.recall_ci[0] <= r <= w.recall_ci[1] and w.f1_ci[0] <= f1 <= w.f1_ci[1]
    # counted as they come, the over-sampled doubtful findings drag precision far below the truth
    assert judged_only.figures(0.5).precision < p - 0.05


def test_calibrate_finds_the_known_threshold_and_keeps_one_it_cannot_tell_apart():
    # P(match | score) is 0.1 below 0.6 and 1 above: for precision 0.99 the right threshold is 0.6
    rng = random.Random(3)
    findings = [([f"a{i}", f"b{i}"], round(rng.uniform(0.05, 1), 4)) for i in range(3000)]
    truth_of = {tuple(ids): s >= 0.6 or rng.random() < 0.1 for ids, s in findings}
    population = {"item_match": [s for _, s in findings]}
    verdicts = verdicts_of(review_queue(findings, 300, 0.3, random.Random(4)), truth_of)
    item = next(r for r in calibrate(fake_index(0.3), verdicts, 0.99, population=population, min_score=0.05)
                if r.threshold_key == "item_match")
    assert 0.55 < item.proposed.threshold <= 0.6 and item.proposed.precision >= 0.99
    assert item.current.precision < 0.8
    assert item.threshold_range[0] <= item.proposed.threshold <= item.threshold_range[1]
    assert "weighted by score band over the 3000 current findings" in item.basis
    # starting at 0.6 already: the verdicts support it, so it stays
    again = next(r for r in calibrate(fake_index(0.6), verdicts, 0.99, population=population, min_score=0.05)
                 if r.threshold_key == "item_match")
    assert again.proposed is None and "threshold kept" in again.note and again.estimate == item.proposed.threshold
    # the F1 objective may go lower than the precision target allows only when the target lets it
    f1 = next(r for r in calibrate(fake_index(0.3), verdicts, 0.5, objective="f1", population=population,
                                   min_score=0.05) if r.threshold_key == "item_match")
    assert 0.55 < f1.proposed.threshold <= 0.6  # below 0.6 a finding is a match one time in ten: F1 falls
    # too few verdicts: nothing proposed, the figures still given
    thin = next(r for r in calibrate(fake_index(0.3), verdicts[:10], 0.99, population=population, min_score=0.05)
                if r.threshold_key == "item_match")
    assert thin.proposed is None and "too few verdicts" in thin.note and thin.current is not None
    with pytest.raises(ValueError):
        calibrate(fake_index(0.3), verdicts, 0.99, objective="recall")


def test_cli_queue_skips_judged_findings_and_calibrate_weighs_by_the_self_join(tmp_path, capsys):
    index_dir = copy_market(tmp_path / "market")
    assert cli.main(["pairs", "--index", str(index_dir), "--out", str(tmp_path / "pairs.jsonl")]) == 0
    pairs = [json.loads(line) for line in (tmp_path / "pairs.jsonl").read_text().splitlines()]
    top = max((p for p in pairs), key=lambda p: p["score"])
    assert cli.main(["verdicts", "add", "pair", top["item_a"], top["item_b"], "--decision", "confirmed",
                     "--reason", "same item", "--index", str(index_dir)]) == 0
    out = tmp_path / "queue.jsonl"
    assert cli.main(["verdicts", "queue", "--index", str(index_dir), "--pairs", str(tmp_path / "pairs.jsonl"),
                     "--size", "5", "--out", str(out)]) == 0
    queued = [json.loads(line) for line in out.read_text().splitlines()]
    # every unjudged finding scored >= 0.05, up to the queue's size (the level model's posteriors leave
    # few pairs of this small market between 0.05 and a sure match)
    unjudged = [p for p in pairs if p["score"] >= 0.05 and {p["item_a"], p["item_b"]} != {top["item_a"], top["item_b"]}]
    assert len(unjudged) >= 3 and len(queued) == min(5, len(unjudged))
    assert all(q["kind"] == "pair" and q["score"] >= 0.05 for q in queued)
    assert sorted([top["item_a"], top["item_b"]]) not in [q["ids"] for q in queued]
    capsys.readouterr()
    assert cli.main(["calibrate", "--index", str(index_dir)]) == 0
    shown = capsys.readouterr().out
    assert "current findings scored >= 0.05" in shown and "too few verdicts" in shown
