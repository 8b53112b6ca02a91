"""Issue 15: one catalogue photo file shown by several unrelated shops is the brand's (`same_product`),
while a seller's own photo taken by others stays a copy, and a shared picture on listings that state
different product codes is picture reuse. Built with the real CLI (FAISS, SQLite)."""
import json

import pytest
from PIL import Image

from conftest import draw_picture, run_simgov
from simgov.index import SimIndex
from simgov.matching.decision import stated_code_conflicts


def _account(account_id: str, device: str) -> dict:
    return {"account_id": account_id, "kind": "merchant", "display_name": f"Shop {account_id}",
            "identifiers": {"device_id": device, "email": f"{account_id}@example.org"}}


def _listing(item_id: str, seller: str, picture: str, title: str, price: float, **attributes) -> dict:
    return {"item_id": item_id, "title": title, "seller_id": seller, "images": [f"images/{picture}"],
            "price": price, "currency": "EUR", "attributes": attributes}


@pytest.fixture(scope="module")
def shops(tmp_path_factory) -> SimIndex:
    folder = tmp_path_factory.mktemp("stock")
    (folder / "images").mkdir()
    draw_picture(201).save(folder / "images" / "catalogue.jpg", quality=90)  # the brand's file
    draw_picture(202).save(folder / "images" / "own.jpg", quality=95)        # one seller's own photo
    for q in (80, 84):  # copiers save the photo and upload it again
        Image.open(folder / "images" / "own.jpg").save(folder / "images" / f"own-{q}.jpg", quality=q)
    draw_picture(203).save(folder / "images" / "pair.jpg", quality=90)       # a file two sellers show
    draw_picture(204).save(folder / "images" / "ring.jpg", quality=90)       # a file one person's accounts show
    draw_picture(205).save(folder / "images" / "variant.jpg", quality=90)
    boot = "Acme TrailRunner 5 running shoe, blue, size 42"
    rows = [
        _listing("cat-a", "shop-a", "catalogue.jpg", boot, 100.0),
        _listing("cat-b", "shop-b", "catalogue.jpg", boot, 97.0),
        _listing("cat-c", "shop-c", "catalogue.jpg", boot, 104.0),
        _listing("cat-cheap", "shop-d", "catalogue.jpg", boot, 30.0),
        _listing("own", "shop-e", "own.jpg", "Dunmore leather messenger bag, brown", 80.0),
        _listing("own-80", "shop-f", "own-80.jpg", "Dunmore leather messenger bag, brown", 78.0),
        _listing("own-84", "shop-g", "own-84.jpg", "Dunmore leather messenger bag, brown", 75.0),
        _listing("pair-a", "shop-h", "pair.jpg", "Kappa yoga mat 6mm purple", 20.0),
        _listing("pair-b", "shop-i", "pair.jpg", "Kappa yoga mat 6mm purple", 21.0),
        _listing("ring-a", "ring-1", "ring.jpg", "Lumen digital wristwatch waterproof", 50.0),
        _listing("ring-b", "ring-2", "ring.jpg", "Lumen digital wristwatch waterproof", 49.0),
        _listing("ring-c", "ring-3", "ring.jpg", "Lumen digital wristwatch waterproof", 51.0),
        _listing("variant-blue", "shop-j", "variant.jpg", "Orbis Field 6 smartwatch 38mm blue", 200.0,
                 model_number="OR-FI6-38BLU"),
        _listing("variant-green", "shop-k", "variant.jpg", "Orbis Field 6 smartwatch 38mm green", 199.0,
                 model_number="OR-FI6-38GRN"),
    ]
    sellers = sorted({r["seller_id"] for r in rows})
    accounts = [_account(s, "device-ring" if s.startswith("ring-") else f"device-{s}") for s in sellers]
    (folder / "items.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "accounts.jsonl").write_text("".join(json.dumps(a) + "\n" for a in accounts))
    run_simgov("build", "--items", str(folder / "items.jsonl"), "--accounts", str(folder / "accounts.jsonl"),
               "--index", str(folder / "index"), "--quiet")
    index = SimIndex.open(folder / "index")
    yield index
    index.close()


def _relations(index: SimIndex, item_id: str) -> dict[str, tuple[str, list[str]]]:
    return {n.item_id: (n.relation, n.evidence) for n in index.similar(item_id, k=8) if n.match}


def test_one_file_under_three_unrelated_shops_is_the_brands_photo(shops):
    found = _relations(shops, "cat-a")
    for other in ("cat-b", "cat-c"):
        relation, evidence = found[other]
        assert relation == "same_product"
        assert any("catalogue photo, the same file shown by 3 unrelated sellers" in line for line in evidence)
    # the shop priced like a counterfeit of the others neither counts nor escapes: a copy
    assert found["cat-cheap"][0] == "cross_seller_copy"


def test_a_sellers_photo_uploaded_again_by_others_stays_a_copy(shops):
    found = _relations(shops, "own")
    assert found["own-80"][0] == found["own-84"][0] == "cross_seller_copy"


def test_two_shops_or_linked_accounts_showing_one_file_stay_copies(shops):
    assert _relations(shops, "pair-a")["pair-b"][0] == "cross_seller_copy"
    found = _relations(shops, "ring-a")  # three accounts on one device: one person
    assert found["ring-b"][0] == found["ring-c"][0] == "cross_seller_copy"


def test_one_picture_on_two_stated_product_codes_is_picture_reuse(shops):
    relation, evidence = _relations(shops, "variant-blue")["variant-green"]
    assert relation == "picture_reuse"
    assert any("different model numbers stated: OR-FI6-38BLU vs OR-FI6-38GRN" in line for line in evidence)


def test_stated_code_conflicts_ignore_case_spacing_and_missing_codes():
    assert stated_code_conflicts({"model_number": "or-fi6 38blu"}, {"model_number": "OR-FI6-38BLU"}) == []
    assert stated_code_conflicts({"model_number": "OR-FI6-38BLU"}, {"colour": "blue"}) == []
    assert stated_code_conflicts({"sku": "A1"}, {"sku": "A2"}) == ["different skus stated: A1 vs A2"]
