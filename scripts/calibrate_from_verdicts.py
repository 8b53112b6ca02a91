"""Does calibrating from investigator verdicts help? Abt-Buy end to end through the real CLI and store.

    .venv/bin/python -m scripts.calibrate_from_verdicts --work /tmp/simgov-verdicts [--seeds 10]
        [--variant full|half-unmatched] [--config static.toml] [--queue stratified|uniform]
        [--objective precision|f1] [--precision 0.98] [--verdicts 300]

1. Abt-Buy becomes two sellers (`abt`, `buy`; evaluation/abt_buy.py) and is built once with default
   thresholds (`--config`: build settings, e.g. `[text_model] engine = "static"`, whose scores the
   default threshold was not set for). `--variant half-unmatched` first removes partners as
   evaluation/abt_buy_matcher.py does: a third of the abt offers lose their buy twin and another
   third of the buy offers lose their abt twin, so half of each shop has no match.
2. `simgov pairs --cross-seller-only` gives the current findings with their scores (once).
3. Per seed, the abt listings are split in two halves. Only the findings of the review half can be
   judged: `simgov verdicts queue` picks --verdicts of them (stratified by score band, densest near
   the current threshold; `--queue uniform` draws them at random instead), they are judged by the
   gold pairs (confirmed when gold, rejected otherwise) and recorded with `simgov verdicts import`.
4. `simgov calibrate --pairs <all current findings> --write` sets the item threshold: the verdicts
   give the share of true matches per score band, the findings' scores how many findings each
   band holds (scores only, no labels of the other half).
5. Precision, recall and F1 of the match decisions are measured on the other, held-out half (pairs
   and gold pairs of its abt listings), before and after. The first seed runs `simgov pairs` again
   and checks it against the decisions re-made from the step-2 scores at the new threshold; later
   seeds use the re-made decisions (the held-out half holds no verdicts, so nothing else changes).
   `--start-threshold T` starts each seed from item_match T instead (a threshold gone stale).
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

import numpy as np

from evaluation.abt_buy import DATA, convert
from simgov.evaluation import metrics

ROOT = Path(__file__).resolve().parents[1]
SIMGOV = str(Path(sys.executable).with_name("simgov"))


def simgov(*args: str, capture: bool = False) -> str:
    proc = subprocess.run([SIMGOV, *args], cwd=ROOT, check=True, text=True,
                          stdout=subprocess.PIPE if capture else None)
    return proc.stdout if capture else ""


def read_pairs(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_gold(path: Path) -> set[tuple[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return {tuple(sorted((r["item_a"], r["item_b"]))) for r in csv.DictReader(fh)}


def half_unmatched(data: Path, items: Path, gold: Path) -> None:
    """Remove partners as evaluation/abt_buy_matcher.py does (its seed 0): items.jsonl and gold.csv in place."""
    with open(data / "gold.csv", encoding="utf-8", newline="") as fh:
        pairs = sorted({(r["D1"], r["D2"]) for r in csv.DictReader(fh, delimiter="|")},
                       key=lambda p: (int(p[0]), int(p[1])))
    order = np.random.RandomState(1).permutation(len(pairs))
    third = len(pairs) // 3
    dropped = {f"buy-{pairs[x][1]}" for x in order[:third]} | {f"abt-{pairs[x][0]}" for x in order[third:2 * third]}
    kept = [line for line in items.read_text(encoding="utf-8").splitlines()
            if json.loads(line)["item_id"] not in dropped]
    items.write_text("\n".join(kept) + "\n", encoding="utf-8")
    rows = gold.read_text(encoding="utf-8").splitlines()
    gold.write_text("\n".join([rows[0]] + [r for r in rows[1:] if not set(r.split(",")) & dropped]) + "\n",
                    encoding="utf-8")


def abt_of(pair: tuple[str, str]) -> str:
    return pair[0] if pair[0].startswith("abt-") else pair[1]


def held_out_figures(predicted_pairs: set, gold: set, held: set[str]) -> dict:
    m = metrics({p for p in predicted_pairs if abt_of(p) in held}, {g for g in gold if abt_of(g) in held})
    return {"precision": round(m.precision, 4), "recall": round(m.recall, 4), "f1": round(m.f1, 4),
            "tp": m.true_positives, "fp": m.false_positives, "fn": m.false_negatives}


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def run_once(base: Path, work: Path, gold: set, before: list[dict], seed: int, args, check: bool) -> dict:
    index = work / "index-seed"
    shutil.rmtree(index, ignore_errors=True)
    shutil.copytree(base, index)
    if args.start_threshold is not None:  # a drifted threshold, as after a model change, to be calibrated back
        manifest = json.loads((index / "manifest.json").read_text())
        manifest["config"].setdefault("thresholds", {})["item_match"] = args.start_threshold
        (index / "manifest.json").write_text(json.dumps(manifest))
    rng = random.Random(seed)
    abt_ids = sorted({abt_of((p["item_a"], p["item_b"])) for p in before} | {abt_of(g) for g in gold})
    rng.shuffle(abt_ids)
    review, held = set(abt_ids[: len(abt_ids) // 2]), set(abt_ids[len(abt_ids) // 2:])
    reviewable = write_jsonl(work / "pairs-review.jsonl",
                             [p for p in before if abt_of((p["item_a"], p["item_b"])) in review])
    queue = work / f"queue-{seed}.jsonl"
    if args.queue == "stratified":
        simgov("verdicts", "queue", "--index", str(index), "--pairs", str(reviewable), "--size", str(args.verdicts),
               "--min-score", str(args.review_min), "--seed", str(seed), "--out", str(queue))
        judged = read_pairs(queue)
    else:
        pool = [{"ids": [p["item_a"], p["item_b"]]} for p in read_pairs(reviewable) if p["score"] >= args.review_min]
        judged = rng.sample(pool, min(args.verdicts, len(pool)))
    verdicts = work / f"verdicts-{seed}.jsonl"
    with verdicts.open("w", encoding="utf-8") as fh:
        for p in judged:
            good = tuple(sorted(p["ids"])) in gold
            fh.write(json.dumps({"kind": "pair", "ids": p["ids"], "decision": "confirmed" if good else "rejected",
                                 "reason": "same product" if good else "different product",
                                 "note": "simulated from the Abt-Buy gold pairs"}) + "\n")
    simgov("verdicts", "import", "--file", str(verdicts), "--index", str(index))
    report = json.loads(simgov("calibrate", "--index", str(index), "--pairs", str(work / "pairs-before.jsonl"),
                               "--min-score", str(args.review_min), "--precision", str(args.precision),
                               "--objective", args.objective, "--write", "--json", capture=True))
    item = next(r for r in report if r["threshold_key"] == "item_match")
    t_before = item["current"]["threshold"]
    t_after = item["proposed"]["threshold"] if item["proposed"] else t_before
    before_set = {(p["item_a"], p["item_b"]) for p in before if p["score"] >= t_before}
    after_set = {(p["item_a"], p["item_b"]) for p in before if p["score"] >= t_after}
    after = held_out_figures(after_set, gold, held)
    if check:
        after_file = work / "pairs-after.jsonl"
        simgov("pairs", "--index", str(index), "--cross-seller-only", "--out", str(after_file))
        real = held_out_figures({(p["item_a"], p["item_b"]) for p in read_pairs(after_file) if p["match"]}, gold, held)
        if real != after:
            raise SystemExit(f"simgov pairs after calibration disagrees with the re-made decisions: {real} != {after}")
    shutil.rmtree(index)
    return {"seed": seed, "verdicts": len(judged), "confirmed": item["confirmed"], "rejected": item["rejected"],
            "threshold_before": t_before, "threshold_after": t_after, "moved": item["proposed"] is not None,
            "note": item["note"], "threshold_range": item["threshold_range"],
            "estimated_after": item["proposed"] or item["current"],
            "before": held_out_figures(before_set, gold, held), "after": after}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--work", type=Path, default=Path("/tmp/simgov-verdicts"))
    ap.add_argument("--variant", choices=("full", "half-unmatched"), default="full")
    ap.add_argument("--config", type=Path, help="settings file for the build (e.g. text_model.engine = static)")
    ap.add_argument("--verdicts", type=int, default=300, help="findings judged per seed (default 300)")
    ap.add_argument("--queue", choices=("stratified", "uniform"), default="stratified")
    ap.add_argument("--objective", choices=("precision", "f1"), default="precision")
    ap.add_argument("--precision", type=float, default=0.98, help="target precision for calibrate (default 0.98)")
    ap.add_argument("--review-min", type=float, default=0.05,
                    help="findings scored at least this are reviewable and counted (default 0.05)")
    ap.add_argument("--start-threshold", type=float,
                    help="start from this item_match threshold instead of the default (a drifted one)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seeds", type=int, default=1, help="repeat with this many seeds (default 1)")
    args = ap.parse_args()
    items, gold_file = convert(args.data, args.work)
    if args.variant == "half-unmatched":
        half_unmatched(args.data, items, gold_file)
    base = args.work / "index"
    before_file = args.work / "pairs-before.jsonl"
    if not (base / "manifest.json").exists():
        config = ["--config", str(args.config)] if args.config else []
        simgov("build", "--items", str(items), "--index", str(base), "--quiet", *config)
        before_file.unlink(missing_ok=True)
    if not before_file.exists():
        simgov("pairs", "--index", str(base), "--cross-seller-only", "--out", str(before_file))
    before, gold = read_pairs(before_file), read_gold(gold_file)
    results = []
    for seed in range(args.seed, args.seed + args.seeds):
        results.append(run_once(base, args.work, gold, before, seed, args, check=seed == args.seed))
        r = results[-1]
        est = r["estimated_after"]
        print(f"seed {seed}: {r['verdicts']} verdicts ({r['confirmed']} confirmed, {r['rejected']} rejected); "
              f"item_match {r['threshold_before']} -> {r['threshold_after']}"
              f"{'' if r['moved'] else ' (kept)'}; supported range {r['threshold_range']}; "
              f"estimated P {est['precision']:.3f} R {est['recall']:.3f} F1 {est['f1']:.3f}")
        for when in ("before", "after"):
            f = r[when]
            print(f"  held-out {when:6}  P {f['precision']:.4f}  R {f['recall']:.4f}  F1 {f['f1']:.4f}  "
                  f"(TP {f['tp']}, FP {f['fp']}, FN {f['fn']})", flush=True)
    if len(results) > 1:
        gains = [r["after"]["f1"] - r["before"]["f1"] for r in results]
        print(f"F1 change over {len(results)} seeds: mean {sum(gains) / len(gains):+.4f}, "
              f"min {min(gains):+.4f}, max {max(gains):+.4f}; raised in {sum(g > 0 for g in gains)}, "
              f"lowered in {sum(g < 0 for g in gains)}, threshold kept in {sum(not r['moved'] for r in results)}")
    (args.work / "calibration_results.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
