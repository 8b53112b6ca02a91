"""Scoring the self-join's candidate pairs in bulk (`SimIndex.pairs`), in the asking process or in its pool.

A chunk of pairs is scored by every signal at once (`Signal.score_many`) and by the bundled level
model (`simgov.matching.catalogue`); a pool process opens the store itself and gets the signals'
scoring state and each chunk's listing texts from the parent, which has them made once per listing.
"""
from __future__ import annotations

import functools
import gc
import json
from collections import deque
from concurrent.futures import Future
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
from .vectors import DenseIndex

#: Queries joined at once on an IVF-Flat index (`DenseIndex.self_join_search`): at 1M titles each of
#: the 4,000 lists then meets some 260 of them in one matrix product.
SELF_JOIN_BLOCK = 32_768
#: Chunks of pairs in flight a pool worker (`PairScoring`).
IN_FLIGHT = 4


def joined_index(signal: Signal) -> DenseIndex | None:
    """The signal's IVF-Flat index when the self-join searches it list by list (`joined_keys`), else None."""
    index = getattr(signal, "index", None)
    return index if isinstance(index, DenseIndex) and index.kind == "ivf" else None


def joined_keys(store: Store, name: str, index: DenseIndex, k: int, nprobe: int, lock,
                scoring: PairScoring | None = None) -> list[np.ndarray]:
    """The pair keys (a << 32 | b, a < b) of every live item's k nearest neighbours in the signal
    `name`'s IVF-Flat `index` (scanning `nprobe` lists), a block of SELF_JOIN_BLOCK items at a time;
    what `SimIndex._candidate_keys` gets from the signal's search, the same neighbours but for ties
    within float rounding (simgov/vectors/self_join.py). `lock`: the index's. `scoring` is given each
    block's pairs as soon as they are found, so the pool scores them while the next block is joined."""
    keys = []
    for batch in store.iter_live(batch=SELF_JOIN_BLOCK):
        blobs = store.blobs(name, [r[0] for r in batch])
        queries = np.fromiter(blobs, dtype=np.int64, count=len(blobs))
        if not len(queries):
            continue
        vectors = np.frombuffer(b"".join(blobs.values()), dtype=np.float32).reshape(len(queries), -1)
        with lock:
            _, found = index.self_join_search(vectors, k, nprobe)
        mine, theirs = np.repeat(queries, found.shape[1]), found.ravel()
        keep = (theirs >= 0) & (mine != theirs)
        keys.append((np.minimum(mine[keep], theirs[keep]) << 32) | np.maximum(mine[keep], theirs[keep]))
        if scoring is not None:
            scoring.add(np.unique(keys[-1]))
    return keys


def score_pair_keys(store: Store, signals: dict[str, Signal], keys: np.ndarray,
                    texts: dict[int, ListingText] | None = None,
                    stored: set[int] | None = None) -> tuple[np.ndarray, list[str], dict[int, str]]:
    """Score a chunk of the self-join's pairs, given as keys a << 32 | b.

    Returns one row per pair whose items are both live, in key order: (a, b, seller of a, seller
    of b, rank score, the bundled level model's logit, then each signal's score as `SimIndex.signal_scores`
    gives it, NaN where either item lacks that signal), sellers as indexes into the returned list
    of seller ids; and the items' ids by vec_id. Each signal scores the whole chunk at once
    (`Signal.score_many`). `texts`: listings' texts as the levels read them, where the caller has
    them (the others are made here); `stored`: which of those listings' stored text profiles are
    their texts' own (`stored_as_texts`; None: checked here). Runs in the process that asked for the
    pairs or in its pool."""
    vec_a, vec_b = (keys >> 32).tolist(), (keys & 0xFFFFFFFF).tolist()
    owners = store.sellers_by_vec(vec_a + vec_b)
    live = [(a, b) for a, b in zip(vec_a, vec_b) if a in owners and b in owners]
    names = list(signals)
    scores = np.full((len(live), len(names)), np.nan)
    vec_ids = list(owners)
    blobs = {name: store.blobs(name, vec_ids) for name in names if name != "text"}  # text: below, where needed

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
        same = stored_as_texts(store, texts, vec_ids) if stored is None else stored
        j = names.index("text")
        rest = []
        for i, (a, b) in enumerate(live):
            if a in same and b in same:
                scores[i, j] = round(float(compared[i]), 4)
            else:
                rest.append(i)
        blobs["text"] = store.blobs("text", {v for i in rest for v in live[i]})
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
    # a task allocates some hundred thousand objects that live until it returns (a chunk's listing
    # texts), and the collector would walk them and the signals' state (an IDF table of the whole
    # catalogue) again and again while they grow: half a chunk's time at 1M listings. The tasks
    # make no reference cycles to speak of, so the pool collects once a task instead (`_collected`)
    gc.disable()


def _collected(task):
    """`task`, then one garbage collection (the pool's collector runs only here: `open_scorer`)."""
    @functools.wraps(task)
    def run(*args):
        try:
            return task(*args)
        finally:
            gc.collect()
    return run


def stored_as_texts(store: Store, texts: dict[int, ListingText], vec_ids: list[int]) -> set[int]:
    """Those of `vec_ids` whose stored text profile (the text signal's blob) is their text's whole
    profile, so the levels' comparison of the whole texts is the text signal's score."""
    return {v for v, blob in store.blobs("text", [v for v in vec_ids if v in texts]).items()
            if TitleProfile.from_dict(json.loads(blob)) == texts[v].full}


@_collected
def score_in_pool(keys: np.ndarray, texts: dict[int, bytes],
                  stored: set[int]) -> tuple[np.ndarray, list[str], dict[int, str]]:
    store, signals = _SCORER
    return score_pair_keys(store, signals, keys, {v: unpack_text(blob) for v, blob in texts.items()}, stored)


@_collected
def texts_in_pool(vec_ids: list[int]) -> tuple[dict[int, bytes], list[int]]:
    """The listings' texts as the levels read them (`pack_text`), and those whose stored text
    profile is their text's (`stored_as_texts`): made and checked once for the whole self-join."""
    store, _ = _SCORER
    texts = listing_texts({v: s.item for v, s in store.items_by_vec(vec_ids).items()})
    return {v: pack_text(t) for v, t in texts.items()}, sorted(stored_as_texts(store, texts, list(texts)))


class PairScoring:
    """The self-join's candidate pairs, scored a chunk at a time as each signal's pairs become
    known (`add`), so that the pool scores one signal's pairs while this process still searches the
    next signal's (`pump` between its batches). `results` are in no set order. Without a pool
    (`pool` None) each chunk is scored here when added."""

    def __init__(self, store: Store, signals: dict[str, Signal], chunk: int, pool=None, workers: int = 1,
                 made: list | None = None):
        self.store, self.signals, self.chunk, self.pool = store, signals, chunk, pool
        # chunks in flight: a few a worker, so memory stays bounded (each holds its listings' texts,
        # some 8 MB) and the pool stays busy between two of the searches' batches
        self.limit = IN_FLIGHT * workers
        self.made = made or []  # futures of the listings' packed texts (`texts_in_pool`), awaited once
        self.texts: dict[int, bytes] | None = None
        self.stored: set[int] = set()
        self.added = np.zeros(0, dtype=np.int64)  # every key added so far, sorted
        self.waiting: deque[np.ndarray] = deque()
        self.running: deque[Future] = deque()
        self.results: list[tuple[np.ndarray, list[str], dict[int, str]]] = []

    def add(self, keys: np.ndarray) -> None:
        """Queue the pairs of sorted unique `keys` (a << 32 | b) that no earlier `add` gave."""
        # by binary search and one insertion into the sorted keys so far: the searches add a block
        # at a time, and sorting everything added again at each block would cost more than the block
        at = np.searchsorted(self.added, keys)
        seen = np.zeros(len(keys), dtype=bool)
        inside = at < len(self.added)
        seen[inside] = self.added[at[inside]] == keys[inside]
        new = keys[~seen]
        self.added = np.insert(self.added, at[~seen], new)
        for start in range(0, len(new), self.chunk):
            part = new[start:start + self.chunk]
            if self.pool is None:
                self.results.append(score_pair_keys(self.store, self.signals, part))
            else:
                self.waiting.append(part)
        self.pump()

    def pump(self, wait: bool = False) -> None:
        """Collect the chunks scored so far and keep the pool busy with the waiting ones, once the
        listings' texts are made (until then, unless `wait`, nothing is sent: this process goes on
        searching instead of waiting for them)."""
        while self.running and self.running[0].done():
            self.results.append(self.running.popleft().result())
        if self.texts is None:
            if not self.waiting or not (wait or all(part.done() for part in self.made)):
                return
            self.texts = {}
            for part in self.made:
                texts, stored = part.result()
                self.texts.update(texts)
                self.stored.update(stored)
            self.made.clear()  # the futures (the caller's list too) let their results go
        while self.waiting and len(self.running) < self.limit:
            part = self.waiting.popleft()
            needed = np.unique(np.concatenate([part >> 32, part & 0xFFFFFFFF])).tolist()
            self.running.append(self.pool.submit(score_in_pool, part, {v: self.texts[v] for v in needed
                                                                         if v in self.texts},
                                                 {v for v in needed if v in self.stored}))

    def finish(self) -> list[tuple[np.ndarray, list[str], dict[int, str]]]:
        """Every added pair's `score_pair_keys` rows, once all are scored (chunks in no set order)."""
        while self.running or self.waiting:
            if self.running:
                self.results.append(self.running.popleft().result())
            self.pump(wait=True)
        self.texts, self.stored = {}, set()  # every chunk is scored: the listings' texts are not held past here
        return self.results
