"""Scoring the self-join's candidate pairs in bulk (`SimIndex.pairs`), in the asking process or in its pool.

A chunk of pairs is scored by every signal at once (`Signal.score_many`) and by the bundled level
model (`simgov.matching.catalogue`); a pool process opens the store itself and gets the signals'
scoring state and each chunk's listing texts from the parent, which has them made once per listing.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .config import Config
from .matching.catalogue import level_logits, listing_texts, pack_text, rank_scores, unpack_text
from .matching.levels import bundled_model
from .signals import Signal, create_signals
from .signals.text.levels import ListingText
from .signals.text.profile import TitleProfile
from .storage.items import Store


def score_pair_keys(store: Store, signals: dict[str, Signal], keys: np.ndarray,
                    texts: dict[int, ListingText] | None = None) -> tuple[np.ndarray, list[str], dict[int, str]]:
    """Score a chunk of the self-join's pairs, given as keys a << 32 | b.

    Returns one row per pair whose items are both live, in key order: (a, b, seller of a, seller
    of b, rank score, the bundled level model's logit, then each signal's score as `SimIndex.signal_scores`
    gives it, NaN where either item lacks that signal), sellers as indexes into the returned list
    of seller ids; and the items' ids by vec_id. Each signal scores the whole chunk at once
    (`Signal.score_many`). `texts`: listings' texts as the levels read them, where the caller has
    them (the others are made here). Runs in the process that asked for the pairs or in its pool."""
    vec_a, vec_b = (keys >> 32).tolist(), (keys & 0xFFFFFFFF).tolist()
    owners = store.sellers_by_vec(vec_a + vec_b)
    live = [(a, b) for a, b in zip(vec_a, vec_b) if a in owners and b in owners]
    names = list(signals)
    scores = np.full((len(live), len(names)), np.nan)
    vec_ids = list(owners)
    blobs = {name: store.blobs(name, vec_ids) for name in names}

    def score(name: str, rows: list[int]) -> None:
        got = blobs[name]
        both = [i for i in rows if live[i][0] in got and live[i][1] in got]
        values = signals[name].score_many([got[live[i][0]] for i in both], [got[live[i][1]] for i in both])
        for i, value in zip(both, values):
            if value is not None:
                scores[i, names.index(name)] = round(value, 4)

    for name in names:
        if name != "text":  # the text signal's comparison is made with the levels below
            score(name, range(len(live)))
    sellers: dict[str, int] = {}
    seller_of = {v: sellers.setdefault(o[1], len(sellers)) for v, o in owners.items()}
    rows = np.empty((len(live), 6 + len(names)))  # vec_ids < 2**32: exact in float64
    rows[:, 0] = [a for a, _ in live]
    rows[:, 1] = [b for _, b in live]
    rows[:, 2] = [seller_of[a] for a, _ in live]
    rows[:, 3] = [seller_of[b] for _, b in live]
    # the level model decides (its logit here, the catalogue's fit added by `pairs`); candidates
    # are ranked on that logit and the signals' scores (simgov.matching.catalogue)
    def column(name: str) -> np.ndarray:
        return scores[:, names.index(name)] if name in names else np.full(len(live), np.nan)

    texts = dict(texts or {})  # the listings' texts as the levels read them: those given, the rest made here
    missing = {v for pair in live for v in pair} - texts.keys()
    texts.update(listing_texts({v: s.item for v, s in store.items_by_vec(missing).items()}) if missing else {})
    text = signals.get("text")
    compared = np.empty(len(live))
    z = level_logits(bundled_model(), texts, live, column("title"), text.idf() if text is not None else None,
                     text_scores=compared)
    if text is not None:
        # the levels compared the whole texts under the signal's IDF: where both stored profiles
        # are those texts (the usual case: an untagged title, an index built by this code), that
        # comparison is the signal's score; the other pairs are scored by the signal
        same = {v for v, blob in blobs["text"].items()
                if v in texts and TitleProfile.from_dict(json.loads(blob)) == texts[v].full}
        j = names.index("text")
        rest = []
        for i, (a, b) in enumerate(live):
            if a in same and b in same:
                scores[i, j] = round(float(compared[i]), 4)
            else:
                rest.append(i)
        score("text", rest)
    rows[:, 4] = rank_scores(z, column("title"), column("text"))
    rows[:, 5] = z
    rows[:, 6:] = scores
    return rows, list(sellers), {v: o[0] for v, o in owners.items()}


# In a pairs pool process: the store and the signals that score pairs (set by `open_scorer`).
_SCORER: tuple[Store, dict[str, Signal]] | None = None


def open_scorer(folder: str, config_json: str, names: list[str], states: dict[str, Any]) -> None:
    """Pool initializer: open the store, and make the signals score as the parent's do (their
    scoring state, such as IDF weights, comes from the parent once; no search structure)."""
    global _SCORER
    signals = create_signals(Config.model_validate_json(config_json), names)
    for name, state in states.items():
        if state is not None:
            signals[name].load_scoring_state(state)
    _SCORER = (Store(Path(folder)), signals)


def score_in_pool(keys: np.ndarray, texts: dict[int, bytes]) -> tuple[np.ndarray, list[str], dict[int, str]]:
    store, signals = _SCORER
    return score_pair_keys(store, signals, keys, {v: unpack_text(blob) for v, blob in texts.items()})


def texts_in_pool(vec_ids: list[int]) -> dict[int, bytes]:
    """The listings' texts as the levels read them (`pack_text`), made once for the whole self-join."""
    store, _ = _SCORER
    texts = listing_texts({v: s.item for v, s in store.items_by_vec(vec_ids).items()})
    return {v: pack_text(t) for v, t in texts.items()}
