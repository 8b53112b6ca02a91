"""Every decision threshold of simgov, read from `calibration.json` and nowhere else.

Each threshold has a name (the key an index's `Config.thresholds` overrides it with), a value, what
it applies to and where the value came from. A new threshold is one entry in `calibration.json`;
code asks :func:`threshold` (with the index's overrides) or :func:`default` for it.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Mapping

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


@lru_cache(maxsize=1)
def calibration() -> dict[str, dict]:
    """The thresholds as declared: name -> {value, applies_to, source}."""
    return json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))


def default(name: str) -> float:
    """The calibrated value of one threshold (an int where it counts bits)."""
    try:
        return calibration()[name]["value"]
    except KeyError:
        raise KeyError(f"no threshold {name!r} in {CALIBRATION_FILE.name}; known: {', '.join(calibration())}") from None


def threshold(name: str, overrides: Mapping[str, float] | None = None) -> float:
    """The threshold an index decides with: its override (`Config.thresholds`) or the default."""
    if overrides and name in overrides:
        return float(overrides[name])
    return float(default(name))
