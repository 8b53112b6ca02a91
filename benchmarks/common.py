"""Shared by the benchmarks: argument parsing, synthetic catalogues and indexes, timing, peak memory, output.

Every benchmark measures its figure and the baseline it is compared with in the same run (the
machine is shared and timings are noisy, so only ratios from one run mean much) and prints one
line per figure; ``--json FILE`` also appends the figures as JSON records for run_all.py.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def parser(description: str, reduced: int, full: int) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--full", action="store_true", help=f"full size ({full:,} instead of {reduced:,})")
    ap.add_argument("-n", type=int, default=None, help="size (overrides --full)")
    ap.add_argument("--work", type=Path, default=Path(os.environ.get("SIMGOV_BENCH_DIR", "/tmp/simgov-bench")),
                    help="folder for generated data and indexes (kept between runs)")
    ap.add_argument("--json", type=Path, help="append the figures as JSON lines to this file")
    ap.set_defaults(_sizes=(reduced, full))
    return ap


def size(args) -> int:
    reduced, full = args._sizes
    return args.n or (full if args.full else reduced)


def report(args, figure: str, value: float, unit: str, baseline: float | None = None, baseline_name: str = "",
           *, higher_is_better: bool = True, note: str = "", command: str = "") -> dict:
    """Print `figure: value unit (baseline ...: b unit, ratio r)` and record it."""
    ratio = None
    if baseline:
        ratio = value / baseline if higher_is_better else baseline / value
    line = f"{figure}: {value:,.4g} {unit}"
    if baseline is not None:
        line += f"  |  baseline ({baseline_name}): {baseline:,.4g} {unit}"
        if ratio is not None:
            line += f"  |  ratio {ratio:,.3g}x"
    if note:
        line += f"  |  {note}"
    print(line, flush=True)
    command = command or " ".join(["python -m", f"benchmarks.{Path(sys.argv[0]).stem}", *sys.argv[1:]])
    record = {"figure": figure, "value": value, "unit": unit, "baseline": baseline, "baseline_name": baseline_name,
              "ratio": ratio, "note": note, "command": command}
    if getattr(args, "json", None):
        with open(args.json, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
    return record


@contextmanager
def timer():
    box = {}
    start = time.perf_counter()
    try:
        yield box
    finally:
        box["s"] = time.perf_counter() - start


def peak_rss_mib(children: bool = False) -> float:
    """Peak resident memory of this process (or of its waited-for children), MiB (Linux: ru_maxrss is KiB)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF)
    return usage.ru_maxrss / 1024


def run_sampled(cmd: list[str], env: dict | None = None, cwd: str | None = None) -> dict:
    """Run `cmd` to completion, sampling its process tree from /proc every 0.2 s (Linux): wall
    seconds, CPU seconds of the process and of its descendants, peak RSS of the process and of the
    whole tree (sum over its live processes), MiB."""
    tick, page = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")

    def processes() -> dict[int, tuple[int, float, int]]:
        out = {}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    f = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
                    out[int(d)] = int(f[1]), (int(f[11]) + int(f[12])) / tick, int(f[21]) * page
                except (OSError, IndexError):
                    pass
        return out

    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stderr=subprocess.DEVNULL)
    cpu: dict[int, float] = {}
    peak_main = peak_tree = 0
    while proc.poll() is None:
        procs, tree, todo = processes(), {}, [proc.pid]
        while todo:
            pid = todo.pop()
            if pid in procs:
                tree[pid] = procs[pid]
                todo += [c for c, s in procs.items() if s[0] == pid]
        for pid, s in tree.items():
            cpu[pid] = s[1]
        peak_main = max(peak_main, tree.get(proc.pid, (0, 0, 0))[2])
        peak_tree = max(peak_tree, sum(s[2] for s in tree.values()))
        time.sleep(0.2)
    if proc.returncode:
        raise RuntimeError(f"{cmd[:4]} ... exited {proc.returncode}")
    return {"seconds": time.perf_counter() - start, "cpu_main": cpu.get(proc.pid, 0.0),
            "cpu_helpers": sum(v for p, v in cpu.items() if p != proc.pid),
            "rss_main_mib": peak_main / 2**20, "rss_tree_mib": peak_tree / 2**20}


def load_info() -> str:
    try:
        return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"
    except OSError:
        return ""


# -- synthetic catalogue ------------------------------------------------------------------------
BRANDS = ["Acme", "Borealis", "Cobalt", "Dunmore", "Everlight", "Fjord", "Gamma", "Helio", "Iris", "Juno", "Kappa",
          "Lumen", "Meridian", "Nimbus", "Orion", "Pioneer", "Quasar", "Rivet", "Solace", "Tundra", "Umbra", "Vertex",
          "Wavelength", "Xenon", "Yarrow", "Zephyr", "Altura", "Brightline", "Corvid", "Delta", "Ember", "Falcon"]
PRODUCTS = ["running shoe", "water bottle", "smartphone", "messenger bag", "desk lamp", "wool beanie",
            "wireless earbuds", "monitor", "coffee mug", "kids bicycle", "yoga mat", "wristwatch", "backpack",
            "bluetooth speaker", "laptop sleeve", "travel mug", "hiking boot", "rain jacket", "phone case",
            "usb-c charger", "gaming mouse",
            "mechanical keyboard", "tablet stand", "action camera", "tripod", "electric kettle", "blender",
            "air fryer", "vacuum cleaner", "hair dryer", "sunglasses", "leather wallet", "dash cam", "smart bulb",
            "power bank", "hdmi cable", "sd card", "ssd drive", "router", "webcam", "headphones", "drone"]
ADJECTIVES = ["pro", "mini", "max", "ultra", "slim", "classic", "sport", "compact", "deluxe", "lite", "plus", "eco"]
COLOURS = ["black", "white", "blue", "red", "green", "grey", "silver", "pink", "navy", "beige", "orange", "purple"]
MEASURES = ["{n} ml", "{n}GB", "{n} inch", "{n}W", "size {n}", "{n} mm", "{n}mAh", "{n} pack", "{n}L", "{n} cm"]


def synthetic_items(n: int, seed: int = 1, sellers: int | None = None, copy_share: float = 0.05):
    """`n` items (dicts) with titles and sellers; about `copy_share` are re-listings of an earlier
    item by another seller (reworded), so that self-joins find real pairs."""
    rng = random.Random(seed)
    sellers = sellers or max(10, n // 50)
    titles: list[str] = []
    for i in range(n):
        if titles and rng.random() < copy_share:
            words = rng.choice(titles[-5000:]).split()
            rng.shuffle(words)
            if len(words) > 3:
                words.pop(rng.randrange(len(words)))
            title = " ".join(words).capitalize()
        else:
            code = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(rng.randint(1, 3))) + \
                str(rng.randint(10, 9999)) + rng.choice(["", "", "X", "S", "-B"])
            parts = [rng.choice(BRANDS), rng.choice(ADJECTIVES) if rng.random() < 0.5 else "",
                     rng.choice(PRODUCTS), code, rng.choice(COLOURS),
                     rng.choice(MEASURES).format(n=rng.choice([1, 2, 4, 8, 16, 32, 64, 128, 250, 500, 750, 1000]))]
            title = " ".join(p for p in parts if p)
        titles.append(title)
        yield {"item_id": f"it-{i:08d}", "title": title, "seller_id": f"seller-{rng.randrange(sellers):06d}"}


def synthetic_titles(n: int, seed: int = 1) -> list[str]:
    return [item["title"] for item in synthetic_items(n, seed)]


def write_items(path: Path, n: int, seed: int = 1) -> Path:
    """The JSON Lines items file of `synthetic_items(n, seed)`, made once and reused."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for item in synthetic_items(n, seed):
            fh.write(json.dumps(item) + "\n")
    os.replace(tmp, path)
    return path


def built_index(work: Path, n: int, engine: str = "static") -> Path:
    """A built index of `n` synthetic items (static title engine by default), made once per size and reused."""
    index = work / f"index-{engine}-{n}"
    if (index / "manifest.json").exists():
        return index
    items = write_items(work / f"items-{n}.jsonl", n)
    config = work / f"config-{engine}.json"
    config.write_text(json.dumps({"text_model": {"engine": engine}}))
    subprocess.run([str(Path(PYTHON).with_name("simgov")), "build", "--items", str(items), "--index", str(index),
                    "--config", str(config), "--quiet"], check=True)
    return index
