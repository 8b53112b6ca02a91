"""Does calibrating from investigator verdicts help? Abt-Buy end to end through the real CLI and store.

    .venv/bin/python scripts/calibrate_from_verdicts.py --work /tmp/simgov-verdicts [--verdicts 300] [--precision 0.975]

1. Abt-Buy becomes two sellers (`abt`, `buy`; scripts/abt_buy.py) and is built with default thresholds.
2. `simgov pairs --cross-seller-only` gives the current findings with their scores.
3. The abt listings are split in two halves (fixed seed). From the findings of the review half
   that an investigator would look at (score at least --review-min), --verdicts are drawn at
   random and judged by the gold pairs: confirmed when gold, rejected otherwise. They are
   recorded with `simgov verdicts import`, as an investigator's decisions would be.
4. `simgov calibrate --precision P --write` sets the item threshold from those verdicts.
5. `simgov pairs` again; precision, recall and F1 of the match decisions are measured on the
   other, held-out half (pairs and gold pairs of its abt listings), before and after.

With --seeds N the draw and the split are repeated N times on copies of one build.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

from abt_buy import DATA, convert  # noqa: E402

from simgov.evaluation import metrics  # noqa: E402


def simgov(*args: str, capture: bool = False) -> str:
    proc = subprocess.run([sys.executable, "-m", "simgov.cli", *args], cwd=ROOT, check=True, text=True,
                          stdout=subprocess.PIPE if capture else None)
    return proc.stdout if capture else ""


def read_pairs(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_gold(path: Path) -> set[tuple[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return {tuple(sorted((r["item_a"], r["item_b"]))) for r in csv.DictReader(fh)}


def abt_of(pair: tuple[str, str]) -> str:
    return pair[0] if pair[0].startswith("abt-") else pair[1]


def held_out_figures(pairs: list[dict], gold: set, held: set[str]) -> dict:
    predicted = {(p["item_a"], p["item_b"]) for p in pairs if p["match"] and abt_of((p["item_a"], p["item_b"])) in held}
    m = metrics(predicted, {g for g in gold if abt_of(g) in held})
    return {"precision": round(m.precision, 4), "recall": round(m.recall, 4), "f1": round(m.f1, 4),
            "tp": m.true_positives, "fp": m.false_positives, "fn": m.false_negatives}


def run_once(index: Path, work: Path, gold: set, before: list[dict], seed: int, args) -> dict:
    rng = random.Random(seed)
    abt_ids = sorted({abt_of((p["item_a"], p["item_b"])) for p in before} | {abt_of(g) for g in gold})
    rng.shuffle(abt_ids)
    review, held = set(abt_ids[: len(abt_ids) // 2]), set(abt_ids[len(abt_ids) // 2:])
    queue = [p for p in before if p["score"] >= args.review_min and abt_of((p["item_a"], p["item_b"])) in review]
    judged = rng.sample(queue, min(args.verdicts, len(queue)))
    verdicts = work / f"verdicts-{seed}.jsonl"
    with verdicts.open("w", encoding="utf-8") as fh:
        for p in judged:
            pair = (p["item_a"], p["item_b"])
            good = pair in gold
            fh.write(json.dumps({"kind": "pair", "ids": list(pair), "decision": "confirmed" if good else "rejected",
                                 "reason": "same product" if good else "different product",
                                 "note": "simulated from the Abt-Buy gold pairs"}) + "\n")
    simgov("verdicts", "import", "--file", str(verdicts), "--index", str(index))
    report = json.loads(simgov("calibrate", "--index", str(index), "--precision", str(args.precision), "--write",
                               "--json", capture=True))
    item = next(r for r in report if r["threshold_key"] == "item_match")
    after_file = work / f"pairs-after-{seed}.jsonl"
    simgov("pairs", "--index", str(index), "--cross-seller-only", "--out", str(after_file))
    after = read_pairs(after_file)
    return {"seed": seed, "verdicts": len(judged), "confirmed": item["confirmed"], "rejected": item["rejected"],
            "threshold_before": item["current"]["threshold"],
            "threshold_after": item["proposed"]["threshold"] if item["proposed"] else None,
            "labelled_precision_after": item["proposed"] and item["proposed"]["precision"],
            "labelled_precision_ci": item["proposed"] and item["proposed"]["precision_ci"],
            "before": held_out_figures(before, gold, held), "after": held_out_figures(after, gold, held)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--work", type=Path, default=Path("/tmp/simgov-verdicts"))
    ap.add_argument("--verdicts", type=int, default=300, help="findings judged (default 300)")
    ap.add_argument("--precision", type=float, default=0.975, help="target precision for calibrate (default 0.975)")
    ap.add_argument("--review-min", type=float, default=0.05,
                    help="findings scored at least this are in the review queue (default 0.05)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seeds", type=int, default=1, help="repeat with this many seeds (default 1)")
    args = ap.parse_args()
    items, gold_file = convert(args.data, args.work)
    base = args.work / "index"
    if not (base / "manifest.json").exists():
        simgov("build", "--items", str(items), "--index", str(base), "--quiet")
    before_file = args.work / "pairs-before.jsonl"
    simgov("pairs", "--index", str(base), "--cross-seller-only", "--out", str(before_file))
    before, gold = read_pairs(before_file), read_gold(gold_file)
    results = []
    for seed in range(args.seed, args.seed + args.seeds):
        index = args.work / f"index-seed-{seed}"
        shutil.rmtree(index, ignore_errors=True)
        shutil.copytree(base, index)
        results.append(run_once(index, args.work, gold, before, seed, args))
        r = results[-1]
        print(f"seed {seed}: {r['verdicts']} verdicts ({r['confirmed']} confirmed, {r['rejected']} rejected); "
              f"item_match {r['threshold_before']} -> {r['threshold_after']}")
        for when in ("before", "after"):
            f = r[when]
            print(f"  held-out {when:6}  P {f['precision']:.4f}  R {f['recall']:.4f}  F1 {f['f1']:.4f}  "
                  f"(TP {f['tp']}, FP {f['fp']}, FN {f['fn']})")
    if len(results) > 1:
        gains = [r["after"]["f1"] - r["before"]["f1"] for r in results]
        print(f"F1 change over {len(results)} seeds: mean {sum(gains) / len(gains):+.4f}, "
              f"min {min(gains):+.4f}, max {max(gains):+.4f}; raised in {sum(g > 0 for g in gains)}")
    (args.work / "calibration_results.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
