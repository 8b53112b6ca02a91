"""Known-bad bank rows: banks, their entries, and the hits recorded when listings are written.

Every change to banks or entries bumps `VERSION_KEY` in `meta`, so that a process holding a
snapshot of the enabled entries (simgov/banks.py) knows when to read them again.
"""
from __future__ import annotations

import sqlite3
import time

from ..errors import BadInput, UnknownId
from ..records import Bank, BankEntry, BankHit
from .items import Store
from .sql import sql_chunks

VERSION_KEY = "banks_version"


def _entry(row) -> BankEntry:
    """A `bank_entries` row (its columns in the model's field order)."""
    return BankEntry(**dict(zip(BankEntry.model_fields, row)))


def _bump(db: sqlite3.Connection) -> None:
    db.execute("INSERT INTO meta VALUES (?, '1') ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
               (VERSION_KEY,))


class BankTables:
    """Bank reads and writes on a :class:`simgov.storage.items.Store` (same file, same transactions)."""

    def __init__(self, store: Store):
        self.store = store

    def version(self) -> str | None:
        """The banks' version, None when no bank was ever made."""
        return self.store.get_meta(VERSION_KEY)

    def create(self, name: str, description: str | None, by: str | None) -> None:
        with self.store.transaction() as db:
            if db.execute("SELECT 1 FROM banks WHERE name=?", (name,)).fetchone():
                raise BadInput(f"bank {name} already exists")
            db.execute("INSERT INTO banks VALUES (?, ?, 1, ?, ?)", (name, description, time.time(), by))
            _bump(db)

    def ensure(self, name: str, description: str | None, by: str | None) -> None:
        """Create the bank unless it exists."""
        with self.store.transaction() as db:
            if db.execute("INSERT OR IGNORE INTO banks VALUES (?, ?, 1, ?, ?)",
                          (name, description, time.time(), by)).rowcount:
                _bump(db)

    def banks(self) -> list[Bank]:
        rows = self.store.connection().execute(
            "SELECT b.name, b.description, b.enabled, b.created_at, b.created_by, COUNT(e.entry_id), "
            "COALESCE(SUM(e.enabled), 0) FROM banks b LEFT JOIN bank_entries e ON e.bank = b.name "
            "GROUP BY b.name ORDER BY b.name").fetchall()
        return [Bank(**dict(zip(Bank.model_fields, r))) for r in rows]

    def set_enabled(self, name: str, enabled: bool) -> None:
        with self.store.transaction() as db:
            if not db.execute("UPDATE banks SET enabled=? WHERE name=?", (int(enabled), name)).rowcount:
                raise UnknownId("bank", name)
            _bump(db)

    def add_entries(self, name: str, rows: list[tuple]) -> int:
        """Insert (bank, kind, value, label, source, added_at, added_by) rows not there yet; the
        number added."""
        with self.store.transaction() as db:
            if not db.execute("SELECT 1 FROM banks WHERE name=?", (name,)).fetchone():
                raise UnknownId("bank", name)
            added = sum(db.execute("INSERT OR IGNORE INTO bank_entries (bank, kind, value, label, source, enabled, "
                                   "added_at, added_by) VALUES (?, ?, ?, ?, ?, 1, ?, ?)", r).rowcount for r in rows)
            if added:
                _bump(db)
        return added

    def entries(self, name: str, kind: str | None = None) -> list[BankEntry]:
        sql = "SELECT * FROM bank_entries WHERE bank=?" + (" AND kind=?" if kind else "") + " ORDER BY entry_id"
        rows = self.store.connection().execute(sql, (name, kind) if kind else (name,)).fetchall()
        return [_entry(r) for r in rows]

    def set_entry_enabled(self, name: str, entry_id: int, enabled: bool) -> None:
        with self.store.transaction() as db:
            if not db.execute("UPDATE bank_entries SET enabled=? WHERE bank=? AND entry_id=?",
                              (int(enabled), name, entry_id)).rowcount:
                raise UnknownId("bank entry", f"{name}/{entry_id}")
            _bump(db)

    def enabled_entries(self) -> list[BankEntry]:
        """The enabled entries of enabled banks, by entry id."""
        rows = self.store.connection().execute(
            "SELECT e.* FROM bank_entries e JOIN banks b ON b.name = e.bank "
            "WHERE e.enabled=1 AND b.enabled=1 ORDER BY e.entry_id").fetchall()
        return [_entry(r) for r in rows]

    def record_hits(self, item_ids: list[str], found: list[BankHit]) -> None:
        """Replace the hits of these listings (a new version is judged afresh)."""
        with self.store.transaction() as db:
            for chunk in sql_chunks(item_ids):
                db.execute(f"DELETE FROM bank_hits WHERE item_id IN ({','.join('?' * len(chunk))})", chunk)
            db.executemany("INSERT OR REPLACE INTO bank_hits VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [(h.item_id, h.entry_id, h.bank, h.kind, h.detail, h.score, h.at) for h in found])

    def hits(self, *, item_ids: list[str] | None = None, bank: str | None = None, since: float | None = None,
             limit: int = 1000) -> list[BankHit]:
        """Recorded hits of live listings, newest first."""
        where, args = ["i.deleted=0"], []
        if since is not None:
            where.append("h.at>=?")
            args.append(since)
        if item_ids is not None:
            where.append(f"h.item_id IN ({','.join('?' * len(item_ids))})")
            args += item_ids
        if bank is not None:
            where.append("h.bank=?")
            args.append(bank)
        rows = self.store.connection().execute(
            "SELECT h.item_id, h.bank, h.entry_id, h.kind, h.detail, h.score, h.at FROM bank_hits h "
            f"JOIN items i ON i.item_id = h.item_id WHERE {' AND '.join(where)} "
            "ORDER BY h.at DESC, h.item_id, h.entry_id LIMIT ?", [*args, limit]).fetchall()
        return [BankHit(**dict(zip(BankHit.model_fields, r))) for r in rows]

    def hits_since(self, since: float) -> list[tuple[str, str, str]]:
        """(item id, bank, detail) of every hit of a live listing recorded since `since`, by item
        and entry (what a build reports)."""
        return self.store.connection().execute(
            "SELECT h.item_id, h.bank, h.detail FROM bank_hits h JOIN items i ON i.item_id = h.item_id "
            "WHERE i.deleted=0 AND h.at>=? ORDER BY h.item_id, h.entry_id", (since,)).fetchall()
