"""Drawing primitives for the demo pictures: fonts, masks, colour mixing, a pen on a product layer, logos and
textures. Pure functions of their arguments (they run in worker processes).
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFont


def _font(px: float) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return _font_px(max(6, int(round(px / 2)) * 2))


@lru_cache(maxsize=None)
def _font_px(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=px)


@lru_cache(maxsize=16)
def _gradient_mask(angle_idx: int, size: int) -> Image.Image:
    theta = angle_idx * math.pi / 4
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / (size - 1) - 0.5
    v = xx * math.cos(theta) + yy * math.sin(theta)
    v = (v - v.min()) / (v.max() - v.min())
    return Image.fromarray((v * 255).astype(np.uint8), "L")


@lru_cache(maxsize=4)
def _radial_mask(size: int) -> Image.Image:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / (size - 1) - 0.5
    v = np.clip(np.sqrt(xx * xx + yy * yy) / 0.707, 0, 1) ** 1.6
    return Image.fromarray((v * 255).astype(np.uint8), "L")


def _mix(a: tuple[int, ...], b: tuple[int, ...], t: float) -> tuple[int, int, int]:
    return tuple(int(round(a[i] * (1 - t) + b[i] * t)) for i in range(3))  # type: ignore[return-value]


def _shade(c: tuple[int, ...], f: float) -> tuple[int, int, int]:
    """f < 1 darkens, f > 1 lightens towards white."""
    if f <= 1:
        return tuple(int(v * f) for v in c[:3])  # type: ignore[return-value]
    return _mix(c, (255, 255, 255), min(1.0, f - 1))


_COS = {n: [math.cos(2 * math.pi * k / n) for k in range(n)] for n in (8, 12, 14, 16, 28, 36)}
_SIN = {n: [math.sin(2 * math.pi * k / n) for k in range(n)] for n in (8, 12, 14, 16, 28, 36)}


class _Pen:
    """Draws in unit coordinates (about -1..1) that are scaled, mirrored, rotated and placed.

    Geometry is rotated analytically (ellipses are polygons); text stays upright, which at the
    small tilts used (a dozen degrees at most) reads like a printed label seen at an angle."""

    def __init__(self, layer: Image.Image, mask: Image.Image, cx: float, cy: float, radius: float,
                 rot_deg: float, mirror: bool):
        self.layer = layer
        self.draw = ImageDraw.Draw(layer)
        self.mask = mask
        self.mdraw = ImageDraw.Draw(mask)
        self.cx, self.cy, self.r = cx, cy, radius
        a = math.radians(rot_deg)
        self.cos, self.sin = math.cos(a), math.sin(a)
        self.mirror = -1.0 if mirror else 1.0

    def pt(self, x: float, y: float) -> tuple[float, float]:
        x *= self.mirror * self.r
        y *= self.r
        return (self.cx + x * self.cos - y * self.sin, self.cy + x * self.sin + y * self.cos)

    def poly(self, pts, fill, body: bool = False, outline=None) -> None:
        q = [self.pt(x, y) for x, y in pts]
        self.draw.polygon(q, fill=fill, outline=outline)
        if body:
            self.mdraw.polygon(q, fill=255)

    def rect(self, x0, y0, x1, y1, fill, body: bool = False) -> None:
        self.poly([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], fill, body)

    def rrect(self, x0, y0, x1, y1, r, fill, body: bool = False) -> None:
        r = min(r, (x1 - x0) / 2, (y1 - y0) / 2)
        pts = []
        for (cx, cy, a0) in ((x1 - r, y0 + r, -90), (x1 - r, y1 - r, 0), (x0 + r, y1 - r, 90), (x0 + r, y0 + r, 180)):
            for k in range(5):
                a = math.radians(a0 + k * 22.5)
                pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
        self.poly(pts, fill, body)

    def ellipse(self, cx, cy, rx, ry, fill, body: bool = False, n: int = 28) -> None:
        self.poly([(cx + rx * _COS[n][k], cy + ry * _SIN[n][k]) for k in range(n)], fill, body)

    def arc(self, cx, cy, r_out, r_in, a0, a1, fill, body: bool = False, n: int = 18) -> None:
        """A thick arc band between radii r_in and r_out, angles in degrees (0 = right, 90 = down)."""
        outer = [(cx + r_out * math.cos(math.radians(a0 + (a1 - a0) * k / n)),
                  cy + r_out * math.sin(math.radians(a0 + (a1 - a0) * k / n))) for k in range(n + 1)]
        inner = [(cx + r_in * math.cos(math.radians(a0 + (a1 - a0) * k / n)),
                  cy + r_in * math.sin(math.radians(a0 + (a1 - a0) * k / n))) for k in range(n, -1, -1)]
        self.poly(outer + inner, fill, body)

    def line(self, pts, fill, width: float) -> None:
        self.draw.line([self.pt(x, y) for x, y in pts], fill=fill, width=max(1, int(width * self.r)))

    def text(self, x, y, s: str, size: float, fill) -> None:
        self.draw.text(self.pt(x, y), s, font=_font(size * self.r), fill=fill, anchor="mm")


def _logo(pen: _Pen, x: float, y: float, size: float, look: dict, fill=None) -> None:
    """The brand mark: a small symbol followed by the brand word, centred on (x, y)."""
    colour = tuple(fill or look["logo_colour"])
    shape = look["logo_shape"]
    text = look["brand_text"]
    w = _font(size * pen.r).getlength(text) / pen.r
    s = size * 0.7 if shape != "none" else 0.0
    gap = size * 0.25 if s else 0.0
    start = x - (s + gap + w) / 2
    mx = start + s / 2
    if shape == "circle":
        pen.ellipse(mx, y, s / 2, s / 2, colour, n=14)
    elif shape == "diamond":
        pen.poly([(mx, y - s / 2), (mx + s / 2, y), (mx, y + s / 2), (mx - s / 2, y)], colour)
    elif shape == "triangle":
        pen.poly([(mx, y - s / 2), (mx + s / 2, y + s / 2), (mx - s / 2, y + s / 2)], colour)
    elif shape == "square":
        pen.rect(mx - s / 2, y - s / 2, mx + s / 2, y + s / 2, colour)
    pen.text(start + s + gap + w / 2, y, text, size, colour)


def _texture(pen: _Pen, look: dict, region: tuple[float, float, float, float]) -> None:
    """Pattern in the accent colour, clipped to the body regions drawn so far."""
    kind = look["tex"]
    if kind == "none":
        return
    x0, y0, x1, y1 = region
    tex = Image.new("L", pen.layer.size, 0)
    td = ImageDraw.Draw(tex)
    n = look["tex_n"]
    step = (y1 - y0) / n

    def P(x, y):
        return pen.pt(x, y)

    if kind == "stripes":
        for k in range(n):
            if k % 2 == 0:
                ya = y0 + k * step
                td.polygon([P(x0, ya), P(x1, ya), P(x1, ya + step), P(x0, ya + step)], fill=255)
    elif kind == "diag":
        w = (x1 - x0)
        for k in range(-n, 2 * n):
            if k % 2 == 0:
                xa = x0 + k * w / n
                td.polygon([P(xa, y0), P(xa + w / n, y0), P(xa + w / n - (y1 - y0), y1), P(xa - (y1 - y0), y1)],
                           fill=255)
    elif kind == "dots":
        r = step * 0.28
        for i in range(n + 1):
            for j in range(n + 1):
                cx = x0 + (j + (0.5 if i % 2 else 0)) * (x1 - x0) / n
                cy = y0 + i * step
                q = P(cx, cy)
                rr = r * pen.r
                td.ellipse([q[0] - rr, q[1] - rr, q[0] + rr, q[1] + rr], fill=255)
    elif kind == "check":
        w = (x1 - x0) / n
        for i in range(n):
            for j in range(n):
                if (i + j) % 2 == 0:
                    xa, ya = x0 + j * w, y0 + i * step
                    td.polygon([P(xa, ya), P(xa + w, ya), P(xa + w, ya + step), P(xa, ya + step)], fill=128)
    elif kind == "band":
        ya = y0 + (y1 - y0) * look["p"][5] * 0.6 + 0.1 * (y1 - y0)
        td.polygon([P(x0, ya), P(x1, ya), P(x1, ya + step * 1.4), P(x0, ya + step * 1.4)], fill=255)
    box = pen.mask.getbbox()
    if box is None:
        return
    clip = ImageChops.multiply(pen.mask.crop(box), tex.crop(box))
    pen.layer.paste(tuple(look["c2"]), box, clip)
