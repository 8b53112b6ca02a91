"""The self-join scores pairs in bulk (`Signal.score_many`, `score_pair_keys`) and in a process pool;
its output must be exactly what scoring each pair on its own gives (`signal_scores`, the level model's
logit of the pair, the catalogue fit's posterior, `decide_ranked`)."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from conftest import SIMGOV, write_abt_buy_items
from simgov.generations import GENERATIONS, read_manifest
from simgov.index import SimIndex
from simgov.pair_table import KEPT_PAIRS_FILE
from simgov.matching.decision import mutual_best
from simgov.matching.catalogue import level_logits, listing_texts, pack_text, rank_scores, unpack_text
from simgov.matching.levels import bundled_model
from simgov.pair_scoring import score_pair_keys, stored_as_texts


@pytest.fixture(scope="module")
def abt_buy_index(tmp_path_factory):
    """The first 150 listings of each Abt-Buy shop (real titles, codes and descriptions), built
    with the default configuration."""
    folder = tmp_path_factory.mktemp("abt-buy-part")
    items = write_abt_buy_items(folder / "items.jsonl", 150)
    index = folder / "index"
    subprocess.run([SIMGOV, "build", "--items", str(items), "--index", str(index), "--quiet"], check=True)
    return index


def pair_logits(index: SimIndex, a: int, b: int, scores: dict[str, float]) -> tuple[float, float]:
    """One pair's rank score and bundled level-model logit, computed for that pair alone."""
    texts = listing_texts({v: stored.item for v, stored in index.store.items_by_vec({a, b}).items()})
    title = np.array([scores.get("title", np.nan)])
    z = level_logits(bundled_model(), texts, [(a, b)], title, index.signals["text"].idf())
    return float(rank_scores(z, title, np.array([scores.get("text", np.nan)]))[0]), float(z[0])


def per_pair_reference(index: SimIndex, pairs) -> list[tuple]:
    """What the self-join must give for these pairs (in its order), scoring one pair at a time and
    deciding with the catalogue fit the build kept."""
    fit = index.catalogue_fit()
    assert fit is not None  # a build this small keeps its fit
    vec = {item_id: (v, seller) for batch in index.store.iter_live() for v, item_id, seller in batch}
    keyed = [(min(vec[p.item_a][0], vec[p.item_b][0]), max(vec[p.item_a][0], vec[p.item_b][0])) for p in pairs]
    blobs = index.item_blobs([v for key in keyed for v in key])
    owner = {v: seller for v, seller in vec.values()}
    scores = [index.signal_scores(blobs[a], blobs[b]) for a, b in keyed]
    logits = [pair_logits(index, a, b, s) for (a, b), s in zip(keyed, scores)]
    flags = mutual_best([(a, b, owner[a], owner[b], rank) for (a, b), (rank, _) in zip(keyed, logits)])
    out = []
    for p, s, (_, z), flag in zip(pairs, scores, logits, flags):
        posterior = fit.posteriors(np.array([z]), np.array([flag]), np.array(["title" in s]))[0]
        decision = index.matcher.decide_ranked(s, float(posterior))
        out.append((p.item_a, p.item_b, decision.score, list(s.items()), decision.match))
    return out


def as_rows(pairs) -> list[tuple]:
    return [(p.item_a, p.item_b, p.score, list(p.signals.items()), p.match) for p in pairs]


def test_bulk_and_pool_scoring_equal_per_pair_scoring(abt_buy_index):
    index = SimIndex.open(abt_buy_index)
    try:
        # the reference scores the k-NN's pairs on their stored cosines: the lexical extra pairs and the
        # exact re-scoring are left out here (tests/test_lexical_candidates.py, tests/test_encoders.py)
        index.config.search.pairs_lexical_k = 0
        index.signals["title"].rescore_bands = 0
        in_process = list(index.pairs(workers=1))
        assert len(in_process) > 1000 and sum(p.match for p in in_process) > 10
        assert as_rows(in_process) == per_pair_reference(index, in_process)
        # several chunks over two spawned workers: the same pairs, scores, flags and order
        pooled = list(index.pairs(workers=2, chunk=300, reuse=False))
        assert as_rows(pooled) == as_rows(in_process)
    finally:
        index.close()


def test_each_signal_scores_many_pairs_as_it_scores_one(abt_buy_index, built_index):
    for folder in (abt_buy_index, built_index):  # built_index: pictures, so the image signal too
        index = SimIndex.open(folder)
        try:
            vec_ids = [v for batch in index.store.iter_live() for v, _, _ in batch]
            rng = np.random.default_rng(7)
            a, b = rng.choice(vec_ids, 400).tolist(), rng.choice(vec_ids, 400).tolist()
            a += vec_ids[:5]
            b += vec_ids[:5]  # an item with itself: one prepared profile on both sides
            for name, signal in index.signals.items():
                blobs = index.store.blobs(name, vec_ids)
                both = [(x, y) for x, y in zip(a, b) if x in blobs and y in blobs]
                assert both or name in ("image", "video")  # media signals: only items with pictures/videos
                left, right = [blobs[x] for x, _ in both], [blobs[y] for _, y in both]
                assert signal.score_many(left, right) == [signal.score(x, y) for x, y in zip(left, right)], name
        finally:
            index.close()


def test_score_pair_keys_rows_are_signal_scores_rank_and_level_logit(built_index):
    index = SimIndex.open(built_index)
    try:
        live = {v: (item_id, seller) for batch in index.store.iter_live() for v, item_id, seller in batch}
        vec_ids = sorted(live)
        keys = np.array([(a << 32) | b for i, a in enumerate(vec_ids) for b in vec_ids[i + 1:]], dtype=np.int64)
        rows, sellers, ids = score_pair_keys(index.store, index.signals, keys)
        assert len(rows) == len(keys) and ids == {v: o[0] for v, o in live.items()}
        blobs = index.item_blobs(vec_ids)
        names = list(index.signals)
        for row in rows.tolist():
            a, b = int(row[0]), int(row[1])
            want = index.signal_scores(blobs[a], blobs[b])
            assert {n: v for n, v in zip(names, row[6:]) if v == v} == want
            assert [sellers[int(row[2])], sellers[int(row[3])]] == [live[a][1], live[b][1]]
            assert row[4:6] == list(pair_logits(index, a, b, want))
    finally:
        index.close()


def test_listing_texts_sent_to_the_pool_are_the_texts_made_there(abt_buy_index):
    """The self-join makes each listing's text once and sends it packed with each chunk: unpacked,
    it equals the text made from the stored listing, and a chunk scored with the texts given is
    scored as one that makes them itself."""
    index = SimIndex.open(abt_buy_index)
    try:
        items = {v: stored.item for v, stored in index.store.items_by_vec(range(1, 301)).items()}
        texts = listing_texts(items)
        assert len(texts) == 300 and any(t.name_profile != t.full for t in texts.values())
        assert all(unpack_text(pack_text(t)) == t for t in texts.values())
        vec_ids = sorted(texts)
        keys = np.array([(a << 32) | b for a, b in zip(vec_ids, vec_ids[1:] + vec_ids[:1]) if a < b], dtype=np.int64)
        given = {v: unpack_text(pack_text(t)) for v, t in texts.items() if v % 2}  # the others made in the call
        made, _, _ = score_pair_keys(index.store, index.signals, keys)
        sent, _, _ = score_pair_keys(index.store, index.signals, keys, given)
        assert np.array_equal(made, sent, equal_nan=True)
        # the listings whose stored text profile is their text's, told once per self-join: the
        # levels' comparison stands for the text signal's score there, the signal scores the rest
        stored = stored_as_texts(index.store, texts, vec_ids)
        assert len(stored) > 250
        for told in (stored, set(), {v for v in stored if v % 3}):
            assert np.array_equal(score_pair_keys(index.store, index.signals, keys, texts, told)[0], made,
                                  equal_nan=True)
    finally:
        index.close()


def test_the_build_keeps_its_scored_pairs_for_the_detectors_that_follow(abt_buy_index, tmp_path, monkeypatch):
    """`duplicates`, `counterfeits` and `rings` after a build decide on the pairs the build scored
    (simgov.pair_table) instead of searching and scoring them again, with the same result; a write
    or another configuration makes them again, and a kept table that does not read back is made again."""
    folder = tmp_path / "index"
    shutil.copytree(abt_buy_index, folder)
    kept_file = folder / GENERATIONS / read_manifest(folder)["generation"] / KEPT_PAIRS_FILE
    assert kept_file.exists()
    index = SimIndex.open(folder)
    try:
        fresh = as_rows(index.pairs(reuse=False))
    finally:
        index.close()
    made = []
    make = SimIndex._made_pair_table
    monkeypatch.setattr(SimIndex, "_made_pair_table", lambda self, *args: made.append(args) or make(self, *args))
    index = SimIndex.open(folder)
    try:
        assert as_rows(index.pairs()) == fresh and not made
        assert as_rows(index.pairs()) == fresh and not made  # re-scoring in place left the kept table alone
        list(index.pairs(k=index.config.search.pairs_k + 2))
        assert len(made) == 1
        index.config.search.pairs_lexical_k = 0
        list(index.pairs())
        assert len(made) == 2
        index.config.search.pairs_lexical_k = read_manifest(folder)["config"]["search"]["pairs_lexical_k"]
        gone = fresh[0][0]
        index.delete(gone)
        after = as_rows(index.pairs())
        assert len(made) == 3 and gone not in {p for row in after for p in row[:2]}
    finally:
        index.close()
    made.clear()
    kept_file.write_bytes(b"not a table")
    index = SimIndex.open(folder)
    try:
        assert as_rows(index.pairs()) == as_rows(index.pairs(reuse=False)) and len(made) == 2
    finally:
        index.close()
