"""Kept neighbour lists: every listing's lookup candidates, so that `similar` need not search.

A lookup by id searches each signal's structure for the listing's candidates, and its mutual-best
check needs the candidates of each other seller's best candidate in turn (see
SimIndex._reverse_pairs). Both depend only on the listing's blobs, the fetch size and the search
structures, so they are computed once for every live listing, with the lookups' own candidate step
(`SimIndex._search_candidates`: the same candidates a lookup finds), and kept in a file beside the
index's generation. The server builds the file in the background when it starts and it is missing;
lookups answer live meanwhile.

Writes since the lists were made leave them current except where they may have changed: a listing
written since has no list, a list holding a listing replaced or deleted since is stale, and so is the
list of each listing among a new listing's own candidates (where the new one may have entered). A
stale list is searched live, as without kept lists. Known difference: a new listing can enter the
list of a listing that is not among its own candidates (nearest neighbours are not symmetric); that
list is not marked stale and misses it until the lists are built again.

The lists also keep each (listing, candidate) pair's scores of the signals that score in bulk for
next to nothing (KEPT_SCORES: the title vectors' product, the text comparison), as the lookup
scores them: a lookup reads them instead of scoring its candidates and its heads' candidates again
(about half its time). They hold while no write has come since the lists were made (a write
changes the text signal's IDF weights, hence every text score a little): after one, lookups score
live.

While those scores hold, so do the lookups' decisions: the lists also keep each entry's decision
(its shown score, whether it is a match and mutual best), made at the build as the lookups make
them (`SimIndex._kept_decisions`: in bulk, simgov.kept_decisions), so that a lookup of an unchanged
listing reads its candidates decided and only explains the ones it shows. They are kept where
no signal besides KEPT_SCORES has entries (a picture's score is not kept), and read only under the
matcher's thresholds and the combination's constants of the build.
"""
from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import faiss
import numpy as np

from .faiss_threads import faiss_threads
from .kept_scores import KeptScores
from .matching import combine
from .matching.decision import Decision, Matcher
from .storage.neighbours import changed_since
from .vectors import DenseIndex
from .vectors.self_join import ivf_join, ivf_lists

if TYPE_CHECKING:
    from .index import SimIndex

log = logging.getLogger(__name__)

#: Folder of the index holding the kept lists (one file per generation and fetch size).
FOLDER = "neighbours"
#: Listings searched under one hold of the index lock while the lists are built (lookups wait at most that long).
BUILD_STEP = 64
#: FAISS threads searching the listings of a step (the lookups' single-vector searches, side by side).
BUILD_THREADS = 2
#: Listings whose candidates the build finds in one step (what an exact flat index searches as a batch).
BULK_STEP = 1024
#: Neighbours a batched search fetches beyond the lookups' own, so that its top ones can be told apart.
BULK_MARGIN = 16
#: How far a batched (BLAS) inner product may lie from the lookups' one-vector one: float32 sums of
#: a few hundred products of unit vectors err by some 1e-5.
BULK_TOLERANCE = 1e-4
#: Listings an IVF-Flat index searches in one batch (under one hold of the index lock; 1M: 0.98 ms of
#: CPU a listing in batches of 256, 0.69 in batches of 1,024).
IVF_STEP = 512


def _utf8(texts: list[str]) -> np.ndarray:
    """Ids as a numpy bytes array (sortable, searchable, saved without pickling)."""
    return np.array([t.encode("utf-8") for t in texts]) if texts else np.zeros(0, dtype="S1")


def _flat_index(signal) -> faiss.IndexIDMap2 | None:
    """The exact in-process FAISS index (inner product) a signal's search reads, where it has one."""
    store = getattr(signal, "index", None)
    if not isinstance(store, DenseIndex) or store.kind != "flat" or store.oversample != 1 \
            or not isinstance(store.index, faiss.IndexIDMap2):
        return None
    inner = faiss.downcast_index(store.index.index)
    return store.index if isinstance(inner, faiss.IndexFlatIP) else None


def _exact_top(ids: faiss.IndexIDMap2, blobs: list[bytes], fetch: int) -> list[set[int] | None]:
    """Each query's `fetch` nearest vec_ids as the lookups' one-vector search finds them, for many
    queries at once, None where that cannot be told from the batch.

    A batch big enough for FAISS's BLAS path (see `_step_candidates`) gets inner products that may
    differ in the last bits from the one-vector search's, so the set could differ at its edge. Hence
    the batch fetches BULK_MARGIN more, those are scored again with FAISS's one-vector kernel
    (`fvec_inner_products_by_idx`, the values the one-vector search ranks by) and the top `fetch`
    taken, unless two tie at the edge or a vector the batch left out could be above it."""
    inner = faiss.downcast_index(ids.index)
    total, dim = inner.ntotal, inner.d
    k, wide = min(fetch, total), min(fetch + BULK_MARGIN, total)
    if not blobs or k == 0:
        return [set() for _ in blobs]
    queries = np.ascontiguousarray(np.stack([np.frombuffer(b, dtype=np.float32) for b in blobs]))
    sims, rows = inner.search(queries, wide)
    stored = faiss.rev_swig_ptr(inner.get_xb(), total * dim)
    exact = np.empty(rows.shape, dtype=np.float32)
    faiss.fvec_inner_products_by_idx(faiss.swig_ptr(exact), faiss.swig_ptr(queries), faiss.swig_ptr(stored),
                                     faiss.swig_ptr(rows), dim, len(blobs), wide)
    order = np.argsort(-exact, axis=1, kind="stable")
    ranked = np.take_along_axis(exact, order, 1)
    sure = np.ones(len(blobs), dtype=bool)
    if wide > k:  # no tie at the edge
        sure &= ranked[:, k] < ranked[:, k - 1]
    if wide < total:  # what the batch left out scores at most its last one, give or take BULK_TOLERANCE
        sure &= ranked[:, k - 1] > sims[:, wide - 1] + BULK_TOLERANCE
    vec_ids = faiss.vector_to_array(ids.id_map)[np.take_along_axis(rows, order[:, :k], 1)]
    return [set(row.tolist()) if ok else None for row, ok in zip(vec_ids, sure.tolist())]


def _ivf_index(signal) -> faiss.IndexIVFFlat | None:
    """The trained IVF-Flat FAISS index (inner product) a signal's search reads, where it has one."""
    store = getattr(signal, "index", None)
    if not isinstance(store, DenseIndex) or store.kind != "ivf" or store.oversample != 1:
        return None
    return store.index if isinstance(store.index, faiss.IndexIVFFlat) else None


class IvfPlaces:
    """Where each vector of an IVF-Flat index lies (its list and row there), to read stored
    vectors back by id; made again when the index's vector count or the index's writes moved on
    (`key`), and read under the index lock (the lists' memory is FAISS's)."""

    def __init__(self, ivf: faiss.IndexIVFFlat, key: tuple):
        self.key = key
        held = [ids for ids, _ in ivf_lists(ivf)]
        ids = np.concatenate(held) if held else np.zeros(0, dtype=np.int64)
        self.order = np.argsort(ids, kind="stable")
        self.ids = ids[self.order]
        self.list_of = np.repeat(np.arange(len(held), dtype=np.int64), [len(x) for x in held])[self.order]
        self.row_of = np.concatenate([np.arange(len(x), dtype=np.int64) for x in held])[self.order] if held \
            else np.zeros(0, dtype=np.int64)

    def vectors(self, ivf: faiss.IndexIVFFlat, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of `ids` (each held by the index), one row each."""
        at = np.searchsorted(self.ids, ids)
        lists, rows = self.list_of[at], self.row_of[at]
        out = np.empty((len(ids), ivf.d), dtype=np.float32)
        views = ivf_lists(ivf)
        for lst in np.unique(lists).tolist():
            which = np.nonzero(lists == lst)[0]
            out[which] = views[lst][1][rows[which]]
        return out


def _ivf_top(ivf: faiss.IndexIVFFlat, blobs: list[bytes], fetch: int, places: IvfPlaces) -> list[set[int] | None]:
    """Each query's `fetch` nearest vec_ids as the lookups' one-vector search of an IVF-Flat index
    finds them (its own nprobe), for many queries at once, None where that cannot be told.

    The lists a query scans are its nprobe nearest centroids. A batch ranks centroids through BLAS,
    whose products may differ in the last bits from the one-vector search's, so the batch fetches
    BULK_MARGIN more, scores them again with the one-vector kernel (as `_exact_top`) and takes the
    top nprobe, unless two tie at the edge or a centroid the batch left out could be above it.
    Those lists are then joined with the queries list by list (`ivf_join`: one BLAS product a list,
    some 3x less CPU than scanning them query by query), again BULK_MARGIN more than `fetch`, whose
    stored vectors (`places`) are scored again with the one-vector kernel: its top `fetch` are the
    search's unless two tie at the edge or a vector the join left out could be above them."""
    quantizer = faiss.downcast_index(ivf.quantizer)
    n, dim, nlist = len(blobs), ivf.d, ivf.nlist
    if not n:
        return []
    probe, wide = min(ivf.nprobe, nlist), min(ivf.nprobe + BULK_MARGIN, nlist)
    queries = np.ascontiguousarray(np.stack([np.frombuffer(b, dtype=np.float32) for b in blobs]))
    sims, lists = quantizer.search(queries, wide)
    sure, top = _exact_ranked(queries, sims, lists, faiss.rev_swig_ptr(quantizer.get_xb(), nlist * dim), probe,
                              np.full(n, wide >= nlist))
    if not ivf.ntotal:
        return [set() if yes else None for yes in sure.tolist()]
    k = min(fetch, ivf.ntotal)
    sims, found = ivf_join(ivf, queries, np.take_along_axis(lists, top, 1), min(k + BULK_MARGIN, ivf.ntotal))
    valid = found >= 0
    rows = np.zeros(found.shape, dtype=np.int64)
    rows[valid] = np.arange(int(valid.sum()))
    ok, top = _exact_ranked(queries, sims, rows, places.vectors(ivf, found[valid]).ravel(), k, ~valid[:, -1], valid)
    held = np.take_along_axis(found, top, 1)
    return [set(row[row >= 0].tolist()) if yes else None for row, yes in zip(held, (sure & ok).tolist())]


def _exact_ranked(queries: np.ndarray, sims: np.ndarray, rows: np.ndarray, stored: np.ndarray, k: int,
                  complete: np.ndarray, valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A batch search's results (`sims` best first; `rows` into `stored`, vectors of the queries'
    dimension, one after another) scored again with FAISS's one-vector kernel: whether each
    query's top `k` by that kernel is sure (no tie at the edge; where the batch does not hold all
    there is (`complete`), nothing it left out could be above it, give or take BULK_TOLERANCE),
    and the columns of that top `k`. `valid`: the batch's entries that hold a result (the others
    rank last; a query with at most k of them has them all)."""
    n, wide = rows.shape
    exact = np.empty(rows.shape, dtype=np.float32)
    faiss.fvec_inner_products_by_idx(faiss.swig_ptr(exact), faiss.swig_ptr(queries), faiss.swig_ptr(stored),
                                     faiss.swig_ptr(np.ascontiguousarray(rows)), queries.shape[1], n, wide)
    if valid is not None:
        exact[~valid] = -np.inf
    order = np.argsort(-exact, axis=1, kind="stable")
    ranked = np.take_along_axis(exact, order, 1)
    sure = np.ones(n, dtype=bool)
    if wide > k:  # no tie at the edge
        sure &= ranked[:, k] < ranked[:, k - 1]
    # what the batch left out scores at most its last one, give or take BULK_TOLERANCE
    sure &= complete | (ranked[:, k - 1] > sims[:, wide - 1] + BULK_TOLERANCE)
    if valid is not None:
        sure |= valid.sum(axis=1) <= k
    return sure, np.ascontiguousarray(order[:, :k])


def _visit_order(index: "SimIndex", vec_ids: np.ndarray) -> np.ndarray:
    """The order in which the build visits the listings (positions in `vec_ids`): by the IVF-Flat
    title list that holds each, where the titles have one, so that a step's listings lie near one
    another and share many candidates, whose text profiles its scoring then prepares once (1M:
    1.45 against 2.72 ms of CPU a listing); else as stored."""
    with index.lock:
        ivf = next((found for signal in index.signals.values() if (found := _ivf_index(signal)) is not None), None)
        held = np.concatenate([ids.copy() for ids, _ in ivf_lists(ivf)]) if ivf is not None else None
    if held is None or not len(vec_ids) or not len(held):
        return np.arange(len(vec_ids))
    at = np.minimum(np.searchsorted(vec_ids, held), len(vec_ids) - 1)
    live = vec_ids[at] == held
    rank = np.full(len(vec_ids), len(held), dtype=np.int64)  # a listing with no title last
    rank[at[live]] = np.nonzero(live)[0]
    return np.argsort(rank, kind="stable")


def _decided_under(matcher: Matcher) -> np.ndarray:
    """What a lookup's decisions depend on besides the pair scores: the matcher's thresholds and the
    combination's constants and parts (kept decisions hold only under the same)."""
    said = repr((matcher.threshold, matcher.picture_threshold, matcher.video_threshold, combine.BIAS,
                 combine.MUTUAL_BEST, combine.match_parts()))
    return np.array([said.encode("utf-8")])


def _step_candidates(index: "SimIndex", queries: list[dict[str, bytes]], fetch: int,
                     places: dict[str, IvfPlaces]) -> list[set[int]]:
    """`index._search_candidates(queries, fetch)` for a step of the build: signals searched by an
    exact flat index in one batch (`_exact_top`: about 8x faster than one search per listing at
    50k) or by an IVF-Flat index in batches of IVF_STEP (`_ivf_top`: 1M, 0.7 against 2.2 ms of CPU a
    listing searched one by one), the other signals, and the queries a batch could not settle,
    searched as the lookups search, BUILD_STEP listings under one hold of the index lock. `places`:
    the IVF-Flat indexes' `IvfPlaces`, kept from step to step."""
    with index.lock:
        flat = {name: ids for name, signal in index.signals.items() if (ids := _flat_index(signal)) is not None}
        ivf = {name: lists for name, signal in index.signals.items() if (lists := _ivf_index(signal)) is not None}
    found = _searched(index, [{n: b for n, b in q.items() if n not in flat and n not in ivf} for q in queries], fetch)
    for name, lists in ivf.items():
        which = [i for i, q in enumerate(queries) if name in q]
        tops = []
        for start in range(0, len(which), IVF_STEP):
            # one thread: the scoring pool keeps the other core busy, and OpenMP threads waiting
            # for a busy core at every barrier made a 1M build's searches 5x longer than their CPU
            with index.lock, faiss_threads(1):
                key = (lists.ntotal, index.applied_seq)
                if name not in places or places[name].key != key:
                    places[name] = IvfPlaces(lists, key)
                tops += _ivf_top(lists, [queries[i][name] for i in which[start:start + IVF_STEP]], fetch,
                                 places[name])
        unsure = [i for i, cands in zip(which, tops) if cands is None]
        for i, cands in zip(which, tops):
            found[i] |= cands or set()
        for i, cands in zip(unsure, _searched(index, [{name: queries[i][name]} for i in unsure], fetch)):
            found[i] |= cands
    for name, ids in flat.items():
        which = [i for i, q in enumerate(queries) if name in q]
        # FAISS multiplies a batch through BLAS once queries x dims reach its threshold (128,000 in
        # 1.15: 334 titles of 384 dims), else it searches query by query, no faster than lookups
        # (one thread: BLAS threads spinning on 2 busy cores made a batch 4x slower)
        least = -(-faiss.cvar.distance_compute_blas_threshold // ids.d)
        tops = []
        for part in np.array_split(np.array(which, dtype=np.int64), max(1, len(which) // least)):
            with index.lock, faiss_threads(1):
                tops += _exact_top(ids, [queries[i][name] for i in part.tolist()], fetch)
        unsure = [i for i, cands in zip(which, tops) if cands is None]
        for i, cands in zip(which, tops):
            found[i] |= cands or set()
        for i, cands in zip(unsure, _searched(index, [{name: queries[i][name]} for i in unsure], fetch)):
            found[i] |= cands
    return found


def _searched(index: "SimIndex", queries: list[dict[str, bytes]], fetch: int) -> list[set[int]]:
    return [cands for start in range(0, len(queries), BUILD_STEP)
            for cands in index._search_candidates(queries[start:start + BUILD_STEP], fetch, BUILD_THREADS)]


class NeighbourLists:
    """Each listing's candidates (vec_ids, the union over its signals) and seller, as of `seq`, and
    the pair scores of the KEPT_SCORES signals (`score_names`) of each list entry, if kept."""

    def __init__(self, generation: str, seq: int, fetch: int, vec_ids: np.ndarray, item_ids: np.ndarray,
                 sellers: np.ndarray, seller_names: list[str], offsets: np.ndarray, candidates: np.ndarray,
                 score_names: list[str] | None = None, scores: np.ndarray | None = None,
                 decisions: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None):
        self.generation, self.seq, self.fetch = generation, seq, fetch
        self.vec_ids, self.item_ids, self.sellers = vec_ids, item_ids, sellers
        self.seller_names = seller_names
        self.offsets, self.neighbour_ids = offsets, candidates
        self.score_names, self.scores = score_names or [], scores
        # each entry's decided score and flags (1: match, 2: mutual best), and what they were decided under
        self.decisions = decisions
        self._seller_codes: dict[str, int] | None = None  # seller name -> its code in `sellers`, when first asked
        self.synced_seq = seq
        # listings whose list may be out of date (see the module docstring), and those dead since `seq`
        self.stale: set[int] = set()
        self._by_item = np.argsort(item_ids, kind="stable")

    # -- building, saving, loading ------------------------------------------------------------
    @classmethod
    def build(cls, index: "SimIndex", fetch: int) -> "NeighbourLists | None":
        """The lists for the index's current structures; None when a new generation was loaded
        meanwhile (the lists would mix two). The listings are visited in `_visit_order`, their
        lists kept in vec_id order."""
        generation, seq = index.manifest.get("generation"), index.applied_seq
        names: dict[str, int] = {}
        rows = [(v, item_id, names.setdefault(seller, len(names)))
                for batch in index.store.iter_live() for v, item_id, seller in batch]
        vec_ids = np.array([r[0] for r in rows], dtype=np.int64)
        item_ids = _utf8([r[1] for r in rows])
        sellers = np.array([r[2] for r in rows], dtype=np.int32)
        del rows
        order = _visit_order(index, vec_ids)
        lists: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * len(vec_ids)
        kept = True  # no write came while the lists were made: their scores hold
        places: dict[str, IvfPlaces] = {}
        scoring = KeptScores(index)
        try:
            for start in range(0, len(order), BULK_STEP):
                at = order[start:start + BULK_STEP].tolist()
                step = vec_ids[at].tolist()
                blobs = index.item_blobs(step)
                found = _step_candidates(index, [blobs[v] for v in step], fetch, places)
                step_lists = [np.fromiter(sorted(c - {v}), dtype=np.int64) for v, c in zip(step, found)]
                if kept:  # and they hold while the structures (the text signal's IDF) are as at `seq`
                    scoring.add(step, step_lists, blobs)
                    kept = index.applied_seq == seq
                for row, found_list in zip(at, step_lists):
                    lists[row] = found_list
                if index.manifest.get("generation") != generation:
                    return None
            scores = scoring.finish() if kept else None
        finally:
            scoring.close()
        lengths = np.array([len(c) for c in lists], dtype=np.int64)
        offsets = np.zeros(len(lists) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        if scores is not None:  # scored in visit order: each row's entries moved to its place
            visited = np.zeros(len(lists) + 1, dtype=np.int64)
            np.cumsum(lengths[order], out=visited[1:])
            place = np.empty(len(order), dtype=np.int64)
            place[order] = np.arange(len(order))
            scores = scores[np.repeat(visited[place] - offsets[:-1], lengths) + np.arange(offsets[-1])]
        out = cls(generation, seq, fetch, vec_ids, item_ids, sellers, list(names), offsets,
                  np.concatenate(lists) if lists else np.zeros(0, dtype=np.int64),
                  scoring.names if scores is not None else None, scores)
        if scores is not None:
            decided = index._kept_decisions(out)
            if decided is not None and index.applied_seq == seq:
                out.decisions = (*decided, _decided_under(index.matcher))
        return out

    @staticmethod
    def path(folder: Path, generation: str, fetch: int) -> Path:
        return folder / FOLDER / f"{generation}-fetch{fetch}.npz"

    def save(self, folder: Path) -> None:
        """Write the file (atomically) and remove other generations' lists."""
        target = self.path(folder, self.generation, self.fetch)
        target.parent.mkdir(exist_ok=True)
        tmp = target.with_name(f".tmp-{os.getpid()}-{threading.get_ident()}-{target.name}")
        with open(tmp, "wb") as f:
            kept = {"score_names": _utf8(self.score_names), "scores": self.scores} if self.scores is not None else {}
            if self.decisions is not None:
                kept.update(zip(("decided_scores", "decided_flags", "decided_under"), self.decisions))
            np.savez(f, meta=np.array([self.seq, self.fetch], dtype=np.int64), vec_ids=self.vec_ids,
                     item_ids=self.item_ids, sellers=self.sellers, seller_names=_utf8(self.seller_names),
                     offsets=self.offsets, candidates=self.neighbour_ids, **kept)
        os.replace(tmp, target)
        for old in target.parent.iterdir():
            if old.name != target.name and not old.name.startswith("."):
                old.unlink(missing_ok=True)

    @classmethod
    def load(cls, folder: Path, generation: str, fetch: int) -> "NeighbourLists | None":
        """The kept lists of this generation and fetch size, if any were saved."""
        try:
            with np.load(cls.path(folder, generation, fetch)) as data:
                seq, kept_fetch = (int(x) for x in data["meta"])
                names = [s.decode("utf-8") for s in data["seller_names"].tolist()]
                scored = "scores" in data.files
                decided = "decided_scores" in data.files
                return cls(generation, seq, kept_fetch, data["vec_ids"], data["item_ids"], data["sellers"], names,
                           data["offsets"], data["candidates"],
                           [s.decode("utf-8") for s in data["score_names"].tolist()] if scored else None,
                           data["scores"] if scored else None,
                           (data["decided_scores"], data["decided_flags"], data["decided_under"]) if decided else None)
        except FileNotFoundError:
            return None

    # -- reading ------------------------------------------------------------------------------
    def sync(self, index: "SimIndex") -> None:
        """Mark stale what the writes since the last sync may have changed (see the module docstring)."""
        if index.applied_seq <= self.synced_seq:
            return
        upto = index.applied_seq
        changed = changed_since(index.store, self.synced_seq, upto)
        dead = set()
        if changed:
            keys = _utf8([c[0] for c in changed])
            at = np.searchsorted(self.item_ids, keys, sorter=self._by_item)
            at = np.minimum(at, max(len(self.item_ids) - 1, 0))
            hit = self._by_item[at] if len(self.item_ids) else np.zeros(0, dtype=np.int64)
            same = self.item_ids[hit] == keys if len(hit) else np.zeros(0, dtype=bool)
            dead = {int(v) for v in self.vec_ids[hit[same]] if v <= self.seq}
        self.stale |= dead
        if dead:
            holders = np.nonzero(np.isin(self.neighbour_ids, np.fromiter(dead, dtype=np.int64)))[0]
            rows = np.searchsorted(self.offsets, holders, side="right") - 1
            self.stale.update(self.vec_ids[np.unique(rows)].tolist())
        new = [vec_id for _, vec_id, deleted in changed if not deleted]
        if new:
            blobs = index.item_blobs(new)
            for found in index._candidates_many([blobs[v] for v in new if blobs[v]], self.fetch):
                self.stale.update(found)
        self.synced_seq = upto

    def candidates(self, vec_ids: list[int]) -> list[set[int] | None]:
        """Each listing's kept candidates, None where it has no current list."""
        at = np.searchsorted(self.vec_ids, vec_ids)
        out: list[set[int] | None] = []
        for vec_id, i in zip(vec_ids, at.tolist()):
            if vec_id in self.stale or i >= len(self.vec_ids) or self.vec_ids[i] != vec_id:
                out.append(None)
            else:
                out.append(set(self.neighbour_ids[self.offsets[i]:self.offsets[i + 1]].tolist()))
        return out

    def _span(self, vec_id: int) -> tuple[int, int] | None:
        """Where the listing's list lies in `neighbour_ids` (and its rows of scores and decisions);
        None where the lists do not hold it."""
        i = int(np.searchsorted(self.vec_ids, vec_id))
        if i >= len(self.vec_ids) or self.vec_ids[i] != vec_id:
            return None
        return int(self.offsets[i]), int(self.offsets[i + 1])

    def entry(self, vec_id: int) -> tuple[set[int], dict[int, dict[str, float]] | None] | None:
        """`(candidates([vec_id])[0], kept_scores(vec_id))` from one look-up of the listing's row (a
        lookup's own list); None where it has no current list."""
        span = None if vec_id in self.stale else self._span(vec_id)
        if span is None:
            return None
        start, end = span
        cands = self.neighbour_ids[start:end].tolist()
        if self.scores is None or self.synced_seq != self.seq:
            return set(cands), None
        return set(cands), self._scored(cands, self.scores[start:end].tolist())

    def decided(self, vec_id: int, matcher: Matcher, order: list[str]):
        """A lookup's decided candidates of the listing, read from its kept decisions: (owners
        {vec_id: (item_id, seller_id)} in ascending vec_id, {vec_id: signal scores in `order`},
        {vec_id: (Decision, mutual best)}), as `SimIndex._decided` gives them with no least score;
        None where they may have changed (a write since the lists were made, other thresholds or
        combination constants)."""
        if self.decisions is None or self.synced_seq != self.seq or vec_id in self.stale:
            return None
        shown, flags, under = self.decisions
        if not np.array_equal(under, _decided_under(matcher)):
            return None
        span = self._span(vec_id)
        if span is None:
            return None
        start, end = span
        cands = self.neighbour_ids[start:end].tolist()
        kept = self._scored(cands, self.scores[start:end].tolist())
        owners = self.owners(cands)
        decided = {c: (Decision(score=round(x, 4), match=bool(f & 1)), bool(f & 2))
                   for c, x, f in zip(cands, shown[start:end].tolist(), flags[start:end].tolist())}
        return (dict(sorted(owners.items())), {c: {n: kept[c][n] for n in order if n in kept[c]} for c in owners},
                decided)

    def _scored(self, cands: list[int], rows: list[list[float]]) -> dict[int, dict[str, float]]:
        names = self.score_names
        # float32 holds a score of 4 decimals to 7 digits: rounding gives the stored value back
        return {c: {n: round(x, 4) for n, x in zip(names, row) if x == x}  # x == x: not NaN
                for c, row in zip(cands, rows)}

    def kept_scores(self, vec_id: int, only: set[int] | None = None) -> dict[int, dict[str, float]] | None:
        """The kept pair scores of a listing with each of its candidates (`only` those among
        them): {candidate: {signal: score}}, signals in `score_names`' order; None where it has no
        current list or its scores may have changed (a write since the lists were made)."""
        if self.scores is None or self.synced_seq != self.seq or vec_id in self.stale:
            return None
        span = self._span(vec_id)
        if span is None:
            return None
        start, end = span
        cands = self.neighbour_ids[start:end].tolist()
        if only is None:
            return self._scored(cands, self.scores[start:end].tolist())
        at = [j for j, c in enumerate(cands) if c in only]
        return self._scored([cands[j] for j in at], self.scores[start:end][at].tolist())

    def in_seller(self, vec_ids: set[int], seller_id: str) -> tuple[set[int], list[int]]:
        """Those of `vec_ids` the lists know as `seller_id`'s (live when the lists were made and not
        dead since), and those they cannot tell (written since, or dead: the store can)."""
        if not vec_ids:
            return set(), []
        asked = np.fromiter(vec_ids, dtype=np.int64, count=len(vec_ids))
        if not len(self.vec_ids):
            return set(), asked.tolist()
        at = np.minimum(np.searchsorted(self.vec_ids, asked), len(self.vec_ids) - 1)
        known = self.vec_ids[at] == asked
        if self.stale:
            known &= ~np.isin(asked, np.fromiter(self.stale, dtype=np.int64, count=len(self.stale)))
        if self._seller_codes is None:
            self._seller_codes = {name: code for code, name in enumerate(self.seller_names)}
        mine = asked[known & (self.sellers[at] == self._seller_codes.get(seller_id, -1))]
        return set(mine.tolist()), asked[~known].tolist()

    def listing(self, item_id: str) -> tuple[int, str] | None:
        """(vec_id, seller_id) of the item when the lists know it as live and unchanged since (else
        None: the store knows)."""
        if not len(self.item_ids):
            return None
        key = item_id.encode("utf-8")
        at = int(np.searchsorted(self.item_ids, key, sorter=self._by_item))
        row = int(self._by_item[min(at, len(self.item_ids) - 1)])
        vec_id = int(self.vec_ids[row])
        if self.item_ids[row] != key or vec_id in self.stale:
            return None
        return vec_id, self.seller_names[int(self.sellers[row])]

    def owners(self, vec_ids: list[int]) -> dict[int, tuple[str, str]]:
        """(item_id, seller_id) of each listing that was live when the lists were made and is not
        dead since, as `Store.sellers_by_vec` gives them, without a query."""
        if not len(self.vec_ids) or not vec_ids:
            return {}
        asked = np.array(vec_ids, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.vec_ids, asked), len(self.vec_ids) - 1)
        known = self.vec_ids[at] == asked
        names, rows = self.seller_names, at[known]
        return {v: (item_id.decode("utf-8"), names[s]) for v, item_id, s
                in zip(asked[known].tolist(), self.item_ids[rows].tolist(), self.sellers[rows].tolist())
                if v not in self.stale}


class StoredBlobs(Mapping):
    """One listing's signal blobs, read from the store when first used: a lookup whose pair scores
    are all kept needs its candidates' blobs only for the ones it shows (`read`, in one query)."""

    def __init__(self, index: "SimIndex", vec_id: int, names: list[str]):
        self.index, self.vec_id, self.names = index, vec_id, names
        self.blobs: dict[str, bytes] | None = None

    @staticmethod
    def read(index: "SimIndex", listings: list) -> list:
        """Each of `listings` as a plain dict of blobs, those that are StoredBlobs not read yet read
        in one query (per set of signals)."""
        todo = [x for x in listings if isinstance(x, StoredBlobs) and x.blobs is None]
        for group in {tuple(x.names) for x in todo}:
            found = index.item_blobs([x.vec_id for x in todo if tuple(x.names) == group], list(group))
            for x in todo:
                if tuple(x.names) == group:
                    x.blobs = found[x.vec_id]
        return [x._read() if isinstance(x, StoredBlobs) else x for x in listings]

    def _read(self) -> dict[str, bytes]:
        if self.blobs is None:
            self.blobs = self.index.item_blobs([self.vec_id], self.names)[self.vec_id]
        return self.blobs

    def __getitem__(self, name: str) -> bytes:
        return self._read()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())


class KeptNeighbours:
    """The index's kept lists for the lookups' default fetch size, once they are loaded or built."""

    def __init__(self, index: "SimIndex"):
        self.index = index
        self.lists: NeighbourLists | None = None
        self._tried: str | None = None  # the generation whose saved lists were last looked for
        self._building = threading.Lock()
        self._background = False  # a server's: a new generation's lists are built as its start built them

    def fetch(self) -> int:
        """The fetch size of a lookup with the default k (SimIndex._neighbours)."""
        return self.index.config.search.candidates_per_signal + 1

    def current(self) -> NeighbourLists | None:
        """The lists for the index's loaded generation, synced with the writes since; None when
        there are none (yet), or when they are ahead of the writes this index has replayed."""
        with self.index.lock:
            generation = self.index.manifest.get("generation")
            if generation is not None and self._tried != generation:
                self._tried = generation
                self.lists = NeighbourLists.load(self.index.folder, generation, self.fetch())
                if self.lists is None and self._background and not self._building.locked():
                    threading.Thread(target=self.warm, args=(True,), daemon=True, name="simgov-neighbours").start()
            lists = self.lists
            if lists is None or lists.generation != generation or lists.seq > self.index.applied_seq:
                return None
            lists.sync(self.index)
            return lists

    def warm(self, follow: bool = False) -> None:
        """Load the kept lists, or build and save them when this generation has none (a server's
        start, in a background thread: lookups answer live meanwhile). One process builds; the
        others (a server's workers) wait for its file. `follow`: also build a newly published
        generation's lists, in a background thread, when a lookup first finds it (a server)."""
        if self.current() is not None:
            self._background = follow
            return
        try:
            folder = self.index.folder / FOLDER
            folder.mkdir(exist_ok=True)
            with self._building, open(folder / ".lock", "a") as lock:
                self._background = follow
                fcntl.flock(lock, fcntl.LOCK_EX)
                self._tried = None
                if self.current() is not None:
                    return
                lists = NeighbourLists.build(self.index, self.fetch())
                if lists is not None:
                    lists.save(self.index.folder)
                    with self.index.lock:
                        self.lists = lists
        except OSError as exc:  # an unwritable index folder or a full disk: lookups stay live
            log.warning("no kept neighbour lists for %s: %s", self.index.folder, exc)
