"""The embedded SQLite store: items as ingested, signal blobs, the id map, build runs, skipped rows.

It is the source of truth. FAISS files are derived from it and can always be rebuilt; every write
gets a sequence number so that an index file knows which writes it already holds and the rest can
be replayed at open (this is what makes API writes durable before any index file is rewritten).
Each item version gets a fresh `vec_id` (its sequence number): stale vectors in approximate
indexes then simply no longer map to a live item.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import SimgovError, UnreadableRecord
from ..schema import Item, RowProblem, read_stored_item
from .sql import sql_chunks

log = logging.getLogger(__name__)

#: Live items per batch when structures are rebuilt from the store (`iter_live`); a bulk build
#: that feeds them as it writes adds in the same batches, so the structures come out the same.
LIVE_BATCH = 5000
#: Page size of a new store. With SQLite's default 4,096 bytes a `features` row (a WITHOUT ROWID
#: table) over ~1,000 bytes spills into an overflow page of its own: every 1,024-byte title vector
#: took a 4 KiB page, 105 MB for 20k title-only listings. 8,192-byte pages hold rows up to ~2,000
#: bytes (384 float32 dimensions: 1,536): 35 MB, written in 0.6x the CPU and read 2.3x faster.
PAGE_SIZE = 8192

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    item_id TEXT PRIMARY KEY,
    vec_id INTEGER NOT NULL UNIQUE,
    seller_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    record TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS items_seller ON items(seller_id);
CREATE TABLE IF NOT EXISTS features (
    vec_id INTEGER NOT NULL,
    signal TEXT NOT NULL,
    blob BLOB NOT NULL,
    PRIMARY KEY (vec_id, signal)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS signal_problems (
    vec_id INTEGER NOT NULL,
    signal TEXT NOT NULL,
    problem TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS signal_problems_vec ON signal_problems(vec_id);
CREATE TABLE IF NOT EXISTS build_runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL,
    status TEXT NOT NULL,
    counts TEXT
);
CREATE TABLE IF NOT EXISTS skipped_rows (
    run_id INTEGER NOT NULL,
    file TEXT NOT NULL,
    line INTEGER NOT NULL,
    item_id TEXT,
    signal TEXT,
    reason TEXT NOT NULL
);
-- Accounts (simgov/accounts): the record as ingested without identifier values, the profile
-- with keyed identifier hashes only, the hashes again for exact blocking, per-signal blobs.
-- acc_id is a sequence number from the same counter as vec_id, so one applied_seq covers both.
CREATE TABLE IF NOT EXISTS accounts (
    account_id TEXT PRIMARY KEY,
    acc_id INTEGER NOT NULL UNIQUE,
    content_hash TEXT NOT NULL,
    record TEXT NOT NULL,
    profile TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS account_identifiers (
    hash TEXT NOT NULL,
    account_id TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (hash, account_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS account_identifiers_account ON account_identifiers(account_id);
CREATE TABLE IF NOT EXISTS account_features (
    acc_id INTEGER NOT NULL,
    signal TEXT NOT NULL,
    blob BLOB NOT NULL,
    PRIMARY KEY (acc_id, signal)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS account_problems (
    acc_id INTEGER NOT NULL,
    signal TEXT NOT NULL,
    problem TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS account_problems_acc ON account_problems(acc_id);
-- Investigator verdicts (simgov/verdicts.py; rows: simgov/storage/verdicts.py): every decision is
-- kept; the latest per finding counts. `agreeing` holds the signals that agreed at verdict time,
-- so that a rejected finding comes back only when a signal agrees that did not then.
CREATE TABLE IF NOT EXISTS verdicts (
    verdict_id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    ids TEXT NOT NULL,
    decision TEXT NOT NULL,
    reason TEXT NOT NULL,
    note TEXT,
    key_id TEXT NOT NULL,
    at REAL NOT NULL,
    score REAL,
    signals TEXT NOT NULL,
    agreeing TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS verdicts_subject ON verdicts(kind, subject, verdict_id);
-- Known-bad banks (simgov/banks.py; rows: simgov/storage/banks.py): PDQ hashes (64 hex), titles and
-- identifier keyed hashes;
-- bank_hits: which entry the current version of a listing matched when it was written.
CREATE TABLE IF NOT EXISTS banks (
    name TEXT PRIMARY KEY,
    description TEXT,
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL,
    created_by TEXT
);
CREATE TABLE IF NOT EXISTS bank_entries (
    entry_id INTEGER PRIMARY KEY AUTOINCREMENT,
    bank TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    label TEXT,
    source TEXT,
    enabled INTEGER NOT NULL DEFAULT 1,
    added_at REAL NOT NULL,
    added_by TEXT,
    UNIQUE (bank, kind, value)
);
CREATE TABLE IF NOT EXISTS bank_hits (
    item_id TEXT NOT NULL,
    entry_id INTEGER NOT NULL,
    bank TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    score REAL NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (item_id, entry_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS bank_hits_bank ON bank_hits(bank, at);
"""


@dataclass
class StoredItem:
    item_id: str
    vec_id: int
    seller_id: str
    content_hash: str
    item: Item
    deleted: bool = False


@dataclass
class ItemWrite:
    """One item version to store with its signal blobs and per-signal problems."""

    item: Item
    content_hash: str
    blobs: dict[str, bytes]
    problems: list[tuple[str, str]]  # (signal, problem)
    record: str | None = None  # item.stored_record() when the caller already made it


class Store:
    """One SQLite database per index folder; a connection per thread, WAL for concurrent readers."""

    FILE = "store.sqlite"

    def __init__(self, folder: Path):
        self.path = Path(folder) / self.FILE
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._owner_only()
        try:
            with self.connection() as db:
                db.executescript(SCHEMA)
                db.execute("INSERT OR IGNORE INTO meta VALUES ('seq', '0')")
        except sqlite3.Error as exc:  # a read-only folder or a full disk: one clear line, not a traceback
            self.close()
            raise SimgovError(f"cannot open the store {self.path}: {exc} (is the folder writable and the disk "
                              "not full?)") from exc

    def _owner_only(self) -> None:
        """The store readable by its owner only (mode 0600): made so, or made so again (stores of
        earlier versions were 0644). SQLite gives its -wal and -shm files the store's mode.
        An existing store is never opened here: closing any descriptor of the file drops every POSIX
        lock this process holds on it, those of other open connections too (SQLite's own caveat), which
        broke a second store opened beside a serving one with "disk I/O error"."""
        try:
            if not self.path.exists():
                try:
                    os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                except FileExistsError:  # made by another process a moment ago
                    pass
            for path in (self.path, *(self.path.with_name(self.path.name + s) for s in ("-wal", "-shm"))):
                if path.exists() and path.stat().st_mode & 0o077:
                    path.chmod(0o600)
        except OSError:  # a read-only folder: opening says so below
            pass

    def connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
            db.execute(f"PRAGMA page_size={PAGE_SIZE}")  # before WAL, which fixes it; a made store keeps its own
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA busy_timeout=60000")
            self._local.db = db
        return db

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; BEGIN IMMEDIATE serialises writers across processes too."""
        db = self.connection()
        with self._write_lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @contextmanager
    def bulk_writes(self) -> Iterator[None]:
        """This thread's commits without waiting for the disk (synchronous=NORMAL), then one synced
        commit that puts them all on disk (they are in the same WAL file) before the caller goes on,
        e.g. to publish structures that hold them. A killed process loses no committed batch either
        way; a power cut in between may lose the last ones, which a re-run of the build writes again.
        One fsync per batch was ~2.5 ms on this machine's disk (0.2 s of a 20k-listing build)."""
        db = self.connection()
        db.execute("PRAGMA synchronous=NORMAL")
        try:
            yield
        finally:
            db.execute("PRAGMA synchronous=FULL")
        with self.transaction() as db:  # a commit that changes nothing would not sync: a fresh time does
            db.execute("INSERT OR REPLACE INTO meta VALUES ('bulk_synced_at', ?)", (repr(time.time()),))

    # -- meta ---------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.connection().execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def current_seq(self) -> int:
        return int(self.get_meta("seq", "0"))

    def ping(self) -> None:
        """Raise if the store cannot be read (the liveness check)."""
        self.connection().execute("SELECT 1").fetchone()

    # -- items --------------------------------------------------------------------------------
    def content_hashes(self, item_ids: list[str]) -> dict[str, str]:
        """Live items' content hashes, to skip unchanged rows on a re-run."""
        return content_hashes(self.connection(), item_ids)

    def write_items(self, writes: list[ItemWrite]) -> list[tuple[int, int | None]]:
        """Store new versions in one transaction; returns (new vec_id, replaced vec_id or None)."""
        result = []
        now = time.time()
        # Records are serialised before the transaction (other writers wait less), unless the
        # caller did (the bulk build's workers).
        records = [w.record if w.record is not None else w.item.stored_record() for w in writes]
        with self.transaction() as db:
            seq = int(db.execute("SELECT value FROM meta WHERE key='seq'").fetchone()[0])
            # One SELECT ... IN per chunk instead of one per item (the bulk build's largest SQLite
            # cost); `current` then follows this batch's own writes, so an id twice in a batch is
            # replaced twice, as with a SELECT per item.
            ids = list(dict.fromkeys(w.item.item_id for w in writes))
            current: dict[str, tuple[int, int]] = {}
            for chunk in sql_chunks(ids):
                marks = ",".join("?" * len(chunk))
                current.update((r[0], (r[1], r[2])) for r in db.execute(
                    f"SELECT item_id, vec_id, deleted FROM items WHERE item_id IN ({marks})", chunk))
            rows, features, problems, dropped = [], [], [], []
            for w, record in zip(writes, records):
                seq += 1
                old = current.get(w.item.item_id)
                if old:
                    dropped.append((old[0],))
                current[w.item.item_id] = (seq, 0)
                rows.append((w.item.item_id, seq, w.item.seller_id, w.content_hash, record, now))
                features += [(seq, s, b) for s, b in w.blobs.items()]
                problems += [(seq, s, p) for s, p in w.problems]
                result.append((seq, old[0] if old and not old[1] else None))
            here = {v for (v,) in dropped if v > seq - len(writes)}
            if here:  # an id twice in this batch: its first version's rows go, as they did one by one
                features = [f for f in features if f[0] not in here]
                problems = [p for p in problems if p[0] not in here]
            if dropped:
                db.executemany("DELETE FROM features WHERE vec_id=?", dropped)
                db.executemany("DELETE FROM signal_problems WHERE vec_id=?", dropped)
            db.executemany("INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?, ?, 0, ?)", rows)
            db.executemany("INSERT INTO features VALUES (?, ?, ?)", features)
            db.executemany("INSERT INTO signal_problems VALUES (?, ?, ?)", problems)
            db.execute("UPDATE meta SET value=? WHERE key='seq'", (str(seq),))
        return result

    def delete_item(self, item_id: str) -> int | None:
        """Tombstone an item (kept with a new sequence number so replays see the delete)."""
        with self.transaction() as db:
            row = db.execute("SELECT vec_id FROM items WHERE item_id=? AND deleted=0", (item_id,)).fetchone()
            if row is None:
                return None
            seq = int(db.execute("SELECT value FROM meta WHERE key='seq'").fetchone()[0]) + 1
            db.execute("DELETE FROM features WHERE vec_id=?", (row[0],))
            db.execute("DELETE FROM signal_problems WHERE vec_id=?", (row[0],))
            db.execute("UPDATE items SET deleted=1, vec_id=?, updated_at=? WHERE item_id=?",
                       (seq, time.time(), item_id))
            db.execute("UPDATE meta SET value=? WHERE key='seq'", (str(seq),))
            return row[0]

    def _stored(self, row) -> StoredItem:
        return StoredItem(row[0], row[1], row[2], row[3], read_stored_item(row[0], row[4]), bool(row[5]))

    def get_item(self, item_id: str) -> StoredItem | None:
        row = self.connection().execute(
            "SELECT item_id, vec_id, seller_id, content_hash, record, deleted FROM items WHERE item_id=? AND deleted=0",
            (item_id,)).fetchone()
        return self._stored(row) if row else None

    def items_by_vec(self, vec_ids: Iterable[int]) -> dict[int, StoredItem]:
        ids = list(dict.fromkeys(int(v) for v in vec_ids))
        out: dict[int, StoredItem] = {}
        db = self.connection()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for row in db.execute(
                "SELECT item_id, vec_id, seller_id, content_hash, record, deleted FROM items "
                f"WHERE deleted=0 AND vec_id IN ({marks})", chunk):
                try:
                    out[row[1]] = self._stored(row)
                except UnreadableRecord as exc:  # one damaged row must not fail every lookup near it
                    log.warning("%s; left out", exc)
        return out

    def sellers_by_vec(self, vec_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        """vec_id → (item_id, seller_id) for live items, without decoding records."""
        ids = list(dict.fromkeys(int(v) for v in vec_ids))
        out: dict[int, tuple[str, str]] = {}
        db = self.connection()
        for chunk in sql_chunks(ids):
            marks = ",".join("?" * len(chunk))
            for vec_id, item_id, seller in db.execute(
                    f"SELECT vec_id, item_id, seller_id FROM items WHERE deleted=0 AND vec_id IN ({marks})", chunk):
                out[vec_id] = (item_id, seller)
        return out

    def count_items(self) -> int:
        return self.connection().execute("SELECT COUNT(*) FROM items WHERE deleted=0").fetchone()[0]

    def iter_live(self, batch: int = LIVE_BATCH) -> Iterator[list[tuple[int, str, str]]]:
        """(vec_id, item_id, seller_id) of every live item, in vec_id order, in batches."""
        last = -1
        db = self.connection()
        while True:
            rows = db.execute("SELECT vec_id, item_id, seller_id FROM items WHERE deleted=0 AND vec_id>? "
                              "ORDER BY vec_id LIMIT ?", (last, batch)).fetchall()
            if not rows:
                return
            yield rows
            last = rows[-1][0]

    def live_titles(self, batch: int = LIVE_BATCH) -> Iterator[list[tuple[int, str | None]]]:
        """(vec_id, title) of every live item in vec_id order, in batches; the title read by SQLite's
        JSON functions, so no record is decoded in Python. A record that no longer reads back has no
        title here (the readers that decode records name it)."""
        rows = self.connection().execute(
            "SELECT vec_id, CASE WHEN json_valid(record) THEN json_extract(record, '$.title') END "
            "FROM items WHERE deleted=0 ORDER BY vec_id")
        while found := rows.fetchmany(batch):
            yield found

    def changes_since(self, seq: int) -> list[tuple[int, bool]]:
        """(vec_id, deleted) of writes after `seq`, for replay into loaded index files."""
        return self.connection().execute(
            "SELECT vec_id, deleted FROM items WHERE vec_id>? ORDER BY vec_id", (seq,)).fetchall()

    # -- features -----------------------------------------------------------------------------
    def blobs(self, signal: str, vec_ids: Iterable[int]) -> dict[int, bytes]:
        ids = list(dict.fromkeys(int(v) for v in vec_ids))
        out: dict[int, bytes] = {}
        db = self.connection()
        for chunk in sql_chunks(ids):
            marks = ",".join("?" * len(chunk))
            for vec_id, blob in db.execute(
                    f"SELECT vec_id, blob FROM features WHERE signal=? AND vec_id IN ({marks})", [signal, *chunk]):
                out[vec_id] = blob
        return out

    def blobs_by_vec(self, vec_ids: Iterable[int], signals: list[str]) -> dict[int, dict[str, bytes]]:
        """Every blob of these items among `signals`, by vec_id then signal in `signals`' order: one
        query for all signals (the features key leads with vec_id), where `blobs` takes one each."""
        ids = list(dict.fromkeys(int(v) for v in vec_ids))
        found: dict[int, dict[str, bytes]] = {v: {} for v in ids}
        wanted = set(signals)
        db = self.connection()
        for chunk in sql_chunks(ids):
            marks = ",".join("?" * len(chunk))
            for vec_id, signal, blob in db.execute(
                    f"SELECT vec_id, signal, blob FROM features WHERE vec_id IN ({marks})", chunk):
                if signal in wanted:
                    found[vec_id][signal] = blob
        return {v: {n: have[n] for n in signals if n in have} for v, have in found.items()}

    def live_vec_ids_between(self, after: int, upto: int) -> list[int]:
        """Vector ids of live items written after sequence number `after`, up to `upto` (a replay)."""
        rows = self.connection().execute(
            "SELECT vec_id FROM items WHERE deleted=0 AND vec_id>? AND vec_id<=? ORDER BY vec_id", (after, upto))
        return [r[0] for r in rows.fetchall()]

    def live_vec_ids(self, item_ids: list[str]) -> dict[str, int]:
        """Vector ids of these live items, by item id (absent when not stored or deleted)."""
        out: dict[str, int] = {}
        db = self.connection()
        for chunk in sql_chunks(item_ids):
            marks = ",".join("?" * len(chunk))
            out.update(db.execute(f"SELECT item_id, vec_id FROM items WHERE deleted=0 AND item_id IN ({marks})", chunk))
        return out

    def sellers_of(self, item_ids: Iterable[str]) -> dict[str, str]:
        """Seller id of each live item among these, by item id."""
        out: dict[str, str] = {}
        ids = sorted(item_ids)
        db = self.connection()
        for chunk in sql_chunks(ids):
            marks = ",".join("?" * len(chunk))
            out.update(db.execute(f"SELECT item_id, seller_id FROM items WHERE deleted=0 AND item_id IN ({marks})",
                                  chunk))
        return out

    def seller_item_ids(self, seller_id: str, limit: int) -> list[str]:
        """The first `limit` live item ids a seller lists, by item id."""
        rows = self.connection().execute(
            "SELECT item_id FROM items WHERE seller_id=? AND deleted=0 ORDER BY item_id LIMIT ?", (seller_id, limit))
        return [r[0] for r in rows.fetchall()]

    def seller_vec_ids(self, seller_id: str, limit: int) -> list[int]:
        """The vec_ids of up to `limit` live items a seller lists, ascending."""
        rows = self.connection().execute(
            "SELECT vec_id FROM items WHERE seller_id=? AND deleted=0 ORDER BY vec_id LIMIT ?", (seller_id, limit))
        return [r[0] for r in rows.fetchall()]

    def seller_items(self, seller_id: str, limit: int) -> list[Item]:
        """The first `limit` live items a seller lists, by item id."""
        rows = self.connection().execute(
            "SELECT item_id, record FROM items WHERE seller_id=? AND deleted=0 ORDER BY item_id LIMIT ?",
            (seller_id, limit))
        items = []
        for item_id, record in rows.fetchall():
            try:
                items.append(read_stored_item(item_id, record))
            except UnreadableRecord as exc:
                log.warning("%s; left out", exc)
        return items

    def count_seller_items(self, seller_id: str) -> int:
        return self.connection().execute(
            "SELECT COUNT(*) FROM items WHERE seller_id=? AND deleted=0", (seller_id,)).fetchone()[0]

    def reference_item_ids(self) -> list[str]:
        """Live items marked as brand-verified reference listings."""
        rows = self.connection().execute(
            "SELECT item_id FROM items WHERE deleted=0 "  # a damaged record is no reference, not an error
            "AND CASE WHEN json_valid(record) THEN json_extract(record, '$.reference') END = 1")
        return [r[0] for r in rows.fetchall()]

    def problems(self, vec_id: int) -> list[tuple[str, str]]:
        return self.connection().execute(
            "SELECT signal, problem FROM signal_problems WHERE vec_id=?", (vec_id,)).fetchall()

    # -- build runs ---------------------------------------------------------------------------
    def start_run(self, source: str) -> int:
        with self.transaction() as db:
            cur = db.execute("INSERT INTO build_runs (source, started_at, status) VALUES (?, ?, 'running')",
                             (source, time.time()))
            return int(cur.lastrowid)

    def record_skips(self, run_id: int, problems: list[RowProblem]) -> None:
        if not problems:
            return
        with self.transaction() as db:
            db.executemany("INSERT INTO skipped_rows VALUES (?, ?, ?, ?, ?, ?)",
                           [(run_id, p.file, p.line, p.item_id if p.item_id is not None else p.account_id,
                             p.signal, p.reason) for p in problems])

    def finish_run(self, run_id: int, status: str, counts: dict) -> None:
        with self.transaction() as db:
            db.execute("UPDATE build_runs SET finished_at=?, status=?, counts=? WHERE run_id=?",
                       (time.time(), status, json.dumps(counts), run_id))

    def skipped(self, run_id: int) -> list[dict]:
        rows = self.connection().execute(
            "SELECT file, line, item_id, signal, reason FROM skipped_rows WHERE run_id=? ORDER BY file, line",
            (run_id,)).fetchall()
        columns = ("file", "line", "item_id", "signal", "reason")
        return [{k: v for k, v in zip(columns, r) if v is not None} for r in rows]


def problems_for_items(store: Store, item_ids: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Signal problems recorded for live items, by item id (for the report of a resumed build)."""
    out: dict[str, list[tuple[str, str]]] = {}
    db = store.connection()
    for chunk in sql_chunks(item_ids):
        marks = ",".join("?" * len(chunk))
        for item_id, signal, problem in db.execute(
                "SELECT items.item_id, p.signal, p.problem FROM signal_problems p "
                "JOIN items ON items.vec_id = p.vec_id "
                f"WHERE items.deleted=0 AND items.item_id IN ({marks})", chunk):
            out.setdefault(item_id, []).append((signal, problem))
    return out


def reader(path: Path) -> sqlite3.Connection:
    """A read connection of its own to a store file (a bulk build's worker processes), for
    `content_hashes`."""
    return sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)


def content_hashes(db: sqlite3.Connection, item_ids: list[str]) -> dict[str, str]:
    """Live items' content hashes through any connection (a bulk build's workers have their own)."""
    out: dict[str, str] = {}
    for start in range(0, len(item_ids), 500):
        chunk = item_ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for item_id, digest in db.execute(
            f"SELECT item_id, content_hash FROM items WHERE deleted=0 AND item_id IN ({marks})", chunk
        ):
            out[item_id] = digest
    return out
