"""Photo edits a copier applies to someone else's picture: planned in the main process, applied when drawn."""
from __future__ import annotations

import random

from PIL import Image, ImageDraw, ImageOps

from .common import PHOTO_SIZE
from .drawing import _font
from .model import _Account
from .vocabulary import _BANNERS

#: Photo edits a copier may apply; every copy and counterfeit records its list of edits.
EDIT_OPS = ("crop", "flip", "watermark", "jpeg", "resize")

def _apply_edits(img: Image.Image, edits: list[dict]) -> Image.Image:
    for e in edits:
        op = e["op"]
        if op == "crop":
            left, top, right, bottom = e["box"]
            img = img.crop((left, top, right, bottom))
            if e.get("resize_back"):
                img = img.resize((PHOTO_SIZE, PHOTO_SIZE), Image.Resampling.BICUBIC)
        elif op == "flip":
            img = ImageOps.mirror(img)
        elif op == "resize":
            img = img.resize(tuple(e["size"]), Image.Resampling.LANCZOS)
        elif op == "watermark":
            img = img.copy()
            d = ImageDraw.Draw(img, "RGBA")
            w, h = img.size
            style, text = e["style"], e["text"]
            alpha = int(255 * e["opacity"])
            if style == "banner":
                bh = int(h * 0.14)
                y0 = 0 if e["position"] == "top" else h - bh
                d.rectangle([0, y0, w, y0 + bh], fill=tuple(e["colour"]) + (alpha,))
                d.text((w / 2, y0 + bh / 2), text, font=_font(bh * 0.55), fill=(255, 255, 255, 255), anchor="mm")
            elif style == "corner":
                font = _font(h * 0.07)
                tw = font.getlength(text)
                d.text((w - tw - 8, h - h * 0.1), text, font=font, fill=(255, 255, 255, alpha),
                       stroke_width=1, stroke_fill=(0, 0, 0, alpha))
            else:  # diagonal, tiled
                sprite = Image.new("RGBA", (w, h), (0, 0, 0, 0))
                sd = ImageDraw.Draw(sprite)
                font = _font(h * 0.09)
                for k in range(3):
                    sd.text((w / 2, h * (0.25 + 0.25 * k)), text, font=font, fill=(255, 255, 255, alpha),
                            anchor="mm", stroke_width=1, stroke_fill=(0, 0, 0, alpha // 2))
                sprite = sprite.rotate(30, resample=Image.Resampling.BILINEAR)
                img = img.convert("RGBA")
                img.alpha_composite(sprite)
                img = img.convert("RGB")
        elif op in ("jpeg", "reencode"):
            pass  # the quality is applied when the picture is written
        else:
            raise ValueError(f"unknown edit {op!r}")
    return img



class _EditPlans:
    """Which edits a copier applies."""

    def _sample_edits(self, rng: random.Random, copier: _Account, light: bool = False) -> tuple[list[dict], int]:
        n = 1 if (light or rng.random() < 0.65) else 2
        ops = rng.sample(("crop", "flip", "resize") if light else EDIT_OPS, n)
        if light and rng.random() < 0.4:
            ops = ["watermark"]
        order = {op: i for i, op in enumerate(("crop", "flip", "resize", "watermark", "jpeg"))}
        edits: list[dict] = []
        quality = rng.randint(80, 92)
        for op in sorted(ops, key=order.__getitem__):
            if op == "crop":
                f = round(rng.uniform(0.05, 0.10), 3)
                u, v = rng.random(), rng.random()
                w = PHOTO_SIZE
                left, top = int(round(f * w * u)), int(round(f * w * v))
                edits.append({"op": "crop", "fraction": f, "box": [left, top, w - int(round(f * w * (1 - u))),
                                                                    w - int(round(f * w * (1 - v)))],
                              "resize_back": rng.random() < 0.5})
            elif op == "flip":
                edits.append({"op": "flip"})
            elif op == "resize":
                s = int(PHOTO_SIZE * rng.uniform(0.75, 0.95))
                edits.append({"op": "resize", "size": [s, s]})
            elif op == "watermark":
                style = rng.choice(("banner", "banner", "corner", "diagonal"))
                text = rng.choice(_BANNERS) if (style == "banner" and rng.random() < 0.6) else f"@{copier.handle}"
                edits.append({"op": "watermark", "style": style, "text": text,
                              "position": rng.choice(("top", "bottom")), "opacity": round(rng.uniform(0.5, 0.85), 2),
                              "colour": list(rng.choice(((200, 30, 30), (20, 20, 20), (230, 120, 0), (30, 90, 200))))})
            else:
                quality = rng.randint(12, 30)
                edits.append({"op": "jpeg", "quality": quality})
        return edits, quality
