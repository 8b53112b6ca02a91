"""API keys and the lookup audit trail, kept in the index's SQLite store beside the items.

A key is shown once, when it is created: `sgk_<key id>_<secret>`. The store keeps only the key id
(public, names the key in logs and the audit trail), its role and the SHA-256 of the whole key
(the secret is 256 random bits, so a plain hash is enough; no slow KDF needed). Checking a key
costs one primary-key read and a constant-time comparison; an unknown key id is compared against
a dummy hash so that timing does not tell unknown ids from wrong secrets. Revocation takes effect
on the next request in every process because nothing is cached.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from .errors import BadInput
from .store import Store

ROLES = ("investigator", "ingest", "admin")
#: Which roles may do what: reading (lookups) and writing (ingest); admin does both plus audit.
READ_ROLES = frozenset({"investigator", "admin"})
WRITE_ROLES = frozenset({"ingest", "admin"})
ADMIN_ROLES = frozenset({"admin"})

PREFIX = "sgk_"
_DUMMY_HASH = hashlib.sha256(b"simgov: no such key").hexdigest()

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    label TEXT,
    created_at REAL NOT NULL,
    revoked_at REAL
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


@dataclass(frozen=True)
class Principal:
    """Who is calling: a live key's id and role."""

    key_id: str
    role: str
    label: str | None = None


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    role: str
    label: str | None
    created_at: float
    revoked_at: float | None


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _split(key: str) -> str | None:
    """The key id of a well-formed key, else None."""
    if not key.startswith(PREFIX):
        return None
    key_id, sep, secret = key[len(PREFIX):].partition("_")
    if not sep or len(key_id) != 12 or not secret:
        return None
    return key_id


@dataclass
class _Pending:
    row: tuple
    done: bool = False
    error: BaseException | None = field(default=None, repr=False)


class _GroupCommit:
    """Audit rows of concurrent lookups written in one transaction, each caller returning only once
    its row is committed (durable: the store syncs every commit). One synced commit per lookup, one
    at a time (4 ms each here), capped a server process near 250 lookups a second; shared commits
    wrote 1.46x the entries a second from 8 threads (scripts/bench/bench_audit_log.py). The first
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


class KeyStore:
    """Keys and audit entries in the store of one index folder."""

    def __init__(self, store: Store):
        self.store = store
        self._audit = _GroupCommit(store)
        with store.transaction() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)

    # -- keys -------------------------------------------------------------------------------------
    def create(self, role: str, label: str | None = None) -> tuple[str, KeyInfo]:
        """A new key of `role`: (the key text, shown only now; what the store keeps)."""
        if role not in ROLES:
            raise BadInput(f"unknown role: {role} (roles: {', '.join(ROLES)})")
        key_id = secrets.token_hex(6)
        key = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        info = KeyInfo(key_id, role, label, time.time(), None)
        with self.store.transaction() as db:
            db.execute("INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, NULL)",
                       (key_id, _digest(key), role, label, info.created_at))
        return key, info

    def verify(self, key: str | None) -> Principal | None:
        """The principal of a live key, or None for a missing, malformed, unknown or revoked key."""
        if not key:
            return None
        key_id = _split(key)
        row = None
        if key_id is not None:
            row = self.store.connection().execute(
                "SELECT key_hash, role, label, revoked_at FROM api_keys WHERE key_id=?", (key_id,)).fetchone()
        stored = row[0] if row else _DUMMY_HASH
        same = hmac.compare_digest(stored.encode("ascii"), _digest(key).encode("ascii"))
        if row is None or not same or row[3] is not None:
            return None
        return Principal(key_id, row[1], row[2])

    def list(self) -> list[KeyInfo]:
        rows = self.store.connection().execute(
            "SELECT key_id, role, label, created_at, revoked_at FROM api_keys ORDER BY created_at").fetchall()
        return [KeyInfo(*r) for r in rows]

    def revoke(self, key_id: str) -> bool:
        """Revoke a live key; False when there is no such live key."""
        with self.store.transaction() as db:
            cur = db.execute("UPDATE api_keys SET revoked_at=? WHERE key_id=? AND revoked_at IS NULL",
                             (time.time(), key_id))
            return cur.rowcount == 1

    # -- audit ------------------------------------------------------------------------------------
    def record(self, principal: Principal, endpoint: str, ids: Iterable[str], detail: dict[str, Any] | None = None) -> None:
        """One audit entry: who looked up what, when (committed before the lookup is answered)."""
        self._audit.write((time.time(), principal.key_id, principal.role, endpoint,
                           json.dumps(list(ids), ensure_ascii=False),
                           json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None))

    def audit(self, *, key_id: str | None = None, item_id: str | None = None, since: float | None = None,
              before_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Audit entries, newest first, optionally for one key, one asked-for id, or after a time."""
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
        rows = self.store.connection().execute(sql, [*args, limit]).fetchall()
        return [{"entry_id": r[0], "at": r[1], "key_id": r[2], "role": r[3], "endpoint": r[4],
                 "ids": json.loads(r[5]), "detail": json.loads(r[6]) if r[6] else None} for r in rows]
