"""`simgov demo`: make the bundled demo marketplace, build it, show two lookups and serve it."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import simgov.demo as marketplace

from ..errors import SimgovError
from ..keys import KeyStore
from .build import cmd_build
from .build import register as register_build
from .common import ensure_port_free, folder_out, open_index
from .findings import current_queue
from .lookups import cmd_similar
from .lookups import register as register_lookups
from .serve import serve


def register(sub) -> None:
    p = sub.add_parser("demo", help="make the bundled demo marketplace, build it and serve it")
    p.add_argument("--out", type=Path, default=Path("demo-marketplace"), help="folder for the marketplace")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to serve on (default 8000)")
    p.add_argument("--no-serve", action="store_true", help="build and make a key, but do not start the server")
    p.set_defaults(handler=cmd_demo)


def _command_args(register, argv: list[str]) -> argparse.Namespace:
    """`argv` parsed by the command's own parser, so the demo gets every default of that command."""
    ap = argparse.ArgumentParser(prog="simgov")
    register(ap.add_subparsers(dest="command", required=True))
    return ap.parse_args(argv)


def _examples(planted: dict) -> list[tuple[str, list[str], str]]:
    """The lookups the demo shows: the first planted cross-seller copy's and re-listing's original,
    with the listings planted as its copies (which the lookup must find)."""
    out = []
    for key, what in (("cross_seller_copies", "copies"), ("same_seller_duplicates", "re-listings")):
        groups = planted.get(key) or []
        if groups:
            first, *others = groups[0]["item_ids"]
            out.append((first, others, what))
    return out


def cmd_demo(args) -> int:
    out = folder_out(args.out)
    if not args.no_serve:  # before a minute of work, not after it
        ensure_port_free(args.host, args.port)
    print(f"generating the demo marketplace in {out} ...", file=sys.stderr)
    market = marketplace.generate_marketplace(out, seed=args.seed)
    print(f"{market}", file=sys.stderr)
    if cmd_build(_command_args(register_build, ["build", "--items", str(market.items_file), "--accounts",
                                             str(market.accounts_file), "--index", str(out / "index")])):
        raise SimgovError(f"the demo marketplace in {out} could not be built (see above)")
    index = open_index(out / "index")
    planted = json.loads(Path(market.planted_file).read_text())
    for item_id, wanted, what in _examples(planted):
        print(f"\n$ simgov similar {item_id} --index {out / 'index'} -k 5")
        cmd_similar(_command_args(register_lookups, ["similar", item_id, "--index", str(out / "index"), "-k", "5"]))
        found = {n.item_id for n in index.similar(item_id, k=5) if n.match}
        missed = [i for i in wanted if i not in found]
        print(f"planted {what} of {item_id}: {len(wanted) - len(missed)} of {len(wanted)} found as matches"
              + (f" (missed: {', '.join(missed)})" if missed else ""), file=sys.stderr)
    print(f"\nplanted cases: {market.planted_file}\nnext: simgov pairs --index {out / 'index'} --cross-seller-only "
          f"--out pairs.jsonl", file=sys.stderr)
    current_queue(index, rescan=True, quiet=False)  # the console opens on the findings queue: ready at once
    key, _ = KeyStore(index.store).create("investigator", "simgov demo")
    index.close()
    print(f"\ninvestigator console: http://{args.host}:{args.port}/ui\ninvestigator key (shown once): {key}")
    if not args.no_serve:
        serve(out / "index", args.host, args.port)
    return 0
