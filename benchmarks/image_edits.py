#!/usr/bin/env python3
"""Near-copy benchmark of the image signal: the edits sellers make to stolen photos.

Takes photographs available offline (the PDQ test images in /work/shared/testdata/pdq, the
photographs bundled with scikit-image, matplotlib and scikit-learn, and, when simgov.demo can
draw them, product photos of the demo marketplace), applies each edit alone and every pair of
edits (crop 5% and 10%, white padding 20%, rotation by 4 degrees, a text banner over the bottom
15%, mirror image, rotation by 90 degrees, half size, JPEG quality 30), and looks every edited
copy up in a gallery of the originals plus several thousand distinct distractor pictures
(procedurally drawn products, banners, blobs and smooth fields; non-overlapping tiles of texture
photographs; more demo product photos, several of the same products as the originals).

It measures, side by side in one run:

* simgov: the real code path of ``ImageSignal`` (``compute`` through a ``BuildContext`` on files
  in a temporary folder, ``reset``/``add``, ``search`` for candidates, ``score`` per candidate,
  ``ImageSignal.is_match`` as the decision). A copy is found when its original is among the
  candidates and its score reaches the threshold; a false match is any other gallery picture
  (every one of them is a distinct photo) that reaches it.
* plain PDQ (<= 31 bits) and plain pHash (<= 10 bits): the copy is found when its nearest
  neighbour is the original within the threshold; a false match is any other gallery picture
  within the threshold.

It also prints throughput (pictures per second and core), the second stage's cost (ms per
verified pair, blob bytes per picture) and the calibration of ``MATCH_THRESHOLD``: the largest
score any distinct picture reached (edited copies against the gallery, and distractors looked up
against the gallery), to which the threshold adds a margin.

The same edits on real photographs, as listings through the product's decision (empty and
unrelated titles, development and held-out photos apart): ``benchmarks/image_listings.py``.

    .venv/bin/python -m benchmarks.image_edits            # about 5 minutes on 2 cores
    .venv/bin/python -m benchmarks.image_edits --small    # about 1 minute
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import multiprocessing as mp
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import faiss
import imagehash
import numpy as np
import pdqhash
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageOps


from simgov.config import Config  # noqa: E402
from simgov.demo.builder import _Builder  # noqa: E402
from simgov.demo.render import _render_product  # noqa: E402
from simgov.imageio import load_image, to_rgb  # noqa: E402
from simgov.schema import Item  # noqa: E402
from simgov.signals.base import BuildContext  # noqa: E402
from simgov.signals import image as image_mod  # noqa: E402
from simgov.signals.image import ImageSignal  # noqa: E402

PDQ_DIR = Path("/work/shared/testdata/pdq")
PDQ_THRESHOLD, PHASH_THRESHOLD = 31, 10
EDITS = ("mirror", "rot90", "crop5", "crop10", "rot4", "half", "pad20", "banner15", "jpeg30")
SMALL_PAIRS = (("crop10", "banner15"), ("mirror", "jpeg30"), ("mirror", "crop10"), ("crop5", "rot4"),
               ("pad20", "banner15"), ("rot90", "crop10"), ("half", "rot4"), ("crop10", "jpeg30"))
BANNER_TEXTS = ("BEST PRICE - FREE SHIPPING", "100% ORIGINAL", "SALE -50% TODAY ONLY", "TOP SELLER")
WORDS = ("BEST PRICE", "FREE SHIPPING", "SALE", "NEW", "ORIGINAL", "100% AUTHENTIC", "LIMITED", "HOT DEAL",
         "BUY NOW", "-50%", "PREMIUM", "TOP SELLER", "TODAY ONLY")


# -- pictures ---------------------------------------------------------------------------------------
def _open(path: Path) -> Image.Image:
    with Image.open(path) as img:
        img.load()
        return to_rgb(img)


def photo_sources() -> tuple[dict[str, Image.Image], list[Image.Image], list[str]]:
    """Originals (name -> RGB picture), texture photos to tile for distractors, and notes."""
    notes, originals, textures = [], {}, []
    for rel in ("bridge-mods/aaa-orig.jpg", "misc-images/c.png", "reg-test-input/pen-and-coaster.png"):
        if (PDQ_DIR / rel).exists():
            originals[f"pdq/{Path(rel).name}"] = _open(PDQ_DIR / rel)
    try:
        import skimage

        sk = Path(skimage.__file__).parent / "data"
        for name in ("astronaut.png", "camera.png", "cell.png", "chelsea.png", "clock_motion.png", "coffee.png",
                     "coins.png", "horse.png", "ihc.png", "logo.png", "motorcycle_left.png", "page.png",
                     "phantom.png", "rocket.jpg", "text.png"):
            if (sk / name).exists():
                originals[f"skimage/{name}"] = _open(sk / name)
        for name, halves in (("hubble_deep_field.jpg", "lr"), ("retina.jpg", "tb")):
            if (sk / name).exists():
                img = _open(sk / name)
                w, h = img.size
                a, b = (((0, 0, w // 2, h), (w // 2, 0, w, h)) if halves == "lr"
                        else ((0, 0, w, h // 2), (0, h // 2, w, h)))
                originals[f"skimage/{name}#1"], originals[f"skimage/{name}#2"] = img.crop(a), img.crop(b)
        for name in ("gravel.png", "brick.png", "moon.png"):  # not grass: made by quilting, its patches repeat
            if (sk / name).exists():
                textures.append(_open(sk / name))
    except ImportError:
        notes.append("scikit-image not installed: its photographs are left out")
    try:
        import matplotlib

        mpl = Path(matplotlib.get_data_path()) / "sample_data"
        for name in ("grace_hopper.jpg", "logo2.png", "Minduka_Present_Blue_Pack.png"):
            if (mpl / name).exists():
                originals[f"matplotlib/{name}"] = _open(mpl / name)
    except ImportError:
        pass
    try:
        import sklearn

        skl = Path(sklearn.__file__).parent / "datasets" / "images"
        for name in ("china.jpg", "flower.jpg"):
            if (skl / name).exists():
                originals[f"sklearn/{name}"] = _open(skl / name)
    except ImportError:
        pass
    notes.append("left out: tiny pictures (wee.jpg 34x42, lfw faces), small.jpg (PDQ quality 0), the chessboard "
                 "and colour wheel (synthetic, no photo detail), motorcycle_right (the same scene as motorcycle_left); "
                 "gravel, brick and moon are tiled into distractors instead (grass repeats its own patches)")
    return originals, textures, notes


def demo_products(n_originals: int, n_distractors: int, n_same: int = 0):
    """Product photos of the demo marketplace (seed 7), one per product: (originals, distractors, note,
    pairs of two photos of one product: different shots, which must not be called the same picture)."""
    builder = _Builder(7, 40, 160)
    builder.build()
    tasks = [t for t in builder.tasks if t.kind == "product"]
    rng = random.Random(3)
    rng.shuffle(tasks)
    pictures, seen, products = [], [], {}
    same = []
    for t in tasks:
        # One photo per product as an original: another photo of it is another shot of the same
        # object (simgov.demo draws each own photo from its own angle and light), kept as a pair.
        product = json.dumps(t.spec.get("look"), sort_keys=True, default=str)
        if product in products:
            if len(same) < n_same:
                same.append((products[product], t.spec))
            continue
        products[product] = t.spec
        img = _render_product(t.spec).convert("RGB")
        small = np.asarray(img.convert("L").resize((48, 48), Image.Resampling.BOX), dtype=np.float32)
        if any(np.abs(small - other).mean() < 12 for other in seen):
            continue
        seen.append(small)
        pictures.append(img)
        if len(pictures) >= n_originals + n_distractors:
            break
    originals = {f"demo/{i:03d}": img for i, img in enumerate(pictures[:n_originals])}
    more = pictures[n_originals:]
    pairs = [(_render_product(a).convert("RGB"), _render_product(b).convert("RGB")) for a, b in same]
    return originals, more, (f"demo marketplace: {len(originals)} originals, {len(more)} distractors "
                             "(one photo per product)"), pairs


def _colour(rng: random.Random, lo: int = 0, hi: int = 255) -> tuple[int, int, int]:
    return tuple(rng.randint(lo, hi) for _ in range(3))


def _font(size: int):
    return ImageFont.load_default(size=max(8, int(size)))


def draw_product(rng: random.Random, w: int, h: int) -> Image.Image:
    """Shapes on a plain or gradient background, sometimes with words or a banner."""
    if rng.random() < 0.5:
        img = Image.new("RGB", (w, h), (255, 255, 255) if rng.random() < 0.6 else _colour(rng, 200, 255))
    else:
        mask = Image.linear_gradient("L").resize((w, h))
        img = Image.composite(Image.new("RGB", (w, h), _colour(rng)), Image.new("RGB", (w, h), _colour(rng)), mask)
    d = ImageDraw.Draw(img)
    for _ in range(rng.randint(1, 6)):
        cx, cy = rng.uniform(0.15, 0.85) * w, rng.uniform(0.15, 0.85) * h
        rx, ry = rng.uniform(0.05, 0.35) * w, rng.uniform(0.05, 0.35) * h
        kind, col = rng.random(), _colour(rng)
        if kind < 0.3:
            d.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=col, outline=_colour(rng), width=rng.randint(0, 4))
        elif kind < 0.6:
            d.rounded_rectangle([cx - rx, cy - ry, cx + rx, cy + ry], radius=rng.randint(0, int(min(rx, ry))), fill=col)
        elif kind < 0.85:
            n = rng.randint(3, 8)
            d.polygon([(cx + rx * math.cos(2 * math.pi * i / n + rng.random()),
                        cy + ry * math.sin(2 * math.pi * i / n + rng.random())) for i in range(n)], fill=col)
        else:
            d.line([(rng.uniform(0, w), rng.uniform(0, h)) for _ in range(rng.randint(2, 5))], fill=col,
                   width=rng.randint(2, 10))
    if rng.random() < 0.5:
        d.text((rng.uniform(0, w * 0.6), rng.uniform(0, h * 0.9)), rng.choice(WORDS),
               font=_font(rng.randint(12, max(13, h // 8))), fill=_colour(rng))
    if rng.random() < 0.3:  # the same banners as the edits: shared text must not make a match
        bh = int(h * rng.uniform(0.1, 0.2))
        y0 = h - bh if rng.random() < 0.7 else 0
        d.rectangle([0, y0, w, y0 + bh], fill=_colour(rng) if rng.random() < 0.5 else (200, 20, 20))
        d.text((w / 2, y0 + bh / 2), rng.choice(BANNER_TEXTS + WORDS), font=_font(bh * 0.5), fill=(255, 255, 255),
               anchor="mm")
    if rng.random() < 0.4:
        img = img.filter(ImageFilter.BoxBlur(rng.uniform(0.5, 2)))
    if rng.random() < 0.5:  # sensor noise (grey, -8..8)
        noise = np.random.default_rng(rng.randint(0, 1 << 30)).integers(0, 17, (h, w), dtype=np.uint8)
        img = ImageChops.add(img, Image.fromarray(noise).convert("RGB"), 1.0, -8)
    return img


def draw_field(rng: random.Random, w: int, h: int) -> Image.Image:
    """Smooth random colour fields (several octaves), sometimes with blobs."""
    g = np.random.default_rng(rng.randint(0, 1 << 30))
    sw, sh = max(8, w // 4), max(8, h // 4)  # drawn at a quarter of the size, then scaled up once
    out = np.zeros((sh, sw, 3))
    for octave in range(rng.randint(2, 5)):
        s = 2 ** (octave + 1)
        layer = Image.fromarray((g.random((s + 1, s + 1, 3)) * 255).astype(np.uint8)).resize((sw, sh), Image.BICUBIC)
        out += np.asarray(layer, dtype=np.float64) / 255 / (octave + 1)
    out = (out - out.min()) / (np.ptp(out) + 1e-9)
    img = Image.fromarray((out * 255).astype(np.uint8)).resize((w, h), Image.BICUBIC)
    if rng.random() < 0.5:
        d = ImageDraw.Draw(img)
        for _ in range(rng.randint(3, 30)):
            x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(2, w / 10)
            d.ellipse([x - r, y - r, x + r, y + r], fill=_colour(rng))
    return img


def texture_tiles(textures: list[Image.Image], n: int, seed: int) -> list[Image.Image]:
    """Non-overlapping tiles of the texture photographs (distinct pictures): the top half of each
    in tiles of a quarter of its width, the bottom half in tiles of an eighth."""
    rng = random.Random(seed)
    out = []
    for tex in textures:
        w, h = tex.size
        for y_from, y_to, size in ((0, h // 2, w // 4), (h // 2, h, w // 8)):
            for y in range(y_from, y_to - size + 1, size):
                for x in range(0, w - size + 1, size):
                    out.append(tex.crop((x, y, x + size, y + size)))
    rng.shuffle(out)
    return out[:n]


def make_distractor(args: tuple[int, int, str]) -> None:
    """Draw distractor `index` and write it to `path` (in a worker)."""
    index, seed, path = args
    rng = random.Random(seed * 1_000_003 + index)
    w = rng.choice([240, 320, 400, 500, 640, 800])
    h = int(w * rng.choice([1, 1, 1, 0.75, 1.33, 0.66]))
    img = draw_product(rng, w, h) if rng.random() < 0.65 else draw_field(rng, w, h)
    save_jpeg(img, Path(path), 90)


def make_query(args: tuple[str, tuple[str, ...], int, str]) -> None:
    """Apply a combination of edits to a published original and write the copy (in a worker)."""
    source, combo, seed, path = args
    rng = random.Random(seed)
    with Image.open(source) as img:
        img = img.convert("RGB")
    for step in combo:
        img = edit(step, img, rng)
    save_jpeg(img, Path(path), 30 if "jpeg30" in combo else 90)


# -- edits ------------------------------------------------------------------------------------------
def edit(name: str, img: Image.Image, rng: random.Random) -> Image.Image:
    w, h = img.size
    if name == "mirror":
        return ImageOps.mirror(img)
    if name == "rot90":
        return img.transpose(Image.Transpose.ROTATE_90 if rng.random() < 0.5 else Image.Transpose.ROTATE_270)
    if name in ("crop5", "crop10"):  # keep 95% (90%) of the width and height, at a random place
        f = 0.05 if name == "crop5" else 0.10
        cw, ch = round(w * f), round(h * f)
        left, top = rng.randint(0, cw), rng.randint(0, ch)
        return img.crop((left, top, w - (cw - left), h - (ch - top)))
    if name == "rot4":  # same canvas, corners filled with white
        return img.rotate(rng.choice((-4, 4)), resample=Image.Resampling.BICUBIC, expand=False,
                          fillcolor=(255, 255, 255))
    if name == "half":
        return img.resize((max(1, w // 2), max(1, h // 2)), Image.Resampling.LANCZOS)
    if name == "pad20":  # onto a white square with a margin of 20% of the longest side
        side = round(max(w, h) * 1.4)
        canvas = Image.new("RGB", (side, side), (255, 255, 255))
        canvas.paste(img, ((side - w) // 2, (side - h) // 2))
        return canvas
    if name == "banner15":
        img = img.copy()
        bh = max(1, round(h * 0.15))
        d = ImageDraw.Draw(img)
        d.rectangle([0, h - bh, w, h], fill=(200, 20, 20))
        d.text((w / 2, h - bh / 2), rng.choice(BANNER_TEXTS), font=_font(bh * 0.5), fill=(255, 255, 255), anchor="mm")
        return img
    if name == "jpeg30":
        return img  # applied when the file is written
    raise ValueError(name)


def combos(small: bool) -> list[tuple[str, ...]]:
    pairs = SMALL_PAIRS if small else [p for p in itertools.combinations(EDITS, 2) if set(p) != {"crop5", "crop10"}]
    return [(e,) for e in EDITS] + [tuple(p) for p in pairs]


def save_jpeg(img: Image.Image, path: Path, quality: int) -> None:
    img.save(path, "JPEG", quality=quality)


# -- the workers --------------------------------------------------------------------------------------
_SIGNAL: ImageSignal | None = None
_CTX: BuildContext | None = None


def _init(root: str) -> None:
    global _SIGNAL, _CTX
    faiss.omp_set_num_threads(1)  # one process per core already
    _SIGNAL = ImageSignal(Config())
    _CTX = BuildContext(data_roots=[Path(root)])


def _compute(chunk: list[str]) -> tuple[list[bytes | None], float]:
    items = [Item(item_id=f"i{i}", title="picture", seller_id="s", images=[rel]) for i, rel in enumerate(chunk)]
    start = time.perf_counter()
    outs = _SIGNAL.compute(items, _CTX)
    return [o.blob for o in outs], time.perf_counter() - start


def _baselines(chunk: list[str]) -> tuple[list[tuple[bytes, int, bytes]], float, float]:
    out, t_pdq, t_phash = [], 0.0, 0.0
    limits = Config().images
    for rel in chunk:
        path = _CTX.data_roots[0] / rel
        t0 = time.perf_counter()
        img = load_image(path, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels, draft_size=512)
        bits, quality = pdqhash.compute(np.asarray(img))
        t1 = time.perf_counter()
        img = load_image(path, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels, draft_size=512)
        ph = imagehash.phash(img).hash.flatten()
        t2 = time.perf_counter()
        t_pdq += t1 - t0
        t_phash += t2 - t1
        out.append((np.packbits(bits.astype(np.uint8)).tobytes(), int(quality),
                    np.packbits(ph.astype(np.uint8)).tobytes()))
    return out, t_pdq, t_phash


def _query(args: tuple[int, bytes, int, int]) -> dict:
    """Look one blob up: candidates, scores, timings (runs in a worker holding the gallery)."""
    qi, blob, true_vec, k = args
    t0 = time.perf_counter()
    cands = _SIGNAL.search([blob], k)[0]
    t1 = time.perf_counter()
    scored = []
    for c in cands:
        scored.append((c.vec_id, _SIGNAL.score(blob, _GALLERY[c.vec_id])))
    t2 = time.perf_counter()
    return {"q": qi, "true": true_vec, "cands": [c.vec_id for c in cands], "scored": scored,
            "search_s": t1 - t0, "score_s": t2 - t1, "pairs": len(cands)}


_GALLERY: list[bytes] = []


def chunks(seq: list, size: int) -> list[list]:
    return [seq[i:i + size] for i in range(0, len(seq), size)]


# -- the run ----------------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--small", action="store_true", help="fewer originals, pairs and distractors (about a minute)")
    ap.add_argument("--distractors", type=int, default=None, help="distractor pictures (default 4000, --small 1000)")
    ap.add_argument("--workers", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    ap.add_argument("--json", type=Path, default=None, help="write the results here as JSON")
    ap.add_argument("--keep", type=Path, default=None, help="write the pictures here instead of a temporary folder")
    args = ap.parse_args()
    small = args.small
    n_distractors = args.distractors if args.distractors is not None else (1000 if small else 4000)
    t_start = time.perf_counter()

    originals, textures, notes = photo_sources()
    demo_orig, demo_more, demo_note, demo_same = demo_products(6 if small else 12, 30 if small else 120,
                                                               20 if small else 60)
    notes.append(demo_note)
    originals.update(demo_orig)
    for name, img in originals.items():  # as published on a marketplace: at most 1024 pixels
        if max(img.size) > 1024:
            originals[name] = ImageOps.contain(img, (1024, 1024), Image.Resampling.LANCZOS)
    if small:
        keep = sorted(originals)[:: max(1, len(originals) // 20)][:20]
        originals = {k: originals[k] for k in keep}
    names = sorted(originals)
    todo = combos(small)
    print(f"{len(names)} originals, {len(todo)} edits and pairs of edits, {n_distractors} distractors, "
          f"{args.workers} workers", flush=True)

    tmp = tempfile.TemporaryDirectory(prefix="bench-image-") if args.keep is None else None
    root = Path(tmp.name) if tmp else args.keep
    (root / "gallery").mkdir(parents=True, exist_ok=True)
    (root / "queries").mkdir(parents=True, exist_ok=True)

    # gallery: originals, then distractors (tiles, demo photos, drawn); queries: every original under
    # every edit and pair of edits, made from the published original (written as JPEG 90, or 30 for jpeg30)
    gallery_files, gallery_kind = [], []
    for i, name in enumerate(names):
        rel = f"gallery/o{i:03d}.jpg"
        save_jpeg(originals[name], root / rel, 95)
        gallery_files.append(rel)
        gallery_kind.append(name)
    n_tiles = min(len(texture_tiles(textures, 10**6, 0)), n_distractors // 5)
    extra = texture_tiles(textures, n_tiles, 1) + demo_more
    for j, img in enumerate(extra):
        rel = f"gallery/d{j:05d}.jpg"
        save_jpeg(img, root / rel, 90)
        gallery_files.append(rel)
        gallery_kind.append("distractor")
    drawn = []
    for j in range(len(extra), max(len(extra), n_distractors)):
        rel = f"gallery/d{j:05d}.jpg"
        drawn.append((j, 11, str(root / rel)))
        gallery_files.append(rel)
        gallery_kind.append("distractor")
    query_files, query_meta, query_tasks = [], [], []
    for c, combo in enumerate(todo):
        for i, name in enumerate(names):
            rel = f"queries/{'+'.join(combo)}_{i:03d}.jpg"
            query_tasks.append((str(root / gallery_files[i]), combo, 2024 + 1000 * c + i, str(root / rel)))
            query_files.append(rel)
            query_meta.append(("+".join(combo), i))
    with mp.Pool(args.workers) as pool:
        pool.map(make_distractor, drawn, chunksize=16)
        pool.map(make_query, query_tasks, chunksize=8)
    print(f"pictures written in {time.perf_counter() - t_start:.0f} s", flush=True)

    # simgov: compute blobs through the signal (parallel), then build the index in this process
    global _GALLERY
    with mp.Pool(args.workers, initializer=_init, initargs=(str(root),)) as pool:
        t0 = time.perf_counter()
        results = pool.map(_compute, chunks(gallery_files, 32))
        t_gallery = time.perf_counter() - t0
        gallery_blobs = [b for blobs, _ in results for b in blobs]
        cpu_simgov = sum(t for _, t in results)
        results = pool.map(_compute, chunks(query_files, 32))
        query_blobs = [b for blobs, _ in results for b in blobs]
        cpu_simgov += sum(t for _, t in results)
        base = pool.map(_baselines, chunks(gallery_files + query_files, 32))
    n_pics = len(gallery_files) + len(query_files)
    print(f"simgov fingerprints: {len(gallery_files)} gallery pictures in {t_gallery:.0f} s "
          f"({len(gallery_files) / t_gallery:.0f}/s with {args.workers} workers)", flush=True)
    missing = [gallery_files[i] for i, b in enumerate(gallery_blobs) if b is None]
    assert not missing, f"pictures without a blob: {missing[:5]}"

    _init(str(root))
    _SIGNAL.reset(len(gallery_blobs))
    _SIGNAL.add(np.arange(len(gallery_blobs), dtype=np.int64), gallery_blobs)
    _GALLERY = gallery_blobs
    k = Config().search.candidates_per_signal
    n_orig = len(names)
    tasks = [(qi, b, query_meta[qi][1], k) for qi, b in enumerate(query_blobs)]
    # distractors looked up too: every score there is between distinct pictures
    drng = random.Random(5)
    probe = drng.sample(range(n_orig, len(gallery_blobs)), min(len(gallery_blobs) - n_orig, 300 if small else 600))
    tasks += [(-1 - j, gallery_blobs[j], j, k) for j in probe]
    t0 = time.perf_counter()
    ctx = mp.get_context("fork")
    with ctx.Pool(args.workers) as pool:  # forked after the index is built: the workers share it
        answers = pool.map(_query, tasks, chunksize=8)
    t_lookup = time.perf_counter() - t0
    print(f"lookups: {len(tasks)} in {t_lookup:.0f} s", flush=True)

    # baselines: nearest neighbour in plain PDQ / pHash
    codes = [c for chunk, _, _ in base for c in chunk]
    t_pdq = sum(t for _, t, _ in base)
    t_phash = sum(t for _, _, t in base)
    g_codes, q_codes = codes[:len(gallery_files)], codes[len(gallery_files):]
    baseline = {}
    for label, pos, bits, thr in (("PDQ", 0, 256, PDQ_THRESHOLD), ("pHash", 2, 64, PHASH_THRESHOLD)):
        index = faiss.IndexBinaryFlat(bits)
        index.add(np.frombuffer(b"".join(c[pos] for c in g_codes), np.uint8).reshape(-1, bits // 8))
        q = np.frombuffer(b"".join(c[pos] for c in q_codes), np.uint8).reshape(-1, bits // 8)
        dist, ids = index.search(q, 20)
        found, false = {}, {}
        for qi, (combo, orig) in enumerate(query_meta):
            ok = ids[qi, 0] == orig and dist[qi, 0] <= thr
            found.setdefault(combo, []).append(bool(ok))
            wrong = sum(1 for d, j in zip(dist[qi], ids[qi]) if d <= thr and j != orig)
            false[combo] = false.get(combo, 0) + int(wrong)
        baseline[label] = (found, false)

    # simgov results
    thr = ImageSignal.MATCH_THRESHOLD
    found, first_stage, false, false_examples, distinct_scores, true_scores, missed = {}, {}, {}, [], [], {}, []
    probe_false = []
    score_s = search_s = 0.0
    scored_pairs = 0
    for ans in answers:
        qi = ans["q"]
        search_s += ans["search_s"]
        score_s += ans["score_s"]
        scored_pairs += ans["pairs"]
        if qi < 0:  # a distractor looked up: everything but itself is distinct
            for vec, s in ans["scored"]:
                if vec != ans["true"] and s is not None:
                    distinct_scores.append((s, f"distractor {gallery_files[ans['true']]}", gallery_files[vec]))
                    if s >= thr:
                        probe_false.append((round(s, 3), gallery_files[ans["true"]], gallery_files[vec]))
            continue
        combo, orig = query_meta[qi]
        scores = dict(ans["scored"])
        hit = scores.get(orig)
        found.setdefault(combo, []).append(hit is not None and hit >= thr)
        first_stage.setdefault(combo, []).append(orig in ans["cands"])
        true_scores.setdefault(combo, []).append(hit if hit is not None else 0.0)
        if hit is None or hit < thr:
            missed.append((query_files[qi], names[orig], None if hit is None else round(hit, 3), orig in ans["cands"]))
        bad = [(s, vec) for vec, s in ans["scored"] if vec != orig and s is not None]
        for s, vec in bad:
            distinct_scores.append((s, query_files[qi], gallery_files[vec]))
            if s >= thr:
                false_examples.append((round(s, 3), query_files[qi], gallery_files[vec], gallery_kind[vec]))
        false[combo] = false.get(combo, 0) + sum(1 for s, _ in bad if s >= thr)

    # costs
    blob_sizes = [len(b) for b in gallery_blobs]
    pictures = sum(len(image_mod.read_pictures(b)) for b in gallery_blobs)
    verify_ms = measure_verify(gallery_blobs, query_blobs, query_meta)
    tp = throughput_800(root)

    # two demo photos of one product: not in the gallery (the demo draws a product identically in
    # all its photos, so these pairs are copies of one drawing more than distinct photos); reported
    same_scores = []
    for a, b in demo_same:
        blob_a = image_mod.picture_features(a).to_bytes()
        blob_b = image_mod.picture_features(b).to_bytes()
        same_scores.append(_SIGNAL.score(blob_a, blob_b))

    # report
    def pct(v):
        return f"{100 * sum(v) / len(v):5.1f}"

    lines = []
    lines.append(f"\nRecall per edit ({len(names)} originals each; simgov = ImageSignal.is_match at "
                 f"MATCH_THRESHOLD {thr}; PDQ <= {PDQ_THRESHOLD} bits, pHash <= {PHASH_THRESHOLD} bits, "
                 "nearest neighbour)")
    lines.append(f"{'edit':22s} {'simgov':>7s} {'stage1':>7s} {'PDQ':>7s} {'pHash':>7s}   {'min true score':>14s}")
    worst = []
    for combo in ["+".join(c) for c in todo]:
        lines.append(f"{combo:22s} {pct(found[combo]):>7s} {pct(first_stage[combo]):>7s} "
                     f"{pct(baseline['PDQ'][0][combo]):>7s} {pct(baseline['pHash'][0][combo]):>7s}   "
                     f"{min(true_scores[combo]):14.3f}")
        worst.append((sum(found[combo]) / len(found[combo]), combo))
    all_found = [x for v in found.values() for x in v]
    lines.append(f"{'all':22s} {pct(all_found):>7s} {pct([x for v in first_stage.values() for x in v]):>7s} "
                 f"{pct([x for v in baseline['PDQ'][0].values() for x in v]):>7s} "
                 f"{pct([x for v in baseline['pHash'][0].values() for x in v]):>7s}")
    lines.append(f"lowest simgov recall: {min(worst)[0] * 100:.1f}% ({min(worst)[1]})")
    n_false = sum(false.values())
    lines.append(f"\nFalse matches (distinct pictures at or above the decision), over {len(query_files)} edited copies "
                 f"against {len(gallery_files)} gallery pictures: simgov {n_false}, "
                 f"PDQ {sum(baseline['PDQ'][1].values())}, pHash {sum(baseline['pHash'][1].values())}")
    for ex in sorted(false_examples, reverse=True)[:10]:
        lines.append(f"  simgov false match: {ex}")
    lines.append(f"False matches among {len(probe)} distractors looked up against the gallery: "
                 f"simgov {len(probe_false)}")
    for ex in sorted(probe_false, reverse=True)[:5]:
        lines.append(f"  simgov false match: {ex}")
    distinct_scores.sort(key=lambda x: -x[0])
    dvals = np.array([s for s, _, _ in distinct_scores]) if distinct_scores else np.zeros(1)
    lines.append(f"Scores of distinct pictures ({len(dvals)} candidate pairs, edited copies and {len(probe)} "
                 f"distractors looked up): max {dvals.max():.3f}, 99.9th pct {np.percentile(dvals, 99.9):.3f}, "
                 f"99th {np.percentile(dvals, 99):.3f}, median {np.median(dvals):.3f}")
    for s, q, g in distinct_scores[:5]:
        lines.append(f"  top distinct: {s:.3f} {q} vs {g}")
    if same_scores:
        lines.append(f"Demo: two photos of one product (two shots of it, other angle and light; not counted "
                     f"above): {sum(ImageSignal.is_match(x) for x in same_scores)} of {len(same_scores)} pairs "
                     f"at or above the decision, max score {max(same_scores):.3f}")
    true_all = np.array([s for v in true_scores.values() for s in v])
    lines.append(f"True copies: 5th pct score {np.percentile(true_all, 5):.3f}, 1st {np.percentile(true_all, 1):.3f}; "
                 f"suggested MATCH_THRESHOLD = max distinct {dvals.max():.3f} + margin")
    lines.append("\nThroughput (pictures per second per core, files decoded from disk; "
                 f"{n_pics} pictures of mixed sizes): simgov {n_pics / cpu_simgov:.0f}/s "
                 f"({1000 * cpu_simgov / n_pics:.1f} ms), plain PDQ {n_pics / t_pdq:.0f}/s, "
                 f"plain pHash {n_pics / t_phash:.0f}/s")
    lines.append(f"800x800 JPEG photos, image signal only: {tp['per_core']:.0f}/s per core ({tp['ms']:.1f} ms each), "
                 f"{tp['pool']:.0f}/s with {tp['workers']} processes; plain PDQ {tp['pdq_per_core']:.0f}/s per core")
    lines.append(f"Second stage: {1000 * score_s / max(1, scored_pairs):.2f} ms per scored candidate pair (score(), "
                 f"{scored_pairs} pairs), local-feature verification {verify_ms['true']:.2f} ms per picture pair "
                 f"that matches, {verify_ms['random']:.2f} ms per unrelated pair; first stage "
                 f"{1000 * search_s / len(answers):.1f} ms per lookup in {len(gallery_files)} pictures")
    lines.append(f"Blob: {np.mean(blob_sizes) / max(1, pictures / len(gallery_blobs)):.0f} bytes per picture "
                 f"on average (max {max(blob_sizes)}); keypoints {image_mod.MAX_KEYPOINTS} stored, "
                 f"{image_mod.INDEXED_KEYPOINTS} indexed per picture")
    lines.append("Sources: " + "; ".join(notes))
    lines.append(f"Total {time.perf_counter() - t_start:.0f} s")
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps({
            "threshold": thr, "originals": names, "distractors": len(gallery_files) - len(names),
            "recall": {c: sum(v) / len(v) for c, v in found.items()},
            "first_stage": {c: sum(v) / len(v) for c, v in first_stage.items()},
            "pdq": {c: sum(v) / len(v) for c, v in baseline["PDQ"][0].items()},
            "phash": {c: sum(v) / len(v) for c, v in baseline["pHash"][0].items()},
            "false_matches": {"simgov": n_false, "pdq": sum(baseline["PDQ"][1].values()),
                              "phash": sum(baseline["pHash"][1].values()),
                              "simgov_distractor_lookups": len(probe_false)},
            "distinct_max": float(dvals.max()), "distinct_top": distinct_scores[:20],
            "false_examples": false_examples, "missed": missed, "lines": lines}, indent=1))
    if tmp:
        tmp.cleanup()
    return 0


def measure_verify(gallery: list[bytes], queries: list[bytes], meta) -> dict:
    """Mean time of one local-feature verification: matching pairs and unrelated pairs."""
    rng = random.Random(9)
    true_pairs = [(queries[i], gallery[meta[i][1]]) for i in rng.sample(range(len(queries)), min(150, len(queries)))]
    random_pairs = [(gallery[rng.randrange(len(gallery))], gallery[rng.randrange(len(gallery))]) for _ in range(150)]
    out = {}
    for label, pairs in (("true", true_pairs), ("random", random_pairs)):
        pics = [(image_mod.read_pictures(a)[0], image_mod.read_pictures(b)[0]) for a, b in pairs]
        t0 = time.perf_counter()
        for pa, pb in pics:
            image_mod.verify_features(pa, pb)
        out[label] = 1000 * (time.perf_counter() - t0) / len(pics)
    return out


def throughput_800(root: Path) -> dict:
    """The image signal on 800x800 JPEG photos (the bulk-build case), one core and a pool."""
    folder = root / "p800"
    folder.mkdir(exist_ok=True)
    originals, _, _ = photo_sources()
    photos = [img for img in originals.values() if min(img.size) >= 300][:12]
    files = []
    rng = random.Random(1)
    for i in range(96):
        img = photos[i % len(photos)]
        w, h = img.size
        s = rng.uniform(0.6, 1.0) * min(w, h)
        x, y = rng.uniform(0, w - s), rng.uniform(0, h - s)
        img.crop((int(x), int(y), int(x + s), int(y + s))).resize((800, 800), Image.Resampling.BICUBIC).save(
            folder / f"{i:03d}.jpg", "JPEG", quality=90)
        files.append(f"p800/{i:03d}.jpg")
    _init(str(root))
    _compute(files[:8])
    _, t = _compute(files)
    limits = Config().images
    t0 = time.perf_counter()
    for rel in files:
        pdqhash.compute(np.asarray(load_image(root / rel, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels,
                                              draft_size=512)))
    t_pdq = time.perf_counter() - t0
    workers = max(1, min(4, os.cpu_count() or 1))
    with mp.Pool(workers, initializer=_init, initargs=(str(root),)) as pool:
        pool.map(_compute, chunks(files[:8], 4))
        t0 = time.perf_counter()
        pool.map(_compute, chunks(files * 2, 8))
        t_pool = time.perf_counter() - t0
    return {"per_core": len(files) / t, "ms": 1000 * t / len(files), "pool": 2 * len(files) / t_pool,
            "workers": workers, "pdq_per_core": len(files) / t_pdq}


if __name__ == "__main__":
    sys.exit(main())
