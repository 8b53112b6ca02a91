"""`simgov duplicates`, `counterfeits` and `rings`: the detectors' findings over a whole index."""
from __future__ import annotations

import sys
from pathlib import Path

from ..detectors.counterfeits import authorizations, counterfeit_suspects
from ..detectors.duplicates import duplicate_groups
from .common import index_arg, open_index, where, write_all

OUT_HELP = "output file: .csv or JSON Lines; - for standard output"


def register(sub) -> None:
    p = sub.add_parser("rings", help="groups of linked (sock-puppet) accounts")
    index_arg(p)
    p.add_argument("--out", required=True, type=Path, help="groups: .csv or JSON Lines; - for standard output")
    p.add_argument("--pairs-out", type=Path,
                   help="also every scored account pair {account_a, account_b, score, match} (for simgov eval); "
                        "- for standard output")
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    p.set_defaults(handler=cmd_rings)

    p = sub.add_parser("duplicates", help="groups of duplicated merchandise (re-listings and copies)")
    index_arg(p)
    p.add_argument("--out", required=True, type=Path, help=OUT_HELP)
    p.set_defaults(handler=cmd_duplicates)

    p = sub.add_parser("counterfeits", help="suspected counterfeits of brand-verified reference listings")
    index_arg(p)
    p.add_argument("--out", required=True, type=Path, help=OUT_HELP)
    p.set_defaults(handler=cmd_counterfeits)


def cmd_rings(args) -> int:
    index = open_index(args.index)
    say = (lambda msg: None) if args.quiet else (lambda msg: print(f"rings: {msg}", file=sys.stderr))
    result = index.accounts.rings(progress=say)
    write_all(args.out, (group.model_dump(exclude_none=True) for group in result.groups))
    members = sum(len(g.members) for g in result.groups)
    print(f"{len(result.groups)} rings ({members} accounts) written to {where(args.out)}; {result.accounts} "
          f"accounts, {result.candidates} candidate pairs scored", file=sys.stderr)
    if args.pairs_out:
        write_all(args.pairs_out, (pair.model_dump() for pair in result.pairs))
        print(f"{len(result.pairs)} account pairs written to {where(args.pairs_out)} "
              f"({sum(p.match for p in result.pairs)} in one ring)", file=sys.stderr)
    return 0


def cmd_duplicates(args) -> int:
    groups = duplicate_groups(open_index(args.index))
    write_all(args.out, (group.model_dump(exclude_none=True) for group in groups))
    kinds = {k: sum(g.kind == k for g in groups) for k in ("same_seller_relisting", "cross_seller_copy")}
    print(f"{len(groups)} duplicate groups written to {where(args.out)} ({kinds['same_seller_relisting']} "
          f"same-seller re-listings, {kinds['cross_seller_copy']} cross-seller copies)", file=sys.stderr)
    return 0


def cmd_counterfeits(args) -> int:
    index = open_index(args.index)
    suspects = counterfeit_suspects(index, authorizations(index))
    write_all(args.out, (suspect.model_dump() for suspect in suspects))
    print(f"{len(suspects)} counterfeit suspects written to {where(args.out)}", file=sys.stderr)
    return 0
