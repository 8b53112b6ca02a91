"""The local bulk build: stream the items file (and the accounts file), encode changed rows in
batches, publish atomically.

Resumable by construction: every batch is committed to the store with the content hash of its
items (including the size and time of their picture files), so a re-run skips what is already
there, re-encodes what changed, and an interrupted run loses at most the batches in flight. The
search structures are published as a new generation only at the end.

Signals marked `parallel` (the lexical profile, image fingerprints) run in a process pool of
`workers` processes while this process encodes titles and writes the store; batches are written
in file order, so the store (vec_ids included) is the same as with one process. Accounts follow the same
rules (see :func:`ingest_accounts`); their identifiers are hashed with the index's secret before
anything is stored, and problems name identifiers, never their values.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from simgov.config import Config
from simgov.errors import ImageRejected
from simgov.imageio import file_signature, resolve_inside
from simgov.accounts.secret import identifier_secret, verify_or_record
from simgov.errors import SimgovError
from simgov.index import MAX_DEAD_SHARE, SimIndex, write_json_atomic
from simgov.schema import Account, Item, RowProblem, parse_accounts, parse_items
from simgov.signals import BuildContext, Signal, SignalOutput, create_signals
from simgov.store import problems_for_items

REPORT = "build_report.json"
Progress = Callable[[int, int], None]


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


def build_workers(config: Config, workers: int | None = None) -> int:
    """Processes for the parallel signals: `workers`, else config.image_workers; 0 = one per core."""
    n = config.image_workers if workers is None else workers
    return n if n > 0 else (os.cpu_count() or 1)


_POOL_SIGNALS: dict[tuple[str, tuple[str, ...]], dict[str, Signal]] = {}


def _compute_parallel(config_json: str, names: tuple[str, ...], items: list[Item],
                      ctx: BuildContext) -> dict[str, list[SignalOutput]]:
    """In a pool process: the named signals' outputs for a batch (signals made once per process)."""
    signals = _POOL_SIGNALS.get((config_json, names))
    if signals is None:
        signals = _POOL_SIGNALS[(config_json, names)] = create_signals(Config.model_validate_json(config_json),
                                                                      list(names))
    return {name: signals[name].compute(items, ctx) for name in names}


def _exit_with_parent(build_pid: int, poll_seconds: float = 1.0) -> None:
    """Pool initializer: leave when the build process is gone. A build killed with SIGKILL cannot
    stop its workers, and they would wait on the task queue for ever. (The build may die while a
    worker still starts, hence its pid is passed in rather than read here.)"""

    def watch() -> None:
        while os.getppid() == build_pid:
            time.sleep(poll_seconds)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-build", daemon=True).start()


def _start_pool(workers: int) -> ProcessPoolExecutor:
    import multiprocessing

    # spawn: workers start from a clean interpreter as children of this process, never a fork of it
    # (it holds FAISS's OpenMP and the tokenizer's threads), and never of a forkserver, which a
    # killed build would leave behind with its workers.
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_exit_with_parent, initargs=(os.getpid(),))


def count_lines(path: Path) -> int:
    total = 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            total += chunk.count(b"\n")
    return total


def _images_signature(item: Item, ctx: BuildContext) -> str:
    parts = []
    for path_text in item.images:
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
    key = identifier_secret(index.config, index.folder)
    verify_or_record(index.store, key)
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
                found += [RowProblem(source, lines[w.account_id], p, signal=s, account_id=w.account_id) for s, p in w.problems]
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
    module docstring. `workers`: processes for the parallel signals (default: build_workers);
    an items file of one batch or less, or 1 worker, computes everything in this process."""
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
    batch: list[tuple[int, Item]] = []
    status = "failed"
    n_workers = build_workers(index.config, workers)
    parallel = tuple(name for name, signal in index.signals.items() if signal.parallel)
    pool = (_start_pool(n_workers) if n_workers > 1 and parallel and item_total > index.config.build_batch_size
            else None)
    config_json = index.config.model_dump_json()
    # Batches (and bad rows) wait here in file order until written; at most 2 batches per worker
    # are in flight, so memory stays bounded whatever the file's size.
    pending: deque = deque()

    def flush() -> None:
        lines = {item.item_id: line for line, item in batch}
        items = [item for _, item in batch]
        hashes = {item.item_id: item.content_hash(_images_signature(item, ctx)) for item in items}
        known = store.content_hashes(list(hashes))
        changed = [item for item in items if known.get(item.item_id) != hashes[item.item_id]]
        unchanged = [item.item_id for item in items if known.get(item.item_id) == hashes[item.item_id]]
        done = pool.submit(_compute_parallel, config_json, parallel, changed, ctx) if pool and changed else None
        pending.append((lines, hashes, changed, unchanged, done))
        batch.clear()
        while len(pending) > (2 * n_workers if pool else 0):
            finish(pending.popleft())

    def finish(entry) -> None:
        if isinstance(entry, RowProblem):
            store.record_skips(run_id, [entry])
            result.problems.append(entry)
            return
        lines, hashes, changed, unchanged, done = entry
        found = []
        if changed:
            writes = index.compute(changed, ctx, [hashes[item.item_id] for item in changed],
                                   done.result() if isinstance(done, Future) else None)
            for w in writes:
                w.content_hash = hashes[w.item.item_id]
                found += [RowProblem(str(items_file), lines[w.item.item_id], p, w.item.item_id, s) for s, p in w.problems]
            index.write(writes, live=False)
        for item_id, probs in problems_for_items(store, unchanged).items():
            found += [RowProblem(str(items_file), lines[item_id], p, item_id, s) for s, p in probs]
        store.record_skips(run_id, found)
        result.problems.extend(found)
        result.signal_problems += len(found)
        result.encoded += len(changed)
        result.unchanged += len(unchanged)

    try:
        for entry in (parse_items(items_file) if items_file is not None else ()):
            if isinstance(entry, RowProblem):
                if pending:  # reported after the batches read before it, as in file order
                    pending.append(entry)
                else:
                    finish(entry)
                result.skipped_rows += 1
            else:
                batch.append(entry)
                result.rows += 1
                if len(batch) >= index.config.build_batch_size:
                    flush()
            if progress:
                progress(result.rows + result.skipped_rows, total)
        if batch:
            flush()
        while pending:
            finish(pending.popleft())
        if pool:
            pool.shutdown()
        if accounts_file is not None:
            result.accounts = AccountBuildResult()
            ingest_accounts(index, accounts_file, run_id, result.accounts,
                            (lambda done: progress(item_total + done, total)) if progress else None)
            ctx.data_roots.append(accounts_file.resolve().parent)
        accounts_encoded = result.accounts.encoded if result.accounts else 0
        stale = index.dead_share() > MAX_DEAD_SHARE or index.accounts.dead_share() > MAX_DEAD_SHARE
        # Writes the published generation lacks (a build killed before publishing, API upserts) are
        # published too, so that the next open need not replay them.
        unpublished = store.current_seq() > int(index.manifest.get("applied_seq", 0))
        if index.manifest.get("generation") is None or stale or result.encoded or accounts_encoded or unpublished:
            if index.manifest.get("generation") is None or stale:
                index.rebuild_structures()
            else:
                index.refresh()
            roots = list(dict.fromkeys([*index.manifest.get("data_roots", []), *map(str, ctx.data_roots)]))
            index.publish(extra={"data_roots": roots})
            result.published = True
        status = "complete"
    except (OSError, sqlite3.Error) as exc:  # a full disk or a read-only folder: say so, in one line
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
        except (OSError, sqlite3.Error):
            if status == "complete":  # after a failure, the failure is what the caller must see
                raise
        finally:
            if pool:
                pool.shutdown(cancel_futures=True)
            index.close()
    return result
