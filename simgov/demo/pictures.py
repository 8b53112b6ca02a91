"""Which picture each listing shows: own photos, detail shots, pictures taken from another listing."""
from __future__ import annotations

import random
from typing import Any

from .common import DETAIL_SHOT_PROBABILITY, ORIGINAL_QUALITY
from .drawing import _shade
from .model import _ImgRef, _Listing, _Task


class _Pictures:
    """Planning pictures: one task per drawing, one output per published copy."""

    # ------------------------------------------------------------------ pictures
    def _task(self, kind: str, spec: dict) -> _Task:
        t = _Task(kind, spec)
        self.tasks.append(t)
        return t

    def _out(self, task: _Task, owner: Any, slot: str, edits: list[dict] | None = None,
             quality: int = ORIGINAL_QUALITY) -> _ImgRef:
        ref = _ImgRef(task, edits, quality, owner, slot)
        task.refs.append(ref)
        return ref

    def _photo_params(self, rng: random.Random, style: str) -> dict:
        neutral = [(250, 250, 250), (244, 244, 242), (236, 236, 238), (228, 226, 220), (246, 240, 230)]
        home_bg = [(196, 160, 120), (150, 110, 80), (225, 215, 200), (90, 90, 96), (180, 190, 200),
                   (210, 200, 230), (200, 225, 210), (60, 62, 70), (238, 220, 190), (170, 130, 100),
                   (120, 140, 160), (230, 230, 220)]
        p: dict[str, Any] = {"seed": rng.getrandbits(32), "angle": rng.randrange(8), "light_angle": rng.randrange(8),
                             "split": rng.uniform(0.45, 0.75), "step": rng.choice((16, 24, 32, 40))}
        if style == "studio":
            p.update(bg=rng.choice(("solid", "solid", "gradient")), bg1=rng.choice(neutral),
                     bg2=_shade(rng.choice(neutral), 0.9), dx=rng.uniform(-0.02, 0.02), dy=rng.uniform(-0.03, 0.0),
                     scale=rng.uniform(0.95, 1.05), rot=0.0, shadow=True, light=rng.uniform(0.0, 0.08),
                     noise=rng.randint(0, 1), vignette=False, props=0)
        elif style == "shop":
            c = rng.choice(neutral + home_bg[:3])
            p.update(bg=rng.choice(("solid", "gradient", "podium", "floor")), bg1=c,
                     bg2=_shade(rng.choice(neutral + home_bg), rng.uniform(0.8, 1.0)),
                     dx=rng.uniform(-0.05, 0.05), dy=rng.uniform(-0.05, 0.04), scale=rng.uniform(0.85, 1.05),
                     rot=rng.uniform(-5, 5), shadow=rng.random() < 0.7, light=rng.uniform(0.05, 0.2),
                     noise=rng.randint(0, 2), vignette=False, props=0)
        else:  # home
            p.update(bg=rng.choice(("solid", "gradient", "split", "floor", "pattern", "podium")),
                     bg1=rng.choice(home_bg + neutral), bg2=rng.choice(home_bg),
                     dx=rng.uniform(-0.09, 0.09), dy=rng.uniform(-0.08, 0.06), scale=rng.uniform(0.72, 1.02),
                     rot=rng.uniform(-12, 12), shadow=rng.random() < 0.5, light=rng.uniform(0.1, 0.35),
                     noise=rng.randint(1, 4), vignette=rng.random() < 0.3, props=rng.choice((0, 0, 1, 2, 3)))
        return p

    def _detail_params(self, rng: random.Random, base: dict) -> dict:
        p = dict(base)
        p.update(seed=rng.getrandbits(32), scale=base["scale"] * rng.uniform(1.6, 2.0),
                 dx=rng.uniform(-0.25, 0.25), dy=rng.uniform(-0.25, 0.2), rot=base["rot"] + rng.uniform(-6, 6),
                 corner_logo=False, props=0, shadow=False)
        return p

    def _own_photos(self, rng: random.Random, listing: _Listing, style: str, n_images: int | None = None,
                    corner_logo: bool = False, params: dict | None = None) -> None:
        photo = dict(params) if params is not None else self._photo_params(rng, style)
        photo["corner_logo"] = corner_logo
        main = self._task("product", {"look": listing.product.look, "photo": photo})
        listing.images = [self._out(main, listing, "1")]
        n = n_images if n_images is not None else (2 if rng.random() < DETAIL_SHOT_PROBABILITY else 1)
        if n >= 2:
            detail = self._task("product", {"look": listing.product.look, "photo": self._detail_params(rng, photo)})
            listing.images.append(self._out(detail, listing, "2"))

    def _derived_photos(self, source: _Listing, target: _Listing, edits: list[dict] | None, quality: int,
                        max_images: int = 3) -> None:
        target.images = [self._out(ref.task, target, str(k + 1), edits=list(edits or []), quality=quality)
                         for k, ref in enumerate(source.images[:max_images])]
