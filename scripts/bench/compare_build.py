"""Build the same items with an older tree (the baseline) and this tree (`--workers N` each), in one run;
wall time, CPU seconds of the build process and of its helpers, peak RSS of the main process and of the
whole process tree (sampled from /proc every 0.2 s), and a check that stores and published structures
are identical.

    git archive c10d1a4 | tar -x -C /tmp/perf/base   # the tree before the bulk-build change
    .venv/bin/python scripts/bench/compare_build.py ITEMS.jsonl base,workers=1,workers=2

"base" in the run list is the tree in $BASE_TREE (default /tmp/perf/base). Linux only (/proc).
"""
import json, os, shutil, sqlite3, subprocess, sys, time
from pathlib import Path
import numpy as np
items, runs = Path(sys.argv[1]), sys.argv[2].split(",")
work = Path(os.environ.get("CMP_DIR", "/tmp/perf/cmp")); work.mkdir(exist_ok=True, parents=True)
PY = sys.executable
cfg = work / "static.json"; cfg.write_text(json.dumps({"text_model": {"engine": "static"}}))
TICK = os.sysconf("SC_CLK_TCK"); PAGE = os.sysconf("SC_PAGE_SIZE")
n_items = sum(1 for _ in open(items))

def stat(pid):
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return int(f[1]), (int(f[11]) + int(f[12])) / TICK, int(f[21]) * PAGE  # ppid, cpu s, rss bytes
    except (OSError, IndexError):
        return None

def tree(root):
    procs = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            s = stat(int(d))
            if s: procs[int(d)] = s
    out, todo = {}, [root]
    while todo:
        p = todo.pop()
        if p in procs:
            out[p] = procs[p]
            todo += [c for c, s in procs.items() if s[0] == p]
    return out

def run(tag):
    idx = work / f"idx-{tag}"; shutil.rmtree(idx, ignore_errors=True)
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    extra = []
    if tag == "base":
        env["PYTHONPATH"] = os.environ.get("BASE_TREE", "/tmp/perf/base")
    else:
        extra = ["--workers", tag.split("=")[1]]
    cmd = [PY, "-c", "import sys; from simgov.cli import main; sys.exit(main())", "build", "--items", str(items),
           "--index", str(idx), "--config", str(cfg), "--quiet", *extra]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd="/tmp", stderr=subprocess.DEVNULL)
    cpu, peak_main, peak_tree = {}, 0, 0
    while proc.poll() is None:
        tr = tree(proc.pid)
        for p, s in tr.items(): cpu[p] = s[1]
        if proc.pid in tr: peak_main = max(peak_main, tr[proc.pid][2])
        peak_tree = max(peak_tree, sum(s[2] for s in tr.values()))
        time.sleep(0.2)
    s = time.perf_counter() - t
    assert proc.returncode == 0, tag
    main_cpu = cpu.get(proc.pid, 0); helpers = sum(v for p, v in cpu.items() if p != proc.pid)
    print(f"{tag:>10}: wall {s:7.1f} s ({n_items / s:6.0f} items/s) | CPU main {main_cpu:6.1f} s, helpers {helpers:6.1f} s "
          f"| peak RSS main {peak_main / 2**20:5.0f} MiB, tree {peak_tree / 2**20:5.0f} MiB | load {os.getloadavg()[0]:.1f}", flush=True)
    return idx, s, main_cpu

def dump(idx):
    db = sqlite3.connect(idx / "store.sqlite")
    rows = db.execute("SELECT item_id, vec_id, seller_id, content_hash, record, deleted FROM items ORDER BY vec_id").fetchall()
    feats = db.execute("SELECT vec_id, signal, blob FROM features ORDER BY vec_id, signal").fetchall()
    probs = db.execute("SELECT * FROM signal_problems ORDER BY vec_id, signal, problem").fetchall()
    man = json.loads((idx / "manifest.json").read_text())
    gen = idx / "indexes" / man["generation"]
    tk = np.load(gen / "text_keys.npz", allow_pickle=True)
    text = {k: tk[k].tolist() for k in tk.files}
    import hashlib
    title = hashlib.sha256((gen / "title.faiss").read_bytes()).hexdigest()
    return rows, feats, probs, man["counts"], text, title

print(f"{items} ({n_items:,} items); load average {os.getloadavg()} on {os.cpu_count()} cores", flush=True)
res = {tag: run(tag) for tag in runs}
if "base" in res:
    ref = dump(res["base"][0])
    for tag in runs:
        if tag != "base":
            same = [a == b for a, b in zip(ref, dump(res[tag][0]))]
            print(f"{tag} vs base identical (items, features, problems, counts, text postings, title index): {same}")
            print(f"  ratio base/{tag}: wall {res['base'][1] / res[tag][1]:.2f}x, main-process CPU {res['base'][2] / res[tag][2]:.2f}x")
