"""Abt-Buy end to end: convert the benchmark to simgov items, build, self-join, score against gold.

    .venv/bin/python -m evaluation.abt_buy --work /tmp/abt-buy [--config static.json]

The two shops become two sellers (`abt`, `buy`); item ids are `abt-<id>` and `buy-<id>`. Prints
the build rate and the precision, recall and F1 of `simgov pairs --cross-seller-only`.
"""
from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "abt-buy"


def convert(data: Path, out: Path) -> tuple[Path, Path]:
    """items.jsonl and gold.csv (item ids) from the benchmark's CSV files."""
    out.mkdir(parents=True, exist_ok=True)
    items = out / "items.jsonl"
    with items.open("w", encoding="utf-8") as fh:
        for shop in ("abt", "buy"):
            with open(data / f"{shop}.csv", encoding="utf-8", newline="") as src:
                for row in csv.DictReader(src, delimiter="|"):
                    record = {"item_id": f"{shop}-{row['id']}", "title": row["name"], "seller_id": shop,
                              "description": row.get("description") or ""}
                    price = (row.get("price") or "").replace("$", "").replace(",", "").strip()
                    try:
                        record["price"] = float(price)
                    except ValueError:
                        pass
                    fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    gold = out / "gold.csv"
    with open(data / "gold.csv", encoding="utf-8", newline="") as src, gold.open("w", encoding="utf-8") as dst:
        dst.write("item_a,item_b\n")
        for row in csv.DictReader(src, delimiter="|"):
            dst.write(f"abt-{row['D1']},buy-{row['D2']}\n")
    return items, gold


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--work", type=Path, default=Path("/tmp/simgov-abt-buy"))
    ap.add_argument("--simgov", default=str(Path(sys.executable).with_name("simgov")))
    ap.add_argument("--config", type=Path, help="settings file for the build (e.g. text_model.engine = static)")
    args = ap.parse_args()
    items, gold = convert(args.data, args.work)
    index, pairs = args.work / "index", args.work / "pairs.jsonl"
    started = time.monotonic()
    config = ["--config", str(args.config)] if args.config else []
    subprocess.run([args.simgov, "build", "--items", str(items), "--index", str(index), "--quiet", *config], check=True)
    print(f"build wall time {time.monotonic() - started:.1f} s (rate in {index / 'build_report.json'})")
    subprocess.run([args.simgov, "pairs", "--index", str(index), "--cross-seller-only", "--out", str(pairs)],
                   check=True)
    subprocess.run([args.simgov, "eval", "--pairs", str(pairs), "--gold", str(gold),
                    "--plot", str(args.work / "pr.png")], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
