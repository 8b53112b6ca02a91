#!/usr/bin/env python3
"""Measure the account link scorer on the FEBRL synthetic person data sets, without labels.

Usage: .venv/bin/python scripts/eval_febrl_links.py [febrl3 febrl1 febrl2 febrl4] [--k 10]

For each set: map records onto accounts (scripts/febrl_to_accounts.py), build profiles (hashing
the identifiers), generate candidates by index lookup (FAISS top-k on hashed character n-gram
vectors + exact identifier-hash blocking), score candidates with simgov.account_profile.compare,
link at DEFAULT_LINK_THRESHOLD and group the links. Labels are used only to print the figures:
candidate recall, pair precision/recall/F1 of the links, and of the pairs implied by the groups
(every pair inside a group). The "best threshold" column is an oracle for reference only.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import febrl_to_accounts  # noqa: E402
from simgov.grouping import group_links  # noqa: E402
from simgov.account_profile import (  # noqa: E402
    DEFAULT_K,
    DEFAULT_LINK_THRESHOLD,
    candidate_pairs,
    compare,
    profile,
)

SECRET = b"simgov-febrl-eval-secret"  # any key works: identifiers are only compared hash to hash


def prf(pred: set, gold: set) -> tuple[float, float, float]:
    tp = len(pred & gold)
    p = tp / len(pred) if pred else 0.0
    r = tp / len(gold) if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def best_threshold_f1(scores: dict, gold: set) -> tuple[float, float]:
    """Oracle: the best pair F1 over all thresholds (uses labels; reference only)."""
    items = sorted(scores.items(), key=lambda kv: -kv[1])
    y = np.array([k in gold for k, _ in items], dtype=float)
    tp = np.cumsum(y)
    n = np.arange(1, len(y) + 1)
    f1 = 2 * tp / (n + len(gold))
    i = int(np.argmax(f1))
    return float(f1[i]), float(items[i][1])


def valley(z: np.ndarray) -> tuple[float, float]:
    """Label-free check of the threshold: the emptiest 1-wide log-odds bin between the mode of
    the non-link side (z < 0) and the mode of the link side (z >= 0) of candidate pairs."""
    edges = np.arange(-20.0, 21.0, 1.0)
    h, _ = np.histogram(np.clip(z, -19.5, 19.5), bins=edges)
    mid = len(h) // 2
    lo = int(np.argmax(h[:mid]))
    hi = mid + int(np.argmax(h[mid:]))
    v = lo + int(np.argmin(h[lo : hi + 1]))
    return float(edges[v]), float(edges[v + 1])


def run(name: str, k: int) -> dict:
    t0 = time.perf_counter()
    df, gold = febrl_to_accounts.load(name)
    accounts = [febrl_to_accounts.to_account(rec_id, row) for rec_id, row in df.iterrows()]
    profiles = [profile(a, SECRET) for a in accounts]
    ids = [p.account_id for p in profiles]

    def key(i: int, j: int) -> tuple[str, str]:
        a, b = ids[i], ids[j]
        return (a, b) if a < b else (b, a)

    t1 = time.perf_counter()
    by_ngram = candidate_pairs(profiles, k=k, use_blocking=False)
    by_block = candidate_pairs(profiles, k=k, use_ngrams=False)
    cands = by_ngram | by_block  # == candidate_pairs(profiles, k=k)
    t2 = time.perf_counter()
    ngram_only = {key(i, j) for i, j in by_ngram}
    block_only = {key(i, j) for i, j in by_block}

    t3 = time.perf_counter()
    scores, log_odds = {}, []
    for i, j in cands:
        c = compare(profiles[i], profiles[j])
        scores[(i, j)] = c.score
        log_odds.append(c.log_odds)
    t4 = time.perf_counter()
    links = {key(i, j) for (i, j), s in scores.items() if s >= DEFAULT_LINK_THRESHOLD}
    groups = group_links(len(profiles), scores, lambda i, j: compare(profiles[i], profiles[j]).score,
                         threshold=DEFAULT_LINK_THRESHOLD)
    t5 = time.perf_counter()
    implied = {key(g[x], g[y]) for g in groups for x in range(len(g)) for y in range(x + 1, len(g))}

    cand_keys = {key(i, j) for i, j in cands}
    best_f1, best_t = best_threshold_f1({key(i, j): s for (i, j), s in scores.items()}, gold)
    return {
        "set": name,
        "accounts": len(profiles),
        "gold": len(gold),
        "candidates": len(cands),
        "cand_recall": len(cand_keys & gold) / len(gold),
        "cand_recall_ngram": len(ngram_only & gold) / len(gold),
        "cand_recall_block": len(block_only & gold) / len(gold),
        "pairs": prf(links, gold),
        "groups": prf(implied, gold),
        "n_groups": len(groups),
        "best": (best_f1, best_t),
        "valley": valley(np.array(log_odds)),
        "secs": {"profile": t1 - t0, "candidates": t2 - t1, "compare": t4 - t3, "group": t5 - t4,
                 "total": time.perf_counter() - t0},
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="FEBRL link evaluation")
    ap.add_argument("sets", nargs="*", metavar="SET",
                    help="febrl1|febrl2|febrl3|febrl4 (default: febrl3 febrl1 febrl2 febrl4)")
    ap.add_argument("--k", type=int, default=DEFAULT_K, help="n-gram nearest neighbours per account")
    args = ap.parse_args(argv)
    args.sets = args.sets or ["febrl3", "febrl1", "febrl2", "febrl4"]
    for name in args.sets:
        if name not in febrl_to_accounts.SETS:
            ap.error(f"unknown set {name!r}")

    print(f"threshold {DEFAULT_LINK_THRESHOLD}  k {args.k}")
    hdr = (f"{'set':7} {'accts':>6} {'gold':>5} {'cands':>7} {'cand_rec':>8} {'(ngram':>7} {'block)':>7}"
           f" | {'pair P':>7} {'R':>6} {'F1':>6} | {'group P':>7} {'R':>6} {'F1':>6} {'groups':>6}"
           f" | {'oracle F1@t':>12} | {'valley':>9} | {'secs':>5}")
    print(hdr)
    total = 0.0
    for name in args.sets:
        r = run(name, args.k)
        total += r["secs"]["total"]
        pp, pr, pf = r["pairs"]
        gp, gr, gf = r["groups"]
        print(f"{r['set']:7} {r['accounts']:6d} {r['gold']:5d} {r['candidates']:7d} {r['cand_recall']:8.4f}"
              f" {r['cand_recall_ngram']:7.4f} {r['cand_recall_block']:7.4f}"
              f" | {pp:7.4f} {pr:6.4f} {pf:6.4f} | {gp:7.4f} {gr:6.4f} {gf:6.4f} {r['n_groups']:6d}"
              f" | {r['best'][0]:.4f}@{r['best'][1]:.2f} | {r['valley'][0]:+3.0f}..{r['valley'][1]:+3.0f} | {r['secs']['total']:5.1f}",
              flush=True)
    print(f"total {total:.1f}s")
    print("cand_rec: share of gold pairs among candidates (ngram: FAISS top-k alone; block: identifier"
          " hashes alone). pair: links scored >= threshold; group: all pairs inside the groups."
          " oracle: best pair F1 over thresholds (uses labels, reference only). valley: emptiest"
          " unlabelled log-odds bin between the two modes (threshold 0.5 = log-odds 0).")


if __name__ == "__main__":
    main()
