"""Product-matching F1 of the full matcher on Abt-Buy: static title engine vs exact (the baseline).

    .venv/bin/python -m benchmarks.abt_buy_f1

Runs evaluation/abt_buy.py (convert, `simgov build`, `simgov pairs --cross-seller-only`, `simgov
eval`) once per engine and prints both F1 figures and the build wall times. The data set has one
size; --full changes nothing. Goal: static within one F1 point of exact.
"""
from __future__ import annotations

import json
import re
import subprocess
import time

from benchmarks.common import PYTHON, ROOT, load_info, parser, report


def run(work, engine: str) -> tuple[float, float]:
    config = work / f"abt-{engine}.json"
    config.write_text(json.dumps({"text_model": {"engine": engine}}))
    folder = work / f"abt-buy-{engine}"
    subprocess.run(["rm", "-rf", str(folder)], check=True)
    started = time.perf_counter()
    out = subprocess.run([PYTHON, "-m", "evaluation.abt_buy", "--work", str(folder), "--config", str(config)], cwd=ROOT,
                         check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    f1 = float(re.search(r"F1 ([0-9.]+)", out.stdout).group(1))
    return f1, seconds


def main() -> int:
    ap = parser(__doc__.splitlines()[0], reduced=1, full=1)
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"Abt-Buy (1081 + 1092 offers, 1076 gold pairs); {load_info()}", flush=True)
    exact_f1, exact_s = run(args.work, "exact")
    static_f1, static_s = run(args.work, "static")
    report(args, "Abt-Buy F1, full matcher, static titles", static_f1, "F1", exact_f1, "exact titles",
           note=f"difference {100 * (static_f1 - exact_f1):+.2f} points (goal within 1)")
    report(args, "Abt-Buy build + pairs + eval wall time, static titles", static_s, "s", exact_s, "exact titles",
           higher_is_better=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
