"""Known-bad banks and PDQ hash exchange: the API (a real server), the CLI and the file format."""
from __future__ import annotations

import json

import httpx
import pytest

from api_support import copy_market, make_key, thread_server
from simgov import cli
from simgov.errors import BadInput
from simgov.exchange import format_hash_list, parse_hash_list

H1, H2 = "0f" * 32, "a5" * 32


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_hash_list_format_round_trips_and_reports_bad_lines():
    text = f"# shared by a partner\n{H1}\npdq {H2.upper()} scam listing 7\n\n{'1' * 64},box photo\n"
    assert parse_hash_list(text) == [(H1, None), (H2, "scam listing 7"), ("1" * 64, "box photo")]
    out = format_hash_list([(H1, None), (H2, "scam  listing\t7")], labels=True)
    assert out == f"pdq {H1}\npdq {H2} scam listing 7\n"
    assert parse_hash_list(out) == [(H1, None), (H2, "scam listing 7")]
    assert format_hash_list([(H2, "label")]) == f"pdq {H2}\n"  # what ThreatExchange's file exchange reads
    with pytest.raises(BadInput) as bad:
        parse_hash_list(f"{H1}\n{H1[:-2]}\nmd5 {H1}\n(garbage)\n")
    message = str(bad.value)
    assert message.startswith("3 malformed hash line(s)")
    assert "line 2: a PDQ hash is 64 hex digits, this one has 62" in message
    assert "line 3: signal type 'md5'" in message and "line 4: not a PDQ hash line" in message


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    index_dir = copy_market(tmp_path_factory.mktemp("banks") / "market")
    keys = {role: make_key(index_dir, role) for role in ("investigator", "ingest", "admin")}
    with thread_server(index_dir) as url:
        with httpx.Client(base_url=url, timeout=60) as client:
            yield client, keys


def pdq_of(client, keys, item_id: str) -> list[str]:
    detail = client.get(f"/v1/items/{item_id}", headers=auth(keys["investigator"])).json()
    return [p["pdq"] for p in detail["signals"]["image"]["pictures"]]


def test_banks_need_admin(server):
    client, keys = server
    assert client.get("/v1/banks").status_code == 401
    for role in ("investigator", "ingest"):
        response = client.post("/v1/banks", json={"name": "x"}, headers=auth(keys[role]))
        assert response.status_code == 403 and "manage known-bad banks" in response.json()["error"]["message"]


def test_pdq_bank_flags_uploads_and_honours_enable_switches(server):
    client, keys = server
    admin, ingest = auth(keys["admin"]), auth(keys["ingest"])
    created = client.post("/v1/banks", json={"name": "scam-pictures", "description": "t"}, headers=admin)
    assert created.status_code == 201
    assert client.post("/v1/banks", json={"name": "scam-pictures"}, headers=admin).status_code == 409
    assert client.post("/v1/banks", json={"name": "bad/name"}, headers=admin).status_code == 422
    front = pdq_of(client, keys, "mug-1")[0]
    added = client.post("/v1/banks/scam-pictures/entries", headers=admin,
                        json={"entries": [{"kind": "pdq", "value": front.upper(), "label": "mug scam"}]}).json()
    assert added == {"bank": "scam-pictures", "added": 1, "already_there": 0}
    upload = {"item_id": "mug-again", "seller_id": "seller-x", "title": "Cup", "images": ["images/mug-1.jpg"]}

    def flagged() -> list[dict]:
        response = client.put("/v1/items", json={"items": [upload]}, headers=ingest)
        assert response.status_code == 200, response.text
        hits = client.get("/v1/items/mug-again", headers=admin).json()["bank_hits"]
        assert response.json()["items"][0]["bank_hits"] == len(hits)  # the writer learns a count, no names
        return hits

    hits = flagged()
    assert [(h["bank"], h["kind"]) for h in hits] == [("scam-pictures", "pdq")] and "(mug scam)" in hits[0]["detail"]
    assert hits[0]["detail"].startswith("picture 1 is 0 bits from PDQ entry")
    listed = client.get("/v1/bank-hits", params={"bank": "scam-pictures"}, headers=admin).json()["hits"]
    assert [h["item_id"] for h in listed] == ["mug-again"]
    assert client.patch("/v1/banks/scam-pictures", json={"enabled": False}, headers=admin).json()["enabled"] is False
    assert flagged() == []
    client.patch("/v1/banks/scam-pictures", json={"enabled": True}, headers=admin)
    entry = client.get("/v1/banks/scam-pictures/entries", headers=admin).json()["entries"][0]
    assert entry["value"] == front and entry["source"] == "api"
    assert client.patch(f"/v1/banks/scam-pictures/entries/{entry['entry_id']}", json={"enabled": False},
                        headers=admin).json()["enabled"] is False
    assert flagged() == []
    client.patch(f"/v1/banks/scam-pictures/entries/{entry['entry_id']}", json={"enabled": True}, headers=admin)
    assert flagged()
    missing = client.patch("/v1/banks/scam-pictures/entries/999999", json={"enabled": False}, headers=admin)
    assert missing.status_code == 404
    assert client.get("/v1/banks/no-such-bank", headers=admin).status_code == 404
    assert client.post("/v1/banks/no-such-bank/entries", headers=admin,
                       json={"entries": [{"kind": "pdq", "value": H1}]}).status_code == 404


def test_hash_list_import_export_round_trip_over_http(server):
    client, keys = server
    admin = auth(keys["admin"])
    client.post("/v1/banks", json={"name": "partner"}, headers=admin)
    bad = client.post("/v1/banks/partner/hashes", content=f"pdq {H1}\nzz{H2}\n", headers=admin)
    assert bad.status_code == 422 and "line 2" in bad.json()["error"]["message"]
    assert client.get("/v1/banks/partner", headers=admin).json()["entries"] == 0  # nothing half-loaded
    text = f"pdq {H1} first\n{H2},second\n"
    assert client.post("/v1/banks/partner/hashes", content=text, headers=admin).json()["added"] == 2
    exported = client.get("/v1/banks/partner/hashes", params={"labels": True}, headers=admin)
    assert exported.headers["content-type"].startswith("text/plain")
    assert exported.text == f"pdq {H1} first\npdq {H2} second\n"
    client.post("/v1/banks", json={"name": "partner-copy"}, headers=admin)
    client.post("/v1/banks/partner-copy/hashes", content=exported.text, headers=admin)
    copy = client.get("/v1/banks/partner-copy/entries", headers=admin).json()["entries"]
    assert [(e["value"], e["label"]) for e in copy] == [(H1, "first"), (H2, "second")]
    assert client.get("/v1/banks/nope/hashes", headers=admin).status_code == 404


def test_title_and_identifier_entries_and_scan(server):
    client, keys = server
    admin, ingest = auth(keys["admin"]), auth(keys["ingest"])
    client.post("/v1/banks", json={"name": "fraud"}, headers=admin)
    response = client.post("/v1/banks/fraud/entries", headers=admin, json={"entries": [
        {"kind": "title", "value": "Replica designer watch, AAA quality", "label": "replica"},
        {"kind": "identifier", "name": "phone", "value": "+44 7700 900123", "label": "known fraudster"}]})
    assert response.json()["added"] == 2
    ids = client.get("/v1/banks/fraud/entries", params={"kind": "identifier"}, headers=admin).json()["entries"]
    assert len(ids[0]["value"]) == 64 and "7700" not in json.dumps(ids)  # only the keyed hash is kept
    items = [{"item_id": "watch-1", "seller_id": "seller-y", "title": "Replica designer watch AAA quality"},
             {"item_id": "watch-2", "seller_id": "seller-y", "title": "Stainless steel kitchen scale"},
             {"item_id": "barn-new", "seller_id": "seller-b", "title": "Garden gnome"}]
    counts = {r["item_id"]: r["bank_hits"] for r in client.put("/v1/items", json={"items": items},
                                                                headers=ingest).json()["items"]}
    result = {i: client.get(f"/v1/items/{i}", headers=admin).json()["bank_hits"] for i in counts}
    assert counts == {i: len(hits) for i, hits in result.items()}
    assert [h["kind"] for h in result["watch-1"]] == ["title"] and result["watch-2"] == []
    assert [h["kind"] for h in result["barn-new"]] == ["identifier"]
    assert "seller seller-b's phone matches" in result["barn-new"][0]["detail"]
    scan = client.post("/v1/bank-hits/scan", headers=admin).json()
    flagged = {h["item_id"] for h in scan["hits"] if h["bank"] == "fraud"}
    assert {"watch-1", "barn-new", "shoe-3"} <= flagged  # shoe-3 is seller-b's too, listed before the entry


def test_cli_banks_and_build_flagging(tmp_path, capsys):
    from simgov.banks import item_pdq_entries
    from simgov.index import SimIndex

    index_dir = copy_market(tmp_path / "market")
    index = SimIndex.open(index_dir)
    hashes = [value for _, value, _ in item_pdq_entries(index, "lamp-1", "lamp")]
    index.close()
    hash_file = tmp_path / "partner.txt"
    hash_file.write_text("".join(f"pdq {h} lamp fraud\n" for h in hashes))
    assert cli.main(["banks", "import", "partner", str(hash_file), "--create", "--index", str(index_dir)]) == 0
    assert "2 added to partner" in capsys.readouterr().err
    hash_file.write_text(f"pdq {hashes[0]}\npdq 12345\n")
    assert cli.main(["banks", "import", "partner", str(hash_file), "--index", str(index_dir)]) == 1
    assert "line 2: a PDQ hash is 64 hex digits" in capsys.readouterr().err
    out = tmp_path / "export.txt"
    assert cli.main(["banks", "export", "partner", "--out", str(out), "--labels", "--index", str(index_dir)]) == 0
    assert parse_hash_list(out.read_text()) == [(h, "lamp fraud") for h in hashes]
    items = index_dir.parent / "more.jsonl"
    items.write_text(json.dumps({"item_id": "lamp-again", "seller_id": "seller-z", "title": "Lamp",
                                 "images": ["images/lamp-1.jpg"]}) + "\n")
    assert cli.main(["build", "--items", str(items), "--index", str(index_dir), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "1 listings match a known-bad bank" in err and "lamp-again  [partner]" in err
    assert cli.main(["banks", "entry-disable", "partner", "1", "--index", str(index_dir)]) == 0
    assert cli.main(["banks", "disable", "partner", "--index", str(index_dir)]) == 0
    assert cli.main(["banks", "list", "--index", str(index_dir)]) == 0
    listing = capsys.readouterr().out
    assert "partner  disabled  2        1" in listing
    assert cli.main(["banks", "scan", "--index", str(index_dir)]) == 0
    assert "0 listings match" in capsys.readouterr().err
    assert cli.main(["banks", "enable", "nope", "--index", str(index_dir)]) == 1
    assert "unknown bank: nope" in capsys.readouterr().err
