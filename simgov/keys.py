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
import time
from dataclasses import dataclass
from typing import Any, Iterable

from .errors import BadInput
from .storage.items import Store
from .storage.keys import KeyTables

ROLES = ("investigator", "ingest", "admin")
#: Which roles may do what: reading (lookups) and writing (ingest); admin does both plus audit.
READ_ROLES = frozenset({"investigator", "admin"})
WRITE_ROLES = frozenset({"ingest", "admin"})
ADMIN_ROLES = frozenset({"admin"})

PREFIX = "sgk_"
MAX_HOLDER = 200
_DUMMY_HASH = hashlib.sha256(b"simgov: no such key").hexdigest()

@dataclass(frozen=True)
class Principal:
    """Who is calling: a live key's id and role, and the person behind it."""

    key_id: str
    role: str
    label: str | None = None
    holder: str | None = None

    @property
    def name(self) -> str | None:
        """Who verdicts name: the key's holder, else its label."""
        return self.holder or self.label


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    role: str
    label: str | None
    created_at: float
    revoked_at: float | None
    holder: str | None = None


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


class KeyStore:
    """Keys and audit entries in the store of one index folder."""

    def __init__(self, store: Store):
        self.store = store
        self.tables = KeyTables(store)

    # -- keys -------------------------------------------------------------------------------------
    def create(self, role: str, label: str | None = None, holder: str | None = None) -> tuple[str, KeyInfo]:
        """A new key of `role`: (the key text, shown only now; what the store keeps). `holder`:
        the person the key is given to, named by the verdicts given with it."""
        if role not in ROLES:
            raise BadInput(f"unknown role: {role} (roles: {', '.join(ROLES)})")
        holder = holder.strip() if holder else None
        if holder is not None and (not holder or len(holder) > MAX_HOLDER or not holder.isprintable()):
            raise BadInput(f"a key holder is a printable name of 1 to {MAX_HOLDER} characters")
        key_id = secrets.token_hex(6)
        key = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        info = KeyInfo(key_id, role, label, time.time(), None, holder or None)
        self.tables.insert_key(key_id, _digest(key), role, label, info.holder, info.created_at)
        return key, info

    def verify(self, key: str | None) -> Principal | None:
        """The principal of a live key, or None for a missing, malformed, unknown or revoked key."""
        if not key:
            return None
        key_id = _split(key)
        row = self.tables.key_row(key_id) if key_id is not None else None
        stored = row[0] if row else _DUMMY_HASH
        same = hmac.compare_digest(stored.encode("ascii"), _digest(key).encode("ascii"))
        if row is None or not same or row[3] is not None:
            return None
        return Principal(key_id, row[1], row[2], row[4])

    def list(self) -> list[KeyInfo]:
        return [KeyInfo(*r) for r in self.tables.keys()]

    def revoke(self, key_id: str) -> bool:
        """Revoke a live key; False when there is no such live key."""
        return self.tables.revoke(key_id, time.time())

    # -- audit ------------------------------------------------------------------------------------
    def record(self, principal: Principal, endpoint: str, ids: Iterable[str],
               detail: dict[str, Any] | None = None) -> None:
        """One audit entry: who looked up what, when (committed before the lookup is answered)."""
        self.tables.write_audit((time.time(), principal.key_id, principal.role, endpoint,
                                 json.dumps(list(ids), ensure_ascii=False),
                                 json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None))

    def audit(self, *, key_id: str | None = None, item_id: str | None = None, since: float | None = None,
              before_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Audit entries, newest first, optionally for one key, one asked-for id, or after a time."""
        rows = self.tables.audit(key_id=key_id, item_id=item_id, since=since, before_id=before_id, limit=limit)
        return [{"entry_id": r[0], "at": r[1], "key_id": r[2], "role": r[3], "endpoint": r[4],
                 "ids": json.loads(r[5]), "detail": json.loads(r[6]) if r[6] else None} for r in rows]
