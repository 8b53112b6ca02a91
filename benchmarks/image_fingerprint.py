"""Image fingerprinting throughput for 800x800 JPEGs: the image signal's real `compute` vs plain PDQ.

    .venv/bin/python -m benchmarks.image_fingerprint [--full]

Baseline: plain PDQ (pdqhash) of each photo decoded at full size with Pillow, one process.
Figure: ``ImageSignal.compute`` as it is in the tree (draft-mode decode, border trim, PDQ in
eight orientations, ORB keypoints, thumbnail), in one process and in a pool of one process per
core (how a build would spread it). On a shared machine the pool's wall-clock rate depends on what
else runs, so the single process's CPU time a picture is printed too (it says what idle cores would
do: 1000 / ms pictures per second and core). A cProfile of the single-process run says what limits it.
"""
from __future__ import annotations

import cProfile
import io
import os
import pstats
import random
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pdqhash
from PIL import Image, ImageDraw, ImageFilter

from benchmarks.common import load_info, parser, report, size, timer
from simgov.config import Config
from simgov.schema import Item
from simgov.signals import BuildContext
from simgov.signals.image import ImageSignal

SIDE = 800


def make_photos(folder: Path, n: int) -> list[Path]:
    """Photo-like JPEGs: smooth light, textured blobs, fine noise (PDQ and ORB have work to do)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"photo-{i:06d}.jpg"
        paths.append(path)
        if path.exists():
            continue
        rng = random.Random(i)
        yy, xx = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32) / SIDE
        base = np.stack([(rng.random() * 255) * (0.6 + 0.4 * np.sin(xx * rng.uniform(1, 6) + yy * rng.uniform(1, 6)))
                         for _ in range(3)], axis=-1)
        img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
        d = ImageDraw.Draw(img)
        for _ in range(25):
            x0, y0 = rng.randrange(SIDE - 60), rng.randrange(SIDE - 60)
            x1, y1 = x0 + rng.randint(30, 400), y0 + rng.randint(30, 400)
            fill = tuple(rng.randrange(256) for _ in range(3))
            (d.ellipse if rng.random() < 0.5 else d.rectangle)([x0, y0, x1, y1], fill=fill)
        img = img.filter(ImageFilter.GaussianBlur(1.5))
        noise = np.random.default_rng(i).normal(0, 6, (SIDE, SIDE, 3))
        img = Image.fromarray(np.clip(np.asarray(img, dtype=np.float32) + noise, 0, 255).astype(np.uint8))
        img.save(path, quality=88)
    return paths


def plain_pdq(paths: list[Path]) -> None:
    for p in paths:
        with Image.open(p) as im:
            pdqhash.compute(np.asarray(im.convert("RGB")))


def _signal():
    return ImageSignal(Config())


def compute_chunk(args) -> int:
    """Worker: the image signal's compute over items with one picture each."""
    root, names = args
    items = [Item.model_validate({"item_id": name, "title": "x", "seller_id": "s", "images": [name]}) for name in names]
    outs = _signal().compute(items, BuildContext(data_roots=[Path(root)]))
    return sum(o.blob is not None for o in outs)


def main() -> int:
    ap = parser(__doc__.splitlines()[0], reduced=300, full=3000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    n = size(args)
    folder = args.work / "photos"
    paths = make_photos(folder, n)
    names = [p.name for p in paths]
    print(f"{n:,} JPEGs of {SIDE}x{SIDE} ({np.mean([p.stat().st_size for p in paths]) / 1024:.0f} KiB mean); "
          f"{args.workers} workers; {load_info()}", flush=True)

    plain_pdq(paths[:5])
    compute_chunk((str(folder), names[:5]))
    cpu = time.process_time()
    with timer() as t:
        plain_pdq(paths)
    base, base_cpu_ms = n / t["s"], 1000 * (time.process_time() - cpu) / n
    cpu = time.process_time()
    with timer() as t:
        done = compute_chunk((str(folder), names))
    single, cpu_ms = n / t["s"], 1000 * (time.process_time() - cpu) / n
    assert done == n, f"only {done} of {n} pictures fingerprinted"
    chunks = [(str(folder), names[i:i + 16]) for i in range(0, n, 16)]
    with ProcessPoolExecutor(args.workers) as pool:
        list(pool.map(compute_chunk, chunks[:args.workers]))  # start and warm the workers
        with timer() as t:
            assert sum(pool.map(compute_chunk, chunks)) == n
    pooled = n / t["s"]
    report(args, "image fingerprinting, ImageSignal.compute, 1 process", single, "images/s", base,
           "plain PDQ, full decode, 1 process")
    report(args, f"image fingerprinting, ImageSignal.compute, {args.workers} processes", pooled, "images/s", base,
           "plain PDQ, full decode, 1 process", note="goal >= 300 images/s with 2 processes")
    report(args, "image fingerprinting, ImageSignal.compute, CPU time a picture", cpu_ms, "ms", base_cpu_ms,
           "plain PDQ, full decode", higher_is_better=False,
           note=f"{1000 / cpu_ms:,.0f} pictures/s a core, {2000 / cpu_ms:,.0f} on 2 idle cores")
    prof = cProfile.Profile()
    prof.runcall(compute_chunk, (str(folder), names[:min(n, 300)]))
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(12)
    print("where the single-process compute spends its time (cProfile, by own time):")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:3000])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
