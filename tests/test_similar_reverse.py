"""`similar`'s mutual-best reverse check from the query seller's listings (SimIndex._reverse_pairs)
gives the neighbours, scores, flags, relations and evidence that searching every best candidate
gives, before and after writes and deletes, while searching far fewer of them. A real index
(benchmarks.api's synthetic catalogue of look-alike product families: FAISS, SQLite, the text
signal, drawn pictures through the image signal)."""
import random
import shutil

import numpy as np
import pytest

import simgov.index
from benchmarks.api import listing_title
from conftest import synthetic_look_alikes
from simgov.index import SimIndex
from simgov.schema import Item
from simgov.signals import BuildContext
from simgov.storage.items import ItemWrite


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    return synthetic_look_alikes(tmp_path_factory, "reverse", seed=3)


def _searching_every_head(index: SimIndex, monkeypatch) -> None:
    """The check as it was: no scan of the seller's listings (for every index object from here
    on), every candidate of `index` a contender."""
    monkeypatch.setattr(simgov.index, "SELLER_SCAN_MAX", -1)
    monkeypatch.setattr(index, "_contenders", lambda shown, owners, k, min_score: set(shown))


def _counting_searches(index: SimIndex) -> list[int]:
    searched = []
    many = index._candidates_many

    def counted(queries, fetch):
        searched.append(len(queries))
        return many(queries, fetch)

    index._candidates_many = counted
    return searched


def _relist(index: SimIndex, seller_id: str, family: int, spreads: list[float]) -> list[str]:
    """Listings of one synthetic product family in one seller's shop, their title vectors spread
    around the family's centre as benchmarks.api draws them (the closer, the more alike)."""
    dim = index.signals["title"].index.dim
    centre = np.random.default_rng(family).standard_normal(dim).astype(np.float32)
    rng, title_rng = np.random.default_rng(family + 7), random.Random(family + 7)
    items = [Item(item_id=f"re-{family}-{n}", seller_id=seller_id, title=listing_title(title_rng, family)[0])
             for n in range(len(spreads))]
    texts = index.signals["text"].compute(items, BuildContext(data_roots=index.data_roots()))
    writes = []
    for item, spread, text in zip(items, spreads, texts):
        vector = centre / np.linalg.norm(centre) + rng.standard_normal(dim).astype(np.float32) * spread
        blobs = {"title": (vector / np.linalg.norm(vector)).astype(np.float32).tobytes(), "text": text.blob}
        writes.append(ItemWrite(item, item.content_hash(), blobs, []))
    index.write(writes)
    return [item.item_id for item in items]


def _lookups(index: SimIndex, item_ids: list[str]) -> list:
    return [index.similar(item_id, k=k) for item_id in item_ids for k in (5, 10)]


def test_reverse_check_answers_as_searching_every_best_candidate(synthetic, monkeypatch):
    index, reference = SimIndex.open(synthetic), SimIndex.open(synthetic)
    try:
        item_ids = sorted(r[1] for batch in index.store.iter_live() for r in batch)
        sample = random.Random(1).sample(item_ids, 120)
        scanned, searched = _counting_searches(index), _counting_searches(reference)
        got = _lookups(index, sample)
        scanned = list(scanned)
        _searching_every_head(reference, monkeypatch)
        assert got == _lookups(reference, sample)
        assert got == _lookups(index, sample)  # a seller too large to scan: the contenders' heads searched
        assert sum(n.match for found in got for n in found) > 50
        assert any("each is the other's closest" in line for found in got for n in found for line in n.evidence)
        assert any(not n.match for found in got for n in found)
        # the scan searched some best candidates (those a listing of the seller might outrank the
        # query for), one signal at a time, and far fewer than all of them (measured: 2,808 single-
        # signal queries against 4,524 of every signal)
        assert len(scanned) > len(sample) * 2 and sum(scanned) < 0.75 * sum(searched)
    finally:
        index.close()
        reference.close()


def test_reverse_check_follows_writes_and_deletes(synthetic, tmp_path, monkeypatch):
    folder = tmp_path / "index"
    shutil.copytree(synthetic, folder)
    index, reference = SimIndex.open(folder), SimIndex.open(folder)
    try:
        # re-listings of family 2 (it-0000010..14) in the shop of it-0000010, of family 3 in a new
        # shop; a listing of family 2 goes
        seller = index.item("it-0000010").seller_id
        sample = _relist(index, seller, 2, [0.02, 0.05, 0.08, 0.3]) + _relist(index, "s-new", 3, [0.02, 0.04, 0.3])
        index.delete("it-0000011")
        sample += [f"it-{n:07d}" for n in (10, 12, 13, 14, 15, 16, 200)]
        got = _lookups(index, sample)
        _searching_every_head(reference, monkeypatch)
        assert got == _lookups(reference, sample)
        assert "it-0000011" not in {n.item_id for found in got for n in found}
        assert {"re-2-0", "re-2-1", "it-0000010"} <= {n.item_id for n in index.similar("re-2-2", k=10)}
        assert any(n.relation == "same_seller_duplicate" for found in got for n in found)
    finally:
        index.close()
        reference.close()
