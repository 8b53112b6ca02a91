"""The `simgov` command line (CONTRACT.md section 2). Only this module and the API print or log."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from .errors import SimgovError  # noqa: E402


def _index_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", required=True, type=Path, help="index folder")


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def cmd_build(args) -> int:
    from tqdm import tqdm

    from indexer.local import REPORT, build
    from .config import Config

    config = Config.load(args.config) if args.config else None
    bar = tqdm(total=0, unit="item", desc="build", file=sys.stderr, disable=args.quiet, dynamic_ncols=True)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        result = build(args.items, args.index, config, progress)
    finally:
        bar.close()
    print(f"{result.rows} items read: {result.encoded} encoded, {result.unchanged} unchanged; "
          f"{result.skipped_rows} rows skipped, {result.signal_problems} signal problems "
          f"({result.seconds:.1f} s, {result.rate:.0f} items/s encoded)", file=sys.stderr)
    if result.skipped_rows or result.signal_problems:
        print(f"details: {args.index / REPORT}", file=sys.stderr)
    return 0


def _open(folder: Path):
    from .index import SimIndex

    return SimIndex.open(folder)


def cmd_similar(args) -> int:
    index = _open(args.index)
    signals = args.signals.split(",") if args.signals else None
    neighbours = index.similar(args.item_id, k=args.k, signals=signals, min_score=args.min_score)
    if args.json:
        print(json.dumps([n.model_dump() for n in neighbours], ensure_ascii=False, indent=2))
        return 0
    item = index.item(args.item_id).item
    print(f"{item.item_id}  seller {item.seller_id}  {item.title!r}")
    rows = [[n.item_id, n.seller_id, f"{n.score:.3f}", "yes" if n.match else "no", n.relation,
             " ".join(f"{k}={v:.2f}" for k, v in n.signals.items()), "; ".join(n.evidence)] for n in neighbours]
    print(_table(rows, ["item", "seller", "score", "match", "relation", "signals", "evidence"]))
    return 0


def _writer(path: Path):
    """A record sink by file ending: .csv or JSON Lines."""
    import csv

    fh = open(path, "w", encoding="utf-8", newline="")
    if path.suffix.lower() == ".csv":
        writer = None

        def write(record: dict) -> None:
            nonlocal writer
            flat = {k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v) for k, v in record.items()}
            if writer is None:
                writer = csv.DictWriter(fh, fieldnames=list(flat))
                writer.writeheader()
            writer.writerow(flat)
    else:
        def write(record: dict) -> None:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return fh, write


def cmd_pairs(args) -> int:
    index = _open(args.index)
    fh, write = _writer(args.out)
    count = matches = 0
    with fh:
        for pair in index.pairs(min_score=args.min_score, cross_seller_only=args.cross_seller_only, k=args.k):
            write(pair.model_dump())
            count += 1
            matches += pair.match
    print(f"{count} pairs written to {args.out} ({matches} matches)", file=sys.stderr)
    return 0


def cmd_eval(args) -> int:
    from .evaluation import best_f1, metrics, plot_pr, read_gold, read_predictions

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


def cmd_demo(args) -> int:
    from .demo import generate_marketplace

    out = args.out
    print(f"generating the demo marketplace in {out} ...", file=sys.stderr)
    market = generate_marketplace(out, seed=args.seed)
    print(f"{market}", file=sys.stderr)
    build_args = argparse.Namespace(items=market.items_file, index=out / "index", config=None, quiet=False)
    cmd_build(build_args)
    index = _open(out / "index")
    planted = json.loads(Path(market.planted_file).read_text())
    examples = []
    for key in ("cross_seller_copies", "same_seller_duplicates"):
        groups = planted.get(key) or []
        if groups:
            first = groups[0]
            examples.append(first[0] if isinstance(first, list) else (first.get("members") or first.get("item_ids"))[0])
    for item_id in examples:
        print(f"\n$ simgov similar {item_id} --index {out / 'index'} -k 5")
        cmd_similar(argparse.Namespace(index=out / "index", item_id=item_id, k=5, signals=None, min_score=0.0, json=False))
    print(f"\nplanted cases: {market.planted_file}\nnext: simgov pairs --index {out / 'index'} --cross-seller-only "
          f"--out pairs.jsonl", file=sys.stderr)
    index.close()
    return 0


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="simgov", description="similarity and duplicate detection for marketplace governance")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="build or update an index from an items file (resumable)")
    p.add_argument("--items", required=True, type=Path, help="items as JSON Lines or CSV")
    _index_arg(p)
    p.add_argument("--config", type=Path, help="settings file (JSON or TOML); default: built-in settings")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("similar", help="an indexed item's nearest items")
    p.add_argument("item_id")
    _index_arg(p)
    p.add_argument("-k", type=int, default=10, help="number of neighbours (default 10)")
    p.add_argument("--signals", help="comma-separated signals to use (default: all)")
    p.add_argument("--min-score", type=float, default=0.0)
    p.add_argument("--json", action="store_true", help="JSON records instead of a table")
    p.set_defaults(func=cmd_similar)

    p = sub.add_parser("pairs", help="similarity self-join: every item pair above a score")
    _index_arg(p)
    p.add_argument("--min-score", type=float, default=0.0)
    p.add_argument("--cross-seller-only", action="store_true", help="only pairs of different sellers")
    p.add_argument("-k", type=int, default=None, help="neighbours per item and signal (default from config)")
    p.add_argument("--out", required=True, type=Path, help="output file: .csv or JSON Lines")
    p.set_defaults(func=cmd_pairs)

    p = sub.add_parser("eval", help="precision, recall and F1 of pair decisions against gold pairs")
    p.add_argument("--pairs", required=True, type=Path, help="pairs file (.jsonl or .csv) from pairs, rings or linked")
    p.add_argument("--gold", required=True, type=Path, help="gold pairs: CSV whose first two columns are ids")
    p.add_argument("--plot", type=Path, help="write a precision-recall curve (PNG)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("demo", help="make the bundled demo marketplace and build it")
    p.add_argument("--out", type=Path, default=Path("demo-marketplace"), help="folder for the marketplace")
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(func=cmd_demo)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "k", None) is not None and not 1 <= args.k <= 1000:
        parser().error("-k must be between 1 and 1000")
    try:
        return args.func(args)
    except SimgovError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"simgov: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
