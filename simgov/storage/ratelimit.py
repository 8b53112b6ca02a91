"""The rate-limit buckets that several API worker processes share: a small SQLite file of its own.

It needs no durability (a lost bucket refills), so it is never synced: a take costs one short
write transaction, not a disk flush.
"""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Callable

SCHEMA = "CREATE TABLE IF NOT EXISTS buckets (key_id TEXT PRIMARY KEY, tokens REAL NOT NULL, at REAL NOT NULL)"

Bucket = tuple[float, float]  # (tokens, when counted)


class SharedBuckets:
    """Token buckets by key id in the file `path`, one connection per thread."""

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()
        self._db().execute(SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")
            self._local.db = db
        return db

    def update(self, key_id: str, spend: Callable[[Bucket | None], tuple[Bucket, float]]) -> float:
        """Replace a key's bucket by `spend(bucket)`'s new bucket, one process at a time; returns
        the wait that `spend` gave with it."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT tokens, at FROM buckets WHERE key_id=?", (key_id,)).fetchone()
            bucket, wait = spend(tuple(row) if row else None)
            db.execute("INSERT OR REPLACE INTO buckets VALUES (?, ?, ?)", (key_id, *bucket))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return wait
