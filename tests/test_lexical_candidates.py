"""The self-join's lexical candidates (simgov/lexical_candidates.py) against a brute-force reference."""
from __future__ import annotations

import math
import re
import subprocess
import unicodedata

import numpy as np
import pytest

from conftest import SIMGOV, write_abt_buy_items
from simgov.index import SimIndex
from simgov.lexical_candidates import (MAX_WORD_LISTINGS, found_by_knn, lexical_extra_keys, lexical_pair_keys,
                                       name_words, title_words)
from simgov.signals.text.levels import head
from simgov.signals.text.profile import TRANSLATIONS


@pytest.fixture(scope="module")
def abt_buy_index(tmp_path_factory):
    """The first 150 listings of each Abt-Buy shop, built with the default configuration."""
    folder = tmp_path_factory.mktemp("abt-buy-lexical")
    items = write_abt_buy_items(folder / "items.jsonl", 150)
    index = folder / "index"
    subprocess.run([SIMGOV, "build", "--items", str(items), "--index", str(index), "--quiet"], check=True)
    return index


def reference_words(title: str) -> list[str]:
    """A title's name's words: runs of letters and digits, lower case, accents removed, in English where
    the text profile translates them."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", head(title)) if not unicodedata.combining(c)).lower()
    return [TRANSLATIONS.get(w, w) for w in re.findall(r"[a-z0-9]+", folded)]


def test_name_words_leave_the_shop_text_out_and_read_colours_in_english():
    spanish = '"Nike Free Run -Concord/Negro/Cobalto/Azul"@es " Nike - Zapatillas para hombre-Concord/Negro"@es'
    german = '"Nike Free Run - Concord/Schwarz/Kobaltblau/Blau"@de " Nike Herrenschuhe Concord/Schwarz/Blau"@de'
    assert name_words(spanish) == ["nike", "free", "run", "concord", "black", "cobalto", "blue"]
    assert name_words(german) == ["nike", "free", "run", "concord", "black", "kobaltblau", "blue"]
    assert name_words("Sony Cyber-shot DSC-W800 20.1 MP Digital Camera") == [
        "sony", "cyber", "shot", "dsc", "w800", "20", "1", "mp", "digital", "camera"]


def test_title_words_are_folded_letters_and_digits(abt_buy_index):
    index = SimIndex.open(abt_buy_index)
    try:
        vec_ids, words = title_words(index.store)
        items = index.store.items_by_vec(vec_ids)
    finally:
        index.close()
    assert vec_ids == sorted(items)
    assert words == [reference_words(items[v].item.title) for v in vec_ids]
    assert all(w == w.lower() and w.isalnum() for listing in words for w in listing)


def reference_scores(index: SimIndex) -> dict[int, dict[int, float]]:
    """Every listing's IDF-weighted title-word cosine with every listing it shares a usable word with,
    computed pair by pair in plain Python from the stored items' titles."""
    vec_ids = [r[0] for batch in index.store.iter_live() for r in batch]
    words = {v: set(reference_words(item.item.title)) for v, item in index.store.items_by_vec(vec_ids).items()}
    df: dict[str, int] = {}
    for ws in words.values():
        for w in ws:
            df[w] = df.get(w, 0) + 1
    n = len(words)
    idf = {w: math.log((n + 1) / (c + 1)) + 1.0 for w, c in df.items() if 2 <= c <= MAX_WORD_LISTINGS}
    norm = {v: math.sqrt(sum(idf.get(w, 0.0) ** 2 for w in ws)) for v, ws in words.items()}
    scores: dict[int, dict[int, float]] = {v: {} for v in words}
    for a in words:
        for b in words:
            shared = sum(idf[w] ** 2 for w in words[a] & words[b] if w in idf)
            if a != b and shared > 0:
                scores[a][b] = shared / (norm[a] * norm[b])
    return scores


@pytest.mark.parametrize("k", [1, 5])
def test_each_listing_gets_its_k_lexically_nearest_listings(abt_buy_index, k):
    index = SimIndex.open(abt_buy_index)
    try:
        keys = lexical_pair_keys(index.store, k)
        scores = reference_scores(index)
    finally:
        index.close()
    pairs = set(zip((keys >> 32).tolist(), (keys & 0xFFFFFFFF).tolist()))
    assert pairs and all(a < b for a, b in pairs)
    margin = 1e-5  # float32 sums against float64 ones: ties may fall either way
    for a, others in scores.items():
        ranked = sorted(others.values(), reverse=True)
        if not ranked:
            continue
        kth = ranked[min(k, len(ranked)) - 1]
        for b, score in others.items():
            if score > kth + margin:  # surely among a's k best
                assert (min(a, b), max(a, b)) in pairs
    for a, b in pairs:  # every kept pair is among the k best of one of its listings
        assert any(scores[x].get(y, 0.0)
                   >= sorted(scores[x].values(), reverse=True)[min(k, len(scores[x])) - 1] - margin
                   for x, y in ((a, b), (b, a)))


def test_self_join_adds_the_lexical_pairs_only_when_asked(abt_buy_index):
    index = SimIndex.open(abt_buy_index)
    try:
        assert index.config.search.pairs_lexical_k == 10  # the default: on
        assert lexical_pair_keys(index.store, 0).size == 0
        plain = index._candidate_keys(10)
        assert lexical_extra_keys(index.store, 0, plain).size == 0
        lexical = lexical_pair_keys(index.store, 10)
        extra = lexical_extra_keys(index.store, 10, plain)
    finally:
        index.close()
    assert np.array_equal(np.union1d(plain, extra), np.union1d(plain, lexical))
    assert extra.size and not np.isin(extra, plain).any()  # the lexical source finds pairs the k-NN did not


def test_lexical_extra_pairs_leave_the_k_nn_pairs_decisions_alone(abt_buy_index):
    """The catalogue fit and the mutual-best flags come from the k-NN's pairs only: with the lexical
    candidates on, every k-NN pair is decided as without them, and no extra pair is a mutual best."""
    index = SimIndex.open(abt_buy_index)
    try:
        index.config.search.pairs_lexical_k = 0
        table, names, item_ids, knn = index._pair_table(10, 20_000, 1)
        flags = index._decide_levels(table, names, item_ids, None, knn)
        index.config.search.pairs_lexical_k = 10
        both, _, _, both_knn = index._pair_table(10, 20_000, 1)
        both_flags = index._decide_levels(both, names, item_ids, None, both_knn)
    finally:
        index.close()
    assert knn.all() and len(both) > len(table) and not both_knn.all()
    assert np.array_equal(both[both_knn], table, equal_nan=True) and np.array_equal(both_flags[both_knn], flags)
    assert not both_flags[~both_knn].any()
    assert np.array_equal(found_by_knn(both, np.zeros(0, dtype=np.int64)), np.ones(len(both), bool))
