#!/usr/bin/env python
"""F1, precision and recall of `simgov compare --pairs` on the labelled product-offer pairs
(../shared/testdata/product-pairs, SOURCE.md there), development and held-out sets apart.

The split was fixed before any result was looked at (issue 15): the level model's weights
(`python -m evaluation.fit_level_model`) are fitted on the development sets only (WDC *-train, beer,
and Abt-Buy, measured by `evaluation.abt_buy`); the held-out sets (WDC *-valid, itunes-amazon) are
only measured. Each set is written as a pairs file of item records and decided by the shipped CLI,
each pair alone, word weights over the file's listings. With `--old`, the formula the level model
replaces (`matching.combine` of the title and text signals' scores, the pair counted as mutual best,
as a lone pair is its own best) is measured on the same pairs for comparison.

    HF_HUB_OFFLINE=1 .venv/bin/python -m evaluation.product_pairs [--old] [--sets NAME,...] [--limit N]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402

from simgov.config import Config  # noqa: E402
from simgov.matching.combine import combine  # noqa: E402
from simgov.signals.text import Comparable, build_idf, compare_prepared, profile  # noqa: E402
from simgov.signals.title import TitleSignal  # noqa: E402

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "product-pairs"
DEVELOPMENT = ("wdc-cameras-train", "wdc-computers-train", "wdc-shoes-train", "wdc-watches-train", "beer-all")
HELD_OUT = ("wdc-cameras-valid", "wdc-computers-valid", "wdc-shoes-valid", "wdc-watches-valid", "itunes-amazon-all")


def to_item(record: dict, kind: str) -> dict:
    """An offer of a pairs file as an item record: WDC has a title only; beer's name is the title and
    its brewery the brand; a song's name is the title; every other field is an attribute."""
    if kind == "wdc":
        return {"title": record.get("title", "")}
    name_field = "beer_name" if kind == "beer" else "song_name"
    item = {"title": record.get(name_field, ""),
            "attributes": {k: v for k, v in record.items() if k not in (name_field, "brew_factory_name")}}
    if kind == "beer" and record.get("brew_factory_name"):
        item["brand"] = record["brew_factory_name"]
    return item


def load_pairs(name: str, data: Path = DATA) -> list[tuple[dict, dict, int]]:
    """(item a, item b, label) of a set: `wdc-cameras-train`, or `beer-all` for all splits of beer."""
    kind = "wdc" if name.startswith("wdc") else ("beer" if name.startswith("beer") else "itunes")
    stem, _, split = name.rpartition("-")
    files = [data / f"{stem}-{s}.jsonl" for s in ("train", "valid", "test")] if split == "all" \
        else [data / f"{name}.jsonl"]
    out = []
    for path in files:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                d = json.loads(line)
                out.append((to_item(d["left"], kind), to_item(d["right"], kind), int(d["label"])))
    return out


def prf(predicted, labels) -> tuple[float, float, float]:
    predicted, labels = np.asarray(predicted, bool), np.asarray(labels, int) == 1
    tp = float((predicted & labels).sum())
    p = tp / predicted.sum() if predicted.sum() else 0.0
    r = tp / labels.sum() if labels.sum() else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def compare_cli(pairs: list[tuple[dict, dict, int]], workdir: Path, index: Path | None = None) -> list[dict]:
    """`simgov compare --pairs` on the pairs (labels left out); its output records in order."""
    src, out = workdir / "pairs.jsonl", workdir / "decided.jsonl"
    with open(src, "w", encoding="utf-8") as fh:
        for a, b, _ in pairs:
            fh.write(json.dumps({"a": a, "b": b}, ensure_ascii=False) + "\n")
    cmd = [sys.executable, "-m", "simgov.cli", "compare", "--pairs", str(src), "--out", str(out)]
    if index is not None:
        cmd += ["--index", str(index)]
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
    with open(out, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def old_formula(pairs: list[tuple[dict, dict, int]], encoder: TitleSignal) -> list[bool]:
    """The replaced decision: combine(title cosine of the whole titles, text score under the file's
    IDF, mutual_best=True) >= 0.5."""
    items = [x for a, b, _ in pairs for x in (a, b)]
    profiles = [profile(x["title"], brand=x.get("brand"), attributes=x.get("attributes")) for x in items]
    distinct = {json.dumps(x, sort_keys=True): p for x, p in zip(items, profiles)}
    idf = build_idf(distinct.values())
    titles = sorted({x["title"] for x in items if x["title"].strip()})
    vectors = dict(zip(titles, encoder.encode(titles)))
    out = []
    for n in range(len(pairs)):
        a, b = items[2 * n], items[2 * n + 1]
        text = compare_prepared(Comparable(profiles[2 * n], idf), Comparable(profiles[2 * n + 1], idf))
        signals = {"text": text.score}
        if a["title"] in vectors and b["title"] in vectors:
            signals["title"] = min(1.0, max(0.0, float(vectors[a["title"]] @ vectors[b["title"]])))
        out.append(combine(signals, mutual_best=True) >= 0.5)
    return out


def fmt(t: tuple[float, float, float]) -> str:
    return f"{t[2]:.3f} (P {t[0]:.2f} R {t[1]:.2f})"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", help="comma-separated set names (default: every development and held-out set)")
    ap.add_argument("--old", action="store_true", help="also measure the replaced formula")
    ap.add_argument("--limit", type=int, help="only the first N pairs of each set")
    ap.add_argument("--index", type=Path, help="decide with this index's title model and word weights")
    args = ap.parse_args(argv)
    names = args.sets.split(",") if args.sets else list(DEVELOPMENT + HELD_OUT)
    encoder = TitleSignal(Config()) if args.old else None
    header = f"{'split':9s} {'set':22s} {'pairs':>6s}  {'simgov compare --pairs':24s}"
    print(header + ("  old formula" if args.old else ""))
    for name in names:
        pairs = load_pairs(name)[: args.limit]
        labels = [y for *_, y in pairs]
        with tempfile.TemporaryDirectory() as tmp:
            records = compare_cli(pairs, Path(tmp), args.index)
        new = fmt(prf([r["match"] for r in records], labels))
        old = f"  {fmt(prf(old_formula(pairs, encoder), labels))}" if args.old else ""
        split = "held-out" if name in HELD_OUT else ("dev" if name in DEVELOPMENT else "other")
        print(f"{split:9s} {name:22s} {len(pairs):6d}  {new:24s}{old}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
