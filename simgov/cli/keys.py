"""`simgov keys create|list|revoke`: API keys."""
from __future__ import annotations

import sys

from ..errors import SimgovError
from ..keys import KeyStore
from ..storage.items import Store
from .common import index_dir, optional_index_arg, table, when


def register(sub) -> None:
    p = sub.add_parser("keys", help="API keys: create, list, revoke")
    keys_sub = p.add_subparsers(dest="keys_command", required=True)
    for name, help_text, handler in (("create", "make a key and print it (shown only once)", cmd_keys_create),
                                     ("list", "the keys, never their secrets", cmd_keys_list),
                                     ("revoke", "revoke a key by its id", cmd_keys_revoke)):
        kp = keys_sub.add_parser(name, help=help_text)
        optional_index_arg(kp)
        kp.set_defaults(handler=handler)
    kp = keys_sub.choices["create"]
    kp.add_argument("--role", required=True, choices=["investigator", "ingest", "admin"])
    kp.add_argument("--label", help="a note to recognise the key by (who or what uses it)")
    kp.add_argument("--holder", help="the person the key is given to (verdicts given with it name them)")
    keys_sub.choices["revoke"].add_argument("key_id")


def _with_keys(args, act) -> int:
    store = Store(index_dir(args))
    try:
        act(KeyStore(store))
    finally:
        store.close()
    return 0


def cmd_keys_create(args) -> int:
    def create(keys: KeyStore) -> None:
        key, info = keys.create(args.role, args.label, args.holder)
        print(key)
        held = f" for {info.holder}" if info.holder else ""
        print(f"key {info.key_id} ({info.role}){held} created; the key is shown only now", file=sys.stderr)
    return _with_keys(args, create)


def cmd_keys_list(args) -> int:
    def listing(keys: KeyStore) -> None:
        rows = [[k.key_id, k.role, "revoked" if k.revoked_at else "live", when(k.created_at),
                 when(k.revoked_at), k.holder or "", k.label or ""] for k in keys.list()]
        print(table(rows, ["key_id", "role", "state", "created", "revoked", "holder", "label"]))
    return _with_keys(args, listing)


def cmd_keys_revoke(args) -> int:
    def revoke(keys: KeyStore) -> None:
        if not keys.revoke(args.key_id):
            raise SimgovError(f"no live key with id {args.key_id}")
        print(f"key {args.key_id} revoked", file=sys.stderr)
    return _with_keys(args, revoke)
