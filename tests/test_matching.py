"""The item-match combination (simgov.matching.combine): its values, its decisions, and that a new
item signal weighs in it by declaring its part: one class and one registry call, no other edit."""
from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np
import pytest

from conftest import draw_picture, write_catalogue
from simgov.build.local import build as local_build
from simgov.config import Config
from simgov.index import SimIndex
from simgov.matching import thresholds
from simgov.matching.combine import BIAS, MUTUAL_BEST, agreeing, combine, combine_both
from simgov.matching.evidence import MatchPart
from simgov.schema import Item
from simgov.signals import REGISTRY, create_signals, register, signal_of_kind, unregister
from simgov.signals.base import BuildContext, Candidate, Query, Signal, SignalOutput
from simgov.signals.image import read_pictures
from simgov.verdicts import agreeing_signals

MATCH = thresholds.default("item_match")


# ----------------------------------------------------------------------------- the combination


def test_combine_is_the_published_formula_bit_for_bit():
    """title 2 x (s - 0.6), text 6 x (s - 0.5), image 2 x (s - 0.6), bias -3.35, mutual best 5.6
    times the share of title + text weight present: the formula the README's figures were measured
    with, summed in the same order, so scores are the same floats."""
    for t, x, i in [(0.81, 0.62, None), (0.3, 0.97, 0.99), (None, 0.7, 0.4), (0.95, None, None), (0.5, 0.5, 0.6)]:
        z, present = -3.35, 0.0
        for w, c, s in ((2.0, 0.6, t), (6.0, 0.5, x), (2.0, 0.6, i)):
            if s is not None:
                z += w * (s - c)
                present += w
        bonus = 5.6 * min(1.0, present / 8.0)
        signals = {k: v for k, v in (("title", t), ("text", x), ("image", i)) if v is not None}
        assert combine(signals, mutual_best=False) == 1.0 / (1.0 + math.exp(-z))
        assert combine(signals, mutual_best=True) == 1.0 / (1.0 + math.exp(-(z + bonus)))
        assert combine_both(signals) == (combine(signals, mutual_best=False), combine(signals, mutual_best=True))
    assert (BIAS, MUTUAL_BEST) == (-3.35, 5.6)


def test_combine_is_monotone_and_bounded():
    prev = -1.0
    for t in (0.0, 0.3, 0.6, 0.9, 1.0):
        s = combine({"title": t, "text": 0.5}, mutual_best=False)
        assert 0.0 <= s <= 1.0 and s > prev
        prev = s
    prev = -1.0
    for x in (0.0, 0.3, 0.6, 0.9, 1.0):
        s = combine({"title": 0.7, "text": x}, mutual_best=True)
        assert s > prev
        prev = s
    moderate = {"title": 0.7, "text": 0.4}
    assert combine(moderate, mutual_best=True) > combine(moderate, mutual_best=False)


def test_combine_decisions():
    assert MATCH == 0.5
    # mutual best with moderate text evidence: a match
    assert combine({"title": 0.8, "text": 0.6}, mutual_best=True) >= MATCH
    # the same without mutual best: not
    assert combine({"title": 0.8, "text": 0.6}, mutual_best=False) < MATCH
    # overwhelming evidence matches even without mutual best
    assert combine({"title": 0.95, "text": 0.99}, mutual_best=False) >= MATCH
    # conflicting codes (text near 0) are not rescued by the rank flag
    assert combine({"title": 0.9, "text": 0.001}, mutual_best=True) < MATCH


def test_combine_handles_missing_and_unknown_signals():
    with_image = combine({"title": 0.8, "text": 0.6, "image": 0.6}, mutual_best=True)
    without = combine({"title": 0.8, "text": 0.6}, mutual_best=True)
    assert with_image == pytest.approx(without)  # an image at its centre is no opinion
    assert combine({"title": 0.8, "text": 0.6, "image": 1.0}, mutual_best=True) > without
    # the rank flag alone cannot make a match when text evidence is missing
    assert combine({"title": 0.7}, mutual_best=True) < MATCH
    assert combine({"image": 0.7}, mutual_best=True) < MATCH
    assert 0.0 <= combine({}, mutual_best=False) <= 1.0
    assert combine({"title": float("nan"), "text": 0.9}, mutual_best=False) == pytest.approx(
        combine({"text": 0.9}, mutual_best=False))
    # a score of a signal that is not registered weighs nothing and never agrees
    assert combine({"text": 0.9, "nobody": 1.0}, mutual_best=True) == combine({"text": 0.9}, mutual_best=True)
    assert agreeing({"text": 0.9, "title": 0.2, "nobody": 1.0}) == ["text"]


def test_thresholds_come_from_calibration_json_and_overrides():
    declared = thresholds.calibration()
    for name in ("item_match", "image_match", "counterfeit_max_price_ratio", "account_link", "image_same_picture",
                 "pdq_near", "avatar_match_distance"):
        assert {"value", "applies_to", "source"} <= set(declared[name])
    assert thresholds.threshold("item_match", {"item_match": 0.7}) == 0.7
    assert thresholds.threshold("item_match", {"image_match": 0.7}) == declared["item_match"]["value"]
    with pytest.raises(KeyError, match="no threshold 'nope'"):
        thresholds.default("nope")
    assert signal_of_kind("picture") == "image" and signal_of_kind("smell") is None


# ----------------------------------------------------------------------------- a new item signal


class PriceSignal(Signal):
    """A toy item signal: how close two listings' prices are. Everything it needs to weigh in the
    match and to agree is declared here; no other module names it."""

    name = "price"
    version = 1
    description = "closeness of the asking prices"
    match_part = MatchPart(weight=3.0, centre=0.5)

    def __init__(self, config):
        super().__init__(config)
        self.prices: dict[int, float] = {}

    def compute(self, items, ctx):
        return [SignalOutput(None if item.price is None else struct.pack("<d", item.price)) for item in items]

    def reset(self, expected: int) -> None:
        self.prices = {}

    def add(self, vec_ids, blobs) -> None:
        self.prices.update((int(v), struct.unpack("<d", b)[0]) for v, b in zip(vec_ids.tolist(), blobs))

    def save(self, folder: Path) -> list[str]:
        ids = np.array(sorted(self.prices), dtype=np.int64)
        np.save(folder / "price.npy", np.stack([ids.astype(np.float64), [self.prices[i] for i in ids.tolist()]]))
        return ["price.npy"]

    def load(self, folder: Path) -> None:
        ids, prices = np.load(folder / "price.npy")
        self.prices = dict(zip(ids.astype(np.int64).tolist(), prices.tolist()))

    def size(self) -> int:
        return len(self.prices)

    def search(self, blobs, k):
        out = []
        for blob in blobs:
            mine = struct.unpack("<d", blob)[0]
            near = sorted(self.prices, key=lambda v: abs(self.prices[v] - mine))[:k]
            out.append([Candidate(v, self._similarity(mine, self.prices[v])) for v in near])
        return out

    @staticmethod
    def _similarity(x: float, y: float) -> float:
        return 1.0 - abs(x - y) / max(x, y, 1e-9)

    def score(self, a: bytes, b: bytes) -> float | None:
        return self._similarity(struct.unpack("<d", a)[0], struct.unpack("<d", b)[0])

    def explain(self, a: bytes, b: bytes) -> list[str]:
        return [f"prices {struct.unpack('<d', a)[0]:g} and {struct.unpack('<d', b)[0]:g}"]


@pytest.fixture
def price_signal():
    register(PriceSignal)
    try:
        yield PriceSignal
    finally:
        unregister(PriceSignal.name)


def test_a_registered_signal_weighs_in_the_score_explains_and_agrees(price_signal, tmp_path):
    assert list(REGISTRY)[-1] == "price"
    catalogue = write_catalogue(tmp_path / "data")
    local_build(catalogue, tmp_path / "index", Config(), workers=1)
    index = SimIndex.open(tmp_path / "index")
    assert "price" in index.signals and index.signals["price"].size() == 14

    # relist-00 (seller-0, price 11) re-lists item-00 (price 10): close prices
    found = {n.item_id: n for n in index.similar("relist-00", k=20)}
    n = found["item-00"]
    assert n.signals["price"] == pytest.approx(round(1 - 1 / 11, 4))
    # (b) in the evidence and among the agreeing signals
    assert "prices 11 and 10" in n.evidence
    assert "price" in agreeing_signals(n.signals)
    # (a) in the score: exactly its declared part, in logits, over the other signals' score
    others = {k: v for k, v in n.signals.items() if k != "price"}
    with_price = combine(n.signals, mutual_best=False)
    without = combine(others, mutual_best=False)
    logit = math.log(with_price / (1 - with_price)) - math.log(without / (1 - without))
    assert logit == pytest.approx(PriceSignal.match_part.logit(n.signals["price"]), abs=1e-9) and logit > 0
    assert index.matcher.rank_score(n.signals) == with_price
    # far prices disagree: copy-02 costs 5, less than half of relist-00's 11
    far = found["copy-02"].signals
    assert far["price"] == pytest.approx(round(5 / 11, 4)) and "price" not in agreeing_signals(far)
    assert "prices 11 and 5" in found["copy-02"].evidence
    assert combine(far, mutual_best=False) < combine({k: v for k, v in far.items() if k != "price"}, mutual_best=False)


def test_unregistered_signal_is_gone(price_signal):
    unregister("price")
    assert "price" not in REGISTRY
    assert combine({"text": 0.9, "price": 1.0}, mutual_best=False) == combine({"text": 0.9}, mutual_best=False)


# ----------------------------------------------------------------------------- banks and contradictions


def test_title_signal_encodes_the_product_name_of_a_scraped_title():
    """A scraped title's shop boilerplate after its language-tagged name is no part of what the index
    compares: the level model's title bands (simgov compare) read the name alone."""
    title = create_signals(Config(), ["title"])["title"]
    items = [Item(item_id="a", title='"Canon EOS 80D Body"@en Foto Shop Berlin | Cameras & Lenses', seller_id="s"),
             Item(item_id="b", title="Canon EOS 80D Body", seller_id="s"),
             Item(item_id="c", title="Foto Shop Berlin | Cameras & Lenses", seller_id="s")]
    tagged, plain, shop = (o.blob for o in title.compute(items, BuildContext(data_roots=[])))
    assert tagged == plain != shop
    assert title.compute_query(Query(text='"Canon EOS 80D Body"@en Foto Shop')) == plain


def test_title_signal_reads_translated_words_in_english():
    """One shoe described by a German and an Italian shop: the colours and the wearer the text profile
    translates are encoded in English, so the names' vectors are the English name's."""
    title = create_signals(Config(), ["title"])["title"]
    german, italian, english = (title.compute_query(Query(text=t)) for t in (
        "Nike Free Run Herren - Schwarz/Weiß", "Nike Free Run Uomo - Nero/Bianco", "Nike Free Run men - black/white"))
    assert german == italian == english
    assert title.compute_query(Query(text="Nike Free Run - Rosso")) != english


def test_signals_give_their_bank_index_and_contradictions(tmp_path):
    signals = create_signals(Config(), ["title", "text", "image"])
    image, title, text = signals["image"], signals["title"], signals["text"]
    assert (image.bank_kind, title.bank_kind, text.bank_kind) == ("pdq", "title", "")
    assert text.bank_index([(1, "anything")]) is None and image.bank_index([]) is None

    draw_picture(3).save(tmp_path / "a.jpg", quality=92)
    draw_picture(4).save(tmp_path / "b.jpg", quality=92)
    items = [Item(item_id=n, title="t", seller_id="s", images=[f"{n}.jpg"]) for n in ("a", "b")]
    blob_a, blob_b = (o.blob for o in image.compute(items, BuildContext(data_roots=[tmp_path])))
    pdq_a = bytes(next(p for p in read_pictures(blob_a) if p.pdq_usable).pdq[0]).hex()
    bank = image.bank_index([(7, pdq_a), (8, "0" * 64)])
    [hit] = bank.search(blob_a)
    assert (hit.entry_id, hit.score) == (7, 1.0) and hit.detail == "picture 1 is 0 bits from PDQ entry 7"
    assert bank.search(blob_b) == []

    titles = title.bank_index([(1, "Acme TrailRunner 5 running shoe"), (2, "Iris ceramic coffee mug 350ml")])
    ranked = titles.search(title.compute_query(Query(text="Acme TrailRunner 5 running shoe")))
    assert [m.entry_id for m in ranked] == [1, 2] and ranked[0].score == pytest.approx(1.0, abs=1e-5)

    sony_46 = text.compute_query(Query(text="Sony KDL-46V3000 46in LCD TV"))
    sony_40 = text.compute_query(Query(text="Sony KDL-40V3000 40in LCD TV"))
    assert text.contradictions(sony_46, sony_46) == []
    assert text.contradictions(sony_46, sony_40) == ["different model codes: KDL46V3000 vs KDL40V3000"]
    assert image.contradictions(blob_a, blob_b) == [] and title.contradictions(sony_46, sony_40) == []
