"""The signal registry: adding a signal means one new module and one line here.

A signal class declares everything the rest of simgov needs from it: its comparison, its part in
the item-match score (`match_part`), its kind and its bank index; nothing else names it.
"""
from __future__ import annotations

from ..config import Config
from .base import BuildContext, Candidate, Query, Signal, SignalOutput
from .image import ImageSignal
from .text import TextSignal
from .title import TitleSignal
from .video import VideoSignal

REGISTRY: dict[str, type[Signal]] = {cls.name: cls for cls in (TitleSignal, TextSignal, ImageSignal, VideoSignal)}


def register(cls: type[Signal]) -> type[Signal]:
    """Add a signal class to the registry (after the built-in ones); returns it, so it can decorate."""
    if cls.name in REGISTRY and REGISTRY[cls.name] is not cls:
        raise ValueError(f"a different signal is already registered as {cls.name!r}")
    REGISTRY[cls.name] = cls
    return cls


def unregister(name: str) -> None:
    """Remove a registered signal (a test's toy signal, once the test is done)."""
    REGISTRY.pop(name, None)


def signal_of_kind(kind: str) -> str | None:
    """The name of the first registered signal of this kind (`Signal.kind`), or None."""
    return next((name for name, cls in REGISTRY.items() if cls.kind == kind), None)


def create_signals(config: Config, names: list[str] | None = None) -> dict[str, Signal]:
    """Instances of the named signals (all registered ones by default), in registry order."""
    wanted = list(REGISTRY) if names is None else names
    unknown = [n for n in wanted if n not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown signal(s): {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    return {name: REGISTRY[name](config) for name in wanted}


__all__ = ["REGISTRY", "register", "unregister", "signal_of_kind", "create_signals", "Signal", "SignalOutput",
           "BuildContext", "Candidate", "Query"]
