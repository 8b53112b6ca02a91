"""The open index: manifest, store and every signal's search structure, as one object per process.

CLI commands and API handlers share this object. Index files are published atomically as a new
generation folder named by the manifest; writes after the files were saved live in the store and
are replayed at open and whenever another process has written (so API workers stay in step).
"""
from __future__ import annotations

import bisect
import hashlib
import itertools
import os
import shutil
import threading
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Iterator, Mapping

import numpy as np

from .accounts.index import AccountIndex
from .banks import Banks, brand_of
from .config import Config
from .errors import BadInput, IndexMismatch, SimgovError, UnknownId
from .faiss_threads import faiss_threads
from .generations import GENERATIONS, INDEX_FORMAT, MANIFEST, fsync_path, read_manifest, write_json_atomic
from .lexical_candidates import found_by_knn, lexical_extra_keys
from .matching.catalogue import FIT_AT_BUILD_MAX_ITEMS, CatalogueFit, fit_catalogue
from .matching.decision import Decision, Matcher, mutual_best, mutual_best_arrays, relation, stated_code_conflicts
from .matching.levels import bundled_model
from .matching.stock_photo import shared_catalogue_photo
from .kept_decisions import kept_decisions
from .pair_table import KeptPairTable, PairTable, save_pair_table, table_from_chunks, table_key
from .kept_scores import KEPT_SCORES
from .neighbours import KeptNeighbours, NeighbourLists, StoredBlobs
from .pair_scoring import PairScoring, joined_index, joined_keys, open_scorer, texts_in_pool
from .pool import pool_workers, start_pool
from .records import Neighbour, Pair
from .schema import Item
from .signals import BuildContext, Query, Signal, SignalOutput, create_signals
from .storage.items import ItemWrite, StoredItem, Store
from .storage.verdicts import VerdictTables
from .title_rescore import rescore_pairs

# Rebuild instead of appending once this share of indexed vectors belongs to replaced or deleted items.
MAX_DEAD_SHARE = 0.25
#: A description this long (in words) or longer, the same word for word in two sellers' listings, is copied text.
MIN_COPIED_WORDS = 8
#: Own-seller candidates of a lookup whose own best candidates are looked up too (the within-seller rule).
OWN_SELLER_HEADS = 10
#: Candidate lists kept between lookups (see SimIndex._candidates_many); the cache starts over when full.
CANDIDATE_CACHE_SIZE = 50_000
#: A lookup's mutual-best reverse check scans the query seller's live listings up to this many (more:
#: each of the query's best candidates is searched, see SimIndex._reverse_pairs).
SELLER_SCAN_MAX = 100
#: Signals that score in bulk for next to nothing (a vector product, a word overlap): the scan scores
#: them; any other (pictures, videos: a geometric check per pair) it bounds. The kept lists keep their scores.
SCAN_SCORED = KEPT_SCORES


def price_ratio(candidate: Item, reference: Item) -> float | None:
    """Candidate price over reference price, when both are known in the same currency."""
    if candidate.price is None or not reference.price:
        return None
    if (candidate.currency or "").upper() != (reference.currency or "").upper():
        return None
    return round(candidate.price / reference.price, 4)


def same_description(a: Item, b: Item) -> bool:
    """The two listings carry the same description, word for word (case and spacing aside), and
    long enough that two sellers do not write it by chance."""
    words_a = (a.description or "").casefold().split()
    return len(words_a) >= MIN_COPIED_WORDS and words_a == (b.description or "").casefold().split()


class SimIndex:
    """An index folder opened for reading and writing."""

    def __init__(self, folder: Path, config: Config, store: Store, signals: dict[str, Signal], manifest: dict):
        self.folder = folder
        self.config = config
        self.store = store
        self.signals = signals
        self.manifest = manifest
        self.matcher = Matcher(config.thresholds)
        self.lock = threading.RLock()
        self.applied_seq = int(manifest.get("applied_seq", 0))
        self.indexed_vectors = 0
        # (fetch, digest of the query's blobs) -> candidate vec_ids, for the structures' state; see _candidates_many
        self._candidate_cache: dict[tuple[int, bytes], np.ndarray] = {}
        self._candidate_state: tuple | None = None
        self._manifest_stamp: tuple[int, int, int] | None = None  # see _changed_manifest
        self.accounts = AccountIndex(self)  # accounts: structures, `linked`, `rings`
        self.banks = Banks(self)  # known-bad banks: every written listing is checked against them
        self.neighbours = KeptNeighbours(self)  # every listing's lookup candidates, kept (simgov.neighbours)
        self._pair_tables = KeptPairTable()  # the last self-join's table (simgov.pair_table)

    # -- opening ------------------------------------------------------------------------------
    @classmethod
    def open(cls, folder: str | os.PathLike, *, create_with: Config | None = None) -> "SimIndex":
        """Open an existing index; with `create_with`, create it when the folder has none yet."""
        folder = Path(folder)
        manifest = read_manifest(folder)
        if manifest is None:
            if create_with is None:
                raise SimgovError(f"no simgov index in {folder} "
                                  f"(build one with: simgov build --items F --index {folder})")
            return cls._create(folder, create_with)
        if manifest.get("format") != INDEX_FORMAT:
            raise IndexMismatch(f"index in {folder} has format {manifest.get('format')}, "
                                f"this simgov reads {INDEX_FORMAT}")
        config = Config.model_validate(manifest["config"])
        if create_with is not None and not create_with.thresholds:  # calibrated ones (simgov calibrate --write) stay
            create_with = create_with.model_copy(update={"thresholds": config.thresholds})
        if create_with is not None and create_with.model_dump() != config.model_dump():
            config = create_with
        signals = create_signals(config, list(manifest["signals"]))
        for name, signal in signals.items():
            want, have = manifest["signals"][name], signal.identity()
            if want != have:
                diff = ", ".join(f"{k}: index {want.get(k)!r} vs now {have.get(k)!r}"
                                 for k in sorted(set(want) | set(have)) if want.get(k) != have.get(k))
                raise IndexMismatch(f"the index in {folder} was built with a different {name} signal ({diff}); "
                                    "rebuild it into a new folder or configure the model it was built with")
        index = cls(folder, config, Store(folder), signals, manifest)
        index._load_generation(manifest)
        index.indexed_vectors = max(s.size() for s in signals.values()) if signals else 0
        index.refresh()
        return index

    @classmethod
    def _create(cls, folder: Path, config: Config) -> "SimIndex":
        folder.mkdir(parents=True, exist_ok=True)
        signals = create_signals(config)
        manifest = {"format": INDEX_FORMAT, "generation": None, "applied_seq": 0,
                    "signals": {n: s.identity() for n, s in signals.items()},
                    "config": config.model_dump(mode="json")}
        index = cls(folder, config, Store(folder), signals, manifest)
        for signal in signals.values():
            signal.reset(1)
        index.accounts.reset(1)
        return index

    def _load_generation(self, manifest: dict) -> None:
        """Load every structure of the manifest's generation. A publish removes the generation it
        replaces, so a reader that read the manifest just before can find it gone: it then follows
        the newer manifest, and never fails on nor mixes two generations."""
        self._drop_candidate_cache()
        while True:
            generation = self.folder / GENERATIONS / manifest["generation"]
            try:
                for signal in self.signals.values():
                    signal.load(generation)
                self.accounts.load(generation, manifest.get("accounts"), int(manifest["applied_seq"]))
                break
            except Exception:
                newer = read_manifest(self.folder)
                if not newer or newer.get("generation") == manifest["generation"]:
                    raise
                manifest = newer
        self.manifest = manifest
        self.applied_seq = int(manifest["applied_seq"])

    # -- keeping in step with the store -------------------------------------------------------
    def refresh(self) -> None:
        """Pick up a newly published generation, then replay store writes the index lacks."""
        on_disk = self._changed_manifest()
        with self.lock:
            if on_disk and on_disk.get("generation") != self.manifest.get("generation") and on_disk.get("generation"):
                self._load_generation(on_disk)
                self.indexed_vectors = max(s.size() for s in self.signals.values())
            if self.store.current_seq() > self.applied_seq:
                self._replay()

    def _changed_manifest(self) -> dict | None:
        """The manifest on disk if its file changed since the last read, else None: every lookup
        refreshes, and parsing it each time was ~4% of one. A publish replaces the file by a
        rename (a new inode), so (inode, size, mtime) changes; stat before read, so a file
        replaced in between is only read once more."""
        try:
            st = os.stat(self.folder / MANIFEST)
        except FileNotFoundError:
            return None
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        if stamp == self._manifest_stamp:
            return None
        manifest = read_manifest(self.folder)
        self._manifest_stamp = stamp
        return manifest

    def _replay(self) -> None:
        # Read the sequence number first: a write committed by another process after it is left
        # for the next replay instead of being skipped for good.
        seq = self.store.current_seq()
        vec_ids = self.store.live_vec_ids_between(self.applied_seq, seq)
        for start in range(0, len(vec_ids), 5000):
            self._add_to_indexes(vec_ids[start:start + 5000])
        self.accounts.replay(self.applied_seq, seq)
        self.applied_seq = seq

    def _add_to_indexes(self, vec_ids: list[int], skip: frozenset[str] = frozenset()) -> None:
        self._drop_candidate_cache()
        for name, signal in self.signals.items():
            if name in skip:
                continue
            blobs = self.store.blobs(name, vec_ids)
            ids = [v for v in vec_ids if v in blobs]
            signal.add(np.array(ids, dtype=np.int64), [blobs[v] for v in ids])
        self.indexed_vectors += len(vec_ids)

    # -- writing ------------------------------------------------------------------------------
    def compute(self, items: list[Item], ctx: BuildContext, hashes: list[str] | None = None,
                done: dict[str, list[SignalOutput]] | None = None) -> list[ItemWrite]:
        """Run every signal over a batch of items; a signal's problems never drop the item.
        `hashes`: the items' content hashes when the caller already has them (the bulk build
        does; hashing again cost about 4% of a build). `done`: outputs of signals already
        computed elsewhere (the bulk build's process pool), by signal."""
        done = done or {}
        outputs = {name: done[name] if name in done else signal.compute(items, ctx)
                   for name, signal in self.signals.items()}
        writes = []
        for i, item in enumerate(items):
            blobs = {n: out[i].blob for n, out in outputs.items() if out[i].blob is not None}
            problems = [(n, p) for n, out in outputs.items() for p in out[i].problems]
            writes.append(ItemWrite(item, hashes[i] if hashes is not None else item.content_hash(), blobs, problems))
        return writes

    def write(self, writes: list[ItemWrite], *, live: bool = True) -> list[tuple[int, int | None]]:
        """Store a batch durably; with `live`, make it searchable in this process at once.
        Returns `Store.write_items`' (new vec_id, replaced vec_id or None) per write."""
        with self.lock:
            written = self.store.write_items(writes)
            self.banks.flag(writes)
            if live:
                self._replay()
        return written

    def delete(self, item_id: str) -> None:
        with self.lock:
            if self.store.delete_item(item_id) is None:
                raise UnknownId("item", item_id)
            self._replay()  # also takes in other processes' writes made before this delete

    def dead_share(self) -> float:
        live = self.store.count_items()
        return 0.0 if self.indexed_vectors == 0 else max(0.0, 1 - live / self.indexed_vectors)

    def rebuild_structures(self, skip: frozenset[str] = frozenset()) -> None:
        """Fresh search structures from the store's live items (compacts replaced vectors).
        Signals in `skip` keep the structure the caller gave them (the ray engine's IVF-PQ)."""
        live = self.store.count_items()
        with self.lock:
            self._drop_candidate_cache()
            for name, signal in self.signals.items():
                if name not in skip:
                    signal.reset(live)
            self.indexed_vectors = 0
            seq = self.store.current_seq()
            for batch in self.store.iter_live():
                self._add_to_indexes([r[0] for r in batch], skip)
            self.accounts.rebuild(seq)
            self.applied_seq = seq

    def publish(self, extra: dict | None = None) -> dict:
        """Save every search structure as a new generation and switch the manifest to it atomically."""
        with self.lock:
            root = self.folder / GENERATIONS
            root.mkdir(parents=True, exist_ok=True)
            name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{self.applied_seq}"
            tmp = root / f".tmp-{name}"
            shutil.rmtree(tmp, ignore_errors=True)
            try:
                tmp.mkdir()
                files = {n: s.save(tmp) for n, s in self.signals.items()}
                accounts = self.accounts.save(tmp)
                pairs_key = table_key(self.applied_seq, self.config.search.pairs_k, self.config)
                if (kept_pairs := self._kept_pair_table(pairs_key)) is not None:  # the build's, for the detectors
                    save_pair_table(tmp, pairs_key, kept_pairs)
                for path in tmp.iterdir():  # every file's data on disk before the folder is named
                    if path.is_file():
                        fsync_path(path)
                fsync_path(tmp)
                os.replace(tmp, root / name)
                fsync_path(root)
                manifest = dict(self.manifest)
                manifest.update({
                    "format": INDEX_FORMAT, "generation": name, "applied_seq": self.applied_seq,
                    "published_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "signals": {n: s.identity() for n, s in self.signals.items()},
                    "config": self.config.model_dump(mode="json"),
                    "files": files,
                    "accounts": accounts,
                    "counts": {"items": self.store.count_items(), "accounts": accounts["accounts"],
                               **{f"{n}_entries": s.size() for n, s in self.signals.items()}},
                    **(extra or {}),
                })
                write_json_atomic(self.folder / MANIFEST, manifest)
            except (OSError, RuntimeError) as exc:  # RuntimeError: FAISS's write errors (a full disk)
                shutil.rmtree(tmp, ignore_errors=True)
                if (read_manifest(self.folder) or {}).get("generation") != name:
                    shutil.rmtree(root / name, ignore_errors=True)
                raise SimgovError(f"cannot publish a new index generation in {self.folder}: {exc}; the index "
                                  "published before stays in use") from exc
            self.manifest = manifest
            for old in root.iterdir():
                if old.name != name:
                    if not old.name.startswith("."):
                        for signal in self.signals.values():
                            signal.discard(old)  # e.g. drop a superseded generation's Milvus collection
                    shutil.rmtree(old, ignore_errors=True)
            return manifest

    def data_roots(self) -> list[Path]:
        """Folders that relative image paths of ingested items resolve against (from the last build)."""
        return [Path(r) for r in self.manifest.get("data_roots", [])] or [self.folder]

    # -- reading ------------------------------------------------------------------------------
    def item(self, item_id: str):
        stored = self.store.get_item(item_id)
        if stored is None:
            raise UnknownId("item", item_id)
        return stored

    def _signal_names(self, names: list[str] | None) -> list[str]:
        if not names:
            return list(self.signals)
        unknown = [n for n in names if n not in self.signals]
        if unknown:
            raise BadInput(f"unknown signal(s): {', '.join(unknown)}; this index has {', '.join(self.signals)}")
        return names

    def signal_scores(self, a: dict[str, bytes], b: dict[str, bytes]) -> dict[str, float]:
        """Per-signal scores of two items' blobs; a signal either item lacks is absent."""
        scores = {}
        for name in [n for n in a if n in b]:  # a's order (was a set: order varied between processes)
            value = self.signals[name].score(a[name], b[name])
            if value is not None:
                scores[name] = round(value, 4)
        return scores

    def signal_scores_many(self, a: list[dict[str, bytes]], b: list[dict[str, bytes]],
                           names: tuple[str, ...] | None = None) -> list[dict[str, float]]:
        """`signal_scores(a[i], b[i])` for every i (of the signals in `names`, default all), each
        signal scoring all its pairs at once (`Signal.score_many`: an item decoded once, vectors
        multiplied together)."""
        values: dict[str, dict[int, float | None]] = {}
        for name, signal in self.signals.items():
            if names is not None and name not in names:
                continue
            both = [i for i, (x, y) in enumerate(zip(a, b)) if name in x and name in y]
            if both:
                values[name] = dict(zip(both, signal.score_many([a[i][name] for i in both],
                                                                [b[i][name] for i in both])))
        out = []
        for i, x in enumerate(a):
            scores = {}
            for name in x:  # a's order, as signal_scores
                value = values.get(name, {}).get(i)
                if value is not None:
                    scores[name] = round(value, 4)
            out.append(scores)
        return out

    def item_blobs(self, vec_ids: list[int], names: list[str] | None = None) -> dict[int, dict[str, bytes]]:
        """Every signal blob of these items, by vec_id then signal."""
        out = self.store.blobs_by_vec(vec_ids, list(names or self.signals))
        return {v: out[int(v)] for v in vec_ids}

    def similar(self, item_id: str, k: int = 10, signals: list[str] | None = None,
                min_score: float = 0.0) -> list[Neighbour]:
        """The indexed item's nearest items, best first, each scored and explained."""
        self.refresh()
        lists = self.neighbours.current()
        known = lists.listing(item_id) if lists is not None else None  # known there: no record to read
        if known is None:
            stored = self.item(item_id)
            known = (stored.vec_id, stored.seller_id)
        vec_id, seller_id = known
        names = self._signal_names(signals)
        # read when first used: with every pair score kept, together with the shown neighbours' blobs
        blobs = StoredBlobs(self, vec_id, names)
        return self._neighbours(blobs, k, min_score, exclude=vec_id, seller_id=seller_id,
                                kept=set(names) == set(self.signals))

    def search(self, query: Query, k: int = 10, signals: list[str] | None = None,
               min_score: float = 0.0) -> list[Neighbour]:
        """Neighbours of ad-hoc text and/or a picture."""
        self.refresh()
        names = self._signal_names(signals)
        blobs = {n: b for n in names if (b := self.signals[n].compute_query(query)) is not None}
        return self._neighbours(blobs, k, min_score, exclude=None, seller_id=None)

    def _candidates(self, blobs: dict[str, bytes], fetch: int) -> set[int]:
        return self._candidates_many([blobs], fetch)[0]

    # Lookups search FAISS with a handful of query vectors. FAISS's OpenMP threads then cost far
    # more than they give: on 2 shared cores a 1-vector search of 20k titles took 49 ms with 2
    # threads against 4.5 ms with 1 (threads spin at the barrier while the other core is busy).
    # So lookups search single-threaded; batched self-joins (`pairs`) keep FAISS's threads.
    # Queries go in groups of at most LOOKUP_GROUP: below FAISS's BLAS threshold (20) a flat
    # index computes each query exactly as a 1-vector search does, so candidates are the same.
    LOOKUP_GROUP = 16

    def _candidates_many(self, queries: list[dict[str, bytes]], fetch: int) -> list[set[int]]:
        """Candidate vec_ids of each query (its signal blobs), every signal searched in batches.

        Candidate lists are kept while the search structures stay as they are: one `linked` call
        looks up the best candidates of each of an account's listings in turn (the mutual-best
        test), hundreds of picture searches at about 5 ms each, which later lookups (another
        account, the same one again, `similar`) largely repeat. A query's candidates depend only
        on its blobs, `fetch` and the structures (each query is searched as a 1-vector search
        would, see LOOKUP_GROUP), so a kept list is the list a search would give; any change of
        the structures drops them all."""
        with self.lock:
            self._check_candidate_cache()
            keys = [(fetch, self._query_digest(q)) for q in queries]
            todo = {key: i for i, key in enumerate(keys) if key not in self._candidate_cache}  # repeats searched once
            found = self._search_candidates([queries[i] for i in todo.values()], fetch)
            if len(self._candidate_cache) + len(found) > CANDIDATE_CACHE_SIZE:
                self._candidate_cache.clear()
            # kept as int64 arrays: about 0.5 KB a list of 50 candidates, a set of Python ints takes 3.5 KB
            self._candidate_cache.update((key, np.fromiter(cands, dtype=np.int64, count=len(cands)))
                                         for key, cands in zip(todo, found))
            return [set(self._candidate_cache[key].tolist()) for key in keys]

    def _check_candidate_cache(self) -> None:
        """Drop kept candidate lists when the structures changed under this object (the bulk build
        adds to the signals directly); SimIndex's own changes drop them where they happen."""
        state = (self.applied_seq, self.indexed_vectors, tuple(s.size() for s in self.signals.values()))
        if state != self._candidate_state:
            self._candidate_cache.clear()
            self._candidate_state = state

    def _drop_candidate_cache(self) -> None:
        self._candidate_cache.clear()
        self._candidate_state = None

    @staticmethod
    def _query_digest(query: dict[str, bytes]) -> bytes:
        h = hashlib.blake2b(digest_size=20)
        for name in sorted(query):
            blob = query[name]
            h.update(f"{name}:{len(blob)}:".encode("utf-8"))
            h.update(blob)
        return h.digest()

    def _search_candidates(self, queries: list[dict[str, bytes]], fetch: int, threads: int = 1) -> list[set[int]]:
        """`threads`: FAISS's threads over the queries of a group (each still searched as a 1-vector
        search: the same candidates); more than 1 only where many queries are searched (the kept lists)."""
        found: list[set[int]] = [set() for _ in queries]
        with self.lock, faiss_threads(threads):
            for name, signal in self.signals.items():
                which = [i for i, q in enumerate(queries) if name in q]
                for start in range(0, len(which), self.LOOKUP_GROUP):
                    group = which[start:start + self.LOOKUP_GROUP]
                    for i, cands in zip(group, signal.search([queries[i][name] for i in group], fetch)):
                        found[i].update(c.vec_id for c in cands)
        return found

    def _neighbours(self, blobs: Mapping[str, bytes], k: int, min_score: float, *, exclude: int | None,
                    seller_id: str | None, kept: bool = False) -> list[Neighbour]:
        """`kept`: the query is the indexed listing `exclude` with all its signals, so its kept
        neighbour list (and those of its best candidates, for the mutual-best check) can stand in
        for searches where it is current, and so can its kept decisions (`NeighbourLists.decided`)."""
        fetch = max(k, self.config.search.candidates_per_signal) + 1
        lists = self.neighbours.current() if kept and fetch == self.neighbours.fetch() else None
        order = blobs.names if isinstance(blobs, StoredBlobs) else list(blobs)
        answer = lists.decided(exclude, self.matcher, order) \
            if lists is not None and min_score == 0.0 and seller_id is not None and not self._unkept_signals() else None
        if answer is not None:
            owners, scores, decided = answer
            others = {}
        else:
            owners, scores, others, decided = self._decided(blobs, k, min_score, exclude, seller_id, fetch, lists)
        # explained and related: the k shown only (the order needs only the score and the id)
        shown = sorted(decided, key=lambda v: (-decided[v][0].score, owners[v][0]))[:k]
        read = StoredBlobs.read(self, [blobs] + [others[v] if v in others else StoredBlobs(self, v, order)
                                                 for v in shown])
        blobs = read[0]  # the query's blobs too, in the same query
        others.update(zip(shown, read[1:]))
        stored = self.store.items_by_vec([exclude] + [v for v in shown if decided[v][0].match]) \
            if exclude is not None and seller_id is not None else {}
        out = []
        for vec_id in shown:
            decision, mutual = decided[vec_id]
            item_id, other_seller = owners[vec_id]
            evidence = [line for name in scores[vec_id]
                        for line in self.signals[name].explain(blobs[name], others[vec_id][name])]
            if mutual:
                evidence.append("each is the other's closest listing in that seller's shop")
            rel = "similar"
            if vec_id in stored and exclude in stored:
                rel, said = self.pair_relation(stored[exclude], stored[vec_id], blobs, others[vec_id], decision)
                evidence += said
            out.append(Neighbour(item_id=item_id, seller_id=other_seller, score=decision.score, signals=scores[vec_id],
                                 match=decision.match, relation=rel, evidence=evidence))
        return out

    def _decided(self, blobs: Mapping[str, bytes], k: int, min_score: float, exclude: int | None,
                 seller_id: str | None, fetch: int, lists: NeighbourLists | None):
        """The query's candidates decided: (owners {vec_id: (item_id, seller_id)} in ascending
        vec_id, their signal scores, their blobs (read or to be read), {vec_id: (Decision, mutual
        best)} of those scoring at least `min_score`). The mutual-best flags hold for every
        candidate that may be among the k shown (`_contenders`)."""
        # the kept list, and the pair scores kept with it
        found, kept_pairs = (lists.entry(exclude) if lists is not None else None) or (None, None)
        if found is None:
            found = self._candidates(blobs, fetch)
        found.discard(exclude)
        owners = lists.owners(list(found)) if lists is not None else {}
        owners.update(self.store.sellers_by_vec(found - owners.keys()) if len(owners) < len(found) else {})
        owners = dict(sorted(owners.items()))  # ascending vec_id, as the store's query gives them
        unkept = self._unkept_signals()
        if kept_pairs is not None and not unkept:  # every score kept: blobs read only where used (the shown)
            order = blobs.names if isinstance(blobs, StoredBlobs) else list(blobs)
            others = {v: StoredBlobs(self, v, order) for v in owners}
            scores = {v: {n: kept_pairs[v][n] for n in order if n in kept_pairs[v]} for v in owners}
        else:
            others = self.item_blobs(list(owners), list(blobs))
            kept_scores = None if kept_pairs is None else [kept_pairs[v] for v in owners]
            scores = dict(zip(owners, self._scores_with_kept(blobs, [others[v] for v in owners], unkept,
                                                             kept_scores)))
        # the rank score and the score as a mutual best, combined once (`rank_score` is the first)
        both = {v: self.matcher.pair_scores(s) for v, s in scores.items()}
        query = -1 if exclude is None else exclude
        pairs = [(query, v, seller_id, owners[v][1], both[v][0]) for v in owners]
        # each candidate decided once per mutual-best flag (the contenders need both, the answer one)
        either_way: dict[int, list[Decision]] = {}
        if seller_id is not None:
            either_way = {v: self._decided_either_way(scores[v], both[v], owners[v][1] == seller_id, blobs, others[v])
                          for v in owners}
            shown_either_way = {v: [d.score for d in ds] for v, ds in either_way.items()}
            pairs += self._reverse_pairs(pairs, seller_id, fetch,
                                         self._contenders(shown_either_way, owners, k, min_score), lists)
        flags = dict(zip(((p[0], p[1]) for p in pairs), mutual_best(pairs)))
        decided = {}
        for vec_id, (item_id, other_seller) in owners.items():
            if seller_id is not None:
                mutual = flags[(query, vec_id)]
                decision = either_way[vec_id][mutual]
            else:
                mutual = self._best_in_seller(vec_id, pairs)
                decision = self._decide(scores[vec_id], mutual, other_seller == seller_id, blobs, others[vec_id])
            if decision.score >= min_score:
                decided[vec_id] = (decision, mutual)
        return owners, scores, others, decided

    def _kept_decisions(self, lists: NeighbourLists) -> tuple[np.ndarray, np.ndarray] | None:
        """Every listing's decided candidates for the kept lists (`NeighbourLists.decided`), in
        list order: the shown score and the flags (1: a match, 2: mutual best) of each entry, as a
        lookup with the lists' largest k and no least score decides them (its contenders hold every
        flag a smaller k reads): in bulk (simgov.kept_decisions), the listings it leaves by
        `_decided` itself; None where lookups cannot read them (a signal whose scores are not kept
        has entries)."""
        if lists.scores is None or self._unkept_signals():
            return None
        names = list(self.signals)
        k = lists.fetch - 1
        score, flag, left = kept_decisions(lists, self.matcher, k)
        for row in left.tolist():
            vec_id = int(lists.vec_ids[row])
            _, _, _, decided = self._decided(StoredBlobs(self, vec_id, names), k, 0.0, vec_id,
                                             lists.seller_names[int(lists.sellers[row])], lists.fetch, lists)
            start = int(lists.offsets[row])
            for j, c in enumerate(lists.neighbour_ids[start:int(lists.offsets[row + 1])].tolist()):
                if c in decided:
                    decision, mutual = decided[c]
                    score[start + j] = decision.score
                    flag[start + j] = decision.match | (mutual << 1)
        return score, flag

    def _unkept_signals(self) -> tuple[str, ...]:
        """The signals whose pair scores the kept lists do not keep, among those any listing has."""
        return tuple(n for n, s in self.signals.items() if n not in KEPT_SCORES and s.size())

    def _scores_with_kept(self, blobs: dict[str, bytes], others: list[dict[str, bytes]], unkept: tuple[str, ...],
                          kept: list[dict[str, float]] | None) -> list[dict[str, float]]:
        """`signal_scores_many([blobs] * n, others)`, the KEPT_SCORES signals' scores taken from
        `kept` (the kept lists' scores of each pair) where given: only the `unkept` ones are scored."""
        if kept is None:
            return self.signal_scores_many([blobs] * len(others), others)
        live = self.signal_scores_many([blobs] * len(others), others, unkept) if unkept else [{}] * len(others)
        return [{n: both[n] for n in blobs if n in both} for both in ({**k, **x} for k, x in zip(kept, live))]

    def _decided_either_way(self, scores: dict[str, float], both: tuple[float, float], same_seller: bool,
                            a: Mapping[str, bytes], b: Mapping[str, bytes]) -> list[Decision]:
        """`[self._decide(scores, mutual, ...) for mutual in (False, True)]` from the pair's
        combined scores either way (`both`: `Matcher.pair_scores`), through `decide_ranked`;
        `_decide` itself decides a pair the picture alone matches (its own checks)."""
        out = [self.matcher.decide_ranked(scores, score) for score in both]
        return [self._decide(scores, mutual, same_seller, a, b) if d.by_picture else d
                for mutual, d in zip((False, True), out)]

    def _decide(self, scores: dict[str, float], mutual: bool, same_seller: bool, a: dict[str, bytes],
                b: dict[str, bytes]) -> Decision:
        decision = self.matcher.decide(scores, mutual_best=mutual)
        if decision.by_picture and same_seller and self.contradictions(a, b):
            # one seller's own photo on two listings that name different products: no re-listing
            decision = self.matcher.decide(scores, mutual_best=mutual, picture_alone=False)
        return decision

    @staticmethod
    def _contenders(shown_either_way: dict[int, list[float]], owners: dict[int, tuple[str, str]], k: int,
                    min_score: float) -> set[int]:
        """Candidates that may be among the k shown, whether each is mutual best or not (its
        scores either way given): the others have k candidates before them at any rate (order:
        score, then item id), so their mutual-best flags need no check."""
        surely = sorted((-min(s), owners[v][0]) for v, s in shown_either_way.items() if min(s) >= min_score)
        return {v for v, s in shown_either_way.items()
                if max(s) >= min_score and bisect.bisect_left(surely, (-max(s), owners[v][0])) < k}

    def contradictions(self, a: dict[str, bytes], b: dict[str, bytes]) -> list[str]:
        """What in two items' blobs says they are different products (each signal's contradictions:
        conflicting model codes or brands), in plain words."""
        return [line for name in a if name in b for line in self.signals[name].contradictions(a[name], b[name])]

    def brand_picture(self, a: StoredItem, b: StoredItem) -> bool:
        """Is the picture two sellers' listings share the brand's own, shown by an honest seller?
        It is when one listing is sold by a seller authorised for its brand (the brand's stock
        photo; a reference listing counts only from such a seller, so a listing that calls itself
        one does not), and the other is not priced like a counterfeit of it (at or below
        `counterfeit_max_price_ratio` of its price, same currency): such a copy stays a copy, and
        the counterfeit detector judges it further."""
        for owner, other in ((a, b), (b, a)):
            brand = brand_of(owner.item)
            if not (brand and brand.casefold() in {x.casefold() for x in self._authorized_brands(owner.seller_id)}):
                continue
            ratio = price_ratio(other.item, owner.item)
            if ratio is None or ratio > self.matcher.counterfeit_price_ratio:
                return True
        return False

    def _authorized_brands(self, seller_id: str) -> list[str]:
        try:
            return [str(x) for x in self.accounts.account(seller_id).record.get("authorized_brands") or []]
        except UnknownId:
            return []

    def pair_relation(self, a: StoredItem, b: StoredItem, blobs_a: dict[str, bytes], blobs_b: dict[str, bytes],
                      decision: Decision) -> tuple[str, list[str]]:
        """The relation of a decided pair (`simgov.matching.decision.relation`) and the evidence
        lines that explain it."""
        if not decision.match:
            return "similar", []
        picture = decision.same_picture
        contradicted = (self.contradictions(blobs_a, blobs_b)
                        + stated_code_conflicts(a.item.attributes, b.item.attributes)) if picture else []
        brand = picture and a.seller_id != b.seller_id and self.brand_picture(a, b)
        stock = shared_catalogue_photo(self, a, b, blobs_a, blobs_b) if picture and not brand and not contradicted \
            and a.seller_id != b.seller_id else []
        text = same_description(a.item, b.item)
        rel = relation(a.seller_id == b.seller_id, True, same_picture=picture, contradicted=bool(contradicted),
                       brand_picture=brand or bool(stock), same_text=text)
        said = []
        if decision.by_picture:
            said.append("the same picture (the image signal's own decision, geometric check included): a match on "
                        "the picture alone, whatever the titles say")
        if rel == "picture_reuse":
            said.append("another seller's picture on a listing whose title names another product: "
                        + "; ".join(contradicted))
        elif rel == "cross_seller_copy":
            said.append("one seller's listing reuses the other's " + " and ".join(
                (["own photo"] if picture and not (brand or stock) else [])
                + (["description, word for word"] if text else [])))
        elif rel == "same_product":
            said.append("the same product, not a copy: " + (
                "the shared picture is the brand's (a reference listing or a reseller authorised for the brand)"
                if brand else f"the shared picture is a catalogue photo, the same file shown by {len(stock)} "
                              "unrelated sellers" if stock else "each seller shows its own photos"))
        return rel, said

    @staticmethod
    def _best_in_seller(vec_id: int, pairs) -> bool:
        """One-sided rank test for ad-hoc queries: the query's best candidate in that seller's shop."""
        mine = next(p for p in pairs if p[1] == vec_id)
        return all(p[4] <= mine[4] for p in pairs if p[3] == mine[3])

    def _reverse_pairs(self, pairs, seller_id: str, fetch: int, contenders: set[int],
                       lists: NeighbourLists | None = None):
        """Scored pairs of the query's best candidates (in each seller, and its best ones in its own
        seller) with the query seller's listings among their own candidates, so that `mutual_best`
        can tell whether the query is their best in turn.

        Only a pair (head, listing) that scores above the query's pair with that head, or, within
        the query's seller, above the query's pair with that listing can change a flag the query
        reads (`mutual_best` keeps the first of equal bests, and the query's pairs come first), and
        only flags of `contenders` are read; the flags of the others stay as they were without them.
        So every head is bounded against every
        listing of the seller in bulk (`_rank_bounds`), and only a head that may have such a pair is
        searched and gives its pairs (was: every head searched, one search per signal and head,
        ~85% of a lookup's time on 50k listings). A seller with more than SELLER_SCAN_MAX listings
        is not scanned: every head is searched. With kept neighbour lists (`lists`) no head is
        searched: its list is looked up (`_kept_reverse_pairs`)."""
        best: dict[str, tuple[float, int]] = {}
        for _, v, _, other_seller, score in pairs:
            if other_seller not in best or score > best[other_seller][0]:
                best[other_seller] = (score, v)
        query = pairs[0][0] if pairs else -1
        heads = [(other_seller, v) for other_seller, (_, v) in best.items()]
        # within the query's own seller every candidate's best counts (mutual_best's rule there)
        own = sorted(((score, v) for _, v, _, other_seller, score in pairs
                      if other_seller == seller_id and (seller_id, v) not in heads), reverse=True)
        heads += [(seller_id, v) for _, v in own[:OWN_SELLER_HEADS]]
        if lists is not None:
            own_contender = any(owner == seller_id for _, v, _, owner, _ in pairs if v in contenders)
            return self._kept_reverse_pairs([h for h in heads if h[1] in contenders or
                                             (h[0] == seller_id and own_contender)], lists, seller_id, query, fetch,
                                            {v: score for _, v, _, _, score in pairs}, contenders)
        head_blobs = self.item_blobs([v for _, v in heads])
        # ascending, the order each head's pairs had
        mine = [c for c in self.store.seller_vec_ids(seller_id, SELLER_SCAN_MAX + 2) if c != query]
        if len(mine) > SELLER_SCAN_MAX:  # the heads that may tell, unbounded: every own one when one may
            own_contender = any(owner == seller_id for _, v, _, owner, _ in pairs if v in contenders)
            return self._searched_reverse_pairs([h for h in heads if h[1] in contenders or
                                                 (h[0] == seller_id and own_contender)],
                                                head_blobs, seller_id, query, fetch)
        theirs = {v: score for _, v, _, _, score in pairs}  # the query's pair scores
        blobs = self.item_blobs(mine)
        todo = [(other_seller, v, c) for other_seller, v in heads for c in mine if c != v and
                (v in contenders or (other_seller == seller_id and c in contenders))]
        bounds = self._rank_bounds([head_blobs[v] for _, v, _ in todo], [blobs[c] for _, _, c in todo])
        telling = [(other_seller, v, c) for (other_seller, v, c), bound in zip(todo, bounds)
                   if (v in contenders and bound > theirs[v])
                   or (other_seller == seller_id and c in contenders and bound > theirs[c])]
        found = self._among_candidates([(v, c) for _, v, c in telling], head_blobs, fetch)
        kept = [(other_seller, v, c) for other_seller, v, c in telling if (v, c) in found]
        scored = self.signal_scores_many([head_blobs[v] for _, v, _ in kept], [blobs[c] for _, _, c in kept])
        return [(v, c, other_seller, seller_id, self.matcher.rank_score(s))
                for (other_seller, v, c), s in zip(kept, scored)]

    def _among_candidates(self, asked: list[tuple[int, int]], head_blobs: dict[int, dict[str, bytes]],
                          fetch: int) -> set[tuple[int, int]]:
        """The (head, listing) pairs whose listing is among the head's candidates (the union of
        every signal's, as `_candidates_many` finds them): each signal searched, cheapest first, only
        for the heads with a listing not found yet."""
        left: dict[int, set[int]] = {}
        for v, c in asked:
            left.setdefault(v, set()).add(c)
        found: set[tuple[int, int]] = set()
        for name in [n for n in SCAN_SCORED if n in self.signals] + [n for n in self.signals if n not in SCAN_SCORED]:
            heads = [v for v, cs in left.items() if cs and name in head_blobs[v]]
            for v, cands in zip(heads, self._candidates_many([{name: head_blobs[v][name]} for v in heads], fetch)):
                hit = left[v] & cands
                found.update((v, c) for c in hit)
                left[v] -= hit
        return found

    def _rank_bounds(self, a: list[dict[str, bytes]], b: list[dict[str, bytes]]) -> list[float]:
        """For every i, at least `rank_score(signal_scores(a[i], b[i]))`: the SCAN_SCORED signals
        are scored, each other signal both sides have is taken at what it could say (nothing, 0 or
        1; the rank score is monotone in each signal's score)."""
        scored = self.signal_scores_many(a, b, SCAN_SCORED)
        out = []
        for x, y, scores in zip(a, b, scored):
            unknown = [n for n in x if n in y and n not in SCAN_SCORED]
            if not unknown:
                out.append(self.matcher.rank_score(scores))
                continue
            out.append(max(self.matcher.rank_score({**scores, **{n: v for n, v in zip(unknown, values)
                                                                  if v is not None}})
                           for values in itertools.product((None, 0.0, 1.0), repeat=len(unknown))))
        return out

    def _kept_reverse_pairs(self, heads, lists: NeighbourLists, seller_id: str, query: int, fetch: int,
                            theirs: dict[int, float], contenders: set[int]):
        """`_searched_reverse_pairs` with each head's candidates from its kept list (searched only
        where it has no current one) and sellers from the lists; of the pairs found, only those that
        may tell (as the scan in `_reverse_pairs` bounds them against the query's pair scores
        `theirs`) are scored in full, in bulk."""
        found = lists.candidates([v for _, v in heads])
        todo = [i for i, cands in enumerate(found) if cands is None]
        searched = {heads[i][1] for i in todo}
        if todo:
            blobs = self.item_blobs([heads[i][1] for i in todo])
            for i, cands in zip(todo, self._candidates_many([blobs[heads[i][1]] for i in todo], fetch)):
                found[i] = cands
        mine, rest = lists.in_seller(set().union(*found) if found else set(), seller_id)
        # the rest: written since the lists were made, or dead
        mine |= {c for c, owner in self.store.sellers_by_vec(rest).items() if owner[1] == seller_id}
        mine.discard(query)
        hits = [(other_seller, v, c) for (other_seller, v), cands in zip(heads, found)
                for c in sorted(cands & mine - {v})
                if v in contenders or (other_seller == seller_id and c in contenders)]
        wanted: dict[int, set[int]] = {}
        for _, v, c in hits:
            wanted.setdefault(v, set()).add(c)
        stored = {v: None if v in searched else lists.kept_scores(v, cs) for v, cs in wanted.items()}
        if all(kept is not None for kept in stored.values()) and not self._unkept_signals():
            # every pair's scores kept, and no other signal has any: each pair's rank score is its
            # bound below, nothing to fetch or score
            ranked = [self.matcher.rank_score(stored[v][c]) for _, v, c in hits]
            return [(v, c, other_seller, seller_id, rank) for (other_seller, v, c), rank in zip(hits, ranked)
                    if (v in contenders and rank > theirs[v]) or (other_seller == seller_id and c in contenders
                                                                  and rank > theirs[c])]
        blobs = self.item_blobs(list({x for _, v, c in hits for x in (v, c)}))
        bounds = self._rank_bounds([blobs[v] for _, v, _ in hits], [blobs[c] for _, _, c in hits])
        telling = [(other_seller, v, c) for (other_seller, v, c), bound in zip(hits, bounds)
                   if (v in contenders and bound > theirs[v])
                   or (other_seller == seller_id and c in contenders and bound > theirs[c])]
        scored = self.signal_scores_many([blobs[v] for _, v, _ in telling], [blobs[c] for _, _, c in telling])
        return [(v, c, other_seller, seller_id, self.matcher.rank_score(s))
                for (other_seller, v, c), s in zip(telling, scored)]

    def _searched_reverse_pairs(self, heads, head_blobs, seller_id: str, query: int, fetch: int):
        """Every head's candidates in the query's seller, each head searched (batched: one FAISS
        search per signal and group, one owner and one blob read for the union of what they find).
        Each candidate's own list is walked in ascending vec_id, so ties in `mutual_best` resolve
        as in the scan above."""
        found = self._candidates_many([head_blobs[v] for _, v in heads], fetch)
        owners = self.store.sellers_by_vec(set().union(*found)) if found else {}
        mine = {c for c, o in owners.items() if o[1] == seller_id} - {query}
        blobs = self.item_blobs(sorted(mine))
        out = []
        for (other_seller, v), cands in zip(heads, found):
            theirs = head_blobs[v]
            out += [(v, c, other_seller, seller_id, self.matcher.rank_score(self.signal_scores(theirs, blobs[c])))
                    for c in sorted(cands & mine - {v})]
        return out

    def pairs(self, *, min_score: float = 0.0, cross_seller_only: bool = False, k: int | None = None,
              chunk: int = 20_000, workers: int | None = None, reuse: bool = True) -> Iterator[Pair]:
        """Similarity self-join: every item's nearest neighbours per signal, merged and scored once.
        `workers`: processes that score the pairs (default: pool_workers; 1 = this process).
        `reuse`: decide on the scored pairs kept from the same writes (simgov.pair_table); False
        searches and scores them again (what a benchmark of the self-join measures)."""
        self.refresh()
        table, names, item_ids, knn = self._pair_table(k or self.config.search.pairs_k, chunk, workers, reuse)
        flags = self._decide_levels(table, names, item_ids, self.catalogue_fit(), knn)
        rescore_pairs(self, table, names, flags)  # the static engine's pairs near a decision (text_model.rescore_bands)
        yield from self._decided_pairs(table, names, item_ids, flags, min_score, cross_seller_only)

    def fit_match_model(self, workers: int | None = None) -> dict | None:
        """Fit the catalogue's match model (simgov.matching.catalogue) on the self-join's candidate
        pairs: the record `publish(extra={"match_model": ...})` keeps with the generation. None
        above FIT_AT_BUILD_MAX_ITEMS listings: a build does not pay for a second self-join there,
        each `pairs` run fits on its own candidate pairs instead."""
        if self.store.count_items() > FIT_AT_BUILD_MAX_ITEMS:
            return None
        table, names, item_ids, knn = self._pair_table(self.config.search.pairs_k, 20_000, workers)
        _, _, fit = self._catalogue_model(table, names, item_ids, None, knn)
        return {"applied_seq": self.applied_seq, **fit.to_dict()}

    def _pair_table(self, k: int, chunk: int, workers: int | None,
                    reuse: bool = True) -> tuple[np.ndarray, list[str], dict[int, str], np.ndarray]:
        """The self-join's candidate pairs scored (`score_pair_keys` rows, sellers as this run's
        codes), the signals' names of its columns, the items' ids by vec_id, and which rows the k-NN
        found (the others: lexical candidates only, `search.pairs_lexical_k`). One made for the same
        writes, k and configuration is used again (simgov.pair_table), copied: pairs re-score in place."""
        key = table_key(self.applied_seq, k, self.config)
        kept = self._kept_pair_table(key) if reuse else None
        if kept is None:
            kept = PairTable(*self._made_pair_table(k, chunk, workers))
            if self.store.count_items() <= FIT_AT_BUILD_MAX_ITEMS:  # small enough to hold for publish
                self._pair_tables.remember(key, kept)
        return kept.copied()

    def _kept_pair_table(self, key: str) -> PairTable | None:
        generation = self.manifest.get("generation")
        return self._pair_tables.find(generation and self.folder / GENERATIONS / generation, key, list(self.signals))

    def _made_pair_table(self, k: int, chunk: int,
                         workers: int | None) -> tuple[np.ndarray, list[str], dict[int, str], np.ndarray]:
        """`_pair_table` made: the candidates searched and scored."""
        n = pool_workers(self.config, workers)
        # a pool when the pairs fill more than a chunk (about k a listing): it makes each listing's
        # text once while this process searches the candidates, then scores the chunks
        pool = self._scoring_pool(n) if n > 1 and self.store.count_items() * k > chunk else None
        try:
            made = [pool.submit(texts_in_pool, [v for v, _, _ in batch]) for batch in self.store.iter_live(5000)] \
                if pool is not None else []
            scoring = PairScoring(self.store, self.signals, chunk, pool, n, made)
            knn = self._candidate_keys(k, scoring)  # the pool scores each signal's pairs while the next is searched
            extra = lexical_extra_keys(self.store, self.config.search.pairs_lexical_k, knn)  # rare words; 0: none
            scoring.add(extra)
            names = list(self.signals)
            table, item_ids = table_from_chunks(scoring.finish(), names)
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        return table, names, item_ids, found_by_knn(table, extra)

    def _scoring_pool(self, n: int):
        """`n` processes that score pairs as this process does (`open_scorer`)."""
        states = {name: signal.scoring_state() for name, signal in self.signals.items()}
        return start_pool(n, open_scorer, (str(self.folder), self.config.model_dump_json(), list(self.signals), states))

    def _candidate_keys(self, k: int, scoring: PairScoring | None = None) -> np.ndarray:
        """The self-join's candidate pairs as sorted unique keys a << 32 | b (a < b): each live item
        with its k nearest neighbours under every signal. `scoring` is given each signal's pairs
        as they are found, a batch or block at a time, and kept busy between the searches' batches."""
        found = []  # each signal's unique keys
        for name, signal in self.signals.items():
            index = joined_index(signal)
            if index is not None:  # an IVF-Flat index (title, above dense_index.flat_max): joined list by list
                keys = joined_keys(self.store, name, index, k + 1, self.config.dense_index.pairs_nprobe, self.lock,
                                   scoring)
            else:
                keys, given, pending = [], 0, 0  # `scoring` given some batches' keys at once (`add` is not free)
                for batch in self.store.iter_live(batch=2000):
                    keys.append(self._searched_keys(name, signal, [r[0] for r in batch], k, scoring))
                    pending += len(keys[-1])
                    if scoring is not None and pending >= 4 * scoring.chunk:
                        scoring.add(np.unique(np.concatenate(keys[given:])))
                        given, pending = len(keys), 0
                if scoring is not None and keys[given:]:
                    scoring.add(np.unique(np.concatenate(keys[given:])))
            found.append(np.unique(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.int64))
        return np.unique(np.concatenate(found))

    def _searched_keys(self, name: str, signal: Signal, vec_ids: list[int], k: int,
                       scoring: PairScoring | None) -> np.ndarray:
        """The pair keys of these items' k nearest neighbours by the signal's search (`scoring` pumped after)."""
        blobs = self.store.blobs(name, vec_ids)
        queries = [v for v in vec_ids if v in blobs]
        # an IVF-Flat title index scans fewer lists here than for a lookup (dense_index.pairs_nprobe)
        probing = getattr(getattr(signal, "index", None), "probing", None)
        with self.lock, (probing(self.config.dense_index.pairs_nprobe) if probing else nullcontext()):
            results = signal.search([blobs[v] for v in queries], k + 1)
        # numpy per batch instead of a Python int per candidate: 8 bytes a key instead
        # of about 40 (1M items give some 20M keys before deduplication)
        mine = np.repeat(np.array(queries, dtype=np.int64), [len(c) for c in results])
        theirs = np.fromiter((c.vec_id for cands in results for c in cands), dtype=np.int64, count=len(mine))
        keep = mine != theirs
        a, b = np.minimum(mine[keep], theirs[keep]), np.maximum(mine[keep], theirs[keep])
        if scoring is not None:
            scoring.pump()
        return (a << 32) | b

    def _decided_pairs(self, table: np.ndarray, names: list[str], item_ids: dict[int, str], flags: np.ndarray,
                       min_score: float, cross_seller_only: bool) -> Iterator[Pair]:
        """The pairs of a decided table (`_decide_levels`), as `pairs` yields them."""
        # rows as Python lists, a block at a time: numpy scalars cost about 1 us per use
        for start in range(0, len(table), 65_536):
            for row, flag in zip(table[start:start + 65_536].tolist(), flags[start:start + 65_536].tolist()):
                a, b, s_a, s_b, rank, mutual = row[:6]
                if cross_seller_only and s_a == s_b:
                    continue
                scores = {n: v for n, v in zip(names, row[6:]) if v == v}  # v == v: not NaN
                decision = self.matcher.decide_ranked(scores, mutual if flag else rank)
                if decision.by_picture and s_a == s_b:
                    blobs = self.item_blobs([int(a), int(b)])
                    if self.contradictions(blobs[int(a)], blobs[int(b)]):  # one seller's photo, two products
                        decision = self.matcher.decide_ranked(scores, mutual if flag else rank, picture_alone=False)
                if decision.score < min_score:
                    continue
                id_a, id_b = item_ids[int(a)], item_ids[int(b)]
                first, second = (id_a, id_b) if id_a < id_b else (id_b, id_a)
                yield Pair(item_a=first, item_b=second, score=decision.score, signals=scores, match=decision.match)

    def _catalogue_model(self, table: np.ndarray, names: list[str], item_ids: dict[int, str],
                         fit: CatalogueFit | None,
                         knn: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, CatalogueFit]:
        """The self-join's mutual-best flags (on the rank scores, column 4), which pairs have both
        titles (the flag says something only there), and the catalogue's fit: `fit`, or fitted on
        these pairs across sellers when None or when some have a pair verdict (labels in the fit).
        Only the rows `knn` (default: all) count for the flags and the fit: the lexical candidates'
        extra pairs are decided by it and are never a mutual best (simgov/lexical_candidates.py)."""
        knn = np.ones(len(table), bool) if knn is None else knn
        vec_a, vec_b = table[:, 0].astype(np.int64), table[:, 1].astype(np.int64)
        seller_a, seller_b = table[:, 2].astype(np.int64), table[:, 3].astype(np.int64)
        flags = np.zeros(len(table), bool)
        flags[knn] = mutual_best_arrays(vec_a[knn], vec_b[knn], seller_a[knn], seller_b[knn], table[knn, 4])
        titled = ~np.isnan(table[:, 6 + names.index("title")]) if "title" in names else np.zeros(len(table), bool)
        fitted = titled & (seller_a != seller_b) & knn
        labels = self._verdict_labels(table[fitted], item_ids)
        if fit is None or labels is not None:  # verdicts given since the build refine the kept fit
            fit = fit_catalogue(table[fitted, 5], flags[fitted], bundled_model().train_prior, labels=labels)
        return flags, titled, fit

    def _verdict_labels(self, table: np.ndarray, item_ids: dict[int, str]) -> np.ndarray | None:
        """1 for each pair of the table an investigator confirmed, 0 rejected, NaN none (None: no
        pair verdict at all)."""
        said = {frozenset(v.ids): float(v.decision == "confirmed")
                for v in VerdictTables(self.store).list(kind="pair", latest_only=True)}
        if not said:
            return None
        return np.array([said.get(frozenset((item_ids[int(a)], item_ids[int(b)])), np.nan)
                         for a, b in table[:, :2].tolist()], dtype=np.float64)

    def _decide_levels(self, table: np.ndarray, names: list[str], item_ids: dict[int, str],
                       fit: CatalogueFit | None, knn: np.ndarray | None = None) -> np.ndarray:
        """Columns 4 and 5 become the posteriors of the catalogue's match model without and with
        the mutual-best flag (`_catalogue_model`, `knn` the rows the k-NN found); returns the flags."""
        flags, titled, fit = self._catalogue_model(table, names, item_ids, fit, knn)
        z = table[:, 5].copy()
        table[:, 4] = fit.posteriors(z, np.zeros(len(z), bool), titled)
        table[:, 5] = fit.posteriors(z, np.ones(len(z), bool), titled)
        return flags

    def catalogue_fit(self) -> CatalogueFit | None:
        """The match model fitted when this generation was built (`fit_match_model`), if it was."""
        kept = self.manifest.get("match_model")
        if not kept or kept.get("applied_seq") != self.manifest.get("applied_seq"):
            return None
        return CatalogueFit.from_dict(kept)

    def close(self) -> None:
        self.store.close()
