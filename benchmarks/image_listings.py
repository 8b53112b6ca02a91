#!/usr/bin/env python3
"""Real photographs under the 12 edits, as listings, through the product's decision.

The image-edit benchmark (``benchmarks/image_edits.py``) measures the image signal alone. This one
asks what a marketplace sees: a seller lists a real photograph with its own title; another seller
lists an edited copy of it, once with an empty title and once with an unrelated title (a stolen
photo). Each edit gets its own marketplace (every original, and its two copies under that edit:
a marketplace does not hold two dozen copies of one photo), built by ``simgov build`` (the default
configuration) and searched by the similarity self-join (``SimIndex.pairs``); a copy is found when
the pair (original, copy) is a ``match``. A false match is a matched pair of listings made from two
different originals. Every title names its own product (a distinct model code), so that titles
never match each other: what matches is the picture.

The photographs were split before anything was measured: DEVELOPMENT photos (scikit-image's
astronaut, camera, chelsea, coffee, motorcycle_left, rocket) may be looked at while tuning; the
HELD_OUT ones (the PDQ reference bridge and pen-and-coaster, scikit-image's coins, retina,
hubble_deep_field and clock_motion, matplotlib's grace_hopper, scikit-learn's china and flower)
are only measured. Both are reported apart.

    .venv/bin/python -m benchmarks.image_listings            # about 5 minutes on 2 cores
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageOps

from benchmarks.image_edits import PDQ_DIR, _open, edit, save_jpeg
from simgov.build.local import build
from simgov.index import SimIndex

#: the 12 edits: the nine of the image issue alone, and three pairs sellers make most
EDITS12 = (("mirror",), ("rot90",), ("crop5",), ("crop10",), ("rot4",), ("half",), ("pad20",), ("banner15",),
           ("jpeg30",), ("crop5", "banner15"), ("crop10", "banner15"), ("mirror", "jpeg30"))
DEVELOPMENT = ("skimage/astronaut.png", "skimage/camera.png", "skimage/chelsea.png", "skimage/coffee.png",
               "skimage/motorcycle_left.png", "skimage/rocket.jpg")
HELD_OUT = ("pdq/bridge-mods/aaa-orig.jpg", "pdq/reg-test-input/pen-and-coaster.png", "skimage/coins.png",
            "skimage/retina.jpg", "skimage/hubble_deep_field.jpg", "skimage/clock_motion.png",
            "matplotlib/grace_hopper.jpg", "sklearn/china.jpg", "sklearn/flower.jpg")
#: what the originals' own listings sell, and the unrelated products a thief's titles name
TITLES = ("Framed photo print", "Glossy poster", "Canvas print", "Photo book", "Art print on fine paper")
UNRELATED = ("Stainless steel water bottle", "Wireless earbuds", "Kids bicycle", "Yoga mat", "Ceramic coffee mug",
             "LED desk lamp", "Leather messenger bag", "Wool beanie hat")


def photo_path(name: str) -> Path | None:
    """Where a named photograph ships (scikit-image, matplotlib and scikit-learn wheels; the PDQ
    reference images), or None when that package is not installed."""
    source, rel = name.split("/", 1)
    if source == "pdq":
        return PDQ_DIR / rel
    try:
        if source == "skimage":
            import skimage
            return Path(skimage.__file__).parent / "data" / rel
        if source == "matplotlib":
            import matplotlib
            return Path(matplotlib.get_data_path()) / "sample_data" / rel
        if source == "sklearn":
            import sklearn
            return Path(sklearn.__file__).parent / "datasets" / "images" / rel
    except ImportError:
        return None
    raise ValueError(name)


def write_listings(root: Path, names: list[str], combo: tuple[str, ...], seed: int) -> tuple[Path, dict[str, dict]]:
    """The originals and their copies under one edit, as pictures and item records; returns the
    items file and each listing's facts (photo, edit, title kind)."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    label = "+".join(combo)
    rows, facts = [], {}
    for i, name in enumerate(names):
        img = _open(photo_path(name))
        if max(img.size) > 1024:  # as published on a marketplace
            img = ImageOps.contain(img, (1024, 1024), Image.Resampling.LANCZOS)
        save_jpeg(img, root / "images" / f"o{i:02d}.jpg", 92)
        rows.append({"item_id": f"orig-{i:02d}", "seller_id": f"owner-{i:02d}",
                     "title": f"{TITLES[i % len(TITLES)]} AP-{100 + i}", "images": [f"images/o{i:02d}.jpg"]})
        facts[f"orig-{i:02d}"] = {"photo": name, "edit": None, "titles": None}
        copy = _open(root / "images" / f"o{i:02d}.jpg")
        for step in combo:
            copy = edit(step, copy, rng)
        save_jpeg(copy, root / "images" / f"c{i:02d}.jpg", 30 if "jpeg30" in combo else 90)
        for kind, title in (("empty", ""), ("unrelated", f"{UNRELATED[i % len(UNRELATED)]} QX-{500 + i}")):
            rows.append({"item_id": f"copy-{i:02d}-{kind}", "seller_id": f"copier-{i:02d}-{kind}", "title": title,
                         "images": [f"images/c{i:02d}.jpg"]})
            facts[f"copy-{i:02d}-{kind}"] = {"photo": name, "edit": label, "titles": kind}
    items = root / "items.jsonl"
    items.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return items, facts


def measure(matched: set[tuple[str, str]], facts: dict[str, dict], names: set[str]) -> tuple[dict, list]:
    """Per title kind, whether each copy of a photo in `names` matched its original; and the
    matched pairs of two different originals' listings that touch those photos."""
    found: dict[str, list[bool]] = {}
    for item_id, f in facts.items():
        if f["edit"] is None or f["photo"] not in names:
            continue
        original = next(i for i, g in facts.items() if g["photo"] == f["photo"] and g["edit"] is None)
        found.setdefault(f["titles"], []).append(tuple(sorted((original, item_id))) in matched)
    false = sorted(p for p in matched if facts[p[0]]["photo"] != facts[p[1]]["photo"]
                   and (facts[p[0]]["photo"] in names or facts[p[1]]["photo"] in names))
    return found, false


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", type=Path, default=None, help="write the results here as JSON")
    ap.add_argument("--keep", type=Path, default=None, help="build in this folder instead of a temporary one")
    args = ap.parse_args()
    started = time.perf_counter()
    dev = [n for n in DEVELOPMENT if (p := photo_path(n)) is not None and p.exists()]
    held = [n for n in HELD_OUT if (p := photo_path(n)) is not None and p.exists()]
    tmp = tempfile.TemporaryDirectory(prefix="bench-listings-") if args.keep is None else None
    root = Path(tmp.name) if tmp else args.keep
    results = {"photos": {"development": dev, "held_out": held}, "development": {}, "held_out": {}}
    for e, combo in enumerate(EDITS12):
        folder = root / "+".join(combo)
        items, facts = write_listings(folder, dev + held, combo, 15 + e)
        build(items, folder / "index")
        index = SimIndex.open(folder / "index")
        matched = {(p.item_a, p.item_b) for p in index.pairs(workers=1) if p.match}
        index.close()
        for split, photos in (("development", dev), ("held_out", held)):
            found, false = measure(matched, facts, set(photos))
            results[split]["+".join(combo)] = {"recall": {k: sum(v) / len(v) for k, v in found.items()},
                                               "false_matches": false}
        print(f"{'+'.join(combo)} done ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    lines = []
    for split, photos in (("development", dev), ("held_out", held)):
        lines.append(f"\n{split}: {len(photos)} photos; match recall of the copy by another seller "
                     "(empty title / unrelated title), false matches between different originals")
        for label, r in results[split].items():
            lines.append(f"  {label:20s} {r['recall'].get('empty', 0):6.2f} {r['recall'].get('unrelated', 0):6.2f}"
                         f"   false {len(r['false_matches'])}" + "".join(f"  {p}" for p in r["false_matches"][:3]))
    lines.append(f"Total {time.perf_counter() - started:.0f} s")
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if tmp:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
