"""Inverse document frequency of title tokens over the indexed catalogue (the text signal's
catalogue statistics: token weights of :func:`simgov.signals.text.compare.compare`)."""

from __future__ import annotations

import math
from typing import Iterable, Iterator, Mapping

from .profile import TitleProfile

# --------------------------------------------------------------------------------------------
# IDF
# --------------------------------------------------------------------------------------------


class IdfTable(Mapping[str, float]):
    """Inverse document frequency of tokens; unseen tokens count as the rarest ones."""

    def __init__(self, idf: Mapping[str, float], default: float):
        self._idf = dict(idf)
        self.default = float(default)

    def __getitem__(self, key: str) -> float:
        return self._idf[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._idf)

    def __len__(self) -> int:
        return len(self._idf)

    def get(self, key: str, default: float | None = None) -> float:  # type: ignore[override]
        v = self._idf.get(key)
        if v is not None:
            return v
        return self.default if default is None else default


def build_idf(profiles: Iterable[TitleProfile]) -> IdfTable:
    """Smoothed IDF, ``ln((N+1)/(df+1)) + 1``, over the tokens of the indexed catalogue."""
    df: dict[str, int] = {}
    n = 0
    for p in profiles:
        n += 1
        for t in set(p.tokens):
            df[t] = df.get(t, 0) + 1
    idf = {t: math.log((n + 1) / (c + 1)) + 1.0 for t, c in df.items()}
    return IdfTable(idf, default=math.log(n + 1) + 1.0)
