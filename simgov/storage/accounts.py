"""Account rows in the index's SQLite store (tables created by :data:`simgov.storage.items.SCHEMA`).

``accounts`` holds the record as ingested without identifier values and the profile with keyed
identifier hashes only; ``account_identifiers`` repeats the hashes for exact blocking;
``account_features`` and ``account_problems`` hold per-signal blobs and problems. Every account
version gets a fresh ``acc_id`` from the store's sequence counter (shared with item vec_ids), so
one ``applied_seq`` tells which item and account writes an index generation already holds.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from ..accounts.profiling import AccountProfile
from ..schema import canonical_json
from .items import Store
from .sql import sql_chunks


@dataclass
class StoredAccount:
    account_id: str
    acc_id: int
    content_hash: str
    record: dict
    profile: AccountProfile


@dataclass
class AccountWrite:
    """One account version to store: safe record, profile, signal blobs and problems."""

    account_id: str
    content_hash: str
    record: dict
    profile: AccountProfile
    blobs: dict[str, bytes] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (signal, problem)


class AccountStore:
    """Account reads and writes on a :class:`simgov.storage.items.Store` (same file, same transactions)."""

    def __init__(self, store: Store):
        self.store = store

    def _db(self):
        return self.store.connection()

    # -- writing --------------------------------------------------------------------------------
    def content_hashes(self, account_ids: list[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for chunk in sql_chunks(list(account_ids), 500):
            marks = ",".join("?" * len(chunk))
            out.update(self._db().execute(
                f"SELECT account_id, content_hash FROM accounts WHERE deleted=0 AND account_id IN ({marks})", chunk))
        return out

    def write(self, writes: list[AccountWrite]) -> list[int]:
        """Store new versions in one transaction; returns their acc_ids."""
        out = []
        now = time.time()
        with self.store.transaction() as db:
            seq = int(db.execute("SELECT value FROM meta WHERE key='seq'").fetchone()[0])
            for w in writes:
                seq += 1
                old = db.execute("SELECT acc_id FROM accounts WHERE account_id=?", (w.account_id,)).fetchone()
                if old:
                    db.execute("DELETE FROM account_features WHERE acc_id=?", (old[0],))
                    db.execute("DELETE FROM account_problems WHERE acc_id=?", (old[0],))
                db.execute("DELETE FROM account_identifiers WHERE account_id=?", (w.account_id,))
                db.execute("INSERT OR REPLACE INTO accounts VALUES (?, ?, ?, ?, ?, 0, ?)",
                           (w.account_id, seq, w.content_hash, canonical_json(w.record),
                            canonical_json(w.profile.to_dict()), now))
                db.executemany("INSERT INTO account_features VALUES (?, ?, ?)",
                               [(seq, s, b) for s, b in w.blobs.items()])
                db.executemany("INSERT INTO account_problems VALUES (?, ?, ?)",
                               [(seq, s, p) for s, p in w.problems])
                db.executemany("INSERT OR IGNORE INTO account_identifiers VALUES (?, ?, ?)",
                               [(h, w.account_id, name) for name, h in sorted(w.profile.identifier_hashes.items())])
                out.append(seq)
            db.execute("UPDATE meta SET value=? WHERE key='seq'", (str(seq),))
        return out

    # -- reading --------------------------------------------------------------------------------
    @staticmethod
    def _stored(row) -> StoredAccount:
        return StoredAccount(row[0], row[1], row[2], json.loads(row[3]), AccountProfile.from_dict(json.loads(row[4])))

    _COLUMNS = "account_id, acc_id, content_hash, record, profile"

    def get(self, account_id: str) -> StoredAccount | None:
        row = self._db().execute(f"SELECT {self._COLUMNS} FROM accounts WHERE account_id=? AND deleted=0",
                                 (account_id,)).fetchone()
        return self._stored(row) if row else None

    def many(self, account_ids: Iterable[str]) -> dict[str, StoredAccount]:
        out: dict[str, StoredAccount] = {}
        for chunk in sql_chunks(list(dict.fromkeys(account_ids))):
            marks = ",".join("?" * len(chunk))
            for row in self._db().execute(
                    f"SELECT {self._COLUMNS} FROM accounts WHERE deleted=0 AND account_id IN ({marks})", chunk):
                out[row[0]] = self._stored(row)
        return out

    def ids_by_acc(self, acc_ids: Iterable[int]) -> dict[int, str]:
        """acc_id → account_id for live, current account versions."""
        out: dict[int, str] = {}
        for chunk in sql_chunks(list(dict.fromkeys(int(a) for a in acc_ids))):
            marks = ",".join("?" * len(chunk))
            out.update(self._db().execute(
                f"SELECT acc_id, account_id FROM accounts WHERE deleted=0 AND acc_id IN ({marks})", chunk))
        return out

    def count(self) -> int:
        return self._db().execute("SELECT COUNT(*) FROM accounts WHERE deleted=0").fetchone()[0]

    def iter_live(self, batch: int = 2000, after: int = -1, upto: int | None = None) -> Iterator[list[StoredAccount]]:
        """Live accounts with after < acc_id <= upto, in acc_id order, in batches."""
        last = after
        bound = upto if upto is not None else (1 << 62)
        while True:
            rows = self._db().execute(
                f"SELECT {self._COLUMNS} FROM accounts WHERE deleted=0 AND acc_id>? AND acc_id<=? "
                "ORDER BY acc_id LIMIT ?", (last, bound, batch)).fetchall()
            if not rows:
                return
            yield [self._stored(r) for r in rows]
            last = rows[-1][1]

    def blobs(self, signal: str, acc_ids: Iterable[int]) -> dict[int, bytes]:
        out: dict[int, bytes] = {}
        for chunk in sql_chunks(list(dict.fromkeys(int(a) for a in acc_ids))):
            marks = ",".join("?" * len(chunk))
            out.update(self._db().execute(
                f"SELECT acc_id, blob FROM account_features WHERE signal=? AND acc_id IN ({marks})", [signal, *chunk]))
        return out

    def problems_for(self, account_ids: list[str]) -> dict[str, list[tuple[str, str]]]:
        """Signal problems recorded for live accounts (for the report of a re-run)."""
        out: dict[str, list[tuple[str, str]]] = {}
        for chunk in sql_chunks(list(account_ids)):
            marks = ",".join("?" * len(chunk))
            for account_id, signal, problem in self._db().execute(
                    "SELECT a.account_id, p.signal, p.problem FROM account_problems p "
                    "JOIN accounts a ON a.acc_id = p.acc_id "
                    f"WHERE a.deleted=0 AND a.account_id IN ({marks})", chunk):
                out.setdefault(account_id, []).append((signal, problem))
        return out

    # -- identifier hashes --------------------------------------------------------------------
    def holders(self, hashes: Iterable[str], limit: int) -> dict[str, list[str]]:
        """hash → account ids holding it, for hashes held by at most `limit` accounts."""
        out: dict[str, list[str]] = {}
        for chunk in sql_chunks(list(dict.fromkeys(hashes))):
            marks = ",".join("?" * len(chunk))
            for h, account_id in self._db().execute(
                    f"SELECT hash, account_id FROM account_identifiers WHERE hash IN ({marks})", chunk):
                out.setdefault(h, []).append(account_id)
        return {h: ids for h, ids in out.items() if len(ids) <= limit}

    def identifier_hashes(self, account_id: str) -> list[tuple[str, str]]:
        """(keyed hash, identifier name) of each identifier the account holds."""
        return self._db().execute("SELECT hash, name FROM account_identifiers WHERE account_id=?",
                                  (account_id,)).fetchall()

    def holder_counts(self, hashes: Iterable[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for chunk in sql_chunks(list(dict.fromkeys(hashes))):
            marks = ",".join("?" * len(chunk))
            out.update(self._db().execute(
                f"SELECT hash, COUNT(*) FROM account_identifiers WHERE hash IN ({marks}) GROUP BY hash", chunk))
        return out

    def blocks(self, limit: int) -> Iterator[list[str]]:
        """Account ids sharing one identifier hash, for every hash held by 2..limit accounts."""
        rows = self._db().execute(
            "SELECT hash FROM account_identifiers GROUP BY hash HAVING COUNT(*) BETWEEN 2 AND ?", (limit,)).fetchall()
        for chunk in sql_chunks([r[0] for r in rows], 500):
            found = self.holders(chunk, limit)
            yield from found.values()
