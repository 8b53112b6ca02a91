"""Per-key rate limits: one token bucket per API key id.

A bucket holds up to `burst` tokens and refills at `rate` tokens a second; a request takes one.
Buckets are kept only for keys that verified, so their number is bounded by the live keys. One
server process keeps them in memory; several uvicorn workers share them in a small SQLite file
(`shared`, made by `simgov serve --workers N`), so a key gets its limit once, not once per worker.
That file needs no durability (a lost bucket refills), so it is never synced: a take costs one
short write transaction, not a disk flush.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

SHARED_SCHEMA = "CREATE TABLE IF NOT EXISTS buckets (key_id TEXT PRIMARY KEY, tokens REAL NOT NULL, at REAL NOT NULL)"


class RateLimiter:
    def __init__(self, rate: float, burst: int, shared: Path | None = None):
        if rate < 0 or burst < 1:
            raise ValueError("rate must be >= 0 (0 turns limits off) and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.shared = shared
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, when counted)
        self._lock = threading.Lock()
        self._local = threading.local()
        if shared is not None:
            self._db().execute(SHARED_SCHEMA)

    def take(self, key_id: str) -> float:
        """0.0 when the request may go ahead, else the seconds until the key has a token again."""
        if self.rate == 0:
            return 0.0
        now = time.monotonic()  # one clock for every process of the machine
        if self.shared is not None:
            return self._take_shared(key_id, now)
        with self._lock:
            self._buckets[key_id], wait = self._spend(self._buckets.get(key_id), now)
            return wait

    def _spend(self, bucket: tuple[float, float] | None, now: float) -> tuple[tuple[float, float], float]:
        """The bucket after one request at `now`, and the wait (0.0 when the request may go)."""
        tokens, then = bucket or (float(self.burst), now)
        tokens = min(float(self.burst), tokens + (now - then) * self.rate)
        if tokens >= 1.0:
            return (tokens - 1.0, now), 0.0
        return (tokens, now), (1.0 - tokens) / self.rate

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.shared, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")
            self._local.db = db
        return db

    def _take_shared(self, key_id: str, now: float) -> float:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")  # one process at a time reads and writes a bucket
        try:
            row = db.execute("SELECT tokens, at FROM buckets WHERE key_id=?", (key_id,)).fetchone()
            bucket, wait = self._spend(tuple(row) if row else None, now)
            db.execute("INSERT OR REPLACE INTO buckets VALUES (?, ?, ?)", (key_id, *bucket))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return wait
