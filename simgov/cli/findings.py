"""`simgov findings` and `simgov sellers`: the findings queue and seller risk from the command line."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..findings.model import KINDS
from ..findings.queue import SORTS, Filters, FindingsQueue
from ..findings.risk import ranked, seller_risks
from .common import index_arg, open_index, table, where, write_all


def register(sub) -> None:
    p = sub.add_parser("findings", help="every open finding (counterfeits, duplicate groups, rings, bank hits), "
                                        "most severe first")
    index_arg(p)
    p.add_argument("--kind", choices=KINDS)
    p.add_argument("--status", choices=["open", "confirmed", "rejected", "all"], default="open",
                   help="findings with this verdict status (default open: no verdict yet)")
    p.add_argument("--sort", choices=SORTS, default="severity")
    p.add_argument("--out", type=Path, help="write the findings as JSON Lines or .csv (- for standard output) "
                                            "instead of a table")
    p.add_argument("--rescan", action="store_true", help="scan the whole index again instead of re-checking "
                                                         "only the listings written since the last scan")
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    p.set_defaults(handler=cmd_findings)

    p = sub.add_parser("sellers", help="sellers and creators ranked by risk, with reasons")
    index_arg(p)
    p.add_argument("--sort", choices=["risk", "seller_id"], default="risk")
    p.add_argument("--limit", type=int, default=30, choices=range(1, 100_001), metavar="N",
                   help="sellers to show (default 30)")
    p.add_argument("--json", action="store_true", help="JSON records instead of a table")
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    p.set_defaults(handler=cmd_sellers)


def current_queue(index, rescan: bool, quiet: bool) -> FindingsQueue:
    """The index's findings: scanned when there are none yet (or asked to), else brought up to date."""
    say = (lambda msg: None) if quiet else (lambda msg: print(f"findings: {msg}", file=sys.stderr))
    queue = FindingsQueue(index)
    if rescan or queue.seq is None:
        queue.rescan(progress=say)
    else:
        changed = queue.catch_up()
        say(f"{changed} listings written since the last scan re-checked" if changed else "up to date")
    return queue


def cmd_findings(args) -> int:
    queue = current_queue(open_index(args.index), args.rescan, args.quiet)
    status = None if args.status == "all" else args.status
    page = queue.page(Filters(kind=args.kind, status=status), sort=args.sort, limit=500)
    found = list(page.findings)
    while page.next_cursor:
        page = queue.page(Filters(kind=args.kind, status=status), sort=args.sort, limit=500, cursor=page.next_cursor)
        found += page.findings
    if args.out:
        write_all(args.out, (f.model_dump(mode="json") for f in found))
        print(f"{len(found)} findings written to {where(args.out)}", file=sys.stderr)
        return 0
    rows = [[f.severity, f.kind, f"{f.score:.2f}", f.status, f.finding_id, f.summary] for f in found]
    print(table(rows, ["severity", "kind", "score", "status", "finding", "summary"]))
    return 0


def cmd_sellers(args) -> int:
    index = open_index(args.index)
    queue = current_queue(index, False, args.quiet)
    shown = ranked(seller_risks(index, queue.current()), args.sort)[:args.limit]
    if args.json:
        for risk in shown:
            print(json.dumps(risk.model_dump(mode="json"), ensure_ascii=False))
        return 0
    rows = [[r.seller_id, f"{r.risk:.2f}", str(r.counts.get("listings", 0)), str(r.counts.get("flagged_listings", 0)),
             "; ".join(x.detail for x in r.reasons[:2])] for r in shown]
    print(table(rows, ["seller", "risk", "listings", "flagged", "reasons"]))
    return 0
