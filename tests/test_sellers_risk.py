"""Seller risk over the small test marketplace: explained by findings and linked accounts, calibrated by
verdicts, authorised sellers and reference owners not punished. Real index, real HTTP server, real CLI."""
from __future__ import annotations

import contextlib
import io
import json

import httpx
import pytest

from api_support import copy_market, make_key, thread_server
from simgov import cli
from simgov.findings.model import Finding
from simgov.findings.risk import BASE_WEIGHT, finding_weight, kind_factors


@pytest.fixture
def market(tmp_path):
    index_dir = copy_market(tmp_path / "market")
    return index_dir, make_key(index_dir, "investigator")


def test_risk_ranks_the_counterfeit_ring_first_and_spares_authorised_sellers(market):
    index_dir, key = market
    auth = {"Authorization": f"Bearer {key}"}
    with thread_server(index_dir) as url, httpx.Client(base_url=url, headers=auth, timeout=60) as client:
        answer = client.get("/v1/sellers", params={"sort": "risk", "limit": 10})
        assert answer.status_code == 200, answer.text
        ranked = answer.json()["sellers"]
        # seller-d sells a fake bag and shares phone and payout account with seller-b
        assert [s["seller_id"] for s in ranked[:2]] == ["seller-d", "seller-b"]
        d = ranked[0]
        assert d["risk"] > ranked[1]["risk"] > 0.3
        kinds = {r["kind"] for r in d["reasons"]}
        assert {"counterfeit", "ring"} <= kinds and d["counts"]["counterfeit"] == 1 and d["counts"]["listings"] == 1
        assert d["linked_accounts"] == ["seller-b"]
        b = ranked[1]
        assert any(r["kind"] == "linked_account" and "seller-d" in r["detail"] for r in b["reasons"])
        # seller-a (authorised for Fleetfoot, whose shoes seller-b copies) and seller-c (owns the reference
        # bag that seller-d fakes) are in findings but are not blamed
        others = {s["seller_id"]: s for s in ranked}
        assert others["seller-a"]["risk"] == 0 and others["seller-a"]["authorized_brands"] == ["Fleetfoot"]
        assert others["seller-c"]["risk"] == 0 and others["seller-c"]["reasons"] == []
        one = client.get("/v1/sellers/seller-d/risk").json()
        assert one["seller_id"] == "seller-d" and one["risk"] == d["risk"]
        assert client.get("/v1/sellers/nobody/risk").status_code == 404
        assert client.get("/v1/sellers", params={"min_risk": 0.3}).json()["sellers"] == ranked[:2]

        # a rejected counterfeit no longer counts against its seller
        fake = client.get("/v1/findings", params={"kind": "counterfeit"}).json()["findings"][0]
        rejected = client.post(f"/v1/findings/{fake['finding_id']}/verdict",
                               json={"decision": "rejected", "reason": "the seller is a licensed outlet"})
        assert rejected.status_code == 200, rejected.text
        after = client.get("/v1/sellers/seller-d/risk").json()
        assert after["risk"] < d["risk"]
        reason = next(r for r in after["reasons"] if r["kind"] == "counterfeit")
        assert reason["weight"] == 0 and "rejected by an investigator" in reason["detail"]
        assert after["counts"]["rejected"] == 1


def test_verdicts_calibrate_the_weight_of_a_kind():
    def finding(status: str, kind: str = "cross_seller_copy") -> Finding:
        return Finding(finding_id=f"{kind}-{status}", kind=kind, severity="medium", score=1.0, items=[], accounts=[],
                       sellers=["s"], summary="", evidence=[], found_at=0, status=status)

    assert kind_factors([finding("open")])["cross_seller_copy"] == 1.0  # no verdicts: the base weight
    mostly_rejected = kind_factors([finding("rejected")] * 6 + [finding("open")])
    mostly_confirmed = kind_factors([finding("confirmed")] * 6 + [finding("open")])
    assert mostly_rejected["cross_seller_copy"] < 1.0 < mostly_confirmed["cross_seller_copy"]
    assert mostly_rejected["counterfeit"] == 1.0  # other kinds are untouched
    open_copy = finding("open")
    assert finding_weight(open_copy, mostly_rejected) < BASE_WEIGHT["cross_seller_copy"] \
        < finding_weight(open_copy, mostly_confirmed)
    assert finding_weight(finding("rejected"), mostly_confirmed) == 0.0
    assert finding_weight(finding("confirmed"), mostly_rejected) == 2 * BASE_WEIGHT["cross_seller_copy"]


def test_cli_sellers_by_risk(market):
    index_dir, _ = market
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert cli.main(["sellers", "--index", str(index_dir), "--sort", "risk", "--json", "--limit", "3"]) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["seller_id"] for r in rows[:2]] == ["seller-d", "seller-b"] and len(rows) == 3
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert cli.main(["sellers", "--index", str(index_dir)]) == 0
    table = out.getvalue().splitlines()
    assert table[0].split()[:3] == ["seller", "risk", "listings"] and table[2].startswith("seller-d")
