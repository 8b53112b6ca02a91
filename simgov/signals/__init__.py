"""The signal registry: adding a signal means one new module and one line here."""
from __future__ import annotations

from ..config import Config
from .base import BuildContext, Candidate, Query, Signal, SignalOutput
from .image import ImageSignal
from .text import TextSignal
from .title import TitleSignal

REGISTRY: dict[str, type[Signal]] = {cls.name: cls for cls in (TitleSignal, TextSignal, ImageSignal)}


def create_signals(config: Config, names: list[str] | None = None) -> dict[str, Signal]:
    """Instances of the named signals (all registered ones by default), in registry order."""
    wanted = list(REGISTRY) if names is None else names
    unknown = [n for n in wanted if n not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown signal(s): {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    return {name: REGISTRY[name](config) for name in wanted}


__all__ = ["REGISTRY", "create_signals", "Signal", "SignalOutput", "BuildContext", "Candidate", "Query"]
