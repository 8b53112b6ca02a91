"""The counterfeit rule on single pairs: which resemblance counts, and what the notes say."""
from simgov.detectors.counterfeits import CounterfeitPolicy, assess_pair
from simgov.records import Neighbour
from simgov.schema import Item
from simgov.storage.items import StoredItem

POLICY = CounterfeitPolicy(max_price_ratio=0.6, image_match=0.8)
REFERENCE = StoredItem("ref-1", 1, "brand-shop", "h1",
                       Item(item_id="ref-1", seller_id="brand-shop",
                            title="Altura Meridian 12 smartwatch - AL-ME12-42BLK", brand="Altura", price=300.0,
                            currency="USD", reference=True))


def _candidate(price: float) -> StoredItem:
    return StoredItem("c-1", 2, "cheap-shop", "h2",
                      Item(item_id="c-1", seller_id="cheap-shop", title="Altura Meridian 12 watch", brand="Altura",
                           price=price, currency="USD"))


def _neighbour(image: float) -> Neighbour:
    return Neighbour(item_id="c-1", seller_id="cheap-shop", score=0.4, signals={"image": image, "title": 0.7},
                     match=False, relation="similar", evidence=[])


def nobody_authorised(_seller: str) -> set[str]:
    return set()


def test_a_cheap_near_copy_by_an_unauthorised_seller_is_a_suspect():
    suspect, notes = assess_pair(_candidate(90.0), REFERENCE, _neighbour(0.95), POLICY, nobody_authorised, [])
    assert suspect is not None and suspect.reference_item_id == "ref-1" and suspect.price_ratio == 0.3
    assert any("near-copy" in n for n in notes)


def test_a_look_alike_picture_of_a_product_with_another_model_code_is_not():
    conflicts = ["different model codes: ALME12 vs ALME4"]
    suspect, notes = assess_pair(_candidate(90.0), REFERENCE, _neighbour(0.95), POLICY, nobody_authorised, conflicts)
    assert suspect is None
    assert any("names another product" in n and "ALME4" in n and "look alike" in n for n in notes)


def test_an_authorised_or_fairly_priced_seller_is_not():
    assert assess_pair(_candidate(90.0), REFERENCE, _neighbour(0.95), POLICY, lambda s: {"Altura"}, [])[0] is None
    assert assess_pair(_candidate(250.0), REFERENCE, _neighbour(0.95), POLICY, nobody_authorised, [])[0] is None
