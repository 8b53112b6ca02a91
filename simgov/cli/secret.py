"""`simgov secret where|move-out`: the key of the index's keyed identifier hashes."""
from __future__ import annotations

import sys

from ..accounts.secret import META_KEY, missing_message, move_out, secret_source
from .common import index_dir, open_index, optional_index_arg

WHERE = {"env": "the environment ($SIMGOV_IDENTIFIER_SECRET)",
         "config_file": "the file named by identifier_secret_file: {path}",
         "key_store": "the key store: {path}",
         "index_folder": "INSIDE the index folder: {path}; every copy of the folder carries it. Move it out with: "
                         "simgov secret move-out --index {index}"}


def register(sub) -> None:
    p = sub.add_parser("secret", help="the key of the keyed hashes of account identifiers: where it is, move it out")
    secret_sub = p.add_subparsers(dest="secret_command", required=True)
    for name, help_text, handler in (
            ("where", "where the index's key is (never the key itself)", cmd_secret_where),
            ("move-out", "move INDEX/secret.key into the key store and remove it from the index folder",
             cmd_secret_move_out)):
        sp = secret_sub.add_parser(name, help=help_text)
        optional_index_arg(sp)
        sp.set_defaults(handler=handler)


def cmd_secret_where(args) -> int:
    folder = index_dir(args)
    index = open_index(folder)
    try:
        source = secret_source(index.config, folder, index.store)
        if source.kind == "missing":
            if index.store.get_meta(META_KEY) is None:
                print("no identifier secret yet: the first account build makes one in the key store")
                return 0
            print(missing_message(folder, source), file=sys.stderr)
            return 1
        print(WHERE[source.kind].format(path=source.path, index=folder))
    finally:
        index.close()
    return 0


def cmd_secret_move_out(args) -> int:
    folder = index_dir(args)
    index = open_index(folder)
    try:
        target = move_out(index.config, folder, index.store)
    finally:
        index.close()
    print(f"the identifier secret is now {target} (mode 0600); the index folder no longer holds it. Back it up "
          "apart from the index: without it no account can be built into this index", file=sys.stderr)
    return 0
