"""The index's own match model (simgov.matching.catalogue): EM on unlabelled candidate pairs, kept
in the manifest by the build, used by the self-join."""
import json
import math

import numpy as np

from conftest import run_simgov
from simgov.cli import main
from simgov.index import SimIndex
from simgov.matching.catalogue import PRIOR_M, PRIOR_U, CatalogueFit, fit_catalogue, rank_scores


def planted_catalogue(n_pairs: int, rate: float, mutual_if_match: float, mutual_if_not: float, seed: int = 0):
    """Level logits and mutual-best flags of candidate pairs, a share `rate` of them matches."""
    rng = np.random.default_rng(seed)
    match = rng.random(n_pairs) < rate
    z = np.where(match, rng.normal(1.0, 1.5, n_pairs), rng.normal(-3.0, 1.5, n_pairs))
    mutual = np.where(match, rng.random(n_pairs) < mutual_if_match, rng.random(n_pairs) < mutual_if_not)
    return z, mutual, match


def test_em_learns_the_match_rate_and_what_mutual_best_says():
    z, mutual, match = planted_catalogue(20_000, 0.3, 0.95, 0.01)
    fit = fit_catalogue(z, mutual, train_prior=0.18)
    assert abs(fit.match_rate - match.mean()) < 0.03
    # mutual best says more here than the prior's 0.8 / 0.2 would
    assert fit.mutual_yes > math.log(PRIOR_M / PRIOR_U) + 1 and fit.mutual_no < math.log((1 - PRIOR_M) / (1 - PRIOR_U))
    assert fit.pairs == 20_000 and fit.mutual_pairs == int(mutual.sum())
    decided = fit.posteriors(z, mutual, np.ones(len(z), bool)) >= 0.5
    assert (decided == match).mean() > 0.97


def test_a_small_catalogue_stays_near_the_prior():
    z, mutual, _ = planted_catalogue(12, 0.5, 1.0, 0.0)
    fit = fit_catalogue(z, mutual, train_prior=0.18)
    assert abs(fit.mutual_m - PRIOR_M) < 0.1 and abs(fit.mutual_u - PRIOR_U) < 0.1
    empty = fit_catalogue(np.zeros(0), np.zeros(0, bool), train_prior=0.18)
    assert empty.match_rate == 0.18 and empty.prior_shift == 0.0
    assert math.isclose(empty.mutual_yes, math.log(PRIOR_M / PRIOR_U))


def test_mutual_best_counts_only_where_it_can_say_something():
    fit = CatalogueFit.from_dict(fit_catalogue(*planted_catalogue(5000, 0.3, 0.95, 0.01)[:2], 0.18).to_dict())
    z = np.array([-1.0, -1.0, -1.0])
    mutual = np.array([True, False, True])
    ranked = np.array([True, True, False])
    p = fit.posteriors(z, mutual, ranked)
    assert p[0] > 0.5 > p[2] > p[1]  # a pair without titles is neither raised nor lowered by its rank
    assert math.isclose(fit.logits(z, mutual, ranked)[2], -1.0 + fit.prior_shift)


def test_rank_scores_break_the_ties_of_the_banded_logit():
    z = np.array([2.0, 2.0])
    ranked = rank_scores(z, np.array([0.80, 0.90]), np.array([0.5, np.nan]))
    assert ranked[1] != ranked[0] and np.all(ranked >= z)


def test_the_build_keeps_the_fit_and_pairs_decide_with_it(tmp_path, capsys):
    items = tmp_path / "items.jsonl"
    products = [("Canon EOS R50 mirrorless camera body", "canon r50 body black"),
                ("Sony WH-1000XM5 wireless headphones", "sony wh1000xm5 noise cancelling headphones"),
                ("Logitech MX Master 3S mouse", "logitech mx master 3s wireless mouse graphite"),
                ("Samsung T7 portable SSD 1TB", "samsung t7 1tb portable ssd usb-c"),
                ("Apple AirPods Pro 2nd generation", "airpods pro 2 apple earbuds")]
    with items.open("w") as fh:
        for n, (a, b) in enumerate(products):
            fh.write(json.dumps({"item_id": f"a{n}", "seller_id": "shop-a", "title": a}) + "\n")
            fh.write(json.dumps({"item_id": f"b{n}", "seller_id": "shop-b", "title": b}) + "\n")
    index = tmp_path / "index"
    run_simgov("build", "--items", str(items), "--index", str(index), "--quiet")
    manifest = json.loads((index / "manifest.json").read_text())
    kept = manifest["match_model"]
    assert kept["applied_seq"] == manifest["applied_seq"] and kept["pairs"] > 0
    opened = SimIndex.open(index)
    try:
        assert opened.catalogue_fit() == CatalogueFit.from_dict(kept)
        matched = {(p.item_a, p.item_b) for p in opened.pairs(cross_seller_only=True) if p.match}
    finally:
        opened.close()
    assert {("a3", "b3"), ("a2", "b2")} <= matched
    assert all(a[1:] == b[1:] for a, b in matched)
    assert main(["model", "--index", str(index)]) == 0
    out = capsys.readouterr().out
    assert "index match model (kept with the index's generation)" in out and "mutual best" in out


def test_verdicts_are_labels_in_the_fit():
    z, mutual, match = planted_catalogue(2000, 0.3, 0.6, 0.3, seed=1)
    unlabelled = fit_catalogue(z, mutual, train_prior=0.18)
    labels = np.where(match, 1.0, 0.0)
    labelled = fit_catalogue(z, mutual, train_prior=0.18, labels=labels)
    assert math.isclose(labelled.match_rate, match.mean(), abs_tol=1e-6) and labelled.verdicts == 2000
    # with every pair's verdict, mutual best's m and u are its frequencies in matches and the rest
    # (pulled a little towards the prior)
    assert abs(labelled.mutual_m - mutual[match].mean()) < 0.05
    assert abs(labelled.mutual_u - mutual[~match].mean()) < 0.05
    # a few rejections of pairs EM took for matches lower the rate
    some = np.full(len(z), np.nan)
    taken = np.flatnonzero(unlabelled.posteriors(z, mutual, np.ones(len(z), bool)) > 0.5)[:200]
    some[taken] = 0.0
    assert fit_catalogue(z, mutual, train_prior=0.18, labels=some).match_rate < unlabelled.match_rate - 0.05


def test_the_rate_cannot_run_away_where_the_levels_call_most_candidates_alike():
    # candidates of one album's songs: the levels call most of them alike, few are each other's best
    rng = np.random.default_rng(2)
    z = rng.normal(1.5, 1.0, 3000)
    mutual = rng.random(3000) < 0.1
    fit = fit_catalogue(z, mutual, train_prior=0.18)
    assert fit.match_rate <= 2 * mutual.mean() + 1e-9
    assert fit.mutual_yes >= 0 >= fit.mutual_no  # mutual best never counts against a pair
