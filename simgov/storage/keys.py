"""API key and audit log rows (simgov/keys.py decides what they mean)."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from .items import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    label TEXT,
    created_at REAL NOT NULL,
    revoked_at REAL,
    holder TEXT
);
CREATE TABLE IF NOT EXISTS audit_log (
    entry_id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    key_id TEXT NOT NULL,
    role TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    ids TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log(at);
CREATE INDEX IF NOT EXISTS audit_log_key ON audit_log(key_id, at);
"""


@dataclass
class _Pending:
    row: tuple
    done: bool = False
    error: BaseException | None = field(default=None, repr=False)


class _GroupCommit:
    """Audit rows of concurrent lookups written in one transaction, each caller returning only once
    its row is committed (durable: the store syncs every commit). One synced commit per lookup, one
    at a time (4 ms each here), capped a server process near 250 lookups a second; shared commits
    wrote 1.46x the entries a second from 8 threads (benchmarks/audit_log.py). The first
    waiting caller writes everything queued so far while later ones queue for the next turn."""

    SQL = "INSERT INTO audit_log (at, key_id, role, endpoint, ids, detail) VALUES (?, ?, ?, ?, ?, ?)"

    def __init__(self, store: Store):
        self.store = store
        self._turn = threading.Condition()
        self._queue: list[_Pending] = []
        self._writing = False

    def write(self, row: tuple) -> None:
        mine = _Pending(row)
        with self._turn:
            self._queue.append(mine)
            while not mine.done:
                if self._writing:
                    self._turn.wait()
                    continue
                self._writing = True
                batch, self._queue = self._queue, []
                self._turn.release()
                error = None
                try:
                    with self.store.transaction() as db:
                        db.executemany(self.SQL, [p.row for p in batch])
                except BaseException as exc:  # every caller of the batch learns its entry was not written
                    error = exc
                finally:
                    self._turn.acquire()
                    for p in batch:
                        p.done, p.error = True, error
                    self._writing = False
                    self._turn.notify_all()
        if mine.error is not None:
            raise mine.error


class KeyTables:
    """Key and audit rows in the store of one index folder (tables made on first use)."""

    def __init__(self, store: Store):
        self.store = store
        self._audit = _GroupCommit(store)
        with store.transaction() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            if "holder" not in {r[1] for r in db.execute("PRAGMA table_info(api_keys)")}:  # made before holders
                db.execute("ALTER TABLE api_keys ADD COLUMN holder TEXT")

    def insert_key(self, key_id: str, key_hash: str, role: str, label: str | None, holder: str | None,
                   created_at: float) -> None:
        with self.store.transaction() as db:
            db.execute("INSERT INTO api_keys (key_id, key_hash, role, label, created_at, revoked_at, holder) "
                       "VALUES (?, ?, ?, ?, ?, NULL, ?)", (key_id, key_hash, role, label, created_at, holder))

    def key_row(self, key_id: str) -> tuple[str, str, str | None, float | None, str | None] | None:
        """(key hash, role, label, revoked at, holder) of a key id, or None."""
        return self.store.connection().execute(
            "SELECT key_hash, role, label, revoked_at, holder FROM api_keys WHERE key_id=?", (key_id,)).fetchone()

    def keys(self) -> list[tuple[str, str, str | None, float, float | None, str | None]]:
        """(key id, role, label, created at, revoked at, holder) of every key, oldest first."""
        return self.store.connection().execute(
            "SELECT key_id, role, label, created_at, revoked_at, holder FROM api_keys ORDER BY created_at").fetchall()

    def revoke(self, key_id: str, at: float) -> bool:
        """Revoke a live key; False when there is no such live key."""
        with self.store.transaction() as db:
            cur = db.execute("UPDATE api_keys SET revoked_at=? WHERE key_id=? AND revoked_at IS NULL", (at, key_id))
            return cur.rowcount == 1

    def write_audit(self, row: tuple) -> None:
        """One (at, key id, role, endpoint, ids JSON, detail JSON) row, committed when this returns."""
        self._audit.write(row)

    def audit(self, *, key_id: str | None = None, item_id: str | None = None, since: float | None = None,
              before_id: int | None = None, limit: int = 100) -> list[tuple[Any, ...]]:
        """(entry id, at, key id, role, endpoint, ids JSON, detail JSON) rows, newest first."""
        where, args = [], []
        if key_id:
            where.append("key_id=?")
            args.append(key_id)
        if since is not None:
            where.append("at>=?")
            args.append(since)
        if before_id is not None:
            where.append("entry_id<?")
            args.append(before_id)
        if item_id:
            where.append("EXISTS (SELECT 1 FROM json_each(audit_log.ids) WHERE json_each.value=?)")
            args.append(item_id)
        sql = ("SELECT entry_id, at, key_id, role, endpoint, ids, detail FROM audit_log"
               + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY entry_id DESC LIMIT ?")
        return self.store.connection().execute(sql, [*args, limit]).fetchall()
