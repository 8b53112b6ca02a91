"""Issue 19: what a hostile seller, a hostile ingest client and a curious insider could do, each
refused with a 4xx JSON error or made harmless; the unit-level half (readers, ids, pictures).
The HTTP half is in test_hardening_api.py."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from simgov.build import ray_engine
from simgov.errors import ImageTooLarge
from simgov.imageio import MAX_UNREDUCED_PIXELS, decode_image
from simgov.schema import (ID_PATTERN, MAX_JSON_DEPTH, MAX_JSON_VALUES, Account, Item, Row, RowProblem, item_from_row,
                           parse_accounts, parse_items)


def _nested(depth: int) -> dict:
    value: object = 1
    for _ in range(depth):
        value = {"a": value}
    return value  # type: ignore[return-value]


def _row(item_id: str, **fields) -> dict:
    return {"item_id": item_id, "seller_id": "seller-x", "title": f"listing {item_id}", **fields}


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH, 200, 255, 400, 950])
def test_rows_nested_past_the_bound_are_refused_as_they_are_read(depth):
    # attributes at depth d put the innermost object at d + 1 (the row is level 1)
    row = Row(1, _row("deep", attributes=_nested(depth - 1)))
    result = item_from_row("items.jsonl", row)
    if depth <= MAX_JSON_DEPTH:
        assert isinstance(result, Item)
        Item.model_validate_json(result.stored_record())  # stored, it reads back
    else:
        assert isinstance(result, RowProblem) and "nested too deeply" in result.reason and result.item_id == "deep"


def test_wide_rows_are_refused():
    wide = item_from_row("f", Row(3, _row("wide", attributes={f"k{n}": n for n in range(MAX_JSON_VALUES)})))
    assert isinstance(wide, RowProblem) and f"more than {MAX_JSON_VALUES} JSON values" in wide.reason
    many = item_from_row("f", Row(4, _row("many", attributes={"list": list(range(MAX_JSON_VALUES))})))
    assert isinstance(many, RowProblem) and many.line == 4


def test_accounts_nested_past_the_bound_are_refused(tmp_path):
    path = tmp_path / "accounts.jsonl"
    path.write_text(json.dumps({"account_id": "deep", "extra": _nested(300)}) + "\n"
                    + json.dumps({"account_id": "fine", "extra": _nested(5)}) + "\n")
    results = list(parse_accounts(path))
    assert isinstance(results[0], RowProblem) and results[0].account_id == "deep"
    assert "nested too deeply" in results[0].reason
    assert results[1][1].account_id == "fine"


@pytest.mark.parametrize("bad_id, reason", [
    ("a/b", "'/'"), ("/", "'/'"), (".", "path step"), ("..", "path step"), (" .. ", "path step"),
    ("seller-\u202enimda", "U+202E"), ("x\u2066y", "U+2066"), ("zero\u200bwidth", "U+200B"),
    ("line\u2028sep", "U+2028"), ("del\x7f", "U+007F"), ("tab\tid", "control characters"),
])
def test_ids_no_route_can_name_or_that_read_as_another_id_are_refused(bad_id, reason):
    import re

    for model, field in ((Item, "item_id"), (Item, "seller_id"), (Account, "account_id")):
        data = _row("ok") if model is Item else {"account_id": "ok"}
        data[field] = bad_id
        with pytest.raises(ValueError, match=re.escape(reason)):
            model.model_validate(data)
    assert not re.match(ID_PATTERN, bad_id)  # the JSON schema says so too


@pytest.mark.parametrize("good_id", ["...", "a.b", "item-0001", "caf\u00e9", "\u05e9\u05dc\u05d5\u05dd", "a b", "x\\y"])
def test_ordinary_ids_still_pass(good_id):
    import re

    assert Item.model_validate(_row(good_id)).item_id == good_id
    assert re.match(ID_PATTERN, good_id)


def _messy_file(path: Path) -> Path:
    lines = [json.dumps(_row("good-1")).encode(),
             b'{"item_id": "surrogate", "seller_id": "s", "title": "\\ud800"}',
             json.dumps(_row("deep", attributes=_nested(100))).encode(),
             b'{"item_id": "deeper", "seller_id": "s", "title": "t", "attributes": ' + b'{"a": ' * 3000 + b"1"
             + b"}" * 3000 + b"}",
             b"",
             json.dumps(_row("slash/id")).encode(),
             b"not json",
             json.dumps(_row("good-1", title="again")).encode(),
             json.dumps(_row("good-2")).encode()]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_both_build_engines_read_rows_alike(tmp_path):
    """The Ray engine's chunks go through the local engine's reader and rules: the same items and
    problems (the lone-surrogate and depth checks included), however the file is cut."""
    path = _messy_file(tmp_path / "items.jsonl")
    local = list(parse_items(path))
    assert [(p.line, p.reason) for p in local if isinstance(p, RowProblem)] == [
        (2, "text that is not valid Unicode (a lone surrogate escape)"),
        (3, f"JSON nested too deeply (more than {MAX_JSON_DEPTH} levels)"), (4, "JSON nested too deeply"),
        (6, "item_id: Value error, contains '/', which no URL path can carry"),
        (7, "not JSON: Expecting value at column 1"), (8, "duplicate item_id (first occurrence kept)")]
    assert [(line, item.item_id) for line, item in (r for r in local if not isinstance(r, RowProblem))] == [
        (1, "good-1"), (9, "good-2")]
    for chunk_bytes in (1, 60, 100_000):
        items, problems, offset = [], [], 0
        for chunk in ray_engine.plan_chunks(path, chunk_bytes, 0):
            got, found, lines = ray_engine.parse_chunk(path, str(path), chunk)
            items += [(offset + line, item.item_id) for line, item in got]
            problems += [(offset + p.line, p.reason) for p in found]
            offset += lines
        # a duplicate in another chunk is the driver's to drop (_fill_shard), with the same message
        if (8, "good-1") in items:
            items.remove((8, "good-1"))
            problems.append((8, "duplicate item_id (first occurrence kept)"))
        assert items == [(1, "good-1"), (9, "good-2")], chunk_bytes
        assert sorted(problems) == [(p.line, p.reason) for p in local if isinstance(p, RowProblem)], chunk_bytes


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, format="PNG")
    return out.getvalue()


def _jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="JPEG", quality=50)
    return out.getvalue()


def test_pictures_that_cannot_decode_reduced_are_refused_past_the_unreduced_budget():
    side = int(MAX_UNREDUCED_PIXELS ** 0.5)
    assert decode_image(_png(side, side), max_pixels=40_000_000).size == (side, side)
    with pytest.raises(ImageTooLarge, match="cannot be decoded reduced"):
        decode_image(_png(side + 1, side + 1), max_pixels=40_000_000)  # under max_pixels, over the budget
    # a JPEG of the same size decodes reduced, at no more than twice the size asked for
    picture = decode_image(_jpeg(side + 1, side + 1), max_pixels=40_000_000, draft_size=512)
    assert 512 <= max(picture.size) < 1024


def test_every_identifier_like_account_field_is_hashed_never_kept():
    secrets = {"contact_email": "a@x.org", "paypal": "pay@x.org", "mobile": "+44 7700 900001",
               "contact": {"email": "b@x.org", "phone": "+44 7700 900002", "city": "Leeds"},
               "bank": "GB33BUKB20201555555555", "payout": "NL91ABNA0417164300", "e-mail": "c@x.org",
               "taxNumber": "123-45-678", "notes": "call me on +44 7700 900003"}
    account = Account.model_validate({"account_id": "acc-1", "display_name": "Shop", "country": "NL", **secrets})
    assert account.identifiers == {
        "email": "a@x.org", "paypal": "pay@x.org", "phone": "+44 7700 900001", "email_2": "b@x.org",
        "phone_2": "+44 7700 900002", "bank": "GB33BUKB20201555555555", "payout": "NL91ABNA0417164300",
        "email_3": "c@x.org", "tax_number": "123-45-678"}
    record = json.dumps(account.safe_record())
    for value in ("a@x.org", "pay@x.org", "900001", "b@x.org", "900002", "GB33", "NL91", "c@x.org", "45-678", "900003",
                  "Leeds"):
        assert value not in record, value
    assert account.safe_record()["withheld_fields"] == ["contact.city", "notes"]
    assert account.safe_record()["country"] == "NL" and account.safe_record()["display_name"] == "Shop"


def test_names_differing_in_case_or_spelling_never_replace_each_other():
    account = Account.model_validate({"account_id": "acc-2", "identifiers": {"email": "verified@x.org",
                                                                             "EMAIL": "decoy@x.org"},
                                      "Email": "decoy2@x.org", "e_mail": "verified@x.org"})
    assert account.identifiers == {"email": "verified@x.org", "email_2": "decoy@x.org", "email_3": "decoy2@x.org"}
    with pytest.raises(ValueError, match="identifier email: value must be a string"):
        Account.model_validate({"account_id": "a", "identifiers": {"email": {"x": 1}}})


def test_the_store_is_readable_by_its_owner_only(tmp_path):
    import os

    from simgov.storage.items import Store

    (tmp_path / "old").mkdir()
    old = tmp_path / "old" / Store.FILE
    old.touch(mode=0o644)
    old.chmod(0o644)  # as earlier versions left it
    for folder in (tmp_path / "new", tmp_path / "old"):
        folder.mkdir(exist_ok=True)
        store = Store(folder)
        with store.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('probe', '1')")
        for name in (Store.FILE, Store.FILE + "-wal"):  # the WAL exists while the store is open
            mode = os.stat(folder / name).st_mode & 0o777
            assert mode == 0o600, (folder / name, oct(mode))
        store.close()
