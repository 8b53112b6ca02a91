"""The demo marketplace's planted cases, found through the real CLI: the detectors' acceptance test."""
import json

import pytest

from conftest import run_simgov
from simgov.cli.demo import _examples
from simgov.demo import generate_marketplace
from simgov.evaluation import evaluate_planted
from simgov.index import SimIndex
from simgov.records import CounterfeitSuspect, Group

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_findings(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    market = generate_marketplace(root, seed=3, n_sellers=60, n_products=180)
    index = root / "index"
    run_simgov("build", "--items", str(market.items_file), "--accounts", str(market.accounts_file),
               "--index", str(index), "--quiet")
    out = {}
    for command in ("duplicates", "counterfeits", "rings"):
        path = root / f"{command}.jsonl"
        run_simgov(command, "--index", str(index), "--out", str(path))
        out[command] = [json.loads(line) for line in path.read_text().splitlines()]
    planted = json.loads(market.planted_file.read_text())
    report = evaluate_planted(planted, [Group(**g) for g in out["duplicates"]],
                              [CounterfeitSuspect(**s) for s in out["counterfeits"]],
                              [Group(**g) for g in out["rings"]])
    print(json.dumps(report, indent=1))
    items = [json.loads(line) for line in market.items_file.read_text().splitlines()]
    report["planted"] = dict(planted, item_seller={i["item_id"]: i["seller_id"] for i in items})
    report["index_folder"] = str(index)
    return report, out


def test_every_planted_counterfeit_and_no_false_one(demo_findings):
    report, out = demo_findings
    assert report["counterfeits"]["recall"] == 1.0
    assert report["counterfeits"]["false"] == 0
    assert report["counterfeits"]["authorized_resellers_flagged"] == 0
    suspect = out["counterfeits"][0]
    assert suspect["price_ratio"] <= 0.6 and any("not authorised" in e for e in suspect["evidence"])


def test_planted_duplicates_found_with_few_false_pairs(demo_findings):
    report, out = demo_findings
    assert report["cross_seller_copies"]["recall"] >= 0.95
    assert report["same_seller_duplicates"]["recall"] >= 0.85
    # Measured 7 of 682 (1.0%) since colour and volume conflicts weigh more (43 of 708 before):
    # the rest are colour variants of one model. The bound guards against a relapse.
    assert report["duplicate_false_pairs"] <= 0.03 * report["duplicate_found_pairs"]
    kinds = {g["kind"] for g in out["duplicates"]}
    assert kinds == {"same_seller_relisting", "cross_seller_copy"}


def _pairs(groups: list[list[str]]) -> set[tuple[str, str]]:
    return {tuple(sorted((a, b))) for g in groups for i, a in enumerate(g) for b in g[i + 1:]}


def test_copies_are_told_from_honest_sellers_and_relistings_are_all_found(demo_findings):
    """Issue 15's relations: a copy group holds copies, not honest sellers of one product; every
    planted re-listing is grouped with its original (mutual best no longer drops one)."""
    report, out = demo_findings
    planted = report["planted"]
    items = planted["item_seller"]
    copies = {p for p in _pairs([g["item_ids"] for g in planted["cross_seller_copies"]]) if items[p[0]] != items[p[1]]}
    found = {p for p in _pairs([g["members"] for g in out["duplicates"] if g["kind"] == "cross_seller_copy"])
             if items[p[0]] != items[p[1]]}
    relistings = _pairs([g["item_ids"] for g in planted["same_seller_duplicates"]])
    grouped = _pairs([g["members"] for g in out["duplicates"]])
    assert len(relistings & grouped) >= 0.98 * len(relistings)
    assert len(copies & found) >= 0.94 * len(copies)
    # Measured 0.40 on this marketplace (0.24 when the demo drew a product identically in every
    # photo, 0.06 before the relations); 0.71 counting counterfeits and ring listings, which reuse
    # another seller's photo too. What remains: two shops using one catalogue photo, and a few
    # honest sellers' own shots that the image signal still calls the same picture. Issue 15 wants 0.9.
    assert len(copies & found) >= 0.35 * len(found)


def test_the_demo_examples_find_what_was_planted(demo_findings):
    """`simgov demo` looks up the first planted copy's and re-listing's original: each lookup finds
    every listing planted as its copy or re-listing as a match."""
    report, _ = demo_findings
    index = SimIndex.open(report["index_folder"])
    try:
        examples = _examples(report["planted"])
        assert len(examples) == 2
        for item_id, wanted, _ in examples:
            assert set(wanted) <= {n.item_id for n in index.similar(item_id, k=5) if n.match}
    finally:
        index.close()


def test_every_planted_ring_and_no_false_link(demo_findings):
    report, _ = demo_findings
    assert report["rings"]["recall"] == 1.0
    assert report["rings"]["false_pairs"] == 0
