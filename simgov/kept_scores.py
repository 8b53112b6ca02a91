"""The kept neighbour lists' pair scores (simgov.neighbours): each listing scored with each of its
candidates by the signals that score in bulk for next to nothing, as a lookup scores them.

Scoring the lists' pairs costs about as much as finding them (the text comparison: ~0.9 ms of CPU a
listing at 1M), so above POOL_MIN listings a pool of processes scores each step of the build while
the build searches the next one.
"""
from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .config import Config
from .pool import pool_workers, start_pool
from .signals import Signal, create_signals
from .storage.items import Store

if TYPE_CHECKING:
    from .index import SimIndex

#: Signals whose pair scores the lists keep (cheap to score in bulk at the build; a picture's
#: geometric check per pair is not).
KEPT_SCORES = ("title", "text")
#: Live listings above which a pool scores the lists' pairs (below, starting it costs more than it gives).
POOL_MIN = 100_000

_POOL: dict[str, Any] = {}  # a pool process's store and signals (`_open_pool`)


def score_table(signals: dict[str, Signal], names: list[str], left: list[dict[str, bytes]],
                right: list[dict[str, bytes]]) -> np.ndarray:
    """The scores of the signals `names` of each pair (left[i], right[i]), one row per pair, as
    `SimIndex.signal_scores_many` gives them (rounded to 4 decimals); NaN where a side lacks the
    signal or it gives no score."""
    out = np.full((len(left), len(names)), np.nan, dtype=np.float32)
    for col, name in enumerate(names):
        both = [i for i, (x, y) in enumerate(zip(left, right)) if name in x and name in y]
        if not both:
            continue
        values = signals[name].score_many([left[i][name] for i in both], [right[i][name] for i in both])
        for i, value in zip(both, values):
            if value is not None:
                out[i, col] = round(value, 4)
    return out


def _step_table(store: Store, signals: dict[str, Signal], names: list[str], vec_ids: list[int],
                lists: list[np.ndarray], blobs: dict[int, dict[str, bytes]] | None = None) -> np.ndarray:
    """`score_table` of a build step: each listing (the left side) with each of its candidates."""
    union = sorted(set(np.concatenate(lists).tolist())) if lists else []
    theirs = store.blobs_by_vec(union, names)
    mine = blobs if blobs is not None else store.blobs_by_vec(vec_ids, names)
    left = [mine[v] for v, cands in zip(vec_ids, lists) for _ in range(len(cands))]
    right = [theirs[c] for cands in lists for c in cands.tolist()]
    return score_table(signals, names, left, right)


def _open_pool(folder: str, config_json: str, names: list[str], states: dict[str, Any]) -> None:
    """Pool initializer: the store, and the signals scoring as the parent's do (their scoring state)."""
    signals = create_signals(Config.model_validate_json(config_json), names)
    for name, state in states.items():
        if state is not None:
            signals[name].load_scoring_state(state)
    _POOL.update(store=Store(Path(folder)), signals=signals, names=names)


def _pool_step(vec_ids: list[int], lists: list[np.ndarray]) -> np.ndarray:
    return _step_table(_POOL["store"], _POOL["signals"], _POOL["names"], vec_ids, lists)


class KeptScores:
    """The scores of a build's steps, in step order: scored in this process, or in a pool of the
    index's `pool_workers` processes above POOL_MIN live listings (at most two steps in flight per
    process, so memory stays bounded)."""

    def __init__(self, index: "SimIndex"):
        self.index = index
        self.names = [n for n in index.signals if n in KEPT_SCORES]
        self.workers = pool_workers(index.config)
        self.pool = None
        if self.workers > 1 and index.store.count_items() > POOL_MIN:
            states = {name: index.signals[name].scoring_state() for name in self.names}
            self.pool = start_pool(self.workers, _open_pool,
                                   (str(index.folder), index.config.model_dump_json(), self.names, states))
        self.pending: deque = deque()
        self.done: list[np.ndarray] = []

    def add(self, vec_ids: list[int], lists: list[np.ndarray], blobs: dict[int, dict[str, bytes]]) -> None:
        """Score a step (`blobs`: its listings' own)."""
        if self.pool is None:
            self.done.append(_step_table(self.index.store, self.index.signals, self.names, vec_ids, lists, blobs))
            return
        self.pending.append(self.pool.submit(_pool_step, vec_ids, lists))
        while len(self.pending) > 2 * self.workers:
            self.done.append(self.pending.popleft().result())

    def finish(self) -> np.ndarray | None:
        """Every step's scores, in order (None: no step)."""
        while self.pending:
            self.done.append(self.pending.popleft().result())
        self.close()
        return np.concatenate(self.done) if self.done else None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None
