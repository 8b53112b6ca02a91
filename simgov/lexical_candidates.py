"""The self-join's lexical candidates: each listing's nearest listings by the rare words of its title.

The title k-NN misses labelled matches whose titles carry shop names, languages and boilerplate
around the product's words (the static engine more than the exact one: on the WDC cameras catalogue
the static k-NN finds 515 of 856 labelled matches, the exact one 624), and the text signal's code
index finds only listings that share a model code. This source scores every pair of listings that
share a word of their titles by the cosine of their IDF-weighted word sets and keeps each listing's
`k` best. The words of the title's product name only (`name_words`): the text profile's words also hold
attributes (artist, album, brewery, style) that make hard negatives candidates (songs of one album), and
re-profiling every title costs ~45 s at 1M; the titles are read from the store and split by one regular
expression instead. A scraped title's shop text after the name is left out, and the words the text profile
translates (colours, product words) are read in English (WDC catalogues, static default: shoes train 0.724 ->
0.792 F1, none lower). Words held by more than `MAX_WORD_LISTINGS` listings carry no candidate (they name a
family or a shop, and would make the product quadratic), words of one listing cannot pair anything; both are left
out of the weights.

The pairs only this source finds (`lexical_extra_keys`) are decided by the catalogue model fitted on the
k-NN's pairs, and are never a mutual best (`SimIndex._catalogue_model`): fitting on them too moved the
match rate and the mutual-best flags of every other pair (exact engine, itunes-amazon: 0.898 -> 0.854
F1 with the fit on all pairs; unchanged with the fit on the k-NN's).
"""
from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix, diags

from .signals.text.levels import head
from .signals.text.profile import english_words
from .storage.items import Store

#: A word in more listings than this gives no candidate (and no weight).
MAX_WORD_LISTINGS = 200
#: Titles read from the store at once.
TITLES_PER_BATCH = 20_000
#: Listings whose rows are multiplied against the catalogue at once (memory: at most
#: tokens x MAX_WORD_LISTINGS products a listing).
ROWS_PER_BLOCK = 4096


def lexical_pair_keys(store: Store, k: int) -> np.ndarray:
    """Pair keys (a << 32 | b, a < b) of every live listing and its `k` lexically nearest listings
    (their titles' words, IDF-weighted cosine); empty when `k` is 0 or no two listings share a word
    that can pair them."""
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    vec_ids, words = title_words(store)
    weights = _weights(words)
    if weights is None:
        return np.zeros(0, dtype=np.int64)
    ids = np.asarray(vec_ids, dtype=np.int64)
    keys = []
    transposed = weights.T.tocsr()
    for start in range(0, weights.shape[0], ROWS_PER_BLOCK):
        sims = (weights[start:start + ROWS_PER_BLOCK] @ transposed).tocoo()
        rows, cols, vals = sims.row + start, sims.col, sims.data
        other = rows != cols
        rows, cols, vals = rows[other], cols[other], vals[other]
        order = np.lexsort((cols, -vals, rows))  # per row, best first (ties: the listing read first)
        rows, cols = rows[order], cols[order]
        first = np.searchsorted(rows, rows, side="left")
        keep = (np.arange(len(rows)) - first) < k
        a, b = ids[rows[keep]], ids[cols[keep]]
        keys.append((np.minimum(a, b) << 32) | np.maximum(a, b))
    return np.unique(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.int64)


def lexical_extra_keys(store: Store, k: int, knn_keys: np.ndarray) -> np.ndarray:
    """The pair keys of `lexical_pair_keys` that the k-NN's sorted unique `knn_keys` do not hold."""
    return np.setdiff1d(lexical_pair_keys(store, k), knn_keys, assume_unique=True)


def found_by_knn(table: np.ndarray, extra_keys: np.ndarray) -> np.ndarray:
    """Which rows of a self-join table (vec_ids a < b in columns 0 and 1) are no lexical extra pair."""
    keys = (table[:, 0].astype(np.int64) << 32) | table[:, 1].astype(np.int64)
    return ~np.isin(keys, extra_keys)


def title_words(store: Store) -> tuple[list[int], list[list[str]]]:
    """Every live listing's vec_id and its `name_words`, in vec_id order (`Store.live_titles`)."""
    vec_ids: list[int] = []
    words: list[list[str]] = []
    for batch in store.live_titles(TITLES_PER_BATCH):
        vec_ids.extend(r[0] for r in batch)
        words.extend(name_words(r[1] or "") for r in batch)
    return vec_ids, words


def name_words(title: str) -> list[str]:
    """The words of a title's product name (`head`: a scraped title's shop text after the name left out),
    lower case without accents (a code's parts are words of their own) and in English where the text profile
    reads them so ("Nero/Bianco" as "black/white"): one model described by shops in two languages shares them."""
    return english_words(head(title))


def _weights(words: list[list[str]]) -> csr_matrix | None:
    """Unit rows of IDF weights over the words that can pair listings; None when none can."""
    vocab: dict[str, int] = {}
    cols = [vocab.setdefault(w, len(vocab)) for listing in words for w in dict.fromkeys(listing)]
    if not cols:
        return None
    lengths = [len(dict.fromkeys(listing)) for listing in words]
    indptr = np.zeros(len(words) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    cols_arr = np.asarray(cols, dtype=np.int64)
    df = np.bincount(cols_arr, minlength=len(vocab))
    idf = np.log((len(words) + 1) / (df + 1)) + 1.0
    idf[(df < 2) | (df > MAX_WORD_LISTINGS)] = 0.0
    matrix = csr_matrix((idf[cols_arr].astype(np.float32), cols_arr, indptr), shape=(len(words), len(vocab)))
    matrix.eliminate_zeros()
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return (diags((1.0 / norms).astype(np.float32)) @ matrix).tocsr()
