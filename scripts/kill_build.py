"""SIGKILL `simgov build` at random points; every resumed build must equal a clean build.

    .venv/bin/python -m scripts.kill_build [--trials 20] [--seed 0] [--rows 80] [--work DIR]

Each trial forks a build of a small generated catalogue (pictures included, committed in batches
of 4), kills it with SIGKILL at a random point, runs the build again, and compares the result with a
clean build. Eight trials in ten are killed as soon as a random number of rows (1 to all but one) is
committed, so that they land mid-build however loaded the machine is; one in ten at a random time
before the first commit, one in ten at a random time after the last (while the index is published).
The comparison with the clean build: the same items as
ingested (record and content hash), the same neighbour pairs with the same scores and decisions
(the `pairs` self-join) and the same `similar` lists for a sample of items.

The builds are forked from this warm process so that a trial costs a fraction of a second instead
of a fresh interpreter's start: FAISS runs single-threaded (a forked child must not inherit an
OpenMP pool) and the title signal uses a static table built here from random rows (no torch; the
neighbours only have to be deterministic, not meaningful). Prints a JSON summary; exit status 1
when any resumed index differs from the clean one.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np
from PIL import Image, ImageDraw
from safetensors.numpy import save_file
from tokenizers import Tokenizer

from simgov.build.local import build
from simgov.config import Config, bundled_text_model
from simgov.encoders import STATIC_CONFIG, STATIC_TOKENIZER, STATIC_WEIGHTS
from simgov.index import SimIndex

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

WORDS = ["steel", "bottle", "leather", "bag", "lamp", "wool", "hat", "mug", "shoe", "running", "blue", "red",
         "green", "black", "phone", "watch", "desk", "kids", "bike", "mat", "yoga", "monitor", "earbuds", "glass"]


def draw(seed: int, size: int = 160):
    rng = random.Random(seed)
    img = Image.new("RGB", (size, size), tuple(rng.randrange(150, 256) for _ in range(3)))
    d = ImageDraw.Draw(img)
    for _ in range(14):
        x0, y0 = rng.randrange(0, size - 30), rng.randrange(0, size - 30)
        box = (x0, y0, x0 + rng.randrange(20, size // 2), y0 + rng.randrange(20, size // 2))
        (d.ellipse if rng.random() < 0.5 else d.rectangle)(box, fill=tuple(rng.randrange(0, 200) for _ in range(3)))
    return img


def make_catalogue(folder: Path, rows: int, name: str = "items.jsonl") -> Path:
    """`rows` listings with distinct titles (a longer catalogue starts with the rows of a shorter
    one); every third has a picture, some pictures are shared."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    for n in range(12):
        if not (folder / "images" / f"p{n}.jpg").exists():
            draw(n).save(folder / "images" / f"p{n}.jpg", quality=90)
    lines = []
    for n in range(rows):
        title = " ".join(rng.sample(WORDS, 4)) + f" model {chr(65 + n % 26)}{n * 7}"
        row = {"item_id": f"item-{n:03d}", "seller_id": f"seller-{n % 9}", "title": title, "price": 5.0 + n}
        if n % 3 == 0:
            row["images"] = [f"images/p{n % 12}.jpg"]
        lines.append(json.dumps(row))
    items = folder / name
    items.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return items


def make_static_model(folder: Path, dims: int = 32) -> Path:
    """A static title model: the bundled tokenizer and a seeded random row per token."""
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = bundled_text_model() / "tokenizer.json"
    vocab = Tokenizer.from_file(str(tokenizer)).get_vocab_size()
    table = np.random.default_rng(0).standard_normal((vocab, dims)).astype(np.float32)
    save_file({"embeddings": table}, str(folder / STATIC_WEIGHTS))
    shutil.copyfile(tokenizer, folder / STATIC_TOKENIZER)
    (folder / STATIC_CONFIG).write_text(json.dumps({"unk_token": "[UNK]", "max_tokens": 64}), encoding="utf-8")
    return folder


def snapshot(index_dir: Path) -> dict:
    """Items as stored, every neighbour pair of the self-join and a few items' `similar` lists
    (scores to 5 places, ties ordered by id)."""
    index = SimIndex.open(index_dir)
    try:
        rows = index.store.connection().execute(
            "SELECT item_id, content_hash, record FROM items WHERE deleted=0 ORDER BY item_id").fetchall()
        pairs = sorted((p.item_a, p.item_b, round(p.score, 5), p.match) for p in index.pairs(min_score=0.0))
        similar = {}
        for item_id, _, _ in rows[:: max(1, len(rows) // 6)]:
            found = [(n.item_id, round(n.score, 5)) for n in index.similar(item_id, k=8)]
            similar[item_id] = sorted(found, key=lambda p: (-p[1], p[0]))
        return {"items": [list(r) for r in rows], "pairs": pairs, "similar": similar}
    finally:
        index.close()


def committed(index_dir: Path) -> int:
    """Items the killed build had committed (0 when its store was not made yet)."""
    store = index_dir / "store.sqlite"
    if not store.exists():
        return 0
    with sqlite3.connect(store, timeout=10) as db:
        try:
            return db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
        except sqlite3.OperationalError:  # killed before the tables were made
            return 0


def forked_build(items: Path, index_dir: Path, config, kill_after: float | None,
                 commits: list[float] | None = None, rows: int = 0, kill_at_rows: int | None = None) -> bool:
    """Build in a forked child; with `kill_after`, SIGKILL it then, or, with `kill_at_rows`, as soon
    as that many rows are committed. True if it finished first. With `commits`, let it finish and
    append when its first batch and its `rows`-th row were committed."""
    pid = os.fork()
    if pid == 0:  # the child: build, and leave without running the parent's exit handlers
        code = 1
        try:
            build(items, index_dir, config, workers=2)  # a pool, which a default build of so few rows skips
            code = 0
        finally:
            os._exit(code)
    if commits is not None:  # a clean run: note when its first batch and its last row are committed
        started = time.monotonic()
        while not os.waitpid(pid, os.WNOHANG)[0]:
            count = committed(index_dir)
            if (count and not commits) or (commits and count >= rows and len(commits) == 1):
                commits.append(time.monotonic() - started)
            time.sleep(0.005)
        return True
    if kill_after is not None or kill_at_rows is not None:
        deadline = time.monotonic() + kill_after if kill_after is not None else float("inf")
        while time.monotonic() < deadline and (kill_at_rows is None or committed(index_dir) < kill_at_rows):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status) == 0
            time.sleep(0.002)
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if kill_after is None and kill_at_rows is None and code != 0:
        raise RuntimeError(f"the forked build exited with {code}")
    return code == 0


def run(trials: int, seed: int, rows: int, work: Path) -> dict:
    faiss.omp_set_num_threads(1)
    items = make_catalogue(work / "data", rows)
    config = Config.model_validate({"build_batch_size": 4, "text_model": {
        "engine": "static", "static_path": str(make_static_model(work / "static-model"))}})
    # In this process, so that every module and model is loaded before the forks; in one process,
    # because a pool's forkserver started here would be inherited, unusable, by the forked builds,
    # which start their own (a worker pool of 2 is what the kills interrupt).
    build(items, work / "warm", config, workers=1)
    started = time.monotonic()
    commits: list[float] = []
    forked_build(items, work / "clean", config, None, commits, rows)
    build_seconds = time.monotonic() - started
    clean = snapshot(work / "clean")
    # Most kills land while batches are committed, where resuming has most to get right: they wait for
    # a committed row count, not a time, since how long a build takes here depends on the machine's
    # load. The others land before anything is stored or while the index is published, timed from
    # the clean build.
    first, last = (commits + [build_seconds, build_seconds])[:2]
    rng = random.Random(seed)
    results = []
    for trial in range(trials):
        folder = work / f"trial-{trial:02d}"
        delay = at_rows = None
        if trial % 10 == 0:
            delay = rng.uniform(0.0, first)
        elif trial % 10 == 9:
            delay = rng.uniform(last, build_seconds)
        else:
            at_rows = rng.randint(1, rows - 1)
        finished = forked_build(items, folder, config, delay, kill_at_rows=at_rows)
        state = {"trial": trial, "killed_after_s": None if delay is None else round(delay, 3),
                 "killed_at_rows": at_rows, "finished_before_kill": finished,
                 "items_committed": committed(folder), "manifest": (folder / "manifest.json").exists(),
                 "unpublished_generation": any((folder / "indexes").glob(".tmp-*"))}
        forked_build(items, folder, config, None)
        state["equal_to_clean"] = snapshot(folder) == clean
        results.append(state)
        shutil.rmtree(folder, ignore_errors=True)
    return {"trials": trials, "rows": rows, "clean_build_s": round(build_seconds, 3),
            "killed_mid_build": sum(0 < r["items_committed"] < rows for r in results),
            "killed_before_first_commit": sum(r["items_committed"] == 0 for r in results),
            "killed_after_all_committed": sum(r["items_committed"] == rows and not r["finished_before_kill"]
                                              for r in results),
            "finished_before_kill": sum(r["finished_before_kill"] for r in results),
            "all_equal": all(r["equal_to_clean"] for r in results), "results": results}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rows", type=int, default=80)
    ap.add_argument("--work", type=Path, help="working folder (default: a temporary one, removed after)")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="simgov-kill-"))
    started = time.monotonic()
    try:
        summary = run(args.trials, args.seed, args.rows, work)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    summary["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(summary))
    return 0 if summary["all_equal"] else 1


if __name__ == "__main__":
    sys.exit(main())
