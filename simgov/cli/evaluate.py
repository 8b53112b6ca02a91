"""`simgov eval`: precision, recall and F1 of pair decisions against gold pairs."""
from __future__ import annotations

import json
from pathlib import Path

from ..evaluation import best_f1, metrics, plot_pr, read_gold, read_predictions


def register(sub) -> None:
    p = sub.add_parser("eval", help="precision, recall and F1 of pair decisions against gold pairs")
    p.add_argument("--pairs", required=True, type=Path, help="pairs file (.jsonl or .csv) from pairs, rings or linked")
    p.add_argument("--gold", required=True, type=Path, help="gold pairs: CSV whose first two columns are ids")
    p.add_argument("--plot", type=Path, help="write a precision-recall curve (PNG)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_eval)


def cmd_eval(args) -> int:
    gold = read_gold(args.gold)
    decisions = list(read_predictions(args.pairs))
    result = metrics({d.pair for d in decisions if d.match}, gold)
    tuned, at = best_f1(decisions, gold)
    report = {"match_decisions": result.to_dict(), "best_f1_over_thresholds": round(tuned, 4),
              "best_threshold": round(at, 4), "scored_pairs": len(decisions)}
    if args.plot:
        plot_pr(decisions, gold, args.plot, title=args.pairs.name)
        report["plot"] = str(args.plot)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        m = result
        print(f"precision {m.precision:.4f}  recall {m.recall:.4f}  F1 {m.f1:.4f}  "
              f"(TP {m.true_positives}, FP {m.false_positives}, FN {m.false_negatives}; {m.gold} gold pairs)")
        print(f"best F1 over score thresholds: {tuned:.4f} at {at:.4f}")
        if args.plot:
            print(f"precision-recall curve: {args.plot}")
    return 0
