"""`simgov calibrate`: match thresholds from the stored verdicts for a chosen precision."""
from __future__ import annotations

import json
import sys
from dataclasses import asdict

from ..errors import SimgovError
from ..matching.calibrate import calibrate, write_thresholds
from ..verdicts import Verdicts
from .common import index_dir, open_index, optional_index_arg
from .verdicts import findings_args, pair_findings


def register(sub) -> None:
    p = sub.add_parser("calibrate", help="set match thresholds from the stored verdicts for a chosen precision")
    optional_index_arg(p)
    p.add_argument("--precision", type=float, default=0.99,
                   help="target precision (estimated for the current findings; default 0.99)")
    p.add_argument("--write", action="store_true", help="write the proposed thresholds into the index configuration")
    p.add_argument("--objective", choices=["precision", "f1"], default="precision",
                   help="precision: the lowest threshold reaching --precision; "
                        "f1: the highest estimated F1 among those")
    p.add_argument("--judged-only", action="store_true",
                   help="do not weigh the verdicts by the current findings (sound only for a uniform random sample)")
    findings_args(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_calibrate)


def _figures(f) -> str:
    if f is None:
        return "-"
    return (f"{f.threshold:.4f}  P {f.precision:.3f} [{f.precision_ci[0]:.3f}, {f.precision_ci[1]:.3f}]  "
            f"R {f.recall:.3f} [{f.recall_ci[0]:.3f}, {f.recall_ci[1]:.3f}]  F1 {f.f1:.3f} [{f.f1_ci[0]:.3f}, "
            f"{f.f1_ci[1]:.3f}]  (TP {f.true_positives:g}, FP {f.false_positives:g}, FN {f.false_negatives:g})")


def cmd_calibrate(args) -> int:
    if not 0 < args.precision <= 1:
        raise SimgovError("--precision must be in (0, 1]")
    index = open_index(index_dir(args))
    found = Verdicts(index).list(latest_only=True)
    population = None
    if not args.judged_only and any(v.kind in ("pair", "group") for v in found):
        population = {"item_match": [score for _, score in pair_findings(index, args)]}
    results = calibrate(index, found, args.precision, objective=args.objective, population=population,
                        min_score=args.min_score)
    if args.write:
        written = write_thresholds(index, results)
        print(f"thresholds written to {index.folder / 'manifest.json'}: {written}" if written
              else "no threshold to write", file=sys.stderr)
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
        return 0
    for r in results:
        print(f"{r.detector} [{r.threshold_key}]: {r.confirmed} confirmed, {r.rejected} rejected verdicts")
        if r.confirmed + r.rejected:
            print(f"  figures from {r.basis}")
        print(f"  current   {_figures(r.current)}")
        print(f"  proposed  {_figures(r.proposed)}  {'(written)' if r.written else ''}".rstrip())
        print(f"  {r.note}")
    return 0
