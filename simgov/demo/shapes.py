"""One drawing function per product shape (shoe, bag, phone, ...), each a pure function of its look."""
from __future__ import annotations

import math
from typing import Callable

from .common import _rng
from .drawing import _logo, _mix, _Pen, _shade, _texture
from .vocabulary import _COLOURS


def _draw_shoe(pen: _Pen, L: dict) -> None:
    p, c1, c2, c3 = L["p"], tuple(L["c1"]), tuple(L["c2"]), tuple(L["c3"])
    var = L["variant"]
    sole_t = 0.1 + 0.1 * p[0]
    if var == "boot":
        top = -0.9 + 0.15 * p[1]
        upper = [(-0.92, 0.38), (-0.9, top), (-0.3, top), (-0.25, -0.2), (0.2, -0.02 + 0.05 * p[3]),
                 (0.7, 0.1), (0.93, 0.24), (0.95, 0.38)]
    else:
        top = -0.3 - 0.2 * p[1]
        upper = [(-0.92, 0.38), (-0.95, top + 0.12), (-0.8, top), (-0.5, top + 0.04), (-0.2, -0.1 - 0.1 * p[2]),
                 (0.25, 0.0 + 0.06 * p[3]), (0.72, 0.12), (0.93, 0.24), (0.95, 0.38)]
    pen.poly(upper, c1, body=True)
    _texture(pen, L, (-0.95, top, 0.95, 0.38))
    pen.poly([(0.5, 0.08), (0.72, 0.12), (0.93, 0.24), (0.95, 0.38), (0.45, 0.38)], _shade(c1, 0.75))
    pen.rrect(-0.98, 0.34, 1.0, 0.34 + sole_t, 0.05, c3)
    for k in range(7):
        x = -0.85 + k * 0.27
        pen.line([(x, 0.34 + sole_t * 0.55), (x + 0.12, 0.34 + sole_t * 0.55)], _shade(c3, 0.7), 0.02)
    # side stripes, the model's signature
    for k in range(L["detail"] % 3 + 1):
        dx = k * 0.13
        pen.poly([(-0.45 + dx, 0.3), (-0.35 + dx, 0.3), (0.15 + dx, -0.05), (0.05 + dx, -0.05)], c2)
    for k in range(4):
        x = -0.35 + k * 0.14
        yb = -0.1 - 0.1 * p[2] + k * 0.03 if var != "boot" else -0.6 + k * 0.12
        pen.line([(x, yb), (x + 0.12, yb + 0.06)], c3, 0.025)
    pen.rect(-0.95, top + 0.05, -0.82, top + 0.3, c2)
    pen.text(-0.35, 0.2, L["label"], 0.09, _shade(c1, 1.5) if sum(c1) < 300 else _shade(c1, 0.4))


def _draw_bag(pen: _Pen, L: dict) -> None:
    p, c1, c2, c3 = L["p"], tuple(L["c1"]), tuple(L["c2"]), tuple(L["c3"])
    var = L["variant"]
    if var == "backpack":
        pen.arc(0, -0.72, 0.2, 0.12, 180, 360, _shade(c1, 0.7))
        pen.rrect(-0.62, -0.75, 0.62, 0.9, 0.28 + 0.1 * p[0], c1, body=True)
        _texture(pen, L, (-0.62, -0.75, 0.62, 0.9))
        pen.rrect(-0.45, 0.15 + 0.1 * p[1], 0.45, 0.8, 0.12, _shade(c1, 0.8))
        pen.line([(-0.45, 0.3 + 0.1 * p[1]), (0.45, 0.3 + 0.1 * p[1])], c3, 0.025)
        pen.line([(-0.5, -0.35), (0.5, -0.35)], c3, 0.02)
        for k in range(L["detail"] % 3 + 1):
            pen.rect(-0.56 + k * 0.05, -0.6, -0.54 + k * 0.05, 0.7, c2)
        _logo(pen, 0.0, -0.05, 0.13, L)
        return
    if var == "tote":
        for sx in (-0.35, 0.35):
            pen.arc(sx * 0.4, -0.3, 0.45, 0.38, 195 if sx < 0 else 200, 340 if sx < 0 else 345, c3)
        pen.poly([(-0.7, -0.3), (0.7, -0.3), (0.78, 0.85), (-0.78, 0.85)], c1, body=True)
        _texture(pen, L, (-0.78, -0.3, 0.78, 0.85))
        pen.rect(-0.7, -0.3, 0.7, -0.18, _shade(c1, 0.8))
        _logo(pen, 0.0, 0.3 + 0.1 * p[2], 0.15, L)
        return
    # handbag
    h = 0.45 + 0.25 * p[1]
    pen.arc(0, -0.2, h, h - 0.1, 180, 360, c3)
    pen.poly([(-0.72, -0.22), (0.72, -0.22), (0.88 + 0.05 * p[0], 0.8), (-0.88 - 0.05 * p[0], 0.8)], c1, body=True)
    _texture(pen, L, (-0.93, -0.22, 0.93, 0.8))
    flap_y = 0.15 + 0.2 * p[2]
    pen.poly([(-0.74, -0.22), (0.74, -0.22), (0.8, flap_y), (0.0, flap_y + 0.15 * p[3]), (-0.8, flap_y)],
             _shade(c1, 0.82))
    pen.rrect(-0.1, flap_y - 0.05, 0.1, flap_y + 0.12, 0.04, tuple(L["c3"]))
    for k in range(L["detail"] % 4):
        pen.line([(-0.8 + k * 0.04, 0.75), (-0.72 + k * 0.04, -0.18)], c2, 0.015)
    _logo(pen, 0.0, 0.5, 0.12, L)


def _draw_phone(pen: _Pen, L: dict) -> None:
    p, c1, c2, c3 = L["p"], tuple(L["c1"]), tuple(L["c2"]), tuple(L["c3"])
    tablet = L["variant"] == "tablet"
    w, h = (0.85, 0.62) if tablet else (0.5, 0.95)
    pen.rrect(-w, -h, w, h, 0.12, c1, body=True)
    if L["view"] == "front":
        pen.rrect(-w + 0.05, -h + 0.05, w - 0.05, h - 0.05, 0.08, c3)
        # wallpaper: bands between the two accent colours
        n = 5
        for k in range(n):
            t = k / (n - 1)
            y0 = -h + 0.08 + k * (2 * h - 0.16) / n
            pen.rect(-w + 0.08, y0, w - 0.08, y0 + (2 * h - 0.16) / n, _mix(c2, c1, t * (0.5 + 0.5 * p[0])))
        pen.ellipse(0.2 * p[1] - 0.1, -0.1, 0.25, 0.25, _shade(c2, 1.3))
        pen.text(0, -h + 0.3, f"{8 + L['detail'] % 4}:{10 + (L['detail'] * 7) % 49}", 0.16, (255, 255, 255))
    else:
        _texture(pen, L, (-w, -h, w, h))
        n_cam = 2 + L["detail"] % 3
        mod_w = 0.42 if not tablet else 0.3
        pen.rrect(-w + 0.08, -h + 0.08, -w + 0.08 + mod_w, -h + 0.08 + 0.14 * (n_cam + 1), 0.08, _shade(c1, 0.7))
        for k in range(n_cam):
            cx = -w + 0.08 + mod_w / 2 + (0.09 if k % 2 else -0.09) * (1 if n_cam > 2 else 0)
            cy = -h + 0.2 + k * (0.14 if n_cam > 2 else 0.2)
            pen.ellipse(cx, cy, 0.07, 0.07, (20, 20, 24), n=16)
            pen.ellipse(cx, cy, 0.035, 0.035, (70, 90, 120), n=12)
        _logo(pen, 0.0, 0.25, 0.13, L, fill=c3)
    pen.text(0, h - 0.18, L["label"], 0.09, c3 if L["view"] != "front" else (255, 255, 255))


def _draw_headphones(pen: _Pen, L: dict) -> None:
    p, c1, c2, c3 = L["p"], tuple(L["c1"]), tuple(L["c2"]), tuple(L["c3"])
    r = 0.7 + 0.08 * p[0]
    pen.arc(0, 0.15, r, r - 0.12 - 0.05 * p[1], 180, 360, c1, body=True)
    pen.arc(0, 0.15, r - 0.1, r - 0.16, 200, 340, c3)
    for sx in (-1, 1):
        pen.rrect(sx * r - 0.08, -0.05, sx * r + 0.08, 0.25, 0.04, c3)
        pen.ellipse(sx * r, 0.38, 0.22 + 0.05 * p[2], 0.33, c1, body=True)
        pen.ellipse(sx * (r - 0.04), 0.38, 0.15, 0.25, _shade(c1, 0.7))
        pen.ellipse(sx * (r - 0.04), 0.38, 0.09, 0.16, c2)
    _texture(pen, L, (-1, -0.6, 1, 0.75))
    for k in range(L["detail"] % 3 + 1):
        pen.rect(-0.25 + k * 0.18, -0.62 - 0.05 * p[1], -0.15 + k * 0.18, -0.52, c2)
    _logo(pen, 0, 0.85, 0.12, L)


def _draw_box(pen: _Pen, L: dict) -> None:
    p, c1, c2, c3 = L["p"], tuple(L["c1"]), tuple(L["c2"]), tuple(L["c3"])
    if L["variant"] == "speaker":
        h = 0.45 + 0.15 * p[0]
        pen.rrect(-0.85, -h, 0.85, h, 0.3 + 0.1 * p[1], c1, body=True)
        _texture(pen, L, (-0.85, -h, 0.85, h))
        grid = 4 + L["detail"] % 3
        for i in range(grid):
            for j in range(grid * 2):
                pen.ellipse(-0.65 + j * 1.3 / (grid * 2 - 1), -h + 0.2 + i * (2 * h - 0.4) / (grid - 1), 0.035,
                            0.035, _shade(c1, 0.55), n=8)
        pen.rrect(-0.3, -h - 0.06, 0.3, -h + 0.04, 0.03, c3)
        _logo(pen, 0, h - 0.12, 0.11, L, fill=c3)
        return
    # a boxed product: front face, top and side for depth
    d = 0.18 + 0.08 * p[0]
    pen.poly([(-0.8, -0.55), (0.55, -0.55), (0.55 + d, -0.55 - d), (-0.8 + d, -0.55 - d)], _shade(c1, 1.25))
    pen.poly([(0.55, -0.55), (0.55 + d, -0.55 - d), (0.55 + d, 0.85 - d), (0.55, 0.85)], _shade(c1, 0.65))
    pen.rect(-0.8, -0.55, 0.55, 0.85, c1, body=True)
    _texture(pen, L, (-0.8, -0.55, 0.55, 0.85))
    pen.rect(-0.8, -0.55, 0.55, -0.3, c3)
    _logo(pen, -0.12, -0.43, 0.13, L, fill=tuple(L["logo_colour"]))
    # picture window: a few shapes that differ per product
    pen.rect(-0.65, -0.2, 0.4, 0.55, _shade(c2, 1.35))
    rr = _rng("box-art", L["detail"], L["label"])
    for _ in range(3 + L["detail"] % 3):
        x, y, s = rr.uniform(-0.5, 0.25), rr.uniform(-0.05, 0.4), rr.uniform(0.08, 0.2)
        col = _COLOURS[rr.randrange(len(_COLOURS))][1]
        if rr.random() < 0.5:
            pen.rect(x - s, y - s * 0.6, x + s, y + s * 0.6, col)
        else:
            pen.ellipse(x, y, s, s, col, n=14)
    pen.text(-0.12, 0.7, L["label"], 0.1, c3)


def _draw_watch(pen: _Pen, L: dict) -> None:
    p, c1, c2, c3 = L["p"], tuple(L["c1"]), tuple(L["c2"]), tuple(L["c3"])
    sw = 0.26 + 0.06 * p[0]
    pen.rrect(-sw, -1.0, sw, -0.3, 0.05, c2, body=True)
    pen.rrect(-sw, 0.3, sw, 1.0, 0.05, c2, body=True)
    _texture(pen, L, (-sw, -1.0, sw, 1.0))
    for y in (0.5, 0.65, 0.8):
        pen.ellipse(0, y, 0.03, 0.03, _shade(c2, 0.5), n=8)
    if L["variant"] == "smart":
        pen.rrect(-0.45, -0.5, 0.45, 0.5, 0.14 + 0.06 * p[1], c3)
        pen.rrect(-0.38, -0.43, 0.38, 0.43, 0.1, (16, 16, 20))
        for k in range(L["detail"] % 3 + 1):
            r = 0.3 - k * 0.08
            pen.arc(0, 0, r, r - 0.05, -90, -90 + 200 + 50 * ((L["detail"] + k) % 3), _COLOURS[(4 + 7 * k) % 18][1])
        pen.text(0, 0.0, L["label"], 0.09, (230, 230, 230))
        pen.rect(0.45, -0.12, 0.52, 0.05, c3)
    else:
        pen.ellipse(0, 0, 0.5, 0.5, c3, n=36)
        pen.ellipse(0, 0, 0.42, 0.42, c1, n=36)
        for k in range(12):
            a = math.radians(k * 30)
            r0 = 0.33 if k % 3 else 0.28
            pen.line([(r0 * math.cos(a), r0 * math.sin(a)), (0.4 * math.cos(a), 0.4 * math.sin(a))],
                     _shade(c3, 1.2) if sum(c1) < 350 else (30, 30, 30), 0.025)
        hh, mm = L["detail"] % 12, (L["detail"] * 13) % 60
        ah, am = math.radians(hh * 30 + mm * 0.5 - 90), math.radians(mm * 6 - 90)
        hand = (240, 240, 240) if sum(c1) < 350 else (20, 20, 20)
        pen.line([(0, 0), (0.2 * math.cos(ah), 0.2 * math.sin(ah))], hand, 0.04)
        pen.line([(0, 0), (0.33 * math.cos(am), 0.33 * math.sin(am))], hand, 0.025)
        pen.rect(0.5, -0.06, 0.58, 0.06, c3)
        pen.text(0, -0.18, L["brand_text"], 0.07, hand)
        pen.text(0, 0.2, L["label"], 0.055, hand)


def _draw_bottle(pen: _Pen, L: dict) -> None:
    p, c1, c2, c3 = L["p"], tuple(L["c1"]), tuple(L["c2"]), tuple(L["c3"])
    var = L["variant"]
    if var == "flask":
        w = 0.3 + 0.08 * p[0]
        pen.rrect(-w, -0.62, w, 0.95, 0.12, c1, body=True)
        _texture(pen, L, (-w, -0.62, w, 0.95))
        pen.rrect(-w * 0.7, -0.9, w * 0.7, -0.6, 0.06, c3)
        pen.arc(0, -0.9, 0.14, 0.08, 180, 360, c3)
        pen.rect(-w, 0.1 + 0.2 * p[1], w, 0.3 + 0.2 * p[1], c2)
        _logo(pen, 0, -0.25, 0.1, L, fill=c3)
        pen.text(0, 0.7, L["label"], 0.08, c3)
        return
    if var == "dropper":
        w = 0.36 + 0.1 * p[0]
        pen.rrect(-w, -0.3, w, 0.9, 0.1, _shade(c1, 0.8), body=True)
        pen.rect(-0.12, -0.45, 0.12, -0.3, c3)
        pen.rrect(-0.16, -0.62, 0.16, -0.42, 0.04, c2)
        pen.ellipse(0, -0.78, 0.11, 0.2, _shade(c2, 0.8))
        pen.rect(-w + 0.06, 0.05, w - 0.06, 0.6 + 0.1 * p[1], (245, 243, 238))
        _logo(pen, 0, 0.18, 0.08, L)
        pen.text(0, 0.42, L["label"], 0.07, (60, 60, 60))
        _texture(pen, L, (-w, 0.62 + 0.1 * p[1], w, 0.9))
        return
    # perfume: faceted glass body with a heavy cap
    w = 0.55 + 0.2 * p[0]
    top = -0.25 - 0.15 * p[1]
    cut = 0.1 + 0.15 * p[2]
    pen.poly([(-w + cut, top), (w - cut, top), (w, top + cut), (w, 0.9 - cut), (w - cut, 0.9), (-w + cut, 0.9),
              (-w, 0.9 - cut), (-w, top + cut)], _shade(c1, 0.85), body=True)
    _texture(pen, L, (-w, top, w, 0.9))
    pen.poly([(-w + cut + 0.06, top + 0.06), (w - cut - 0.06, top + 0.06), (w - 0.06, top + cut),
              (w - 0.06, 0.84 - cut), (-w + 0.06, 0.84 - cut), (-w + 0.06, top + cut)], _shade(c1, 1.15))
    pen.rect(-0.1, top - 0.12, 0.1, top, c3)
    cap_w = 0.2 + 0.15 * p[3]
    if L["detail"] % 2:
        pen.rrect(-cap_w, top - 0.55, cap_w, top - 0.1, 0.05, tuple(L["c2"]))
    else:
        pen.ellipse(0, top - 0.32, cap_w, 0.22, tuple(L["c2"]))
    pen.rect(-w * 0.6, 0.15, w * 0.6, 0.55, (246, 244, 240))
    _logo(pen, 0, 0.28, 0.1, L)
    pen.text(0, 0.45, L["label"], 0.07, (70, 70, 70))


def _draw_mug(pen: _Pen, L: dict) -> None:
    p, c1, c2, c3 = L["p"], tuple(L["c1"]), tuple(L["c2"]), tuple(L["c3"])
    pen.arc(0.52, 0.15, 0.38, 0.24, -80, 80, c1)
    pen.rect(-0.6, -0.45, 0.55, 0.75, c1, body=True)
    pen.ellipse(-0.025, 0.75, 0.575, 0.12, _shade(c1, 0.8))
    _texture(pen, L, (-0.6, -0.45, 0.55, 0.75))
    pen.ellipse(-0.025, -0.45, 0.575, 0.13, _shade(c1, 1.2))
    pen.ellipse(-0.025, -0.45, 0.5, 0.09, (60, 40, 30))
    if L["detail"] % 2:
        pen.ellipse(-0.03, 0.15, 0.28, 0.28, c2)
    else:
        pen.rect(-0.45, 0.0 + 0.1 * p[0], 0.4, 0.35 + 0.1 * p[0], c2)
    _logo(pen, -0.03, 0.18 + 0.05 * p[0], 0.1, L, fill=c3)


def _draw_glasses(pen: _Pen, L: dict) -> None:
    p, c1, c2, c3 = L["p"], tuple(L["c1"]), tuple(L["c2"]), tuple(L["c3"])
    round_lens = L["detail"] % 2 == 0
    rx, ry = 0.36 + 0.06 * p[0], 0.26 + 0.08 * p[1]
    for sx in (-1, 1):
        pen.line([(sx * (0.48 + rx * 0.9), -0.05), (sx * 1.0, -0.35 - 0.1 * p[2])], c1, 0.05)
        cx = sx * 0.48
        if round_lens:
            pen.ellipse(cx, 0.05, rx + 0.06, ry + 0.06, c1, body=True)
            pen.ellipse(cx, 0.05, rx, ry, c2)
            pen.ellipse(cx - 0.1, -0.05, rx * 0.35, ry * 0.3, _shade(c2, 1.4))
        else:
            pen.rrect(cx - rx - 0.06, 0.05 - ry - 0.06, cx + rx + 0.06, 0.05 + ry + 0.06, 0.1, c1, body=True)
            pen.rrect(cx - rx, 0.05 - ry, cx + rx, 0.05 + ry, 0.07, c2)
    pen.arc(0, 0.02, 0.16, 0.1, 200, 340, c1)
    _texture(pen, L, (-1, -0.4, 1, 0.5))
    pen.text(-0.48, 0.05 + ry + 0.25, L["brand_text"], 0.1, c3)
    pen.text(0.48, 0.05 + ry + 0.25, L["label"], 0.08, c3)


def _draw_shirt(pen: _Pen, L: dict) -> None:
    p, c1, c2, c3 = L["p"], tuple(L["c1"]), tuple(L["c2"]), tuple(L["c3"])
    hoodie = L["variant"] == "hoodie"
    sl = 0.3 + 0.15 * p[0] + (0.35 if hoodie else 0)
    body = [(-0.25, -0.8), (-0.6, -0.68), (-0.95, -0.35 + 0.0), (-0.95 + 0.2, -0.35 + sl * 0.6 + 0.05),
            (-0.62, -0.32), (-0.6, 0.9), (0.6, 0.9), (0.62, -0.32), (0.75, -0.35 + sl * 0.6 + 0.05),
            (0.95, -0.35), (0.6, -0.68), (0.25, -0.8), (0.0, -0.68 + 0.08 * p[1])]
    pen.poly(body, c1, body=True)
    _texture(pen, L, (-0.95, -0.8, 0.95, 0.9))
    if hoodie:
        pen.ellipse(0, -0.78, 0.32, 0.16, _shade(c1, 0.75))
        pen.poly([(-0.3, 0.4), (0.3, 0.4), (0.38, 0.75), (-0.38, 0.75)], _shade(c1, 0.85))
        pen.line([(-0.08, -0.66), (-0.1, -0.35)], c3, 0.02)
        pen.line([(0.08, -0.66), (0.1, -0.35)], c3, 0.02)
    else:
        pen.arc(0, -0.8, 0.25, 0.19, 0, 180, _shade(c1, 0.75))
    gy = -0.15 + 0.1 * p[2]
    g = L["detail"] % 3
    if g == 0:
        pen.ellipse(0, gy, 0.28, 0.28, c2)
    elif g == 1:
        pen.poly([(0, gy - 0.3), (0.3, gy + 0.22), (-0.3, gy + 0.22)], c2)
    else:
        pen.rect(-0.35, gy - 0.2, 0.35, gy + 0.2, c2)
    _logo(pen, 0, gy + 0.42, 0.14, L, fill=c3)


_SHAPES: dict[str, Callable[[_Pen, dict], None]] = {
    "shoe": _draw_shoe, "bag": _draw_bag, "phone": _draw_phone, "headphones": _draw_headphones,
    "box": _draw_box, "watch": _draw_watch, "bottle": _draw_bottle, "mug": _draw_mug,
    "glasses": _draw_glasses, "shirt": _draw_shirt,
}
