"""Investigator verdicts through the HTTP API (a real server) and the CLI, and `simgov calibrate`."""
from __future__ import annotations

import json
import math

import httpx
import numpy as np
import pytest

from api_support import copy_market, make_key, thread_server
from simgov import cli
from simgov.matching.calibrate import Estimate, wilson

ROLES = ("investigator", "ingest", "admin")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    index_dir = copy_market(tmp_path_factory.mktemp("verdicts") / "market")
    keys = {role: make_key(index_dir, role) for role in ROLES}
    with thread_server(index_dir) as url:
        with httpx.Client(base_url=url, timeout=60) as client:
            yield client, keys, index_dir


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return response.json()["error"]["message"]


def neighbour(client, key, item_id, other):
    body = client.get(f"/v1/items/{item_id}/similar", params={"k": 10}, headers=auth(key)).json()
    return next(n for n in body["neighbours"] if n["item_id"] == other), body["verdicts"]


def test_verdict_roles_and_bad_input(server):
    client, keys, _ = server
    body = {"kind": "pair", "ids": ["shoe-1", "phones-1"], "decision": "rejected", "reason": "different product"}
    assert client.post("/v1/verdicts", json=body).status_code == 401
    assert "give or read verdicts" in error(client.post("/v1/verdicts", json=body, headers=auth(keys["ingest"])), 403)
    assert error(client.post("/v1/verdicts", json={**body, "ids": ["shoe-1", "nope"]},
                             headers=auth(keys["investigator"])), 404) == "unknown item: nope"
    assert error(client.post("/v1/verdicts", json={**body, "kind": "link", "ids": ["seller-a", "nobody"]},
                             headers=auth(keys["investigator"])), 404) == "unknown account: nobody"
    for bad in ({**body, "kind": "maybe"}, {**body, "decision": "perhaps"}, {**body, "reason": " "},
                {**body, "ids": ["shoe-1", "shoe-1"]}, {**body, "ids": ["a", "b", "c"]}):
        error(client.post("/v1/verdicts", json=bad, headers=auth(keys["investigator"])), 422)
    error(client.get("/v1/verdicts/999999", headers=auth(keys["investigator"])), 404)


def test_rejected_pair_is_no_longer_a_match_and_the_verdict_shows(server):
    client, keys, _ = server
    inv = auth(keys["investigator"])
    before, verdicts = neighbour(client, keys["investigator"], "shoe-1", "shoe-2")
    assert before["match"] and "shoe-2" not in verdicts
    response = client.post("/v1/verdicts", headers=inv, json={
        "kind": "pair", "ids": ["shoe-2", "shoe-1"], "decision": "rejected", "reason": "different size",
        "note": "checked"})
    assert response.status_code == 201, response.text
    verdict = response.json()
    assert verdict["ids"] == ["shoe-1", "shoe-2"] and verdict["key_id"] == keys["investigator"].split("_")[1]
    assert verdict["score"] == before["score"] and set(verdict["agreeing"]) >= {"title", "image"}
    after, verdicts = neighbour(client, keys["investigator"], "shoe-1", "shoe-2")
    assert not after["match"] and after["relation"] == "similar"
    assert "rejected by an investigator" in after["evidence"][-1]
    assert verdicts["shoe-2"]["verdict_id"] == verdict["verdict_id"]
    # seen from the other side too, and listed
    assert not neighbour(client, keys["investigator"], "shoe-2", "shoe-1")[0]["match"]
    listed = client.get("/v1/verdicts", params={"item_id": "shoe-2"}, headers=inv).json()["verdicts"]
    assert [v["verdict_id"] for v in listed] == [verdict["verdict_id"]] and listed[0]["note"] == "checked"
    assert client.get(f"/v1/verdicts/{verdict['verdict_id']}", headers=inv).json() == verdict


def test_a_rejection_gives_way_to_new_evidence(server):
    client, keys, _ = server
    inv, ingest = auth(keys["investigator"]), auth(keys["ingest"])
    # a text-only copy of the lamp: title and text agree, no picture yet
    item = {"item_id": "lamp-copy", "seller_id": "seller-z", "title": "Brass desk lamp with green shade"}
    assert client.put("/v1/items", json={"items": [item]}, headers=ingest).status_code == 200
    first, _ = neighbour(client, keys["investigator"], "lamp-1", "lamp-copy")
    assert first["match"] and "image" not in first["signals"]
    v = client.post("/v1/verdicts", headers=inv, json={"kind": "pair", "ids": ["lamp-1", "lamp-copy"],
                                                        "decision": "rejected", "reason": "generic title"}).json()
    assert "image" not in v["agreeing"]
    assert not neighbour(client, keys["investigator"], "lamp-1", "lamp-copy")[0]["match"]
    # the same listing now shows the lamp's own picture: a signal agrees that did not
    item["images"] = ["images/lamp-1.jpg"]
    assert client.put("/v1/items", json={"items": [item]}, headers=ingest).status_code == 200
    again, verdicts = neighbour(client, keys["investigator"], "lamp-1", "lamp-copy")
    assert again["match"] and "image now agrees: shown again" in again["evidence"][-1]
    assert verdicts["lamp-copy"]["decision"] == "rejected"


def test_counterfeit_confirmation_feeds_the_brand_bank(server):
    client, keys, _ = server
    inv, admin, ingest = auth(keys["investigator"]), auth(keys["admin"]), auth(keys["ingest"])
    assessment = client.get("/v1/items/bag-2/counterfeit", headers=inv).json()
    assert assessment["suspect"] and assessment["verdicts"] == {}
    response = client.post("/v1/verdicts", headers=inv, json={
        "kind": "counterfeit", "ids": ["bag-2", "bag-1"], "decision": "confirmed", "reason": "fake buckle"})
    assert response.status_code == 201, response.text
    assessment = client.get("/v1/items/bag-2/counterfeit", headers=inv).json()
    assert assessment["verdicts"]["bag-1"]["decision"] == "confirmed"
    bank = client.get("/v1/banks/brand:Maison Ore", headers=admin).json()
    assert bank["enabled"] and bank["entries"] == 0  # bag-2 shows the brand's own photos (bag-1's): never banked
    # a counterfeit with a picture of its own: that one is banked
    fake = {"item_id": "bag-fake", "seller_id": "seller-q", "title": "Brown leather handbag, gold buckle",
            "brand": "Maison Ore", "price": 40.0, "images": ["images/phones-1.jpg"]}
    assert client.put("/v1/items", json={"items": [fake]}, headers=ingest).status_code == 200
    response = client.post("/v1/verdicts", headers=inv, json={
        "kind": "counterfeit", "ids": ["bag-fake", "bag-1"], "decision": "confirmed", "reason": "fake photo"})
    assert client.get("/v1/banks/brand:Maison Ore", headers=admin).json()["entries"] == 1
    entries = client.get("/v1/banks/brand:Maison Ore/entries", headers=admin).json()["entries"]
    assert all(e["source"] == f"verdict:{response.json()['verdict_id']}" and e["kind"] == "pdq" for e in entries)
    # a re-upload of the fake picture by anyone is flagged as it is written
    upload = {"item_id": "bag-again", "seller_id": "seller-q", "title": "Leather bag",
              "images": ["images/phones-1.jpg"]}
    result = client.put("/v1/items", json={"items": [upload]}, headers=ingest).json()["items"][0]
    hits = client.get("/v1/items/bag-again", headers=inv).json()["bank_hits"]
    assert result["bank_hits"] == len(hits) >= 1 and hits[0]["bank"] == "brand:Maison Ore"
    assert "bits from PDQ entry" in hits[0]["detail"]
    # rejecting it later drops the suspect from the assessment, with a note
    client.post("/v1/verdicts", headers=inv, json={"kind": "counterfeit", "ids": ["bag-2", "bag-1"],
                                                   "decision": "rejected", "reason": "authorised outlet"})
    assessment = client.get("/v1/items/bag-2/counterfeit", headers=inv).json()
    assert not assessment["suspect"] and assessment["verdicts"]["bag-1"]["decision"] == "rejected"
    assert any("rejected by an investigator" in n for n in assessment["notes"])


def test_link_verdict_shows_on_linked_accounts(server):
    client, keys, _ = server
    inv = auth(keys["investigator"])
    linked = client.get("/v1/accounts/seller-b/linked", headers=inv).json()
    assert next(r for r in linked["linked"] if r["account_id"] == "seller-d")["match"]
    client.post("/v1/verdicts", headers=inv, json={"kind": "link", "ids": ["seller-d", "seller-b"],
                                                   "decision": "confirmed", "reason": "same payout account"})
    linked = client.get("/v1/accounts/seller-b/linked", headers=inv).json()
    link = next(r for r in linked["linked"] if r["account_id"] == "seller-d")
    assert link["match"] and linked["verdicts"]["seller-d"]["decision"] == "confirmed"
    assert link["evidence"][-1]["kind"] == "verdict"


def test_cli_verdicts_groups_export_and_calibrate(tmp_path, capsys):
    index_dir = copy_market(tmp_path / "market")
    assert cli.main(["duplicates", "--index", str(index_dir), "--out", str(tmp_path / "d.jsonl")]) == 0
    groups = [json.loads(line) for line in (tmp_path / "d.jsonl").read_text().splitlines()]
    shoes = next(g for g in groups if "shoe-1" in g["members"])
    assert cli.main(["verdicts", "add", "group", *shoes["members"], "--decision", "rejected", "--reason", "variants",
                     "--index", str(index_dir)]) == 0
    assert cli.main(["duplicates", "--index", str(index_dir), "--out", str(tmp_path / "d2.jsonl")]) == 0
    after = [json.loads(line) for line in (tmp_path / "d2.jsonl").read_text().splitlines()]
    assert sorted(shoes["members"]) not in [sorted(g["members"]) for g in after]
    assert cli.main(["verdicts", "export", "--index", str(index_dir), "--out", str(tmp_path / "v.jsonl")]) == 0
    exported = [json.loads(line) for line in (tmp_path / "v.jsonl").read_text().splitlines()]
    assert [(v["kind"], v["decision"], v["key_id"][:4]) for v in exported] == [("group", "rejected", "cli:")]
    # a bad verdicts file names its line, and calibration needs enough labels
    (tmp_path / "bad.jsonl").write_text('{"kind": "pair", "ids": ["shoe-1", "mug-1"], "decision": "rejected", '
                                        '"reason": "x"}\nnot json\n')
    assert cli.main(["verdicts", "import", "--file", str(tmp_path / "bad.jsonl"), "--index", str(index_dir)]) == 1
    assert "line 2" in capsys.readouterr().err
    assert cli.main(["calibrate", "--index", str(index_dir), "--write"]) == 0
    assert "too few verdicts" in capsys.readouterr().out
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert manifest["config"]["thresholds"] == {}


def test_calibrate_writes_thresholds_that_survive_a_rebuild(tmp_path):
    """Verdicts on findings scored 0.3 .. 0.9: the lowest threshold keeping precision 0.99 is written."""
    from simgov.matching.calibrate import calibrate, write_thresholds
    from simgov.index import SimIndex
    from simgov.records import Verdict

    index_dir = copy_market(tmp_path / "market")
    index = SimIndex.open(index_dir)
    labels = [(0.3 + 0.6 * i / 39, i >= 10) for i in range(40)]  # 10 rejected below 0.45, 30 confirmed above
    verdicts = [Verdict(verdict_id=i, kind="pair", ids=["a", f"b{i}"], decision="confirmed" if y else "rejected",
                        reason="r", note=None, key_id="k", at=0.0, score=s, signals={}, agreeing=[])
                for i, (s, y) in enumerate(labels)]
    results = calibrate(index, verdicts, precision=0.99)
    item = next(r for r in results if r.threshold_key == "item_match")
    assert item.current.threshold == 0.5 and item.current.precision == 1.0 and item.current.recall < 1
    assert 0.3 + 0.6 * 9 / 39 < item.proposed.threshold <= 0.3 + 0.6 * 10 / 39 and item.proposed.recall == 1.0
    assert next(r for r in results if r.threshold_key == "account_link").proposed is None
    assert write_thresholds(index, results) == {"item_match": item.proposed.threshold}
    index.close()
    assert SimIndex.open(index_dir).matcher.threshold == item.proposed.threshold
    from simgov.build.local import build

    build(index_dir.parent / "items.jsonl", index_dir)  # a later build without a config keeps them
    assert json.loads((index_dir / "manifest.json").read_text())["config"]["thresholds"] == {
        "item_match": item.proposed.threshold}


def test_wilson_and_threshold_choice():
    lo, hi = wilson(9, 10)
    assert math.isclose(lo, 0.5958, abs_tol=1e-3) and math.isclose(hi, 0.9821, abs_tol=1e-3)
    assert wilson(0, 0) == (0.0, 1.0) and wilson(5, 5)[1] == 1.0
    labels = [(0.9, True), (0.8, True), (0.7, False), (0.6, True), (0.4, False)]
    est = Estimate(labels, None)  # judged findings only: each stands for itself
    assert est.choose(1.0, "precision")[0] == pytest.approx(0.75)
    assert est.choose(0.75, "precision")[0] == pytest.approx(0.5)
    assert np.isnan(Estimate([(0.9, False)], None).choose(0.5, "precision")[0])
    f = est.figures(0.5)
    assert (f.true_positives, f.false_positives, f.false_negatives) == (3, 1, 0) and f.precision == 0.75
    assert f.f1 == pytest.approx(6 / 7, abs=1e-4) and f.f1_ci[0] <= f.f1 <= f.f1_ci[1]


def test_verdicts_name_the_key_holder_and_can_be_undone(tmp_path, capsys):
    index_dir = copy_market(tmp_path / "market")
    assert cli.main(["keys", "create", "--index", str(index_dir), "--role", "investigator", "--label", "desk 3",
                     "--holder", "Ana Silva"]) == 0
    ana = capsys.readouterr().out.strip()
    assert cli.main(["keys", "list", "--index", str(index_dir)]) == 0
    assert "Ana Silva" in capsys.readouterr().out
    labelled, ingest = make_key(index_dir, "investigator"), make_key(index_dir, "ingest")
    with thread_server(index_dir) as url, httpx.Client(base_url=url, timeout=60) as client:
        body = {"kind": "pair", "ids": ["shoe-1", "shoe-2"], "decision": "confirmed", "reason": "same shoe"}
        confirmed = client.post("/v1/verdicts", json=body, headers=auth(ana)).json()
        assert confirmed["holder"] == "Ana Silva" and confirmed["undone_at"] is None
        rejected = client.post("/v1/verdicts", json={**body, "decision": "rejected", "reason": "other size"},
                               headers=auth(labelled)).json()
        assert rejected["holder"] == "test investigator"  # a key without a holder: its label
        assert not neighbour(client, ana, "shoe-1", "shoe-2")[0]["match"]

        # undoing the rejection: kept in the history, marked; the earlier confirmation counts again
        assert client.delete(f"/v1/verdicts/{rejected['verdict_id']}", headers=auth(ingest)).status_code == 403
        undone = client.delete(f"/v1/verdicts/{rejected['verdict_id']}", headers=auth(ana))
        assert undone.status_code == 200, undone.text
        assert undone.json()["undone_at"] is not None and undone.json()["undone_by"] == ana.split("_")[1]
        assert "already" in error(client.delete(f"/v1/verdicts/{rejected['verdict_id']}", headers=auth(ana)), 409)
        error(client.delete("/v1/verdicts/999999", headers=auth(ana)), 404)
        pair, verdicts = neighbour(client, ana, "shoe-1", "shoe-2")
        assert pair["match"] and verdicts["shoe-2"]["verdict_id"] == confirmed["verdict_id"]
        history = client.get("/v1/verdicts", params={"kind": "pair"}, headers=auth(ana)).json()["verdicts"]
        assert [(v["verdict_id"], v["undone_at"] is not None) for v in history] == [
            (confirmed["verdict_id"], False), (rejected["verdict_id"], True)]
        latest = client.get("/v1/verdicts", params={"kind": "pair", "latest": True}, headers=auth(ana)).json()
        assert [v["verdict_id"] for v in latest["verdicts"]] == [confirmed["verdict_id"]]

        # undoing a confirmed counterfeit disables the bank entries it added
        fake = {"item_id": "bag-fake", "seller_id": "seller-q", "title": "Brown leather handbag, gold buckle",
                "brand": "Maison Ore", "price": 40.0, "images": ["images/phones-1.jpg"]}
        assert client.put("/v1/items", json={"items": [fake]}, headers=auth(make_key(index_dir, "ingest"))
                          ).status_code == 200
        banked = client.post("/v1/verdicts", headers=auth(ana), json={
            "kind": "counterfeit", "ids": ["bag-fake", "bag-1"], "decision": "confirmed", "reason": "fake"}).json()
        admin = auth(make_key(index_dir, "admin"))
        entries = client.get("/v1/banks/brand:Maison Ore/entries", headers=admin).json()["entries"]
        assert [e["enabled"] for e in entries] == [True]
        assert client.delete(f"/v1/verdicts/{banked['verdict_id']}", headers=auth(ana)).status_code == 200
        entries = client.get("/v1/banks/brand:Maison Ore/entries", headers=admin).json()["entries"]
        assert [e["enabled"] for e in entries] == [False]

    # the command line: verdicts name the login (or --holder), undo marks them
    assert cli.main(["verdicts", "add", "--index", str(index_dir), "link", "seller-b", "seller-d",
                     "--decision", "confirmed", "--reason", "same payout", "--holder", "Rui Costa", "--json"]) == 0
    added = json.loads(capsys.readouterr().out)
    assert added["holder"] == "Rui Costa"
    assert cli.main(["verdicts", "undo", "--index", str(index_dir), str(added["verdict_id"])]) == 0
    assert cli.main(["verdicts", "export", "--index", str(index_dir), "--kind", "link", "--out", "-"]) == 0
    (exported,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert exported["holder"] == "Rui Costa" and exported["undone_at"] is not None
    assert cli.main(["verdicts", "undo", "--index", str(index_dir), str(added["verdict_id"])]) != 0
