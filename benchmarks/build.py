"""Bulk build of a synthetic catalogue (titles and sellers): wall time and peak RSS.

    .venv/bin/python -m benchmarks.build [--full] [--engine static|exact] [--profile]

The figure is `simgov build` over `n` items with the static title engine, run as its own
process (peak RSS: the whole process tree's, pool workers included, sampled from /proc). The
baseline is the same command with the exact engine over a sample of the same items, projected
linearly to `n` (it is linear: the encoder dominates).
`--profile` runs the build in this process under cProfile instead and prints where time goes.
"""
from __future__ import annotations

import cProfile
import json
import pstats
import shutil
import sqlite3
import sys
from pathlib import Path

from benchmarks.common import PYTHON, load_info, parser, peak_rss_mib, report, run_sampled, size, timer, write_items
from simgov.build.local import build
from simgov.config import Config

CLI = [PYTHON, "-c", "import sys; from simgov.cli import main; sys.exit(main())"]


def run_build(items: Path, index: Path, engine: str, work: Path) -> tuple[dict, dict]:
    """(run_sampled's figures, build report) of a fresh `simgov build` in a child process."""
    shutil.rmtree(index, ignore_errors=True)
    config = work / f"config-{engine}.json"
    config.write_text(json.dumps({"text_model": {"engine": engine}}))
    run = run_sampled(CLI + ["build", "--items", str(items), "--index", str(index), "--config", str(config), "--quiet"])
    return run, json.loads((index / "build_report.json").read_text())


def phases(index: Path) -> str:
    """Where the build's wall time went: until the last item was committed, then the rest
    (search structures not fed while writing, publishing), from the store's own timestamps."""
    db = sqlite3.connect(index / "store.sqlite")
    started, finished = db.execute("SELECT started_at, finished_at FROM build_runs ORDER BY run_id DESC").fetchone()
    last_write = db.execute("SELECT MAX(updated_at) FROM items").fetchone()[0]
    db.close()
    return f"rows read and written in {last_write - started:.0f} s, then {finished - last_write:.0f} s to the end"


def profile_build(items: Path, index: Path, engine: str) -> None:
    shutil.rmtree(index, ignore_errors=True)
    prof = cProfile.Profile()
    with timer() as t:
        prof.runcall(build, items, index, Config.model_validate({"text_model": {"engine": engine}}))
    print(f"profiled build: {t['s']:.1f} s, peak RSS {peak_rss_mib():.0f} MiB")
    pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(30)


def main() -> int:
    ap = parser(__doc__.splitlines()[0], reduced=100_000, full=1_000_000)
    ap.add_argument("--engine", default="static", choices=["static", "exact"], help="engine of the figure")
    ap.add_argument("--baseline-sample", type=int, default=500,
                    help="items built with the exact engine (baseline); 0 = no baseline")
    ap.add_argument("--profile", action="store_true", help="profile the build in-process instead")
    args = ap.parse_args()
    n = size(args)
    items = write_items(args.work / f"items-{n}.jsonl", n)
    index = args.work / f"index-{args.engine}-{n}"  # lookup and pairs benches reuse it
    print(f"{n:,} synthetic items in {items}; {load_info()}", flush=True)
    if args.profile:
        profile_build(items, index, args.engine)
        return 0

    projected = base_rss = None
    if args.baseline_sample:
        sample = args.work / f"items-{n}-head{args.baseline_sample}.jsonl"
        with items.open() as src, sample.open("w") as dst:
            for _, line in zip(range(args.baseline_sample), src):
                dst.write(line)
        base, _ = run_build(sample, args.work / "index-build-baseline", "exact", args.work)
        projected, base_rss = base["seconds"] * n / args.baseline_sample, base["rss_tree_mib"]
    run, rep = run_build(items, index, args.engine, args.work)
    seconds = run["seconds"]
    report(args, f"build {n:,} items ({args.engine} titles), wall time", seconds, "s", projected,
           f"exact engine, {args.baseline_sample} items projected to {n:,}", higher_is_better=False,
           note=f"{n / seconds:,.0f} items/s; goal <= 300 s at 1M; CPU: build process {run['cpu_main']:.0f} s, "
                f"pool {run['cpu_helpers']:.0f} s; {phases(index)}; {load_info()}")
    report(args, f"build {n:,} items ({args.engine} titles), peak RSS of the process tree", run["rss_tree_mib"], "MiB",
           base_rss, f"exact engine, {args.baseline_sample} items", higher_is_better=False,
           note=f"build process alone {run['rss_main_mib']:.0f} MiB; goal <= 4096 MiB at 1M")
    store = index / "store.sqlite"
    files = sum(p.stat().st_size for p in index.rglob("*") if p.is_file())
    report(args, f"index size on disk, {n:,} items", files / n, "bytes/item",
           note=f"store {store.stat().st_size / n:,.0f} bytes/item; {rep.get('items_per_second')} items/s encoded")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
