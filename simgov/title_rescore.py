"""The static title engine's exact re-scoring of the self-join's pairs near their decision.

The static engine's cosines are not the exact model's, and the level model reads a title cosine as
one of a few bands. A decided pair whose decision a title band up to `text_model.rescore_bands`
away from its own would change is not trusted to the static cosine: its two titles are encoded by
the exact model (`TitleSignal.exact_vectors`, once per title and process) and the pair is decided
on the exact cosine's band. The other pairs keep the static figures: no band near theirs would
decide them otherwise. Mutual-best flags stay those of the static rank scores.
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from .matching.catalogue import listing_texts
from .matching.levels import LEVELS, TITLE_EDGES, MatchModel, bundled_model, level_name, title_level
from .signals.text.idf import IdfTable
from .signals.text.levels import text_levels
from .signals.title import TitleSignal
from .storage.items import Store

#: Posteriors are read back as logits; this keeps 0 and 1 finite.
_EDGE = 1e-12


def band_reach(model: MatchModel, bands: int) -> np.ndarray:
    """For each title band, the most a pair's level logit can move when only its title band moves up
    to `bands` away: the title weight's change plus, for each comparison the title has joint weights
    with, the largest change over that comparison's levels. A pair farther than this from the
    threshold keeps its decision in every such band, so it needs no look (`rescore_near_decision`)."""
    top = len(LEVELS["title"]) - 1
    partners = [pair for pair in model.joint if "title" in pair]

    def joint(pair: tuple[str, str], band: int, level: int) -> float:
        if not level:
            return 0.0
        other = pair[1] if pair[0] == "title" else pair[0]
        named = {"title": level_name("title", band), other: level_name(other, level)}
        return model.weights.get(f"{named[pair[0]]}&{named[pair[1]]}", 0.0)

    reach = np.zeros(top + 1)
    title = [model.weights.get(level_name("title", band), 0.0) if band else 0.0 for band in range(top + 1)]
    for band in range(1, top + 1):
        for other in range(max(1, band - bands), min(top, band + bands) + 1):
            move = abs(title[other] - title[band])
            for pair in partners:
                levels = LEVELS[pair[1] if pair[0] == "title" else pair[0]]
                move += max(abs(joint(pair, other, level) - joint(pair, band, level)) for level in range(len(levels)))
            reach[band] = max(reach[band], move)
    return reach


def rescore_pairs(index, table: np.ndarray, names: list[str], flags: np.ndarray) -> int:
    """`rescore_near_decision` for a `SimIndex`'s decided self-join table (`SimIndex.pairs`): its title
    signal, store, match threshold and word weights."""
    title, text = index.signals.get("title"), index.signals.get("text")
    if not isinstance(title, TitleSignal):
        return 0
    return rescore_near_decision(title, index.store, table, names, flags, index.matcher.threshold,
                                 text.idf() if text is not None else None)


def rescore_near_decision(title: TitleSignal, store: Store, table: np.ndarray, names: list[str], flags: np.ndarray,
                          threshold: float, idf: IdfTable | None) -> int:
    """Re-score in place (the title column, the posteriors in columns 4 and 5 of a decided
    `SimIndex._pair_table`) the pairs whose decision a nearby title band would change; returns how
    many pairs were re-scored. Does nothing unless the title signal's `rescore_bands` asks for it."""
    if not title.rescore_bands or "title" not in names or not len(table):
        return 0
    column = 6 + names.index("title")
    cosines = table[:, column]
    used = np.clip(np.where(flags, table[:, 5], table[:, 4]), _EDGE, 1 - _EDGE)
    logits = np.log(used) - np.log1p(-used)
    cut = math.log(threshold / (1 - threshold))
    bands = 1 + (np.clip(np.nan_to_num(cosines), 0.0, 1.0)[:, None] >= np.asarray(TITLE_EDGES)).sum(axis=1)
    reach = band_reach(bundled_model(), title.rescore_bands)[bands] + 1e-9  # + float rounding of the sums
    rows = np.flatnonzero(~np.isnan(cosines) & (np.abs(logits - cut) <= reach))
    if not rows.size:
        return 0
    vec_a, vec_b = table[rows, 0].astype(np.int64).tolist(), table[rows, 1].astype(np.int64).tolist()
    items = {v: s.item for v, s in store.items_by_vec(set(vec_a) | set(vec_b)).items()}
    texts = listing_texts(items)
    model = bundled_model()
    shifts: dict[tuple, list[float]] = {}  # by levels: few combinations recur, each one's 8 logits summed once
    near: list[tuple[int, list[float]]] = []
    for row, a, b in zip(rows.tolist(), vec_a, vec_b):
        if a not in items or b not in items:
            continue
        levels = {"title": title_level(float(cosines[row])), **text_levels(texts[a], texts[b], idf, idf).levels}
        key = tuple(levels.items())
        shift = shifts.get(key)
        if shift is None:
            shift = shifts[key] = _band_shifts(model, levels)
        if title.near_decision(levels["title"], lambda band, row=row, shift=shift: logits[row] + shift[band] >= cut):
            near.append((row, shift))
    if not near:
        return 0
    wanted = [texts[int(table[row, k])].name for row, _ in near for k in (0, 1)]
    exact = title.exact_vectors(wanted)
    for m, (row, shifted) in enumerate(near):
        cosine = float(exact[2 * m] @ exact[2 * m + 1])
        shift = shifted[title_level(cosine)]
        for col in (4, 5):
            p = min(max(float(table[row, col]), _EDGE), 1 - _EDGE)
            table[row, col] = 1.0 / (1.0 + math.exp(-(math.log(p / (1 - p)) + shift)))
        table[row, column] = round(min(1.0, max(0.0, cosine)), 4)
    return len(near)


def _band_shifts(model: MatchModel, levels: Mapping[str, int]) -> list[float]:
    """How much the pair's level logit moves when its title falls in each band instead of its own."""
    here = model.logit(levels)
    return [model.logit({**levels, "title": band}) - here for band in range(len(LEVELS["title"]))]
