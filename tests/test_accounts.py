"""Accounts end to end with the real CLI: ingest (no raw identifier anywhere), `linked`, `rings`.

A small hand-made marketplace: a planted ring r1..r4 where each link shows another kind of
evidence (a shared identifier written differently, the same avatar re-encoded, near-duplicate
listings, a look-alike profile with a shared ip), and decoys that must stay unlinked (namesakes in
one city, an ip shared with the ring only, a default avatar used by six strangers).
"""
from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from PIL import Image

from conftest import PRODUCTS, draw_picture, run_simgov

RING = {"r1", "r2", "r3", "r4"}

R1_IDS = {"email": "gold.deals@gmail.com", "phone": "+44 20 7946 0018", "device_id": "9f1c-aaaa-77",
          "payout_account": "GB33BUKB20201555555555", "ip": "81.2.69.160"}

ACCOUNTS = [
    {"account_id": "r1", "kind": "merchant", "display_name": "Golden Deals", "handle": "golden_deals",
     "bio": "Best deals on shoes bottles and phones, fast shipping from London", "avatar": "images/av_ring.jpg",
     "address": "12 Baker Street, London NW1 6XE", "identifiers": R1_IDS, "registered_at": "2024-01-02T10:00:00Z"},
    # same mailbox (gmail ignores dots and +tags), same avatar re-encoded; nothing else alike
    {"account_id": "r2", "display_name": "Silver Outlet", "handle": "silver.outlet",
     "avatar": "images/av_ring_copy.jpg",
     "address": "4 Elm Road, Leeds LS1 4AP",
     "identifiers": {"email": "GoldDeals+shop@googlemail.com", "phone": "+44 113 496 0999", "device_id": "dev-r2-01",
                     "payout_account": "GB94BARC10201530093459", "ip": "86.1.2.3"}},
    # same device and payout account (written another way), and near-duplicate listings of r1's
    {"account_id": "r3", "display_name": "Bronze Bazaar", "handle": "bronze_bazaar",
     "address": "77 Kings Road, Bristol",
     "identifiers": {"email": "bronze@example.org", "phone": "+44 117 496 0123", "device_id": "9F1C-AAAA-77",
                     "payout_account": "gb33 bukb 2020 1555 5555 55", "ip": "90.1.1.1"}},
    # a look-alike profile at the same address, behind the same ip; every hard identifier differs
    {"account_id": "r4", "display_name": "Golden Deals Shop", "handle": "goldendeals_shop",
     "address": "12 Baker St, London NW1 6XE",
     "identifiers": {"email": "g.d.shop@yahoo.com", "phone": "+44 20 7946 0555", "device_id": "dev-r4-02",
                     "payout_account": "GB12NWBK60161331926819", "ip": "81.2.69.160"}},
    # namesakes in one city
    {"account_id": "n1", "display_name": "John Smith", "handle": "johnsmith",
     "address": "5 Oak Avenue, Manchester M1 1AA",
     "identifiers": {"email": "john.smith@mail.com", "phone": "+44 161 496 0001", "device_id": "dev-n1",
                     "payout_account": "GB45LOYD30963712345678", "ip": "5.5.5.5"}},
    {"account_id": "n2", "display_name": "John Smith", "handle": "john_smith",
     "address": "19 Oak Avenue, Manchester M1 2AB",
     "identifiers": {"email": "jsmith77@outlook.com", "phone": "+44 161 496 0777", "device_id": "dev-n2",
                     "payout_account": "GB19HLFX11001000123456", "ip": "6.6.6.6"}},
    # shares only the ring's ip (a café or carrier NAT)
    {"account_id": "ip1", "display_name": "Carla Mendes", "handle": "carla.m", "address": "3 Quay Street, Cardiff",
     "identifiers": {"email": "carla@example.net", "phone": "+44 29 2018 0000", "device_id": "dev-ip1",
                     "payout_account": "GB07MIDL40051512345678", "ip": "81.2.69.160"}},
    # an honest shop selling other products
    {"account_id": "s1", "display_name": "Honest Goods", "handle": "honestgoods", "address": "1 High Street, York",
     "identifiers": {"email": "shop@honest.example", "phone": "+44 1904 000111", "device_id": "dev-s1",
                     "payout_account": "GB60NWBK60161331926820", "ip": "7.7.7.7"}},
] + [
    # six strangers with the platform's default picture
    {"account_id": f"u{n}", "display_name": name, "handle": name.lower().replace(" ", "_"),
     "avatar": "images/default.jpg",
     "address": f"{n + 20} {street}, Glasgow",
     "identifiers": {"email": f"user{n}@example.com", "phone": f"+44 141 496 00{n}{n}", "device_id": f"dev-u{n}",
                     "payout_account": f"GB00TEST0000000000000{n}", "ip": f"10.9.{n}.1"}}
    for n, (name, street) in enumerate([("Amy Lee", "Pine Road"), ("Bo Chen", "Lake View"), ("Cat Ruiz", "Mill Lane"),
                                        ("Dev Patel", "Hill Street"), ("Eva Novak", "Park Drive"),
                                        ("Finn Walsh", "Bridge Road")])
]

RAW_VALUES = sorted({v for a in ACCOUNTS for v in a.get("identifiers", {}).values()})


def raw_forms(value: str) -> set[str]:
    """The raw value as written, lowercased, and with separators removed (what a leak would look like)."""
    forms = {value, value.lower(), "".join(c for c in value.lower() if c.isalnum())}
    digits = "".join(c for c in value if c.isdigit())
    if len(digits) >= 9 and "@" not in value:
        forms.add(digits)
    return {f for f in forms if len(f) >= 6}


def write_marketplace(folder: Path) -> tuple[Path, Path]:
    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    avatar = draw_picture(100, 200)
    avatar.save(images / "av_ring.jpg", quality=92)
    Image.open(images / "av_ring.jpg").resize((150, 150)).save(images / "av_ring_copy.jpg", quality=60)
    draw_picture(300, 200).save(images / "default.jpg", quality=90)
    for n in range(5):
        draw_picture(200 + n).save(images / f"p{n}.jpg", quality=92)
    items = []
    for n in range(3):  # r1's listings, and r3's near-duplicates of each (same photo, reworded title)
        title = PRODUCTS[n][0]
        items.append({"item_id": f"r1-{n}", "title": title, "seller_id": "r1",
                      "images": [f"images/p{n}.jpg"], "price": 20.0 + n})
        words = title.split()
        items.append({"item_id": f"r3-{n}", "title": " ".join(words[1:] + words[:1]), "seller_id": "r3",
                      "images": [f"images/p{n}.jpg"], "price": 19.0 + n})
    for n in (3, 4):
        items.append({"item_id": f"s1-{n}", "title": PRODUCTS[n][0], "seller_id": "s1", "images": [f"images/p{n}.jpg"]})
    items_file = folder / "items.jsonl"
    items_file.write_text("".join(json.dumps(r) + "\n" for r in items), encoding="utf-8")
    accounts_file = folder / "accounts.jsonl"
    accounts_file.write_text("".join(json.dumps(a) + "\n" for a in ACCOUNTS), encoding="utf-8")
    return items_file, accounts_file


@pytest.fixture(scope="session")
def market(tmp_path_factory) -> tuple[Path, Path, Path]:
    """(items file, accounts file, index) built once with `simgov build --items --accounts`."""
    folder = tmp_path_factory.mktemp("market")
    items_file, accounts_file = write_marketplace(folder)
    index = folder / "idx"
    run_simgov("build", "--items", str(items_file), "--accounts", str(accounts_file), "--index", str(index), "--quiet")
    return items_file, accounts_file, index


@pytest.fixture
def market_copy(market, tmp_path) -> tuple[Path, Path, Path]:
    items_file, accounts_file, index = market
    copy = tmp_path / "idx"
    shutil.copytree(index, copy)
    return items_file, accounts_file, copy


def linked_json(index: Path, account_id: str, k: int = 20) -> dict[str, dict]:
    out = json.loads(run_simgov("linked", account_id, "--index", str(index), "--json", "-k", str(k)).stdout)
    return {r["account_id"]: r for r in out}


# ----------------------------------------------------------------------------------------- ingest


def test_no_raw_identifier_reaches_the_index_folder(market):
    _, _, index = market
    files = [p for p in index.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"store.sqlite", "build_report.json", "manifest.json", "account_profile.faiss",
            "account_avatar_pdq.faiss"} <= names
    leaks = []
    for path in files:
        data = path.read_bytes().lower()
        for value in RAW_VALUES:
            leaks += [(path.name, form) for form in raw_forms(value) if form.lower().encode() in data]
    assert leaks == []


def test_secret_key_file_and_stored_record(market, secrets_dir):
    _, _, index = market
    from simgov.index import SimIndex

    ix = SimIndex.open(index)
    try:
        # The key lives in the key store, one file per index named by the id in the store's meta;
        # nothing in the index folder holds it.
        key = secrets_dir / f"{ix.store.get_meta('identifier_secret_id')}.key"
        assert len(key.read_bytes()) == 32 and stat.S_IMODE(key.stat().st_mode) == 0o600
        assert stat.S_IMODE(secrets_dir.stat().st_mode) == 0o700
        assert not (index / "secret.key").exists()
        assert [p.name for p in index.rglob("*") if p.is_file() and key.read_bytes() in p.read_bytes()] == []
        stored = ix.accounts.account("r1")
        assert "identifiers" not in stored.record
        assert stored.record["identifier_names"] == sorted(R1_IDS)
        assert stored.record["display_name"] == "Golden Deals" and stored.record["avatar"] == "images/av_ring.jpg"
        assert set(stored.profile.identifier_hashes) == set(R1_IDS)
        assert all(len(h) == 64 for h in stored.profile.identifier_hashes.values())
        rows = ix.store.connection().execute(
            "SELECT COUNT(*) FROM account_identifiers WHERE account_id='r1'").fetchone()
        assert rows[0] == len(R1_IDS)
        manifest = json.loads((index / "manifest.json").read_text())
        assert manifest["counts"]["accounts"] == len(ACCOUNTS)
        assert set(manifest["accounts"]["signals"]) == {"profile", "identifiers", "avatar", "listing_overlap",
                                                        "videos"}
    finally:
        ix.close()


def test_bad_rows_are_reported_without_values_and_never_fatal(tmp_path):
    _, accounts_file = write_marketplace(tmp_path / "data")
    secret_email = "hidden.person@example.com"
    with accounts_file.open("a", encoding="utf-8") as fh:
        fh.write('{"account_id": "broken"\n')                                                   # not JSON
        fh.write(json.dumps({"display_name": "no id", "identifiers": {"email": secret_email}}) + "\n")
        fh.write(json.dumps({"account_id": "r1", "display_name": "duplicate"}) + "\n")           # duplicate id
        fh.write(json.dumps({"account_id": "bad-ids", "identifiers": {"email": [secret_email]}}) + "\n")
        fh.write(json.dumps({"account_id": "esc", "avatar": "../outside.jpg"}) + "\n")           # unsafe path
        fh.write(json.dumps({"account_id": "top", "email": secret_email.upper()}) + "\n")        # loose identifier
    (tmp_path / "outside.jpg").write_bytes((tmp_path / "data" / "images" / "p1.jpg").read_bytes())
    index = tmp_path / "idx"
    proc = run_simgov("build", "--accounts", str(accounts_file), "--index", str(index), "--quiet")
    n = len(ACCOUNTS)
    assert f"{n + 2} accounts read: {n + 2} encoded" in proc.stderr and "4 rows skipped" in proc.stderr
    report = json.loads((index / "build_report.json").read_text())
    assert report["accounts"]["skipped_rows"] == 4 and report["accounts_file"] == str(accounts_file)
    by_line = {p["line"]: p for p in report["skipped"]}
    assert "not JSON" in by_line[n + 1]["reason"]
    assert "account_id" in by_line[n + 2]["reason"]
    assert by_line[n + 3]["account_id"] == "r1" and "duplicate" in by_line[n + 3]["reason"]
    assert by_line[n + 4]["account_id"] == "bad-ids" and "identifier email" in by_line[n + 4]["reason"]
    assert "leaves the data folder" in by_line[n + 5]["reason"] and by_line[n + 5]["signal"] == "avatar"
    text = (index / "build_report.json").read_text().lower() + proc.stderr.lower()
    assert secret_email not in text
    # the account with a top-level email is ingested with the email hashed, never stored as text
    assert secret_email.encode() not in (index / "store.sqlite").read_bytes().lower()
    got = json.loads(run_simgov("linked", "esc", "--index", str(index), "--json").stdout)
    assert all(r["account_id"] != "esc" for r in got)


def test_rerun_does_no_work_and_a_changed_account_is_reencoded(market_copy, tmp_path):
    _, accounts_file, index = market_copy
    proc = run_simgov("build", "--accounts", str(accounts_file), "--index", str(index), "--quiet")
    assert f"0 encoded, {len(ACCOUNTS)} unchanged" in proc.stderr
    manifest = (index / "manifest.json").read_text()
    rows = [json.loads(x) for x in accounts_file.read_text().splitlines()]
    n1 = next(r for r in rows if r["account_id"] == "n1")
    n1["identifiers"]["payout_account"] = "GB19 HLFX 1100 1000 1234 56"  # now n2's payout account
    changed = accounts_file.with_name(f"changed-{tmp_path.name}.jsonl")  # beside the pictures
    changed.write_text("".join(json.dumps(r) + "\n" for r in rows))
    proc = run_simgov("build", "--accounts", str(changed), "--index", str(index), "--quiet")
    assert f"1 encoded, {len(ACCOUNTS) - 1} unchanged" in proc.stderr
    assert (index / "manifest.json").read_text() != manifest
    got = linked_json(index, "n1")
    assert got["n2"]["match"] is True
    assert "same payout_account" in [e["detail"] for e in got["n2"]["evidence"]]


def test_accounts_alone_on_an_existing_item_index(built_index, tmp_path):
    index = tmp_path / "idx"
    shutil.copytree(built_index, index)
    _, accounts_file = write_marketplace(tmp_path / "data")
    def neighbours() -> list:
        out = json.loads(run_simgov("similar", "item-00", "--index", str(index), "--json").stdout)
        return [(n["item_id"], n["score"], n["match"], n["relation"]) for n in out]

    before = neighbours()
    run_simgov("build", "--accounts", str(accounts_file), "--index", str(index), "--quiet")
    assert neighbours() == before
    assert "r2" in linked_json(index, "r1")
    proc = run_simgov("build", "--index", str(index), check=False)
    assert proc.returncode == 2


def test_csv_accounts(tmp_path):
    csv_file = tmp_path / "accounts.csv"
    csv_file.write_text(
        "account_id,display_name,identifiers\n"
        'a1,Ann Lime,"{""email"": ""ann.lime@example.com""}"\n'
        'a2,Bob Stone,"{""email"": ""Ann.Lime@Example.com ""}"\n', encoding="utf-8")
    index = tmp_path / "idx"
    run_simgov("build", "--accounts", str(csv_file), "--index", str(index), "--quiet")
    got = linked_json(index, "a1")
    assert got["a2"]["match"] is True
    assert b"ann.lime" not in (index / "store.sqlite").read_bytes().lower()


def test_another_secret_is_refused(market_copy):
    _, accounts_file, index = market_copy
    env = {**os.environ, "SIMGOV_IDENTIFIER_SECRET": "a-different-secret-of-enough-length"}
    proc = run_simgov("build", "--accounts", str(accounts_file), "--index", str(index), "--quiet", check=False, env=env)
    assert proc.returncode == 1 and "identifier secret differs" in proc.stderr


def test_an_index_copied_without_its_key_refuses_account_builds(market_copy, tmp_path):
    """A copy of the folder (a backup, a stolen disk) does not carry the key: on a machine whose key
    store lacks it, an account build is refused with what to do, and nothing is rehashed."""
    _, accounts_file, index = market_copy
    before = linked_json(index, "r1")
    elsewhere = {**os.environ, "SIMGOV_SECRETS_DIR": str(tmp_path / "other-machine")}
    proc = run_simgov("build", "--accounts", str(accounts_file), "--index", str(index), "--quiet", check=False,
                      env=elsewhere)
    assert proc.returncode == 1, proc.stderr
    assert "identifier secret of the index" in proc.stderr and "is not available" in proc.stderr
    assert "copy the key file from the machine that built the index" in proc.stderr
    assert not (tmp_path / "other-machine").exists() or not any((tmp_path / "other-machine").iterdir())
    where = run_simgov("secret", "where", "--index", str(index), check=False, env=elsewhere)
    assert where.returncode == 1 and "is not available" in where.stderr
    assert linked_json(index, "r1") == before  # the copy still answers with the key it was built with


def test_secret_move_out_of_an_index_built_before_the_key_store(tmp_path, secrets_dir):
    """An index whose key an earlier simgov made in INDEX/secret.key keeps working, and
    `simgov secret move-out` moves the key into the key store and out of the folder."""
    items_file, accounts_file = write_marketplace(tmp_path / "data")
    index = tmp_path / "idx"
    run_simgov("build", "--items", str(items_file), "--index", str(index), "--quiet")
    legacy_key = os.urandom(32)
    (index / "secret.key").write_bytes(legacy_key)  # as simgov made it before the key store
    os.chmod(index / "secret.key", 0o600)
    built = run_simgov("build", "--accounts", str(accounts_file), "--index", str(index))
    assert "simgov secret move-out --index" in built.stderr  # the operator is told
    linked = linked_json(index, "r1")
    assert RING - {"r1"} <= set(linked)
    assert "INSIDE the index folder" in run_simgov("secret", "where", "--index", str(index)).stdout

    moved = run_simgov("secret", "move-out", "--index", str(index))
    assert "no longer holds it" in moved.stderr
    assert not (index / "secret.key").exists()
    stored = [p for p in secrets_dir.iterdir() if p.read_bytes() == legacy_key]
    assert len(stored) == 1 and stat.S_IMODE(stored[0].stat().st_mode) == 0o600
    assert run_simgov("secret", "where", "--index", str(index)).stdout.strip() == f"the key store: {stored[0]}"
    # The same key from the key store: the account build is accepted (its check value) and the links stay.
    run_simgov("build", "--accounts", str(accounts_file), "--index", str(index), "--quiet")
    assert linked_json(index, "r1") == linked
    again = run_simgov("secret", "move-out", "--index", str(index), check=False)
    assert again.returncode == 1 and "nothing to move" in again.stderr


# ----------------------------------------------------------------------------------------- linked


def test_linked_finds_the_ring_with_evidence_of_every_kind(market):
    _, _, index = market
    got = linked_json(index, "r1")
    assert {a for a, r in got.items() if r["match"]} == RING - {"r1"}
    for r in got.values():
        assert set(r) == {"account_id", "score", "match", "evidence"} and 0 <= r["score"] <= 1
        assert all(set(e) == {"kind", "detail", "score"} and 0 <= e["score"] <= 1 for e in r["evidence"])
    kinds = lambda a: {e["kind"] for e in got[a]["evidence"]}  # noqa: E731
    details = lambda a: [e["detail"] for e in got[a]["evidence"]]  # noqa: E731
    assert "same email" in details("r2") and "avatar" in kinds("r2")
    assert {"same device_id", "same payout_account"} <= set(details("r3"))
    overlap = [e for e in got["r3"]["evidence"] if e["kind"] == "listing_overlap"]
    assert overlap and overlap[0]["detail"] in ("3 of 3 listings of r3 match listings of r1",
                                                "3 of 3 listings of r1 match listings of r3")
    assert {"profile", "address"} <= kinds("r4") and "same ip" in details("r4")
    assert [r["score"] for r in got.values()] == sorted((r["score"] for r in got.values()), reverse=True)
    assert not any(got[a]["match"] for a in got if a not in RING)
    text = json.dumps(got).lower()
    assert not any(form.lower() in text for v in RAW_VALUES for form in raw_forms(v))


def test_decoys_are_not_linked(market):
    _, _, index = market
    assert not linked_json(index, "n1").get("n2", {}).get("match", False)
    assert not any(r["match"] for r in linked_json(index, "ip1").values())
    got = linked_json(index, "u1")
    assert not any(r["match"] for r in got.values())
    shared = [e for r in got.values() for e in r["evidence"] if e["kind"] == "avatar"]
    assert shared and all("not counted" in e["detail"] for e in shared)


def test_linked_table_and_unknown_account(market):
    _, _, index = market
    table = run_simgov("linked", "r1", "--index", str(index), "-k", "3").stdout
    lines = table.splitlines()
    assert lines[0].startswith("r1  'Golden Deals'") and "email" in lines[0]
    assert lines[1].split() == ["account", "score", "match", "evidence"]
    assert len(lines) == 3 + 3 and "same email" in table
    proc = run_simgov("linked", "nope", "--index", str(index), check=False)
    assert proc.returncode == 1 and proc.stderr.strip() == "unknown account: nope"


def test_library_function_for_the_api(market):
    from simgov.index import SimIndex
    from simgov.records import LinkedAccount

    ix = SimIndex.open(market[2])
    try:
        found = ix.accounts.linked("r2", k=5)
        assert found and all(isinstance(r, LinkedAccount) for r in found)
        assert found[0].account_id == "r1" and found[0].match
        from simgov.errors import UnknownId

        with pytest.raises(UnknownId):
            ix.accounts.linked("nope")
    finally:
        ix.close()


# ----------------------------------------------------------------------------------------- rings


def test_rings_groups_pairs_and_eval(market, tmp_path):
    _, _, index = market
    out, pairs_out, gold = tmp_path / "rings.jsonl", tmp_path / "pairs.jsonl", tmp_path / "gold.csv"
    run_simgov("rings", "--index", str(index), "--out", str(out), "--pairs-out", str(pairs_out), "--quiet")
    groups = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(groups) == 1
    ring = groups[0]
    assert set(ring) == {"group_id", "members", "score", "evidence"}
    assert set(ring["members"]) == RING and ring["score"] >= 0.5
    assert any("same email" in e for e in ring["evidence"]) and any("listings of" in e for e in ring["evidence"])
    pairs = [json.loads(x) for x in pairs_out.read_text().splitlines()]
    assert all(set(p) == {"account_a", "account_b", "score", "match"}
               and p["account_a"] < p["account_b"] for p in pairs)
    assert {(p["account_a"], p["account_b"]) for p in pairs if p["match"]} == {
        (a, b) for a in RING for b in RING if a < b}
    gold.write_text("account_a,account_b\n" + "".join(
        f"{a},{b}\n" for a in sorted(RING) for b in sorted(RING) if a < b))
    report = json.loads(run_simgov("eval", "--pairs", str(pairs_out), "--gold", str(gold), "--json").stdout)
    assert report["match_decisions"]["f1"] == 1.0
    csv_out = tmp_path / "rings.csv"
    run_simgov("rings", "--index", str(index), "--out", str(csv_out), "--quiet")
    assert csv_out.read_text().splitlines()[0] == "group_id,members,score,evidence"


def test_rings_on_an_index_without_accounts(built_index, tmp_path):
    out = tmp_path / "rings.jsonl"
    run_simgov("rings", "--index", str(built_index), "--out", str(out), "--quiet")
    assert out.read_text() == ""
