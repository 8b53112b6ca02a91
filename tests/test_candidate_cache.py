"""Candidate lists kept between lookups (SimIndex._candidates_many) give the answers a fresh search
gives, and never outlive the search structures they came from: a listing written after a lookup,
by this index object or by another one over the same folder (another API worker), is found by the
next lookup. A real index (CLI build, FAISS, SQLite)."""
from simgov.index import SimIndex
from simgov.schema import Item
from simgov.signals import BuildContext


def _ids(neighbours) -> list[str]:
    return [n.item_id for n in neighbours]


def _write(index: SimIndex, item_id: str, seller_id: str) -> None:
    copy = Item(item_id=item_id, seller_id=seller_id, title="Cobalt X200 smartphone 128GB black",
                images=["images/p2.jpg"])
    index.write(index.compute([copy], BuildContext(data_roots=index.data_roots())))


def test_kept_candidates_answer_as_a_fresh_search_does(writable_index):
    index = SimIndex.open(writable_index)
    try:
        first = index.similar("item-02", k=20)
        assert index.similar("item-02", k=20) == first
    finally:
        index.close()
    fresh = SimIndex.open(writable_index)
    try:
        assert fresh.similar("item-02", k=20) == first
    finally:
        fresh.close()


def test_a_listing_written_after_a_lookup_is_found_by_the_next_one(writable_index):
    index, other = SimIndex.open(writable_index), SimIndex.open(writable_index)
    try:
        assert not {"late-copy", "later-copy"} & set(_ids(index.similar("item-02", k=20)))
        _write(other, "late-copy", "seller-late")  # another worker: picked up by the next refresh
        assert "late-copy" in _ids(index.similar("item-02", k=20))
        _write(index, "later-copy", "seller-later")  # this object
        assert "later-copy" in _ids(index.similar("item-02", k=20))
    finally:
        index.close()
        other.close()
