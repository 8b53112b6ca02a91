"""Constants and deterministic helpers shared by every part of the demo generator."""
from __future__ import annotations

import hashlib
import math
import random
import unicodedata
from datetime import datetime, timezone
from typing import Any, Callable

GENERATOR_VERSION = "simgov.demo/2"  # 2: every own photo is its own shot (angle, light, white balance)

PHOTO_SIZE = 320
AVATAR_SIZE = 160
ORIGINAL_QUALITY = 90          # quality of every picture as first published
DETAIL_SHOT_PROBABILITY = 0.35

ProgressFn = Callable[[int, int], None]


def _subseed(*parts: Any) -> int:
    """A 63-bit seed from any parts; stable across processes (no ``hash()``)."""
    digest = hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def _rng(*parts: Any) -> random.Random:
    return random.Random(_subseed(*parts))


def _ascii(text: str) -> str:
    text = text.replace("ß", "ss").replace("ø", "o").replace("'", "")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _clamp(v: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, v))


def _round_price(value: float, rng: random.Random) -> float:
    """Prices as shops write them: 49.99, 50.00, 49.90, 119.00."""
    if value < 1:
        return round(max(value, 0.5), 2)
    style = rng.random()
    base = math.floor(value)
    if style < 0.55:
        return round(base + 0.99 if value - base > 0.3 or base == 0 else base - 0.01, 2)
    if style < 0.8:
        return float(round(value))
    return round(base + 0.9, 2)

_EPOCH = datetime(2019, 1, 1, tzinfo=timezone.utc)
_REGISTRATION_END = datetime(2025, 6, 30, tzinfo=timezone.utc)
_LISTING_END = datetime(2025, 10, 31, tzinfo=timezone.utc)


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")
