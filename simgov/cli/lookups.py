"""`simgov similar`, `linked` and `pairs`: one item's or account's neighbours, and every item pair."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..config import BACKEND_ENV, MILVUS_URI_ENV
from ..verdicts import Verdicts
from .common import index_arg, open_index, table, where, writer


def backend_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", choices=["faiss", "milvus"],
                   help="where dense vectors are searched (default: the index's dense_backend, faiss)")
    p.add_argument("--milvus-uri", help="Milvus server (http://host:19530) or Milvus Lite file (*.db)")


def dense_backend(args) -> None:
    """--backend / --milvus-uri: set for this process and the API workers it starts."""
    if getattr(args, "backend", None):
        os.environ[BACKEND_ENV] = args.backend
    if getattr(args, "milvus_uri", None):
        os.environ[MILVUS_URI_ENV] = args.milvus_uri


def register(sub) -> None:
    p = sub.add_parser("similar", help="an indexed item's nearest items")
    p.add_argument("item_id")
    index_arg(p)
    p.add_argument("-k", type=int, default=10, help="number of neighbours (default 10)")
    p.add_argument("--signals", help="comma-separated signals to use (default: all)")
    p.add_argument("--min-score", type=float, default=0.0)
    p.add_argument("--json", action="store_true", help="JSON records instead of a table")
    backend_args(p)
    p.set_defaults(handler=cmd_similar)

    p = sub.add_parser("linked", help="accounts linked to this one, with evidence")
    p.add_argument("account_id")
    index_arg(p)
    p.add_argument("-k", type=int, default=10, help="number of accounts (default 10)")
    p.add_argument("--min-score", type=float, default=0.0)
    p.add_argument("--json", action="store_true", help="JSON records instead of a table")
    p.set_defaults(handler=cmd_linked)

    p = sub.add_parser("pairs", help="similarity self-join: every item pair above a score")
    index_arg(p)
    p.add_argument("--min-score", type=float, default=0.0)
    p.add_argument("--cross-seller-only", action="store_true", help="only pairs of different sellers")
    p.add_argument("-k", type=int, default=None, help="neighbours per item and signal (default from config)")
    p.add_argument("--out", required=True, type=Path, help="output file: .csv or JSON Lines; - for standard output")
    p.add_argument("--workers", type=int, choices=range(1, 65), metavar="N",
                   help="processes that score the pairs (default: the config's image_workers, 0 there = one "
                        "per core; 1 = none)")
    p.set_defaults(handler=cmd_pairs)


def cmd_similar(args) -> int:
    dense_backend(args)
    index = open_index(args.index)
    signals = args.signals.split(",") if args.signals else None
    neighbours = index.similar(args.item_id, k=args.k, signals=signals, min_score=args.min_score)
    Verdicts(index).review_neighbours(args.item_id, neighbours)
    if args.json:
        print(json.dumps([n.model_dump() for n in neighbours], ensure_ascii=False, indent=2))
        return 0
    item = index.item(args.item_id).item
    print(f"{item.item_id}  seller {item.seller_id}  {item.title!r}")
    rows = [[n.item_id, n.seller_id, f"{n.score:.3f}", "yes" if n.match else "no", n.relation,
             " ".join(f"{k}={v:.2f}" for k, v in n.signals.items()), "; ".join(n.evidence)] for n in neighbours]
    print(table(rows, ["item", "seller", "score", "match", "relation", "signals", "evidence"]))
    return 0


def cmd_linked(args) -> int:
    index = open_index(args.index)
    found = index.accounts.linked(args.account_id, k=args.k, min_score=args.min_score)
    Verdicts(index).review_linked(args.account_id, found)
    if args.json:
        print(json.dumps([r.model_dump() for r in found], ensure_ascii=False, indent=2))
        return 0
    record = index.accounts.account(args.account_id).record
    names = ", ".join(record.get("identifier_names", [])) or "none"
    print(f"{args.account_id}  {record.get('display_name', '')!r}  handle {record.get('handle', '')!r}  "
          f"identifiers: {names}")
    rows = [[r.account_id, f"{r.score:.3f}", "yes" if r.match else "no",
             "; ".join(e.detail for e in r.evidence if e.kind != "identifier_mismatch")] for r in found]
    print(table(rows, ["account", "score", "match", "evidence"]))
    return 0


def cmd_pairs(args) -> int:
    index = open_index(args.index)
    fh, write = writer(args.out)
    count = matches = 0
    with fh:
        pairs = index.pairs(min_score=args.min_score, cross_seller_only=args.cross_seller_only, k=args.k,
                            workers=args.workers)
        for pair in Verdicts(index).review_pairs(pairs):
            write(pair.model_dump())
            count += 1
            matches += pair.match
    print(f"{count} pairs written to {where(args.out)} ({matches} matches)", file=sys.stderr)
    return 0
