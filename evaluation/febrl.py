"""FEBRL linked-account evaluation through the shipped CLI: `simgov build --accounts`, `rings`, `eval`.

    .venv/bin/python -m evaluation.febrl [febrl3 febrl1 febrl2 febrl4] [--work /tmp/simgov-febrl] [--json OUT]

For each set: map the records onto the accounts contract (evaluation/febrl_to_accounts.py), build an
index of them with `simgov build --accounts` (identifiers stored as keyed hashes), run the rings
detector with `simgov rings --pairs-out` (every scored candidate pair with its score and the
detector's `match` decision), and score with `simgov eval` against FEBRL's true duplicate pairs. No
label reaches simgov: the gold pairs are only read by `simgov eval`. Two figures per set:

- pairs: the rings detector's link decisions (`match` in the pairs export), the figure in the README;
- rings: every pair inside one ring (what an investigator is shown as one group).

How much the default link threshold (0.5, even odds) matters: `min F1` (uses the labels, measuring
only) is the lowest pair F1 of `score >= t` among the export's scored pairs over thresholds t from 0.1
to 0.95.
"""
from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from evaluation.febrl_to_accounts import SETS, convert

SIMGOV = str(Path(sys.executable).with_name("simgov"))


def simgov(*args: str) -> str:
    """Run one `simgov` command; its standard output (its error output is the error when it fails)."""
    done = subprocess.run([SIMGOV, *args], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"simgov {args[0]} exited {done.returncode}:\n{done.stderr}")
    return done.stdout


def ring_pairs(rings: Path, out: Path) -> Path:
    """Every pair inside one ring, as a pairs file `simgov eval` reads (all decided `match`)."""
    with rings.open(encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
        for line in src:
            members = sorted(json.loads(line)["members"])
            for i, a in enumerate(members):
                for b in members[i + 1:]:
                    dst.write(json.dumps({"account_a": a, "account_b": b, "score": 1.0, "match": True}) + "\n")
    return out


def lowest_f1_over_thresholds(pairs: Path, gold_file: Path) -> dict:
    """The lowest pair F1 of `score >= t` over thresholds t from 0.1 to 0.95."""
    with gold_file.open(encoding="utf-8", newline="") as fh:
        gold = {tuple(sorted(row[:2])) for row in list(csv.reader(fh))[1:]}
    keys, scores = [], []
    with pairs.open(encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            keys.append(tuple(sorted((record["account_a"], record["account_b"]))))
            scores.append(record["score"])
    score = np.array(scores)
    true = np.array([k in gold for k in keys])
    f1s = []
    for t in np.arange(0.1, 0.951, 0.05):
        tp = int(np.sum(true & (score >= t)))
        f1s.append(2 * tp / (int(np.sum(score >= t)) + len(gold)))
    return {"min_f1_0.1_0.95": round(min(f1s), 4)}


def run(name: str, work: Path) -> dict:
    folder = work / name
    accounts, gold, n_accounts, n_gold = convert(name, folder / "data")
    index, rings, pairs = folder / "index", folder / "rings.jsonl", folder / "pairs.jsonl"
    shutil.rmtree(index, ignore_errors=True)
    started = time.perf_counter()
    simgov("build", "--accounts", str(accounts), "--index", str(index), "--quiet")
    built = time.perf_counter()
    simgov("rings", "--index", str(index), "--out", str(rings), "--pairs-out", str(pairs), "--quiet")
    ringed = time.perf_counter()
    by_pair = json.loads(simgov("eval", "--pairs", str(pairs), "--gold", str(gold), "--json"))
    in_rings = json.loads(simgov("eval", "--pairs", str(ring_pairs(rings, folder / "ring_pairs.jsonl")),
                                 "--gold", str(gold), "--json"))
    return {"set": name, "accounts": n_accounts, "gold": n_gold, "scored_pairs": by_pair["scored_pairs"],
            "rings": sum(1 for _ in rings.open(encoding="utf-8")), "pairs": by_pair["match_decisions"],
            "ring_pairs": in_rings["match_decisions"], **lowest_f1_over_thresholds(pairs, gold),
            "seconds": {"build": round(built - started, 1), "rings": round(ringed - built, 1)}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="*", metavar="SET", help="febrl1|febrl2|febrl3|febrl4 (default: all, febrl3 first)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/simgov-febrl"), help="folder for data and indexes")
    ap.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    args = ap.parse_args(argv)
    sets = args.sets or ["febrl3", "febrl1", "febrl2", "febrl4"]
    for name in sets:
        if name not in SETS:
            ap.error(f"unknown set {name!r}; expected one of {', '.join(SETS)}")
    print(f"{'set':7} {'accts':>6} {'gold':>5} {'scored':>7} | {'pair P':>7} {'R':>6} {'F1':>6} | "
          f"{'ring P':>7} {'R':>6} {'F1':>6} {'rings':>5} | {'min F1':>6} | {'build s':>7} {'rings s':>7}")
    results = []
    for name in sets:
        r = run(name, args.work)
        results.append(r)
        p, g = r["pairs"], r["ring_pairs"]
        print(f"{r['set']:7} {r['accounts']:6d} {r['gold']:5d} {r['scored_pairs']:7d} | "
              f"{p['precision']:7.4f} {p['recall']:6.4f} {p['f1']:6.4f} | "
              f"{g['precision']:7.4f} {g['recall']:6.4f} {g['f1']:6.4f} {r['rings']:5d} | "
              f"{r['min_f1_0.1_0.95']:6.4f} | "
              f"{r['seconds']['build']:7.1f} {r['seconds']['rings']:7.1f}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
