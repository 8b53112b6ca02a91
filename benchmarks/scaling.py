"""The measured figures behind docs/scaling.md: bytes per item per signal and index type, build
rate of the local and the ray engine on the same items, dense query latency of FAISS and Milvus
(Lite), IVF-PQ recall against exact search.

    python -m benchmarks.scaling --items ITEMS.jsonl --work /tmp/scaling [--vectors 50000] [--json out.json]

Needs the ray and milvus extras (pip install -e '.[ray,milvus]'). Timings depend on the machine
and on what else runs on it: the JSON records the CPU count and the load average at the start.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from simgov.build import ray_engine
from simgov.build.local import build as local_build
from simgov.config import Config, DenseIndexConfig
from simgov.index import SimIndex
from simgov.vectors import BACKEND_ENV, MILVUS_URI_ENV, DenseIndex
from simgov.vectors import milvus as milvus_store
from simgov.vectors.milvus import MilvusDenseIndex

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def file_bytes(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def store_blob_bytes(index_dir: Path) -> dict:
    """Average stored blob bytes per item that has the signal, and the share of items that have it."""
    with sqlite3.connect(index_dir / "store.sqlite") as db:
        items = db.execute("SELECT COUNT(*) FROM items WHERE deleted=0").fetchone()[0]
        out = {"items": items}
        for signal, n, total in db.execute("SELECT signal, COUNT(*), SUM(LENGTH(blob)) FROM features GROUP BY signal"):
            out[signal] = {"bytes_per_item_with_it": round(total / n, 1), "share_of_items": round(n / items, 3)}
        record = db.execute("SELECT AVG(LENGTH(record)) FROM items").fetchone()[0]
        out["record_json"] = {"bytes_per_item": round(record, 1)}
    out["store_file_bytes_per_item"] = round(file_bytes(index_dir / "store.sqlite") / max(items, 1), 1)
    return out


def generation_files(index_dir: Path) -> dict:
    manifest = json.loads((index_dir / "manifest.json").read_text())
    gen = index_dir / "indexes" / manifest["generation"]
    items = manifest["counts"]["items"]
    return {p.name: {"bytes": file_bytes(p), "bytes_per_item": round(file_bytes(p) / max(items, 1), 1)}
            for p in sorted(gen.iterdir())}


def catalogue_vectors(n: int, dim: int = 384, families: int | None = None, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    families = families or max(50, n // 10)
    centres = rng.standard_normal((families, dim))
    x = centres[rng.integers(0, families, n)] + 0.6 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def dense_index_bytes(x: np.ndarray, work: Path) -> dict:
    """Bytes per vector of each FAISS dense index type, measured on files."""
    out = {}
    n, dim = x.shape
    ids = np.arange(1, n + 1)
    for kind in ("flat", "hnsw", "ivf"):
        if (work / f"{kind}.faiss").exists():  # from an earlier run on the same vectors
            out[kind] = {"bytes_per_vector": round(file_bytes(work / f"{kind}.faiss") / n, 1)}
            continue
        t = time.perf_counter()
        index = DenseIndex.create(dim, n, DenseIndexConfig(kind=kind, flat_max=1))  # ivf: lists however few
        index.add(ids, x)
        index.search(x[:1], 1)  # an ivf index trains its lists and adds what it holds at its first search
        built = time.perf_counter() - t
        index.save(work / f"{kind}.faiss")
        out[kind] = {"bytes_per_vector": round(file_bytes(work / f"{kind}.faiss") / n, 1),
                     "build_seconds": round(built, 2)}
    cfg = DenseIndexConfig(kind="ivfpq")
    t = time.perf_counter()
    sample = np.random.default_rng(1).choice(n, min(n, cfg.ivf_train_size), replace=False)
    index = DenseIndex.train_ivfpq(x[sample], n, cfg)
    index.add(ids, x)
    built = time.perf_counter() - t
    index.save(work / "ivfpq.faiss")
    out["ivfpq"] = {"bytes_per_vector": round(file_bytes(work / "ivfpq.faiss") / n, 1),
                    "build_seconds": round(built, 2), "nlist": int(index.index.nlist),
                    "pq_m": int(index.index.pq.M), "pq_bits": int(index.index.pq.nbits)}
    return out


def recall(x: np.ndarray, queries: int = 500) -> dict:
    """IVF-PQ (trained on a sample, default settings) recall@10 against exact search: from the
    codes alone, and after simgov's exact rescoring of `ivf_refine` x 10 candidates."""
    n, dim = x.shape
    cfg = DenseIndexConfig(kind="ivfpq")
    exact = DenseIndex.create(dim, n, DenseIndexConfig(kind="flat"))
    exact.add(np.arange(1, n + 1), x)
    sample = x[np.random.default_rng(1).choice(n, min(n, cfg.ivf_train_size), replace=False)]
    ivf = DenseIndex.train_ivfpq(sample, n, cfg)
    ivf.add(np.arange(1, n + 1), x)
    q = x[:: max(1, n // queries)][:queries]
    _, truth = exact.search(q, 11)
    _, raw = ivf.search(q, 11)
    _, cand = ivf.search(q, 11 * ivf.oversample)
    hits_raw, hits_rr = [], []
    for t, r, c, v in zip(truth, raw, cand, q):
        t = set(t[1:].tolist())  # the query itself left out, as similar does
        c = c[c > 0]
        rr = c[np.argsort(-(x[c - 1] @ v), kind="stable")]
        hits_raw.append(len(t & set(r[r > 0].tolist()[1:11])) / 10)
        hits_rr.append(len(t & set(rr.tolist()[1:11])) / 10)
    return {"vectors": n, "recall_at_10_codes_only": round(float(np.mean(hits_raw)), 3),
            "recall_at_10_rescored": round(float(np.mean(hits_rr)), 3), "queries": len(q),
            "candidates_rescored": 10 * ivf.oversample, "nlist": int(ivf.index.nlist), "pq_m": int(ivf.index.pq.M),
            "pq_bits": int(ivf.index.pq.nbits), "nprobe": int(ivf.index.nprobe)}


def real_vectors(index_dir: Path) -> np.ndarray:
    with sqlite3.connect(index_dir / "store.sqlite") as db:
        blobs = [b for (b,) in db.execute("SELECT blob FROM features WHERE signal='title' ORDER BY vec_id")]
    return np.stack([np.frombuffer(b, dtype=np.float32) for b in blobs])


def latency(fn, queries: np.ndarray, repeat: int = 1) -> dict:
    times = []
    for _ in range(repeat):
        for v in queries:
            t = time.perf_counter()
            fn(v[None, :])
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {"p50_ms": round(statistics.median(times), 3), "p95_ms": round(times[int(0.95 * (len(times) - 1))], 3),
            "mean_ms": round(statistics.fmean(times), 3)}


def query_latency(x: np.ndarray, work: Path, k: int = 20, milvus_vectors: int = 20_000) -> dict:
    """Search by vector, one query at a time (what similar does), k=20 (candidates_per_signal).
    Milvus Lite (milvus-lite 3 is a Python implementation serving gRPC in-process) on the first
    `milvus_vectors` vectors, FAISS on those and on all of them."""
    n, dim = x.shape
    q = x[np.random.default_rng(2).choice(n, 300, replace=False)]
    out = {"vectors": n}
    for kind in ("flat", "hnsw", "ivf", "ivfpq"):
        index = DenseIndex.load(work / f"{kind}.faiss", 128, cfg=DenseIndexConfig())
        out[f"faiss_{kind}"] = latency(lambda v: index.search(v, k * index.oversample), q)
    m = min(n, milvus_vectors)
    small = x[:m]
    qs = small[np.random.default_rng(3).choice(m, 100, replace=False)]
    flat = DenseIndex.create(dim, m, DenseIndexConfig(kind="flat"))
    flat.add(np.arange(1, m + 1), small)
    out[f"faiss_flat_{m}"] = latency(lambda v: flat.search(v, k), qs)
    for kind in ("flat", "hnsw"):
        shutil.rmtree(work / f"milvus-{kind}.db", ignore_errors=True)
        config = Config(milvus_uri=str(work / f"milvus-{kind}.db"), dense_index=DenseIndexConfig(kind=kind))
        t = time.perf_counter()
        store = MilvusDenseIndex.create(dim, m, config, "title")
        store.add(np.arange(1, m + 1), small)
        inserted = time.perf_counter() - t
        store.search(qs[:5], k)  # warm (index built on first load)
        out[f"milvus_lite_{kind}_{m}"] = {**latency(lambda v: store.search(v, k), qs),
                                          "insert_vectors_per_second": round(m / inserted, 1)}
        milvus_store.close_all()
    return out


def similar_latency(index_dir: Path, work: Path) -> dict:
    """End-to-end `similar` (all signals, scoring and evidence) with each dense backend."""
    out = {}
    for backend in ("faiss", "milvus"):
        os.environ[BACKEND_ENV] = backend
        os.environ[MILVUS_URI_ENV] = str(work / "similar-milvus.db")
        index = SimIndex.open(index_dir)
        ids = [r[1] for batch in index.store.iter_live() for r in batch][:: 10][:150]
        index.similar(ids[0])
        times = []
        for item_id in ids:
            t = time.perf_counter()
            index.similar(item_id, k=10)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        out[backend] = {"p50_ms": round(statistics.median(times), 2),
                        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2)}
        index.close()
        milvus_store.close_all()
    os.environ.pop(BACKEND_ENV)
    os.environ.pop(MILVUS_URI_ENV)
    return out


def builds(items: Path, work: Path) -> dict:
    out = {}
    shutil.rmtree(work / "local", ignore_errors=True)
    t = time.perf_counter()
    r = local_build(items, work / "local")
    out["local"] = {"items": r.encoded, "seconds": round(time.perf_counter() - t, 1),
                    "items_per_second": round(r.rate, 1)}
    shutil.rmtree(work / "ray", ignore_errors=True)
    t = time.perf_counter()
    r = ray_engine.build(items, work / "ray")
    out["ray"] = {"items": r.encoded, "seconds": round(time.perf_counter() - t, 1),
                  "items_per_second": round(r.rate, 1), "actors": r.actors, "chunks": r.chunks,
                  "phases_seconds": r.timings,
                  "encode_phase_items_per_second": round(r.encoded / max(r.timings.get("encode", 0), 1e-9), 1)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=Path, required=True, help="items (JSON Lines) built by both engines")
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--vectors", type=int, default=50_000, help="synthetic vectors for index bytes and latency")
    ap.add_argument("--skip-builds", action="store_true", help="reuse WORK/local and WORK/ray")
    ap.add_argument("--similar-items", type=int, default=0,
                    help="time similar on a fresh index of the first N items (default: WORK/local)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    result = {"cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()}

    def save(step: str, value) -> None:  # written after every step: a late failure keeps the rest
        result[step] = value
        print(json.dumps({step: value}, indent=2), flush=True)
        if args.json:
            args.json.write_text(json.dumps(result, indent=2) + "\n")

    if not args.skip_builds:
        save("builds", builds(args.items, args.work))
    save("store", store_blob_bytes(args.work / "local"))
    save("generation_files", generation_files(args.work / "local"))
    x = catalogue_vectors(args.vectors)
    vec_dir = args.work / "vectors"
    vec_dir.mkdir(exist_ok=True)
    save("dense_index", dense_index_bytes(x, vec_dir))
    save("ivfpq_recall_synthetic", recall(x))
    save("ivfpq_recall_real_titles", recall(real_vectors(args.work / "local")))
    save("dense_query_latency", query_latency(x, vec_dir))
    similar_dir = args.work / "local"
    if args.similar_items:
        subset = args.work / "similar-items.jsonl"
        with open(args.items, encoding="utf-8") as fh, open(subset, "w", encoding="utf-8") as out:
            out.writelines(line for _, line in zip(range(args.similar_items), fh))
        shutil.copytree(args.items.parent / "images", args.work / "images", dirs_exist_ok=True)
        similar_dir = args.work / "similar-index"
        shutil.rmtree(similar_dir, ignore_errors=True)
        local_build(subset, similar_dir)
    save("similar_latency", similar_latency(similar_dir, args.work))
    return 0


if __name__ == "__main__":
    sys.exit(main())
