"""The findings queue over the small test marketplace: one list for every kind, stable ids, paging
through next_cursor, filters, verdicts on findings, and a counterfeit written through the API that
appears without a rebuild. Real index, real HTTP server."""
from __future__ import annotations

import base64
import contextlib
import io
import json
import time

import httpx
import pytest

from api_support import ACCOUNTS, copy_market, draw_picture, make_key, thread_server
from simgov import cli
from simgov.accounts.listings import KEPT_FILE, KeptMatches
from simgov.index import SimIndex
from simgov.keys import KeyStore
from simgov.storage.items import Store


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = cli.main(list(argv))
    return code, out.getvalue()


@pytest.fixture
def market(tmp_path):
    index_dir = copy_market(tmp_path / "market")
    return index_dir, make_key(index_dir, "investigator"), make_key(index_dir, "admin")


def by_kind(findings: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in findings:
        out.setdefault(f["kind"], []).append(f)
    return out


def test_cli_lists_every_kind_with_ids_stable_across_rescans(market, tmp_path):
    index_dir, _, _ = market
    code, _ = run_cli("findings", "--index", str(index_dir), "--out", str(tmp_path / "f.jsonl"))
    assert code == 0
    first = [json.loads(line) for line in (tmp_path / "f.jsonl").read_text().splitlines()]
    kinds = by_kind(first)
    (fake,) = kinds["counterfeit"]
    assert fake["items"] == ["bag-2", "bag-1"] and fake["sellers"] == ["seller-d"] and fake["severity"] == "high"
    assert fake["brand"] == "Maison Ore" and fake["review"] == {"kind": "counterfeit", "ids": ["bag-2", "bag-1"]}
    (ring,) = kinds["ring"]
    assert ring["accounts"] == ["seller-b", "seller-d"] and ring["evidence"]
    shoes = [f for f in kinds["cross_seller_copy"] if "shoe-3" in f["items"]]
    assert shoes and {"shoe-1", "shoe-3"} <= set(shoes[0]["items"])
    # seller-a is authorised for the shoes' brand, seller-c owns the reference bag: neither is blamed
    assert shoes[0]["sellers"] == ["seller-b"]
    assert all("seller-c" not in f["sellers"] for f in first)
    order = [f["severity"] for f in first]
    assert order == sorted(order, key=["high", "medium", "low"].index)  # most severe first
    code, table = run_cli("findings", "--index", str(index_dir), "--kind", "ring")
    assert code == 0 and ring["finding_id"] in table and fake["finding_id"] not in table

    (index_dir / "findings.json").unlink()  # a scan from nothing gives the same ids
    code, _ = run_cli("findings", "--index", str(index_dir), "--rescan", "--out", str(tmp_path / "g.jsonl"))
    again = [json.loads(line) for line in (tmp_path / "g.jsonl").read_text().splitlines()]
    assert code == 0 and {f["finding_id"] for f in again} == {f["finding_id"] for f in first}


def test_api_pages_filters_and_verdicts(market):
    index_dir, reader, admin = market
    auth = {"Authorization": f"Bearer {reader}"}
    with thread_server(index_dir) as url, httpx.Client(base_url=url, headers=auth, timeout=60) as client:
        everything = client.get("/v1/findings", params={"limit": 500})
        assert everything.status_code == 200, everything.text
        whole = everything.json()
        assert whole["next_cursor"] is None and whole["total"] == len(whole["findings"]) >= 4
        paged, cursor = [], None
        while True:
            page = client.get("/v1/findings", params={"limit": 1, **({"cursor": cursor} if cursor else {})}).json()
            paged += page["findings"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert [f["finding_id"] for f in paged] == [f["finding_id"] for f in whole["findings"]]
        by_score = client.get("/v1/findings", params={"sort": "score", "limit": 500}).json()["findings"]
        assert [f["score"] for f in by_score] == sorted((f["score"] for f in by_score), reverse=True)

        kinds = by_kind(whole["findings"])
        fake, ring = kinds["counterfeit"][0], kinds["ring"][0]
        counterfeits = client.get("/v1/findings", params={"kind": "counterfeit"}).json()["findings"]
        assert [f["finding_id"] for f in counterfeits] == [fake["finding_id"]]
        of_d = client.get("/v1/findings", params={"seller_id": "seller-d"}).json()["findings"]
        assert {fake["finding_id"], ring["finding_id"]} <= {f["finding_id"] for f in of_d}
        assert all("seller-d" in f["sellers"] + f["accounts"] for f in of_d)
        assert client.get("/v1/findings", params={"brand": "maison ore", "kind": "counterfeit"}).json()["total"] == 1
        assert all(f["score"] >= 0.9 for f in client.get("/v1/findings", params={"min_score": 0.9}).json()["findings"])
        forged = base64.urlsafe_b64encode(json.dumps(["severity", "high", 1, 2]).encode()).decode()
        for cursor in ("not-a-cursor", forged):
            bad = client.get("/v1/findings", params={"cursor": cursor})
            assert bad.status_code == 422 and "cursor" in bad.json()["error"]["message"]
        assert client.get("/v1/findings/nope").status_code == 404

        # verdicts: a counterfeit confirmed, a ring rejected (recorded as the ring's links)
        answer = client.post(f"/v1/findings/{fake['finding_id']}/verdict",
                             json={"decision": "confirmed", "reason": "same bag, fake"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "confirmed" and answer.json()["verdict"]["reason"] == "same bag, fake"
        assert answer.json()["decided_by"] == "test investigator"  # the label of the key that decided
        rejected = client.post(f"/v1/findings/{ring['finding_id']}/verdict",
                               json={"decision": "rejected", "reason": "different people"}).json()
        assert rejected["status"] == "rejected"
        links = client.get("/v1/verdicts", params={"kind": "link"}).json()["verdicts"]
        assert [(v["ids"], v["decision"]) for v in links] == [(["seller-b", "seller-d"], "rejected")]
        open_now = {f["finding_id"] for f in
                    client.get("/v1/findings", params={"status": "open", "limit": 500}).json()["findings"]}
        assert fake["finding_id"] not in open_now and ring["finding_id"] not in open_now
        assert [f["finding_id"] for f in client.get("/v1/findings", params={"status": "rejected"}).json()["findings"]] \
            == [ring["finding_id"]]
        assert client.get(f"/v1/findings/{fake['finding_id']}").json()["verdict"]["decision"] == "confirmed"
        # the ingest role cannot read findings
        ingest = make_key(index_dir, "ingest")
        assert client.get("/v1/findings", headers={"Authorization": f"Bearer {ingest}"}).status_code == 403
    # a restart keeps the ids and the verdicts
    with thread_server(index_dir) as url:
        again = httpx.get(f"{url}/v1/findings", params={"limit": 500}, headers=auth, timeout=60).json()
        assert {f["finding_id"] for f in again["findings"]} == {f["finding_id"] for f in whole["findings"]}
        kept = {f["finding_id"]: f["status"] for f in again["findings"]}
        assert kept[fake["finding_id"]] == "confirmed" and kept[ring["finding_id"]] == "rejected"


def test_a_counterfeit_written_through_the_api_appears_without_a_rebuild(market, tmp_path):
    index_dir, reader, admin = market
    picture = tmp_path / "market" / "images" / "bag-3.jpg"
    draw_picture(2).resize((240, 240)).save(picture, quality=80)  # the reference bag's picture, re-encoded
    with thread_server(index_dir) as url, httpx.Client(base_url=url, timeout=60) as client:
        auth = {"Authorization": f"Bearer {reader}"}
        before = client.get("/v1/findings", params={"kind": "counterfeit"}, headers=auth).json()["findings"]
        assert [f["items"][0] for f in before] == ["bag-2"]
        item = {"item_id": "bag-3", "seller_id": "seller-e", "title": "Brown leather handbag, gold buckle",
                "brand": "Maison Ore", "price": 45.0, "images": ["images/bag-3.jpg"]}
        written = client.put("/v1/items", json={"items": [item]}, headers={"Authorization": f"Bearer {admin}"})
        assert written.status_code == 200, written.text
        deadline = time.monotonic() + 120  # re-checked on a background thread; the read never waits for it
        while True:
            found = client.get("/v1/findings", params={"kind": "counterfeit"}, headers=auth).json()["findings"]
            if "bag-3" in [f["items"][0] for f in found]:
                break
            assert time.monotonic() < deadline, found
            time.sleep(0.5)
        new = next(f for f in found if f["items"][0] == "bag-3")
        assert new["items"] == ["bag-3", "bag-1"] and new["sellers"] == ["seller-e"] and new["status"] == "open"
        # deleting it takes its findings away again
        assert client.delete("/v1/items/bag-3", headers={"Authorization": f"Bearer {admin}"}).status_code == 200
        deadline = time.monotonic() + 120
        while "bag-3" in {i for f in client.get("/v1/findings", params={"limit": 500}, headers=auth).json()["findings"]
                          for i in f["items"]}:
            assert time.monotonic() < deadline
            time.sleep(0.5)


def test_another_sellers_picture_on_another_product_is_a_picture_reuse_finding(market, tmp_path):
    index_dir, reader, admin = market
    picture = tmp_path / "market" / "images" / "kettle.jpg"
    draw_picture(1).save(picture, quality=88)  # the red shoe's picture (shoe-1, -2, -3), on a kettle of another brand
    with thread_server(index_dir) as url, httpx.Client(base_url=url, timeout=60) as client:
        auth = {"Authorization": f"Bearer {reader}"}
        assert client.get("/v1/findings", params={"kind": "picture_reuse"}, headers=auth).json()["total"] == 0
        item = {"item_id": "kettle-1", "seller_id": "seller-e", "title": "Stainless steel electric kettle 1.7 l",
                "brand": "Boilwell", "price": 35.0, "images": ["images/kettle.jpg"]}
        written = client.put("/v1/items", json={"items": [item]}, headers={"Authorization": f"Bearer {admin}"})
        assert written.status_code == 200, written.text
        deadline = time.monotonic() + 120
        while True:
            found = client.get("/v1/findings", params={"kind": "picture_reuse"}, headers=auth).json()["findings"]
            if found:
                break
            assert time.monotonic() < deadline
            time.sleep(0.5)
        assert sorted(f["items"] for f in found) == [["kettle-1", f"shoe-{n}"] for n in (1, 2, 3)]
        assert all(f["sellers"] == [] and f["severity"] == "low" and f["review"]["kind"] == "pair" for f in found)
        assert {a for f in found for a in f["accounts"]} == {"seller-a", "seller-b", "seller-e"}
        everything = client.get("/v1/findings", params={"limit": 500}, headers=auth).json()["findings"]
        assert not any("kettle-1" in f["items"] for f in everything if f["kind"] != "picture_reuse")
    # a full scan finds the same picture reuse, with the same ids
    code, _ = run_cli("findings", "--index", str(index_dir), "--rescan", "--kind", "picture_reuse",
                      "--out", str(tmp_path / "reuse.jsonl"))
    scanned = [json.loads(line) for line in (tmp_path / "reuse.jsonl").read_text().splitlines()]
    assert code == 0 and sorted(f["finding_id"] for f in scanned) == sorted(f["finding_id"] for f in found)


def test_findings_of_a_broken_file_are_scanned_again(market):
    index_dir, reader, _ = market
    (index_dir / "findings.json").write_text("{not json")
    with thread_server(index_dir) as url:
        answer = httpx.get(f"{url}/v1/findings", headers={"Authorization": f"Bearer {reader}"}, timeout=60)
        assert answer.status_code == 200 and answer.json()["total"] >= 4
    assert json.loads((index_dir / "findings.json").read_text())["format"] == 1


def test_a_new_reference_listing_is_checked_against_the_listings_that_copy_it(market, tmp_path):
    index_dir, _, _ = market
    assert run_cli("findings", "--index", str(index_dir), "--out", str(tmp_path / "before.jsonl"))[0] == 0
    before = json.loads((index_dir / "findings.json").read_text())
    market_dir = index_dir.parent
    draw_picture(2).save(market_dir / "images" / "bag-ref.jpg", quality=90)
    extra = market_dir / "more.jsonl"
    extra.write_text(json.dumps({"item_id": "bag-ref", "seller_id": "seller-c", "brand": "Maison Ore",
                                 "title": "Brown leather handbag, gold buckle", "price": 400.0, "reference": True,
                                 "images": ["images/bag-ref.jpg"]}) + "\n")
    assert run_cli("build", "--items", str(extra), "--index", str(index_dir), "--quiet")[0] == 0
    # not a rescan: only the new listing is checked (the file's sequence number moves on, found_at is kept)
    code, _ = run_cli("findings", "--index", str(index_dir), "--kind", "counterfeit",
                      "--out", str(tmp_path / "f.jsonl"))
    assert code == 0
    after = json.loads((index_dir / "findings.json").read_text())
    assert after["seq"] > before["seq"] and after["computed_at"] == before["computed_at"]
    fakes = {tuple(json.loads(line)["items"]) for line in (tmp_path / "f.jsonl").read_text().splitlines()}
    assert fakes == {("bag-2", "bag-1"), ("bag-2", "bag-ref")}


def test_a_finding_verdict_names_the_holder_and_can_be_undone(market):
    index_dir, reader, _ = market
    store = Store(index_dir)
    try:
        ana = KeyStore(store).create("investigator", "desk 3", "Ana Silva")[0]
    finally:
        store.close()
    with thread_server(index_dir) as url, httpx.Client(base_url=url, timeout=60) as client:
        findings = by_kind(client.get("/v1/findings", params={"limit": 500},
                                      headers={"Authorization": f"Bearer {ana}"}).json()["findings"])
        fake, ring = findings["counterfeit"][0], findings["ring"][0]
        for f in (fake, ring):
            path = f"/v1/findings/{f['finding_id']}/verdict"
            decided = client.post(path, json={"decision": "confirmed", "reason": "seen"},
                                  headers={"Authorization": f"Bearer {ana}"}).json()
            assert decided["status"] == "confirmed" and decided["decided_by"] == "Ana Silva"
            assert decided["verdict"]["holder"] == "Ana Silva"
            undone = client.delete(path, headers={"Authorization": f"Bearer {reader}"})
            assert undone.status_code == 200, undone.text
            assert undone.json()["status"] == "open" and undone.json()["verdict"] is None
            again = client.delete(path, headers={"Authorization": f"Bearer {reader}"})
            assert again.status_code == 409 and again.json()["error"]["code"] == "no_verdict"
        history = client.get("/v1/verdicts", headers={"Authorization": f"Bearer {reader}"}).json()["verdicts"]
        assert len(history) == 2 and all(v["undone_at"] and v["holder"] == "Ana Silva" for v in history)
        assert client.get("/v1/findings", params={"status": "confirmed"},
                          headers={"Authorization": f"Bearer {reader}"}).json()["total"] == 0


def linked_of_everyone(index_dir) -> dict[str, list[dict]]:
    index = SimIndex.open(index_dir)
    try:
        return {a["account_id"]: [r.model_dump() for r in index.accounts.linked(a["account_id"])] for a in ACCOUNTS}
    finally:
        index.close()


def test_linked_accounts_read_the_matches_the_scan_keeps(market):
    index_dir, reader, admin = market
    looked_up = linked_of_everyone(index_dir)  # no kept matches yet: each listing's neighbours are looked up
    assert any(e["kind"] == "listing_overlap" for links in looked_up.values() for r in links for e in r["evidence"])
    code, _ = run_cli("findings", "--index", str(index_dir), "--rescan")
    kept = KeptMatches.load(index_dir)
    assert code == 0 and kept is not None and kept.pairs()
    assert linked_of_everyone(index_dir) == looked_up  # the same links and evidence from the kept pairs
    # they are read: a pair taken out of the file is gone from the evidence
    a, b = kept.pairs()[0]
    kept.drop(a)
    kept.save(index_dir)
    assert linked_of_everyone(index_dir) != looked_up
    (index_dir / KEPT_FILE).unlink()
    assert run_cli("findings", "--index", str(index_dir), "--rescan")[0] == 0
    # a copy written after the scan is linked at once (its own listing is looked up), and kept after the re-check
    copy = {"item_id": "shoe-copy", "seller_id": "seller-e", "title": "Red running shoe, size 42, breathable mesh",
            "images": ["images/shoe-1.jpg"]}
    with thread_server(index_dir) as url, httpx.Client(base_url=url, timeout=60) as client:
        written = client.put("/v1/items", json={"items": [copy]}, headers={"Authorization": f"Bearer {admin}"})
        assert written.status_code == 200, written.text
        auth = {"Authorization": f"Bearer {reader}"}

        def overlapping() -> list[str]:
            links = client.get("/v1/accounts/seller-e/linked", headers=auth).json()["linked"]
            return [r["account_id"] for r in links for e in r["evidence"] if e["kind"] == "listing_overlap"]

        at_once = overlapping()
        assert at_once and "shoe-copy" not in KeptMatches.load(index_dir).partners
        client.get("/v1/findings", headers=auth)  # starts the re-check of the written listing
        deadline = time.monotonic() + 120
        while not KeptMatches.load(index_dir).partners.get("shoe-copy"):
            assert time.monotonic() < deadline
            time.sleep(0.5)
        assert overlapping() == at_once
