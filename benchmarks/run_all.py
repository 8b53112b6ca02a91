"""Run every benchmark at the reduced size (or full size with --full) and print the table.

    .venv/bin/python -m benchmarks.run_all [--full] [--only NAME ...] [--markdown FILE]

Each script prints its figure next to the baseline it measured in the same run; this collects
their records and prints them as one Markdown table (figure, value, baseline, ratio, command).
A script that fails is reported and the others still run (the exit status is then 1).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ["title_encoding", "abt_buy_f1", "default_build", "image_fingerprint", "build", "lookup", "pairs",
           "audit_log"]


def fmt(x) -> str:
    if x is None:
        return ""
    return f"{x:,.4g}" if isinstance(x, (int, float)) else str(x)


def table(records: list[dict]) -> str:
    rows = ["| figure | value | baseline | ratio | command |", "| --- | --- | --- | --- | --- |"]
    for r in records:
        base = f"{fmt(r['baseline'])} {r['unit']} ({r['baseline_name']})" if r["baseline"] is not None else ""
        ratio = f"{r['ratio']:,.3g}x" if r["ratio"] else ""
        value = f"{fmt(r['value'])} {r['unit']}" + (f" ({r['note']})" if r["note"] else "")
        rows.append(f"| {r['figure']} | {value} | {base} | {ratio} | `{r['command']}` |")
    return "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="full size (1M items, 3000 photos, ...): long")
    ap.add_argument("--only", nargs="*", choices=SCRIPTS, help="run only these")
    ap.add_argument("--work", type=Path, help="folder for generated data (default /tmp/simgov-bench)")
    ap.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = ap.parse_args()
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        sink = Path(tmp) / "records.jsonl"
        for name in args.only or SCRIPTS:
            cmd = [sys.executable, "-m", f"benchmarks.{name}", "--json", str(sink)]
            cmd += ["--full"] if args.full else []
            cmd += ["--work", str(args.work)] if args.work else []
            print(f"\n== {name} ==", flush=True)
            if subprocess.run(cmd, cwd=ROOT).returncode != 0:
                failed.append(name)
        records = [json.loads(line) for line in sink.read_text().splitlines()] if sink.exists() else []
    for r in records:  # the command as a reader would type it
        r["command"] = r["command"].replace(f" --json {sink}", "")
    out = table(records)
    print("\n" + out)
    if args.markdown:
        args.markdown.write_text(out + "\n", encoding="utf-8")
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
