"""The synthetic demo marketplace (simgov.demo): contract, determinism and planted ground truth.

One small marketplace is generated per module (about 2 s); the determinism test makes a second one.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from simgov.demo import EDIT_OPS, DemoMarketplace, generate_marketplace

SMALL = dict(seed=11, n_sellers=30, n_products=60)
STRONG = ("device_id", "payout_account", "phone", "email")


@pytest.fixture(scope="module")
def market(tmp_path_factory) -> DemoMarketplace:
    return generate_marketplace(tmp_path_factory.mktemp("demo") / "market", workers=1, **SMALL)


@pytest.fixture(scope="module")
def data(market):
    items = [json.loads(line) for line in market.items_file.read_text(encoding="utf-8").splitlines()]
    accounts = [json.loads(line) for line in market.accounts_file.read_text(encoding="utf-8").splitlines()]
    planted = json.loads(market.planted_file.read_text(encoding="utf-8"))
    return {"items": {i["item_id"]: i for i in items}, "item_list": items,
            "accounts": {a["account_id"]: a for a in accounts}, "account_list": accounts, "planted": planted}


# ------------------------------------------------------------------------------------------
# normalisers used to check the planted evidence independently of the generator
# ------------------------------------------------------------------------------------------

def norm_email(e: str) -> str:
    local, _, domain = e.lower().partition("@")
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        return local.replace(".", "") + "@gmail.com"
    return f"{local}@{domain}"


def norm_phone(p: str) -> str:
    return re.sub(r"\D", "", p)[-9:]


def norm_payout(p: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", p.upper().replace("ROUTING", "").replace("ACCT", "").replace("ACCOUNT", "")
                  .replace("ACH", ""))


def address_digits(a: str) -> set[str]:
    return set(re.findall(r"\d+", a))


def address_words(a: str) -> set[str]:
    a = a.lower().replace("ß", "ss")
    return {w for w in re.findall(r"[a-zà-ÿ]{4,}", a)}


def letters(handle: str) -> str:
    return re.sub(r"[^a-z]", "", handle.lower())


def avatar_distance(root: Path, a: str, b: str) -> float:
    x = np.asarray(Image.open(root / a).convert("L").resize((32, 32)), dtype=np.float32)
    y = np.asarray(Image.open(root / b).convert("L").resize((32, 32)), dtype=np.float32)
    return float(np.abs(x - y).mean())


def linked(root: Path, a: dict, b: dict) -> set[str]:
    """Linking evidence between two accounts, recomputed from the files."""
    ia, ib = a["identifiers"], b["identifiers"]
    ev = set()
    if ia["device_id"] == ib["device_id"]:
        ev.add("device_id")
    if norm_payout(ia["payout_account"]) == norm_payout(ib["payout_account"]):
        ev.add("payout_account")
    if norm_phone(ia["phone"]) == norm_phone(ib["phone"]):
        ev.add("phone")
    if norm_email(ia["email"]) == norm_email(ib["email"]):
        ev.add("email")
    if ia["ip"] == ib["ip"]:
        ev.add("ip")
    if a["bio"] == b["bio"]:
        ev.add("bio")
    da, db = address_digits(a["address"]), address_digits(b["address"])
    if da and db and (da <= db or db <= da) and address_words(a["address"]) & address_words(b["address"]):
        ev.add("address")
    if a["avatar"] != b["avatar"] and avatar_distance(root, a["avatar"], b["avatar"]) < 6:
        ev.add("avatar")
    if difflib.SequenceMatcher(None, letters(a["handle"]), letters(b["handle"])).ratio() >= 0.6:
        ev.add("name")
    return ev


# ------------------------------------------------------------------------------------------
# tests
# ------------------------------------------------------------------------------------------

def test_result_object(market, data):
    for p in (market.items_file, market.accounts_file, market.planted_file):
        assert p.is_file() and p.parent == market.root
    assert market.images_dir.is_dir()
    assert market.n_items == len(data["item_list"]) and market.n_accounts == len(data["account_list"])
    assert market.n_accounts == SMALL["n_sellers"]
    assert market.counts == data["planted"]["counts"]
    assert market.counts["products"] == SMALL["n_products"]
    assert "listings" in str(market)


def test_deterministic(market, tmp_path):
    """Same seed, another folder and another worker count: every file byte-identical."""
    other = generate_marketplace(tmp_path / "again", workers=2, **SMALL)

    def digest(root: Path) -> dict[str, str]:
        return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(root.rglob("*")) if p.is_file()}

    assert digest(market.root) == digest(other.root)


def test_item_contract(data):
    items = data["item_list"]
    assert [i["item_id"] for i in items] == sorted(i["item_id"] for i in items)   # sorted, unique
    assert len({i["item_id"] for i in items}) == len(items)
    for it in items:
        assert isinstance(it["item_id"], str) and it["item_id"]
        assert isinstance(it["title"], str) and len(it["title"]) > 10
        assert isinstance(it["description"], str) and it["description"]
        assert isinstance(it["images"], list) and it["images"]
        assert all(isinstance(p, str) and not p.startswith("/") and ".." not in p and p.startswith("images/")
                   for p in it["images"])
        assert it["seller_id"] in data["accounts"]
        assert isinstance(it["brand"], str) and it["brand"].lower() in it["title"].lower()
        assert isinstance(it["price"], (int, float)) and not isinstance(it["price"], bool) and it["price"] > 0
        assert it["currency"] in ("EUR", "USD")
        assert isinstance(it["category"], str) and it["category"]
        assert isinstance(it["reference"], bool)
        assert isinstance(it["attributes"], dict) and "colour" in it["attributes"]
        datetime.fromisoformat(it["listed_at"].replace("Z", "+00:00"))


def test_items_pass_the_ingest_schema(data):
    from simgov.schema import Item

    for it in data["item_list"]:
        Item.model_validate(it)


def test_account_contract(data):
    accounts = data["account_list"]
    assert len({a["account_id"] for a in accounts}) == len(accounts)
    assert len({a["handle"] for a in accounts}) == len(accounts)
    for a in accounts:
        assert a["kind"] in ("merchant", "creator")
        for key in ("display_name", "handle", "bio", "avatar", "address"):
            assert isinstance(a[key], str) and a[key], key
        assert set(a["identifiers"]) == {"email", "phone", "device_id", "payout_account", "ip"}
        assert all(isinstance(v, str) and v for v in a["identifiers"].values())
        assert "@" in a["identifiers"]["email"]
        assert isinstance(a["authorized_brands"], list) and all(isinstance(b, str) for b in a["authorized_brands"])
        datetime.fromisoformat(a["registered_at"].replace("Z", "+00:00"))


def test_every_image_exists_opens_and_is_used(market, data):
    root = market.root
    paths = {p for it in data["item_list"] for p in it["images"]} | {a["avatar"] for a in data["account_list"]}
    for rel in sorted(paths):
        with Image.open(root / rel) as im:
            assert im.format == "JPEG"
            im.load()
            w, h = im.size
            assert 100 <= w <= 320 and 100 <= h <= 320, (rel, im.size)
    on_disk = {str(p.relative_to(root)) for p in market.images_dir.rglob("*.jpg")}
    assert on_disk == paths                      # no orphans either
    assert market.n_images == len(on_disk)


def test_planted_ids_exist(data):
    P, items, accounts = data["planted"], data["items"], data["accounts"]
    assert set(P["item_product"]) == set(items)
    assert set(P["item_product"].values()) <= set(P["products"])
    ids = []
    for g in P["same_seller_duplicates"]:
        ids += g["item_ids"] + [g["original_item_id"]] + [d["item_id"] for d in g["duplicates"]]
        assert g["seller_id"] in accounts
    for g in P["cross_seller_copies"]:
        ids += g["item_ids"] + [c["item_id"] for c in g["copies"]]
        assert g["original_seller_id"] in accounts and all(c["seller_id"] in accounts for c in g["copies"])
    for c in P["counterfeits"] + P["authorized_resellers"]:
        ids += [c["item_id"], c["reference_item_id"]]
        assert c["seller_id"] in accounts
    for r in P["rings"]:
        assert all(a in accounts for a in r["account_ids"])
        ids += [i for g in r["shared_listings"] for i in g]
    for g in P["honest_same_product"]:
        ids += g["item_ids"] + g["stock_photo_item_ids"]
    for d in P["decoys"]:
        assert len(d["ids"]) == 2 and d["kind"] in ("items", "accounts")
        assert all(i in (items if d["kind"] == "items" else accounts) for i in d["ids"])
    assert ids and all(i in items for i in ids)
    for key in ("same_seller_duplicates", "cross_seller_copies", "counterfeits", "authorized_resellers", "rings",
                "decoys", "honest_same_product"):
        assert P[key], f"nothing planted under {key}"


def test_same_seller_duplicates(data):
    items, ip = data["items"], data["planted"]["item_product"]
    for g in data["planted"]["same_seller_duplicates"]:
        group = [items[i] for i in g["item_ids"]]
        assert g["item_ids"][0] == g["original_item_id"] and len(group) >= 2
        assert {it["seller_id"] for it in group} == {g["seller_id"]}
        assert len({ip[i] for i in g["item_ids"]}) == 1
        orig = items[g["original_item_id"]]
        for d in g["duplicates"]:
            dup = items[d["item_id"]]
            assert dup["title"] != orig["title"]
            if d["photo"] == "same_file":
                assert dup["images"] == orig["images"]
            else:
                assert d["photo"] in ("reencoded", "resized") and not set(dup["images"]) & set(orig["images"])


def test_cross_seller_copies(data):
    items, ip = data["items"], data["planted"]["item_product"]
    for g in data["planted"]["cross_seller_copies"]:
        orig = items[g["original_item_id"]]
        assert orig["seller_id"] == g["original_seller_id"]
        sellers = [items[c["item_id"]]["seller_id"] for c in g["copies"]]
        assert g["original_seller_id"] not in sellers and len(set(sellers)) == len(sellers)
        assert len({ip[i] for i in g["item_ids"]}) == 1
        for c in g["copies"]:
            assert c["edits"] and all(e["op"] in EDIT_OPS for e in c["edits"])
            for e in c["edits"]:
                if e["op"] == "crop":
                    assert 0.05 <= e["fraction"] <= 0.10
                if e["op"] == "jpeg":
                    assert e["quality"] <= 35
            assert not set(items[c["item_id"]]["images"]) & set(orig["images"])


def test_counterfeits_and_authorised_resellers(data):
    items, accounts, P = data["items"], data["accounts"], data["planted"]
    for c in P["counterfeits"]:
        fake, ref = items[c["item_id"]], items[c["reference_item_id"]]
        assert ref["reference"] is True and fake["reference"] is False
        assert c["brand"] in accounts[ref["seller_id"]]["authorized_brands"]
        assert c["brand"] not in accounts[fake["seller_id"]]["authorized_brands"]
        assert fake["brand"] == ref["brand"] == c["brand"] and fake["currency"] == ref["currency"]
        assert 0.20 <= c["price_ratio"] <= 0.45
        assert abs(fake["price"] / ref["price"] - c["price_ratio"]) < 1e-3
        assert c["edits"] and all(e["op"] in EDIT_OPS for e in c["edits"])
    for c in P["authorized_resellers"]:
        item, ref = items[c["item_id"]], items[c["reference_item_id"]]
        assert ref["reference"] is True and item["reference"] is False
        assert c["brand"] in accounts[item["seller_id"]]["authorized_brands"]
        assert 0.85 <= c["price_ratio"] <= 1.1 and c["photo"] in ("brand_photo", "own_photo")
    refs = [i for i in data["item_list"] if i["reference"]]
    assert refs and all(i["brand"] in accounts[i["seller_id"]]["authorized_brands"] for i in refs)


def test_ring_members_are_linked_by_evidence(market, data):
    accounts, items = data["accounts"], data["items"]
    for ring in data["planted"]["rings"]:
        members = ring["account_ids"]
        assert 3 <= len(members) <= 5
        # every member shares a strong identifier (normalised) with another member
        for m in members:
            assert any(linked(market.root, accounts[m], accounts[o]) & set(STRONG) for o in members if o != m), m
        # each evidence the ground truth claims can be seen in the files
        for link in ring["links"]:
            a, b = (accounts[x] for x in link["account_ids"])
            seen = linked(market.root, a, b)
            for ev in link["evidence"]:
                if ev == "listing_overlap":
                    assert any(set(link["account_ids"]) <= {items[i]["seller_id"] for i in g}
                               for g in ring["shared_listings"])
                else:
                    assert ev in seen, (link, ev, a, b)
        for g in ring["shared_listings"]:
            assert {items[i]["seller_id"] for i in g} <= set(members)
            assert len({data["planted"]["item_product"][i] for i in g}) == 1


def test_no_accidental_links_outside_rings(data):
    """Strong identifiers are never shared by accounts of different rings or none (decoys included)."""
    ring_of = {a: r["ring_id"] for r in data["planted"]["rings"] for a in r["account_ids"]}
    seen: dict[tuple[str, str], str] = {}
    for a in data["account_list"]:
        ids = a["identifiers"]
        keys = [("device_id", ids["device_id"]), ("payout_account", norm_payout(ids["payout_account"])),
                ("phone", norm_phone(ids["phone"])), ("email", norm_email(ids["email"]))]
        for key in keys:
            if key in seen:
                other = seen[key]
                assert ring_of.get(other) is not None and ring_of.get(other) == ring_of.get(a["account_id"]), key
            seen[key] = a["account_id"]


def test_decoys(data):
    items, accounts, ip = data["items"], data["accounts"], data["planted"]["item_product"]
    types = {d["type"] for d in data["planted"]["decoys"]}
    assert {"same_type_colour_different_brand", "same_brand_different_model", "common_name_same_city",
            "shared_ip_only"} <= types
    for d in data["planted"]["decoys"]:
        a, b = d["ids"]
        if d["kind"] == "items":
            assert ip[a] != ip[b]
            x, y = items[a], items[b]
            assert x["category"] == y["category"] and x["attributes"]["colour"] == y["attributes"]["colour"]
            if d["type"] == "same_type_colour_different_brand":
                assert x["brand"] != y["brand"]
            else:
                assert x["brand"] == y["brand"] and x["seller_id"] == y["seller_id"]
        else:
            x, y = accounts[a], accounts[b]
            ix, iy = x["identifiers"], y["identifiers"]
            assert ix["device_id"] != iy["device_id"] and norm_phone(ix["phone"]) != norm_phone(iy["phone"])
            assert norm_email(ix["email"]) != norm_email(iy["email"])
            if d["type"] == "shared_ip_only":
                assert ix["ip"] == iy["ip"]
            if d["type"] == "common_name_same_city":
                assert x["display_name"].split()[0] == y["display_name"].split()[0]


def test_honest_same_product(data):
    items, ip = data["items"], data["planted"]["item_product"]
    for g in data["planted"]["honest_same_product"]:
        assert len(g["item_ids"]) >= 2
        assert {ip[i] for i in g["item_ids"]} == {g["product_id"]}
        sellers = [items[i]["seller_id"] for i in g["item_ids"]]
        assert len(set(sellers)) == len(sellers)
        assert set(g["stock_photo_item_ids"]) <= set(g["item_ids"])


def test_default_size_listing_count():
    """The default marketplace plan (no pictures drawn) has 2,500 to 4,000 listings."""
    from simgov.demo.builder import _Builder

    b = _Builder(7, 300, 900)
    b.build()
    assert 2500 <= len(b.listings) <= 4000
    assert len(b.accounts) == 300 and len(b.products) == 900


def test_rejects_tiny_marketplaces(tmp_path):
    with pytest.raises(ValueError):
        generate_marketplace(tmp_path / "x", n_sellers=5, n_products=60)
    with pytest.raises(ValueError):
        generate_marketplace(tmp_path / "x", n_sellers=30, n_products=10)


def test_refuses_foreign_images_folder(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "mine.jpg").write_bytes(b"not ours")
    with pytest.raises(FileExistsError):
        generate_marketplace(tmp_path, **SMALL)
    assert (tmp_path / "images" / "mine.jpg").read_bytes() == b"not ours"
