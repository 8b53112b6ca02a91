"""`simgov verdicts add|import|undo|list|export|queue`: investigator verdicts on findings."""
from __future__ import annotations

import getpass
import json
import random
import sys
from pathlib import Path

from ..errors import SimgovError
from ..evaluation import read_predictions
from ..index import SimIndex
from ..matching.calibrate import band, band_name, review_queue
from ..verdicts import Verdicts, key
from .common import cli_key_id, index_dir, open_index, open_output, optional_index_arg, table, when, where, write_all

KINDS = ["pair", "group", "counterfeit", "link"]


def findings_args(p) -> None:
    p.add_argument("--pairs", type=Path, help="the current item-pair findings, as `simgov pairs` wrote them "
                                              "(default: run the self-join)")
    p.add_argument("--cross-seller-only", action="store_true", help="self-join: only pairs of different sellers")
    p.add_argument("--min-score", type=float, default=0.05,
                   help="findings scored below this are not reviewed and not counted (default 0.05)")


def pair_findings(index, args) -> list[tuple[list[str], float]]:
    """Item-pair findings with their scores: from --pairs (a `simgov pairs` output), else the self-join."""
    if args.pairs:
        return [(list(d.pair), d.score) for d in read_predictions(args.pairs)]
    return [([p.item_a, p.item_b], p.score)
            for p in index.pairs(min_score=args.min_score, cross_seller_only=args.cross_seller_only)]


def register(sub) -> None:
    p = sub.add_parser("verdicts", help="investigator verdicts on findings: add, import, list, export")
    verdicts_sub = p.add_subparsers(dest="verdicts_command", required=True)
    for name, help_text, handler in (
            ("add", "confirm or reject one finding", cmd_add),
            ("import", "record verdicts from JSON Lines {kind, ids, decision, reason, note}", cmd_import),
            ("undo", "undo a verdict (kept in the history; the finding's earlier verdict counts, else it is open)",
             cmd_undo),
            ("list", "the verdicts, oldest first", cmd_list),
            ("export", "the verdicts to a file (.csv or JSON Lines)", cmd_export),
            ("queue", "pick item-pair findings to judge (stratified by score, densest near the threshold)",
             cmd_queue)):
        vp = verdicts_sub.add_parser(name, help=help_text)
        optional_index_arg(vp)
        vp.set_defaults(handler=handler)
        if name in ("list", "export"):
            vp.add_argument("--kind", choices=KINDS)
            vp.add_argument("--decision", choices=["confirmed", "rejected"])
            vp.add_argument("--latest", action="store_true", help="only the verdict that counts for each finding")
    vp = verdicts_sub.choices["add"]
    vp.add_argument("kind", choices=KINDS)
    vp.add_argument("ids", nargs="+", help="pair/link: two ids; group: the members; counterfeit: ITEM REFERENCE")
    vp.add_argument("--decision", required=True, choices=["confirmed", "rejected"])
    vp.add_argument("--reason", required=True)
    vp.add_argument("--note")
    vp.add_argument("--json", action="store_true")
    for name in ("add", "import"):
        verdicts_sub.choices[name].add_argument(
            "--holder", default=getpass.getuser(), help="who gives the verdicts (default: your login name)")
    verdicts_sub.choices["undo"].add_argument("verdict_id", type=int)
    verdicts_sub.choices["import"].add_argument("--file", required=True, type=Path)
    verdicts_sub.choices["export"].add_argument("--out", required=True, type=Path,
                                                help=".csv or JSON Lines; - for standard output")
    vp = verdicts_sub.choices["queue"]
    vp.add_argument("--size", type=int, default=300, help="findings to queue (default 300)")
    vp.add_argument("--seed", type=int, default=0, help="seed of the random draw within each score band")
    vp.add_argument("--out", required=True, type=Path,
                    help="JSON Lines {kind, ids, score, band}; - for standard output")
    findings_args(vp)


def _verdicts(args) -> tuple[SimIndex, Verdicts]:
    index = open_index(index_dir(args))
    return index, Verdicts(index)


def cmd_add(args) -> int:
    _, verdicts = _verdicts(args)
    v = verdicts.record(args.kind, args.ids, args.decision, args.reason, args.note, cli_key_id(), args.holder)
    print(json.dumps(v.model_dump(), ensure_ascii=False) if args.json else
          f"verdict {v.verdict_id}: {v.kind} {' '.join(v.ids)} {v.decision} ({v.reason}); "
          f"score {v.score}, agreeing: {', '.join(v.agreeing) or 'none'}")
    return 0


def cmd_import(args) -> int:
    _, verdicts = _verdicts(args)
    count = 0
    with open(args.file, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                verdicts.record(row["kind"], row["ids"], row["decision"], row["reason"], row.get("note"),
                                cli_key_id(), args.holder)
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise SimgovError(f"{args.file} line {number}: not a verdict record ({type(exc).__name__}: {exc}); "
                                  f"{count} verdicts recorded before it") from None
            except SimgovError as exc:
                raise SimgovError(f"{args.file} line {number}: {exc}; {count} verdicts recorded before it") from None
            count += 1
    print(f"{count} verdicts recorded from {args.file}", file=sys.stderr)
    return 0


def cmd_undo(args) -> int:
    _, verdicts = _verdicts(args)
    v = verdicts.undo(args.verdict_id, cli_key_id())
    print(f"verdict {v.verdict_id} ({v.kind} {' '.join(v.ids)} {v.decision}) undone", file=sys.stderr)
    return 0


def cmd_list(args) -> int:
    _, verdicts = _verdicts(args)
    found = verdicts.list(kind=args.kind, decision=args.decision, latest_only=args.latest)
    rows = [[str(v.verdict_id), when(v.at), v.kind, " ".join(v.ids), v.decision, v.reason, v.holder or v.key_id,
             "" if v.score is None else f"{v.score:.3f}", ",".join(v.agreeing), when(v.undone_at)] for v in found]
    print(table(rows, ["id", "at", "kind", "ids", "decision", "reason", "by", "score", "agreeing", "undone"]))
    return 0


def cmd_export(args) -> int:
    _, verdicts = _verdicts(args)
    found = verdicts.list(kind=args.kind, decision=args.decision, latest_only=args.latest)
    write_all(args.out, (v.model_dump() for v in found))
    print(f"{len(found)} verdicts written to {where(args.out)}", file=sys.stderr)
    return 0


def cmd_queue(args) -> int:
    index, verdicts = _verdicts(args)
    findings = [f for f in pair_findings(index, args) if f[1] >= args.min_score]
    judged = verdicts.latest("pair", (ids for ids, _ in findings))
    open_ = [f for f in findings if key(f[0]) not in judged]
    picked = review_queue(open_, args.size, index.matcher.threshold, random.Random(args.seed))
    with open_output(args.out) as fh:
        for ids, score in picked:
            fh.write(json.dumps({"kind": "pair", "ids": ids, "score": score, "band": band_name(band(score))},
                                ensure_ascii=False) + "\n")
    print(f"{len(picked)} of {len(open_)} unjudged findings (score >= {args.min_score}) queued in {where(args.out)}; "
          f"add decision and reason to each line, then `simgov verdicts import`", file=sys.stderr)
    return 0
