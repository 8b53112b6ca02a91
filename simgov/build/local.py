"""The local bulk build: stream the items file (and the accounts file), encode changed rows in
batches, publish atomically.

Resumable by construction: every batch is committed to the store with the content hash of its
items (including the size and time of their picture files), so a re-run skips what is already
there, re-encodes what changed, and an interrupted run loses at most the batches in flight. The
search structures are published as a new generation only at the end.

Rows are decoded, validated, hashed and serialised, and the signals marked `parallel` (the
lexical profile, image fingerprints) computed, chunk by chunk; in a process pool of `workers`
processes when that is worth its start-up (see :func:`pool_pays`), while this process encodes
titles and writes the store. Chunks come back and batches are written in file order, so the
store (vec_ids included) is the same as with one process. A first build feeds
its search structures as it writes instead of re-reading the store at the end. Accounts follow the same
rules (see :func:`ingest_accounts`); their identifiers are hashed with the index's secret before
anything is stored, and problems name identifiers, never their values.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from simgov.config import Config
from simgov.errors import ImageRejected
from simgov.imageio import file_signature, resolve_inside
from simgov.accounts.secret import identifier_secret
from simgov.errors import SimgovError
from simgov.generations import write_json_atomic
from simgov.index import MAX_DEAD_SHARE, SimIndex
from simgov.pool import pool_workers, start_pool
from simgov.schema import (Account, Item, RowProblem, duplicate_item, item_from_row, json_row, parse_accounts,
                           read_raw_rows)
from simgov.signals import BuildContext, Signal, SignalOutput, create_signals
from simgov.storage.errors import StorageError
from simgov.storage.items import LIVE_BATCH, content_hashes, problems_for_items, reader

REPORT = "build_report.json"
Progress = Callable[[int, int], None]
#: CPU seconds of parallel work (decoding, hashing, lexical profiles, fingerprints) that the rest of
#: an items file must hold, estimated from its first chunk, before a build starts a process pool by
#: itself. Each worker spends about a second of CPU starting (interpreter, imports, signals), and
#: on a busy machine everything the pool adds is lost: 20k title-only listings (about 1.7 s of such
#: work) took 4.4 s wall and 4.4 s CPU in this process against 4.4 s wall and 6.6 s CPU with 2
#: workers on an idle machine, and 7.8-9.7 s against 11.6-13.8 s at load 3-4.
POOL_WORTH_CPU_SECONDS = 5.0


@dataclass
class AccountBuildResult:
    rows: int = 0
    encoded: int = 0
    unchanged: int = 0
    skipped_rows: int = 0
    signal_problems: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    def counts(self) -> dict:
        return {"rows": self.rows, "encoded": self.encoded, "unchanged": self.unchanged,
                "skipped_rows": self.skipped_rows, "signal_problems": self.signal_problems}


@dataclass
class BuildResult:
    rows: int = 0
    encoded: int = 0
    unchanged: int = 0
    skipped_rows: int = 0
    signal_problems: int = 0
    seconds: float = 0.0
    published: bool = False
    problems: list[RowProblem] = field(default_factory=list)
    accounts: AccountBuildResult | None = None

    @property
    def rate(self) -> float:
        return self.encoded / self.seconds if self.seconds else 0.0


class Prepared(NamedTuple):
    """A valid row made ready for writing (in a pool worker or in the build process). `item` is
    None when the store already holds this content hash (nothing to encode); `outputs`: the
    parallel signals' outputs when a worker computed them."""

    line: int
    item_id: str
    item: Item | None
    content_hash: str
    record: str | None
    outputs: dict[str, SignalOutput]


def _prepare(file: str, rows: list, ctx: BuildContext, signals: dict[str, Signal],
             known: Callable[[list[str]], dict[str, str]]) -> list[Prepared | RowProblem]:
    """Decode, validate, hash and serialise a chunk of rows, in file order; compute `signals` for
    the items whose content hash `known` does not already hold. Duplicates are left to the caller,
    which sees every chunk in order."""
    out: list = []
    for row in rows:
        if isinstance(row, tuple):
            row = json_row(file, *row)
        out.append(row if isinstance(row, RowProblem) else (row.line, item_from_row(file, row)))
    valid = [n for n, entry in enumerate(out) if isinstance(entry, tuple) and isinstance(entry[1], Item)]
    have = known([out[n][1].item_id for n in valid])
    changed = []
    for n in valid:
        line, item = out[n]
        digest, record = item.hash_and_record(images_signature(item, ctx))
        if have.get(item.item_id) == digest:
            out[n] = Prepared(line, item.item_id, None, digest, None, {})
        else:
            out[n] = Prepared(line, item.item_id, item, digest, record, {})
            changed.append(n)
    for name, signal in signals.items():
        for n, output in zip(changed, signal.compute([out[n].item for n in changed], ctx)):
            out[n].outputs[name] = output
    return [entry if isinstance(entry, (Prepared, RowProblem)) else entry[1] for entry in out]


_WORKER: dict = {}


def _init_worker(config_json: str, names: tuple[str, ...], store_path: str, ctx: BuildContext) -> None:
    """Pool initializer: the parallel signals, a read connection to the store and the build's
    context, made once per worker."""
    _WORKER.update(signals=create_signals(Config.model_validate_json(config_json), list(names)), ctx=ctx,
                   db=reader(store_path))


def _prepare_in_worker(file: str, rows: list) -> list[Prepared | RowProblem]:
    return _prepare(file, rows, _WORKER["ctx"], _WORKER["signals"], lambda ids: content_hashes(_WORKER["db"], ids))


def pool_pays(chunk_cpu_seconds: float, chunk_rows: int, rows_left: int) -> bool:
    """Whether the rest of a file is worth a process pool, from the CPU its first chunk's parallel
    work took in this process (pictures: milliseconds a row; titles only: about 85 µs)."""
    return chunk_rows > 0 and chunk_cpu_seconds / chunk_rows * rows_left > POOL_WORTH_CPU_SECONDS


def _same_structures(config: Config, expected: int, live: int) -> bool:
    """Whether search structures sized for `expected` items are those that `live` items get: the
    sizes only choose a kind through the dense and binary indexes' `flat_max`."""
    low, high = sorted((expected, live))
    return not any(low <= limit < high for limit in (config.dense_index.flat_max, config.binary_index.flat_max))


class _Feed:
    """The search structures of a first build, fed as batches are written instead of rebuilt from
    the store at the end (re-reading 1M title vectors and lexical profiles). Adds go in the
    batches `SimIndex.rebuild_structures` uses, so the structures are the same; any write not
    ours (a concurrent API upsert) turns feeding off and the build rebuilds as before."""

    def __init__(self, index: SimIndex, expected: int):
        self.index, self.expected, self.fed = index, expected, 0
        self.held: list[tuple[int, dict[str, bytes]]] = []
        for signal in index.signals.values():
            signal.reset(expected)
        index.indexed_vectors = 0

    def add(self, written: list[tuple[int, int | None]], writes) -> bool:
        """Take a written batch; False (stop feeding) unless it continues our own writes."""
        first = self.fed + len(self.held) + 1
        if [w[0] for w in written] != list(range(first, first + len(written))) or any(w[1] for w in written):
            return False
        self.held += [(vec_id, w.blobs) for (vec_id, _), w in zip(written, writes)]
        while len(self.held) >= LIVE_BATCH:
            self._flush(self.held[:LIVE_BATCH])
            del self.held[:LIVE_BATCH]
        return True

    def _flush(self, held) -> None:
        for name, signal in self.index.signals.items():
            ids = [vec_id for vec_id, blobs in held if name in blobs]
            signal.add(np.array(ids, dtype=np.int64), [blobs[name] for vec_id, blobs in held if name in blobs])
        self.fed += len(held)
        self.index.indexed_vectors = self.fed

    def finish(self) -> bool:
        """Complete the structures; False when they cannot stand for the store (rebuild instead)."""
        if self.held:
            self._flush(self.held)
            self.held = []
        store = self.index.store
        if store.changes_since(self.fed) or store.count_items() != self.fed \
                or not _same_structures(self.index.config, self.expected, self.fed):
            return False
        seq = store.current_seq()
        self.index.accounts.rebuild(seq)
        self.index.applied_seq = seq
        return True


def count_lines(path: Path) -> int:
    total = 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            total += chunk.count(b"\n")
    return total


def images_signature(item: Item, ctx: BuildContext) -> str:
    parts = []
    for path_text in (*item.images, *item.videos):  # a changed picture or video file re-encodes the item
        try:
            parts.append(file_signature(resolve_inside(path_text, ctx.data_roots)))
        except (ImageRejected, OSError):
            parts.append("unusable")
    return "|".join(parts)


def ingest_accounts(index: SimIndex, accounts_file: Path, run_id: int, result: AccountBuildResult,
                    progress: Callable[[int], None] | None = None) -> None:
    """Stream an accounts file into the store (not yet into a published generation).

    Same rules as items: bad rows are reported (file, line, reason) and skipped, duplicates after
    the first are reported, an unchanged account (content hash over its safe record, identifier
    hashes and avatar file) is not re-encoded, and every batch is committed on its own.
    """
    key = identifier_secret(index.config, index.folder, index.store)
    accounts = index.accounts
    ctx = BuildContext(data_roots=[accounts_file.resolve().parent])
    batch: list[tuple[int, Account]] = []
    source = str(accounts_file)

    def flush() -> None:
        lines = {account.account_id: line for line, account in batch}
        prepared = accounts.prepare([account for _, account in batch], ctx, key)
        known = accounts.store.content_hashes(list(lines))
        changed = [p for p in prepared if known.get(p[0].account_id) != p[2]]
        unchanged = [p[0].account_id for p in prepared if known.get(p[0].account_id) == p[2]]
        found = []
        if changed:
            writes = accounts.compute(changed, ctx)
            for w in writes:
                found += [RowProblem(source, lines[w.account_id], p, signal=s, account_id=w.account_id)
                          for s, p in w.problems]
            accounts.write(writes, live=False)
        for account_id, probs in accounts.store.problems_for(unchanged).items():
            found += [RowProblem(source, lines[account_id], p, signal=s, account_id=account_id) for s, p in probs]
        index.store.record_skips(run_id, found)
        result.problems.extend(found)
        result.signal_problems += len(found)
        result.encoded += len(changed)
        result.unchanged += len(unchanged)
        batch.clear()

    for entry in parse_accounts(accounts_file):
        if isinstance(entry, RowProblem):
            index.store.record_skips(run_id, [entry])
            result.problems.append(entry)
            result.skipped_rows += 1
        else:
            batch.append(entry)
            result.rows += 1
            if len(batch) >= index.config.build_batch_size:
                flush()
        if progress:
            progress(result.rows + result.skipped_rows)
    if batch:
        flush()


def build(items_file: Path | None, index_dir: Path, config: Config | None = None, progress: Progress | None = None,
          *, accounts_file: Path | None = None, workers: int | None = None) -> BuildResult:
    """Build or update the index in `index_dir` from `items_file` and/or `accounts_file`; see the
    module docstring. `workers`: processes for the parallel signals, from the start; by default
    (None) up to pool_workers, started after the first chunk when :func:`pool_pays`. An items file
    of one batch or less, or 1 worker, computes everything in this process."""
    started = time.monotonic()
    if items_file is None and accounts_file is None:
        raise SimgovError("nothing to build: give an items file, an accounts file or both")
    items_file = Path(items_file) if items_file is not None else None
    accounts_file = Path(accounts_file) if accounts_file is not None else None
    if items_file is not None and not items_file.is_file():
        raise SimgovError(f"items file not found: {items_file}")
    if accounts_file is not None and not accounts_file.is_file():
        raise SimgovError(f"accounts file not found: {accounts_file}")
    index = SimIndex.open(index_dir, create_with=config or Config())
    store = index.store
    ctx = BuildContext(data_roots=[(items_file or accounts_file).resolve().parent])
    run_id = store.start_run(" ".join(str(f) for f in (items_file, accounts_file) if f is not None))
    result = BuildResult()
    item_total = count_lines(items_file) if items_file is not None else 0
    total = item_total + (count_lines(accounts_file) if accounts_file is not None else 0)
    batch: list[Prepared] = []
    status = "failed"
    n_workers = pool_workers(index.config, workers)
    parallel = {name: signal for name, signal in index.signals.items() if signal.parallel}
    source, size = str(items_file), index.config.build_batch_size

    def new_pool():
        return start_pool(n_workers, _init_worker, (index.config.model_dump_json(), tuple(parallel), str(store.path),
                                                    ctx))

    pool = new_pool() if workers is not None and n_workers > 1 and item_total > size else None
    may_start_pool = workers is None and n_workers > 1
    # A first build into an empty store feeds its search structures as it writes (see _Feed).
    feed = (_Feed(index, item_total) if items_file is not None and index.manifest.get("generation") is None
            and store.current_seq() == 0 else None)
    seen: set[str] = set()

    def raw_chunks():
        chunk: list = []
        for row in read_raw_rows(items_file):
            chunk.append(row)
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def prepared_chunks():
        """Chunks of `size` rows prepared in file order: by the pool (at most 2 chunks per worker
        in flight, so memory stays bounded whatever the file's size) or here; a default build
        starts the pool after its first chunk when the rest of the file is worth it."""
        nonlocal pool
        in_flight: deque = deque()
        for number, chunk in enumerate(raw_chunks()):
            if not pool:
                cpu = time.thread_time()
                prepared = _prepare(source, chunk, ctx, parallel, store.content_hashes)
                if number == 0 and may_start_pool and pool_pays(time.thread_time() - cpu, len(chunk),
                                                                item_total - len(chunk)):
                    pool = new_pool()
                yield prepared
                continue
            in_flight.append(pool.submit(_prepare_in_worker, source, chunk))
            while len(in_flight) > 2 * n_workers:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()

    def skip(problem: RowProblem) -> None:
        store.record_skips(run_id, [problem])
        result.problems.append(problem)
        result.skipped_rows += 1

    def flush() -> None:
        nonlocal feed
        changed = [p for p in batch if p.item is not None]
        unchanged = {p.item_id: p.line for p in batch if p.item is None}
        found = []
        if changed:
            writes = index.compute([p.item for p in changed], ctx, [p.content_hash for p in changed],
                                   {name: [p.outputs[name] for p in changed] for name in parallel})
            for w, p in zip(writes, changed):
                w.record = p.record
                found += [RowProblem(source, p.line, problem, p.item_id, s) for s, problem in w.problems]
            written = index.write(writes, live=False)
            if feed is not None and not feed.add(written, writes):
                feed = None
        for item_id, probs in problems_for_items(store, list(unchanged)).items():
            found += [RowProblem(source, unchanged[item_id], p, item_id, s) for s, p in probs]
        store.record_skips(run_id, found)
        result.problems.extend(found)
        result.signal_problems += len(found)
        result.encoded += len(changed)
        result.unchanged += len(unchanged)
        batch.clear()

    def ingest() -> None:
        """Every row of the items file, then of the accounts file, into the store, batch by batch."""
        for chunk in (prepared_chunks() if items_file is not None else ()):
            for entry in chunk:
                if isinstance(entry, RowProblem):
                    skip(entry)
                elif entry.item_id in seen:
                    skip(duplicate_item(source, entry.line, entry.item_id))
                else:
                    seen.add(entry.item_id)
                    batch.append(entry)
                    result.rows += 1
                    if len(batch) >= size:
                        flush()
                if progress:
                    progress(result.rows + result.skipped_rows, total)
        if batch:
            flush()
        if pool:
            pool.shutdown()
        if accounts_file is not None:
            result.accounts = AccountBuildResult()
            ingest_accounts(index, accounts_file, run_id, result.accounts,
                            (lambda done: progress(item_total + done, total)) if progress else None)
            ctx.data_roots.append(accounts_file.resolve().parent)

    try:
        with store.bulk_writes():  # one fsync for every batch, before anything that holds them is published
            ingest()
        accounts_encoded = result.accounts.encoded if result.accounts else 0
        stale = index.dead_share() > MAX_DEAD_SHARE or index.accounts.dead_share() > MAX_DEAD_SHARE
        # Writes the published generation lacks (a build killed before publishing, API upserts) are
        # published too, so that the next open need not replay them.
        unpublished = store.current_seq() > int(index.manifest.get("applied_seq", 0))
        if index.manifest.get("generation") is None or stale or result.encoded or accounts_encoded or unpublished:
            if index.manifest.get("generation") is None or stale:
                if feed is None or stale or not feed.finish():
                    index.rebuild_structures()
            else:
                index.refresh()
            roots = list(dict.fromkeys([*index.manifest.get("data_roots", []), *map(str, ctx.data_roots)]))
            index.publish(extra={"data_roots": roots, "match_model": index.fit_match_model()})
            result.published = True
        status = "complete"
    except (OSError, StorageError) as exc:  # a full disk or a read-only folder: say so, in one line
        raise SimgovError(f"cannot write the index in {index_dir}: {exc}; the index published before is unchanged "
                          "and a re-run resumes from the last committed batch") from exc
    finally:
        result.seconds = time.monotonic() - started
        counts = {"rows": result.rows, "encoded": result.encoded, "unchanged": result.unchanged,
                  "skipped_rows": result.skipped_rows, "signal_problems": result.signal_problems,
                  "seconds": round(result.seconds, 3), "items_per_second": round(result.rate, 1)}
        report = {"run_id": run_id, "status": status, "items_file": str(items_file) if items_file else None, **counts,
                  "skipped": [p.to_dict() for p in result.problems]}
        if accounts_file is not None:
            report["accounts_file"] = str(accounts_file)
            report["accounts"] = (result.accounts or AccountBuildResult()).counts()
            report["skipped"] += [p.to_dict() for p in (result.accounts.problems if result.accounts else [])]
        try:
            store.finish_run(run_id, status, counts)
            write_json_atomic(Path(index_dir) / REPORT, report)
        except (OSError, StorageError):
            if status == "complete":  # after a failure, the failure is what the caller must see
                raise
        finally:
            if pool:
                pool.shutdown(cancel_futures=True)
            index.close()
    return result
