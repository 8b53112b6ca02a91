"""The items reader: every bad row becomes a reported problem, good rows all come through."""
import json

from simgov.schema import MAX_LINE_BYTES, Item, RowProblem, canonical_json, parse_items


def _parse(tmp_path, lines: list[bytes]):
    path = tmp_path / "items.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    out = list(parse_items(path))
    return [e for e in out if not isinstance(e, RowProblem)], [e for e in out if isinstance(e, RowProblem)]


def row(**kw) -> bytes:
    base = {"item_id": "a", "title": "t", "seller_id": "s"}
    base.update(kw)
    return json.dumps(base).encode()


def test_bad_rows_are_reported_with_line_and_reason(tmp_path):
    good, bad = _parse(tmp_path, [
        row(item_id="ok1"),
        b"not json",
        b"[1, 2]",
        json.dumps({"item_id": "x", "seller_id": "s"}).encode(),  # no title
        row(item_id="ok1"),  # duplicate id
        row(item_id="p", price="cheap"),
        b"\xff\xfe broken utf8",
        b"[" * 100_000 + b"]" * 100_000,
        row(item_id="big", title="x" * 10_000),
        row(item_id="ok2", title="with \x00 nul"),
    ])
    assert [i.item_id for _, i in good] == ["ok1", "ok2"]
    assert good[1][1].title == "with  nul"
    reasons = {p.line: p.reason for p in bad}
    assert set(reasons) == {2, 3, 4, 5, 6, 7, 8, 9}
    assert reasons[2].startswith("not JSON")
    assert "title" in reasons[4]
    assert "duplicate" in reasons[5]
    assert "price" in reasons[6]
    assert "UTF-8" in reasons[7]
    assert "title longer" in reasons[9]


def test_oversized_line_is_skipped_and_reading_goes_on(tmp_path):
    huge = row(item_id="huge", description="y" * (MAX_LINE_BYTES + 10))
    good, bad = _parse(tmp_path, [huge, row(item_id="after")])
    assert [i.item_id for _, i in good] == ["after"]
    assert good[0][0] == 2
    assert bad[0].line == 1 and "longer than" in bad[0].reason


def test_csv_items(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text('item_id,title,seller_id,images,reference,price\n'
                    'a,"Shoe, blue",s1,"[""x.jpg""]",true,9.5\n'
                    'b,Hat,s2,,,\n', encoding="utf-8")
    items = [e[1] for e in parse_items(path)]
    assert items[0].images == ["x.jpg"] and items[0].reference is True and items[0].price == 9.5
    assert items[1].images == [] and items[1].reference is False


def test_hash_and_record_from_one_dump_match_the_separate_ones():
    """The bulk build's workers make both from one model_dump; the stored bytes and hashes of
    earlier builds must not change (a resumed build would re-encode everything)."""
    for data in ({"item_id": "a", "title": "t", "seller_id": "s"},
                 {"item_id": "b", "title": "Kettle 1.7 l", "seller_id": "s", "price": 12.5, "brand": None,
                  "attributes": {"x": None, "y": {"z": None}}, "extra": None, "more": [None, {"q": None}],
                  "images": ["a.jpg"], "description": "ünïcode"}):
        item = Item.model_validate(data)
        assert item.hash_and_record("sig") == (item.content_hash("sig"),
                                               canonical_json(item.model_dump(mode="json", exclude_none=True)))
