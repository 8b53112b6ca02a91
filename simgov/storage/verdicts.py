"""Verdict rows: every decision is kept; the latest per finding (kind, subject) that was not
undone counts. Undoing marks the row (when, by which key) and keeps it."""
from __future__ import annotations

import json
import time
import weakref
from typing import Iterable

from ..records import Verdict
from .items import Store
from .sql import sql_chunks

_COLUMNS = ("verdict_id, kind, ids, decision, reason, note, key_id, at, score, signals, agreeing, holder, "
            "undone_at, undone_by")
#: Columns added after the table was first made (stores made before get them on first use).
_ADDED = (("holder", "TEXT"), ("undone_at", "REAL"), ("undone_by", "TEXT"))
_checked: "weakref.WeakSet[Store]" = weakref.WeakSet()


def _row(r) -> Verdict:
    return Verdict(verdict_id=r[0], kind=r[1], ids=json.loads(r[2]), decision=r[3], reason=r[4], note=r[5],
                   key_id=r[6], at=r[7], score=r[8], signals=json.loads(r[9]), agreeing=json.loads(r[10]),
                   holder=r[11], undone_at=r[12], undone_by=r[13])


def _ensure_columns(store: Store) -> None:
    """Add the columns a store made before them lacks (once per open store)."""
    if store in _checked:
        return
    have = {r[1] for r in store.connection().execute("PRAGMA table_info(verdicts)")}
    if any(name not in have for name, _ in _ADDED):
        with store.transaction() as db:
            have = {r[1] for r in db.execute("PRAGMA table_info(verdicts)")}  # another process may have added them
            for name, kind in _ADDED:
                if name not in have:
                    db.execute(f"ALTER TABLE verdicts ADD COLUMN {name} {kind}")
    _checked.add(store)


class VerdictTables:
    """Verdict reads and writes on a :class:`simgov.storage.items.Store`. `subject` is the
    finding's ids joined into one key (simgov.verdicts.key)."""

    def __init__(self, store: Store):
        self.store = store
        _ensure_columns(store)

    def insert(self, kind: str, subject: str, ids: list[str], decision: str, reason: str, note: str | None,
               key_id: str, holder: str | None, score: float | None, signals: dict[str, float],
               agreeing: list[str]) -> int:
        with self.store.transaction() as db:
            cur = db.execute(
                "INSERT INTO verdicts "
                "(kind, subject, ids, decision, reason, note, key_id, holder, at, score, signals, agreeing) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (kind, subject, json.dumps(ids, ensure_ascii=False), decision, reason, note, key_id, holder,
                 time.time(), score, json.dumps(signals, sort_keys=True), json.dumps(agreeing)))
            return int(cur.lastrowid)

    def undo(self, verdict_id: int, key_id: str) -> bool:
        """Mark a verdict undone; False when there is no such verdict or it was undone already."""
        with self.store.transaction() as db:
            cur = db.execute("UPDATE verdicts SET undone_at=?, undone_by=? WHERE verdict_id=? AND undone_at IS NULL",
                             (time.time(), key_id, verdict_id))
            return cur.rowcount == 1

    def get(self, verdict_id: int) -> Verdict | None:
        row = self.store.connection().execute(
            f"SELECT {_COLUMNS} FROM verdicts WHERE verdict_id=?", (verdict_id,)).fetchone()
        return None if row is None else _row(row)

    def list(self, *, kind: str | None = None, decision: str | None = None, item_id: str | None = None,
             since: float | None = None, latest_only: bool = False, limit: int | None = None) -> list[Verdict]:
        """Verdicts, oldest first; `latest_only`: only the one that counts for each finding."""
        where, args = [], []
        for column, value in (("kind", kind), ("decision", decision)):
            if value is not None:
                where.append(f"{column}=?")
                args.append(value)
        if since is not None:
            where.append("at>=?")
            args.append(since)
        if item_id is not None:
            where.append("EXISTS (SELECT 1 FROM json_each(verdicts.ids) WHERE json_each.value=?)")
            args.append(item_id)
        if latest_only:
            where.append("verdict_id = (SELECT MAX(v2.verdict_id) FROM verdicts v2 WHERE v2.kind = verdicts.kind "
                         "AND v2.subject = verdicts.subject AND v2.undone_at IS NULL)")
        sql = (f"SELECT {_COLUMNS} FROM verdicts" + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY verdict_id" + (" LIMIT ?" if limit else ""))
        rows = self.store.connection().execute(sql, [*args, limit] if limit else args).fetchall()
        return [_row(r) for r in rows]

    def latest(self, kind: str, subjects: Iterable[str]) -> dict[str, Verdict]:
        """The verdict that counts for each of these subject keys that has one (undone ones do not)."""
        keys = list(dict.fromkeys(subjects))
        out: dict[str, Verdict] = {}
        db = self.store.connection()
        for chunk in sql_chunks(keys):
            for r in db.execute(f"SELECT {_COLUMNS}, subject FROM verdicts WHERE kind=? AND undone_at IS NULL AND "
                                f"subject IN ({','.join('?' * len(chunk))}) ORDER BY verdict_id", [kind, *chunk]):
                out[r[14]] = _row(r)
        return out
