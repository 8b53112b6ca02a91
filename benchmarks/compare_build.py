"""Build the same items with an older tree (the baseline) and this tree (`--workers N` each), in one run;
wall time, CPU seconds of the build process and of its helpers, peak RSS of the main process and of the
whole process tree (`_common.run_sampled`), and a check that stores and published structures are identical.

    git archive c10d1a4 | tar -x -C /tmp/perf/base   # the tree before the bulk-build change
    .venv/bin/python -m benchmarks.compare_build ITEMS.jsonl base,workers=1,workers=2,default

"base" in the run list is the tree in $BASE_TREE (default /tmp/perf/base), "default" this tree without
`--workers` (the build decides whether a pool pays); indexes go to $CMP_DIR
(default /tmp/perf/cmp). Linux only (/proc).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import sys
from pathlib import Path

import numpy as np

from benchmarks.common import PYTHON, load_info, run_sampled

CLI = [PYTHON, "-c", "import sys; from simgov.cli import main; sys.exit(main())"]


def build(tag: str, items: Path, work: Path, config: Path) -> tuple[Path, dict]:
    """One fresh build: with the baseline tree for "base", this tree as a user runs it for "default",
    else this tree with `--workers N`."""
    index = work / f"idx-{tag}"
    shutil.rmtree(index, ignore_errors=True)
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    extra = []
    if tag == "base":
        env["PYTHONPATH"] = os.environ.get("BASE_TREE", "/tmp/perf/base")
    elif tag != "default":
        extra = ["--workers", tag.split("=")[1]]
    cmd = CLI + ["build", "--items", str(items), "--index", str(index), "--config", str(config), "--quiet", *extra]
    return index, run_sampled(cmd, env=env, cwd="/tmp")  # /tmp: the baseline must not import this tree


def snapshot(index: Path) -> tuple:
    """Store rows, feature blobs, problems, published counts, text postings and the title index's digest."""
    with sqlite3.connect(index / "store.sqlite") as db:
        rows = db.execute("SELECT item_id, vec_id, seller_id, content_hash, record, deleted FROM items "
                          "ORDER BY vec_id").fetchall()
        features = db.execute("SELECT vec_id, signal, blob FROM features ORDER BY vec_id, signal").fetchall()
        problems = db.execute("SELECT * FROM signal_problems ORDER BY vec_id, signal, problem").fetchall()
    manifest = json.loads((index / "manifest.json").read_text())
    generation = index / "indexes" / manifest["generation"]
    keys = np.load(generation / "text_keys.npz", allow_pickle=True)
    text = {k: keys[k].tolist() for k in keys.files}
    title = hashlib.sha256((generation / "title.faiss").read_bytes()).hexdigest()
    return rows, features, problems, manifest["counts"], text, title


def main() -> int:
    items, runs = Path(sys.argv[1]), sys.argv[2].split(",")
    work = Path(os.environ.get("CMP_DIR", "/tmp/perf/cmp"))
    work.mkdir(exist_ok=True, parents=True)
    config = work / "static.json"
    config.write_text(json.dumps({"text_model": {"engine": "static"}}))
    n_items = sum(1 for _ in open(items))
    print(f"{items} ({n_items:,} items); {load_info()}", flush=True)
    results = {}
    for tag in runs:
        index, r = build(tag, items, work, config)
        results[tag] = (index, r)
        print(f"{tag:>10}: wall {r['seconds']:7.1f} s ({n_items / r['seconds']:6.0f} items/s) | CPU main "
              f"{r['cpu_main']:6.1f} s, helpers {r['cpu_helpers']:6.1f} s | "
              f"peak RSS main {r['rss_main_mib']:5.0f} MiB, "
              f"tree {r['rss_tree_mib']:5.0f} MiB | load {os.getloadavg()[0]:.1f}", flush=True)
    if "base" in results:
        reference, base = snapshot(results["base"][0]), results["base"][1]
        for tag in runs:
            if tag != "base":
                same = [a == b for a, b in zip(reference, snapshot(results[tag][0]))]
                print(f"{tag} vs base identical (items, features, problems, counts, text postings, title index): "
                      f"{same}")
                r = results[tag][1]
                print(f"  ratio base/{tag}: wall {base['seconds'] / r['seconds']:.2f}x, "
                      f"main-process CPU {base['cpu_main'] / r['cpu_main']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
