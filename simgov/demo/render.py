"""Drawing every planned picture, in a small process pool; each picture depends only on its own specification, so
the number of workers never changes a byte.
"""
from __future__ import annotations

import io
import multiprocessing
import os
import random
import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageChops, ImageDraw

from .common import AVATAR_SIZE, ORIGINAL_QUALITY, PHOTO_SIZE, ProgressFn
from .drawing import _font, _gradient_mask, _mix, _Pen, _radial_mask, _shade
from .edits import _apply_edits
from .shapes import _SHAPES


def _background(photo: dict, size: int) -> Image.Image:
    bg1, bg2 = tuple(photo["bg1"]), tuple(photo["bg2"])
    kind = photo["bg"]
    img = Image.new("RGB", (size, size), bg1)
    if kind == "gradient":
        img = Image.composite(Image.new("RGB", (size, size), bg2), img, _gradient_mask(photo["angle"], size))
    elif kind == "split":
        d = ImageDraw.Draw(img)
        a = photo["split"]
        d.polygon([(0, size * a), (size, size * (1 - a)), (size, size), (0, size)], fill=bg2)
    elif kind == "floor":
        d = ImageDraw.Draw(img)
        y = int(size * photo["split"])
        d.rectangle([0, y, size, size], fill=bg2)
        for k in range(1, 6):      # floor boards / tiles
            yy = y + (size - y) * k * k / 36
            d.line([(0, yy), (size, yy)], fill=_shade(bg2, 0.9), width=1)
    elif kind == "pattern":
        d = ImageDraw.Draw(img)
        step = photo["step"]
        for k in range(-size, size * 2, step * 2):
            d.polygon([(k, 0), (k + step, 0), (k + step - size, size), (k - size, size)], fill=bg2)
    elif kind == "podium":
        d = ImageDraw.Draw(img)
        d.ellipse([size * 0.08, size * 0.08, size * 0.92, size * 0.92], fill=bg2)
    return img


@lru_cache(maxsize=32)
def _noise_image(amplitude: int, variant: int, size: int) -> Image.Image:
    """Grey sensor noise in [0, 2*amplitude], the same in the three channels."""
    rng = np.random.default_rng(1000 * amplitude + variant)
    n = rng.integers(0, 2 * amplitude + 1, size=(size, size), dtype=np.uint8)
    return Image.fromarray(n, "L").convert("RGB")


@lru_cache(maxsize=128)
def _shade_image(kind: str, angle_idx: int, strength_pct: int, size: int) -> Image.Image:
    """A multiplier image: 255 keeps a pixel, lower darkens it (light fall-off or vignette)."""
    mask = _radial_mask(size) if kind == "radial" else _gradient_mask(angle_idx, size)
    f = strength_pct / 100.0
    return mask.point([int(round(255 * (1 - f * v / 255))) for v in range(256)]).convert("RGB")


#: Largest turn of a shot about the product's vertical (yaw) and horizontal (pitch) axis, in degrees.
VIEW_YAW, VIEW_PITCH = 28.0, 16.0
#: Focal length of the camera in picture widths (a normal lens close to the product: clear perspective).
VIEW_FOCAL = 1.1
#: How much the light falling across the product darkens its far side, in percent (a range).
PRODUCT_LIGHT = (10, 40)
#: White balance: each colour channel's gain differs from 1 by up to this much.
WHITE_BALANCE = 0.07


@dataclass(frozen=True)
class _Shot:
    """How one photo was taken, beyond where the product sits in it: every seller photographs the
    product from its own place, under its own light, with its own camera, so two sellers' own
    photos of one product are different shots, not one drawing moved about. A copy is the same shot."""

    yaw: float
    pitch: float
    light_angle: int  # direction (of 8) the light on the product falls off to
    light_pct: int
    gains: tuple[float, float, float]  # red, green, blue

    @classmethod
    def of(cls, shot_seed: int) -> "_Shot":
        rng = random.Random(shot_seed ^ 0x5EE0F)
        return cls(rng.uniform(-VIEW_YAW, VIEW_YAW), rng.uniform(-VIEW_PITCH, VIEW_PITCH), rng.randrange(8),
                   5 * rng.randint(PRODUCT_LIGHT[0] // 5, PRODUCT_LIGHT[1] // 5),
                   tuple(1 + rng.uniform(-WHITE_BALANCE, WHITE_BALANCE) for _ in range(3)))


def _seen_from(layer: Image.Image, shot: _Shot, cx: float, cy: float) -> Image.Image:
    """The product layer as the shot's camera, turned about the product's centre, sees it (a
    perspective projection of the product's plane)."""
    yaw, pitch = np.radians((shot.yaw, shot.pitch))
    w, h = layer.size
    f = VIEW_FOCAL * w
    turn = (np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
            @ np.array([[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)], [0, np.sin(pitch), np.cos(pitch)]]))
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    plane = np.column_stack([corners[:, 0] - cx, corners[:, 1] - cy, np.zeros(4)]) @ turn.T
    seen = np.column_stack([cx + f * plane[:, 0] / (f + plane[:, 2]), cy + f * plane[:, 1] / (f + plane[:, 2])])
    # PIL maps each output pixel back to the layer: solve the homography seen -> corners
    rows, rhs = [], []
    for (x, y), (u, v) in zip(seen, corners):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        rhs += [u, v]
    coeffs = np.linalg.solve(np.array(rows), np.array(rhs))
    return layer.transform(layer.size, Image.Transform.PERSPECTIVE, tuple(float(c) for c in coeffs),
                           Image.Resampling.BICUBIC)


def _render_product(spec: dict) -> Image.Image:
    look, photo = spec["look"], spec["photo"]
    size = PHOTO_SIZE
    img = _background(photo, size)
    mask = Image.new("L", (size, size), 0)
    radius = size * 0.36 * photo["scale"]
    cx, cy = size / 2 + photo["dx"] * size, size / 2 + photo["dy"] * size
    if photo.get("shadow"):
        d = ImageDraw.Draw(img, "RGBA")
        for k, alpha in ((1.15, 22), (1.0, 30), (0.85, 38)):
            w = radius * k
            d.ellipse([cx - w, cy + radius * 0.8, cx + w, cy + radius * 1.05], fill=(0, 0, 0, alpha))
    product = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    pen = _Pen(product, mask, cx, cy, radius, photo["rot"], look["facing"] < 0)
    _SHAPES[look["shape"]](pen, look)
    shot = _Shot.of(photo["seed"])
    product = _seen_from(product, shot, cx, cy)
    lit = ImageChops.multiply(product.convert("RGB"), _shade_image("linear", shot.light_angle, shot.light_pct, size))
    img.paste(lit, (0, 0), product.getchannel("A"))
    draw = ImageDraw.Draw(img, "RGBA")
    if photo.get("corner_logo"):           # the brand's own studio shots carry its mark
        font = _font(17)
        draw.rectangle([8, 8, 20 + font.getlength(look["brand_text"]) + 16, 36], fill=(255, 255, 255, 200))
        draw.ellipse([13, 15, 25, 27], fill=tuple(look["logo_colour"]))
        draw.text((30, 12), look["brand_text"], font=font, fill=tuple(look["logo_colour"]))
    if photo.get("props"):                 # things lying around in a home photo
        rr = random.Random(photo["seed"])
        for _ in range(photo["props"]):
            x, y, r = rr.uniform(0, size), rr.uniform(size * 0.7, size), rr.uniform(10, 28)
            col = _mix(tuple(photo["bg2"]), (rr.randrange(256), rr.randrange(256), rr.randrange(256)), 0.5)
            draw.ellipse([x - r, y - r * 0.6, x + r, y + r * 0.6], fill=col + (230,))
    light = int(round(photo["light"] * 20)) * 5
    if light > 0:
        img = ImageChops.multiply(img, _shade_image("linear", photo["light_angle"], light, size))
    if photo.get("vignette"):
        img = ImageChops.multiply(img, _shade_image("radial", 0, 28, size))
    img = img.point([min(255, int(round(v * gain))) for gain in shot.gains for v in range(256)])
    if photo["noise"] > 0:
        a = int(photo["noise"])
        noise = _noise_image(a, photo["seed"] % 4, size)
        noise = ImageChops.offset(noise, photo["seed"] % size, (photo["seed"] // size) % size)
        img = ImageChops.add(img, noise, 1.0, -a)
    return img


def _render_avatar(spec: dict) -> Image.Image:
    size = AVATAR_SIZE
    bg = tuple(spec["bg"])
    img = Image.new("RGB", (size, size), bg)
    d = ImageDraw.Draw(img)
    style = spec["style"]
    if style == "default":
        d.ellipse([size * 0.32, size * 0.18, size * 0.68, size * 0.54], fill=(200, 200, 204))
        d.ellipse([size * 0.14, size * 0.6, size * 0.86, size * 1.3], fill=(200, 200, 204))
        return img
    if style == "face":
        skin, hair, shirt = tuple(spec["skin"]), tuple(spec["hair"]), tuple(spec["fg"])
        d.ellipse([size * 0.12, size * 0.68, size * 0.88, size * 1.4], fill=shirt)
        d.rectangle([size * 0.43, size * 0.55, size * 0.57, size * 0.72], fill=skin)
        hl = spec["hair_len"]
        if hl > 0.5:
            d.rounded_rectangle([size * 0.26, size * 0.16, size * 0.74, size * (0.5 + hl * 0.3)], 30, fill=hair)
        d.ellipse([size * 0.31, size * 0.2, size * 0.69, size * 0.62], fill=skin)
        d.chord([size * 0.29, size * 0.14, size * 0.71, size * 0.5], 180, 360, fill=hair)
        for ex in (0.42, 0.58):
            d.ellipse([size * ex - 3, size * 0.4 - 3, size * ex + 3, size * 0.4 + 3], fill=(40, 30, 30))
        d.arc([size * 0.42, size * 0.42, size * 0.58, size * 0.54], 20, 160, fill=(150, 60, 60), width=2)
        if spec.get("glasses"):
            for ex in (0.42, 0.58):
                d.ellipse([size * ex - 9, size * 0.4 - 7, size * ex + 9, size * 0.4 + 7], outline=(30, 30, 30),
                          width=2)
        return img
    # monogram / shop logo
    fg = tuple(spec["fg"])
    if spec["frame"] == "circle":
        d.ellipse([size * 0.1, size * 0.1, size * 0.9, size * 0.9], fill=fg)
    else:
        d.rounded_rectangle([size * 0.12, size * 0.12, size * 0.88, size * 0.88], 18, fill=fg)
    if spec.get("icon") == "bag":
        d.rectangle([size * 0.3, size * 0.6, size * 0.7, size * 0.8], fill=bg)
        d.arc([size * 0.38, size * 0.5, size * 0.62, size * 0.7], 180, 360, fill=bg, width=4)
    text = spec["text"]
    font = _font(size * (0.36 if len(text) <= 2 else 0.22))
    d.text((size / 2, size * (0.42 if spec.get("icon") == "bag" else 0.5)), text, font=font, fill=bg, anchor="mm")
    return img



def _encode(img: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=int(quality), optimize=False, progressive=False)
    return buf.getvalue()


def _run_task(task: tuple[str, str, dict, list[tuple[str, list[dict] | None, int]]]) -> int:
    """Draw one picture and write every published version of it (original, re-encodes, edits)."""
    out_dir, kind, spec, outputs = task
    img = _render_product(spec) if kind == "product" else _render_avatar(spec)
    published: Image.Image | None = None
    for rel, edits, quality in outputs:
        if edits is None:
            data = _encode(img, quality)
        else:
            if published is None:   # copiers start from the picture as it was published
                published = Image.open(io.BytesIO(_encode(img, ORIGINAL_QUALITY)))
                published.load()
                published = published.convert("RGB")
            data = _encode(_apply_edits(published, edits), quality)
        path = os.path.join(out_dir, rel)
        with open(path, "wb") as fh:
            fh.write(data)
    return len(outputs)


def _pool_context():
    """fork when it is safe (no other threads: forking a threaded process can deadlock), else spawn."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _render_all(tasks: list[tuple], workers: int, progress: ProgressFn | None) -> None:
    """Draw every picture. A pool that cannot start (e.g. spawn without an importable __main__)
    or breaks falls back to drawing in this process; the files are the same either way."""
    total = len(tasks)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress and (done % 25 == 0 or done == total):
            progress(done, total)

    if progress:
        progress(0, total)
    remaining = tasks
    if workers > 1 and total >= 64:
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        chunk = 16
        batches = [tasks[i:i + chunk] for i in range(0, total, chunk)]
        finished: set[int] = set()
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context()) as pool:
                for k, n in enumerate(pool.map(_run_batch, batches)):
                    finished.add(k)
                    for _ in range(n):
                        tick()
        except (BrokenProcessPool, OSError):
            pass
        remaining = [t for k, b in enumerate(batches) if k not in finished for t in b]
    for t in remaining:
        _run_task(t)
        tick()


def _run_batch(batch: list[tuple]) -> int:
    for t in batch:
        _run_task(t)
    return len(batch)
