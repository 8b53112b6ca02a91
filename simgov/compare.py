"""Deciding about two listings that need not be indexed (`simgov compare`, `POST /v1/compare`).

Each pair's titles and texts fall in the comparison levels of the level match model
(`simgov.matching.levels`); the model's posterior decides. The title embedding is the cosine of
the two product names (`signals.text.levels.head`) by the title signal's own encoder: an index's,
or the bundled exact model without one. Word weights (IDF) are the index's, or without an index
those of the listings compared together (every listing of a pairs file; all words alike for a
single pair).

Pictures count on their own, as in the index (`simgov.matching.decision`): two listings whose
pictures the image signal calls the same (its `image_same_picture` decision, geometric check
included) are a match whatever their titles, and `decision.relation` says what that means
(`picture_reuse`: another seller's photo on a listing whose title names another product).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np
from pydantic import field_validator

from .config import Config
from .index import SimIndex, same_description
from .matching.decision import relation
from .matching.levels import MatchModel, Step, bundled_model, title_level
from .matching.thresholds import threshold
from .schema import Item, _clean_id, canonical_json
from .signals.base import BuildContext
from .signals.image import ImageSignal
from .signals.text.idf import IdfTable
from .signals.text.levels import ListingText, idf_tables, listing_text, text_levels
from .signals.title import TitleSignal

#: Fewer distinct listings than this give no word weights (IDF): in two listings every shared word
#: would weigh less than every other, which is the opposite of what IDF means; all words weigh alike.
MIN_IDF_LISTINGS = 100


class Listing(Item):
    """A listing to compare: an item record (CONTRACT.md section 1) whose id and seller may be left out."""

    item_id: str | None = None  # type: ignore[assignment]
    seller_id: str | None = None  # type: ignore[assignment]

    @field_validator("item_id", "seller_id")
    @classmethod
    def _ids(cls, v: str | None) -> str | None:
        return None if v is None else _clean_id(v)


@dataclass
class Comparison:
    """The decision about two listings, its per-signal scores, evidence and the level waterfall."""

    score: float
    match: bool
    relation: str
    signals: dict[str, float]
    evidence: list[str]
    waterfall: list[Step]
    posterior: float
    levels: dict[str, int]  # comparison -> the level index the pair fell in
    problems: list[str] = field(default_factory=list)

    def record(self) -> dict:
        """The output record: score, match, relation, signals, evidence, the waterfall (and the
        problems with the records' pictures, when there were some)."""
        out = {"score": self.score, "match": self.match, "relation": self.relation, "signals": self.signals,
               "evidence": self.evidence,
               "waterfall": [{"level": s.level, "weight": round(s.weight, 4)} for s in self.waterfall]}
        if self.problems:
            out["problems"] = self.problems
        return out


class Comparer:
    """Decides pairs of listings with one match model, title encoder, picture signal and IDF source."""

    def __init__(self, title: TitleSignal, picture: ImageSignal | None, model: MatchModel,
                 idf: tuple[IdfTable, IdfTable] | None = None, overrides: Mapping[str, float] | None = None):
        self.title = title
        self.picture = picture
        self.model = model
        self.match_posterior = threshold("level_match", overrides)  # calibration.json, or the index's override
        self.idf = idf  # None: IDF over the listings of each call (`population_idf`)

    @classmethod
    def bundled(cls, config: Config | None = None) -> "Comparer":
        """Without an index: the bundled match model and the configured (default: exact) title model."""
        config = config or Config()
        return cls(TitleSignal(config), ImageSignal(config), bundled_model(), overrides=config.thresholds)

    @classmethod
    def for_index(cls, index: SimIndex) -> "Comparer":
        """With an index: its title encoder and its catalogue's word weights."""
        title = index.signals.get("title")
        if not isinstance(title, TitleSignal):
            title = TitleSignal(index.config)
        text = index.signals.get("text")
        idf = (text.idf(), text.idf()) if text is not None else None
        picture = index.signals.get("image")
        return cls(title, picture if isinstance(picture, ImageSignal) else ImageSignal(index.config),
                   bundled_model(), idf, index.config.thresholds)

    @staticmethod
    def population_idf(listings: list[Listing]) -> tuple[IdfTable | None, IdfTable | None]:
        """Word weights over these listings (each distinct one once), or none (all words alike) for
        fewer than MIN_IDF_LISTINGS: what a comparer without an index uses, set once for a whole
        pairs file compared in parts."""
        return _idf_of(list(_distinct_texts(listings).values()))

    def compare(self, a: Listing, b: Listing, roots: list[Path]) -> Comparison:
        return self.compare_many([(a, b)], roots)[0]

    def compare_many(self, pairs: list[tuple[Listing, Listing]], roots: list[Path]) -> list[Comparison]:
        """Every pair decided, in order. `roots`: the folders pictures may be read from (relative
        paths resolve in the first); a picture elsewhere is left out and named in `problems`."""
        listings = [x for pair in pairs for x in pair]
        distinct = _distinct_texts(listings)
        texts = [distinct[_text_key(x)] for x in listings]
        idf_full, idf_name = self.idf or _idf_of(list(distinct.values()))
        vectors = self._name_vectors([t.name for t in texts])
        pictures, problems = self._pictures(listings, roots)
        out = []
        for n, (a, b) in enumerate(pairs):
            i, j = 2 * n, 2 * n + 1
            out.append(self._decide(a, b, texts[i], texts[j], vectors[i], vectors[j], pictures[i], pictures[j],
                                    idf_full, idf_name, problems[i] + problems[j]))
        # the static engine: a pair that another title band near its own would decide otherwise is
        # decided again on the exact model's cosine (TitleSignal.near_decision)
        near = [n for n, c in enumerate(out) if self.title.near_decision(
            c.levels["title"], lambda band, c=c: self.model.posterior({**c.levels, "title": band})
            >= self.match_posterior)]
        if near:
            exact = self.title.exact_vectors([texts[i].name for n in near for i in (2 * n, 2 * n + 1)])
            for m, n in enumerate(near):
                i, j = 2 * n, 2 * n + 1
                out[n] = self._decide(pairs[n][0], pairs[n][1], texts[i], texts[j], exact[2 * m], exact[2 * m + 1],
                                      pictures[i], pictures[j], idf_full, idf_name, problems[i] + problems[j])
        return out

    def _name_vectors(self, names: list[str]) -> list[np.ndarray | None]:
        distinct = sorted({n for n in names if n})
        encoded = dict(zip(distinct, self.title.encode(distinct))) if distinct else {}
        return [encoded.get(n) for n in names]

    def _pictures(self, listings: list[Listing], roots: list[Path]) -> tuple[list[bytes | None], list[list[str]]]:
        if self.picture is None:
            return [None] * len(listings), [[] for _ in listings]
        outputs = self.picture.compute(listings, BuildContext(data_roots=roots))
        return [o.blob for o in outputs], [o.problems for o in outputs]

    def _decide(self, a: Listing, b: Listing, ta: ListingText, tb: ListingText, va, vb, pa, pb,
                idf_full, idf_name, problems: list[str]) -> Comparison:
        cosine = None if va is None or vb is None else float(np.dot(va, vb))
        text = text_levels(ta, tb, idf_full, idf_name)
        levels = {"title": title_level(cosine), **text.levels}
        steps = self.model.waterfall(levels)
        p = self.model.posterior(levels)
        signals: dict[str, float] = {}
        evidence: list[str] = []
        if cosine is not None:
            signals["title"] = round(min(1.0, max(0.0, cosine)), 4)
            evidence.append(f"product names {signals['title']:.2f} alike in meaning")
        if a.title.strip() and b.title.strip():
            signals["text"] = round(text.comparison.score, 4)
            evidence += text.comparison.evidence
            if text.levels["code"] < 5:  # codes that agree say more than how the words split
                evidence += _word_evidence(ta, tb, text.levels["mw"])
        same_picture = False
        if pa is not None and pb is not None:
            picture_score = self.picture.score(pa, pb)
            if picture_score is not None:
                signals["image"] = picture_score
                same_picture = ImageSignal.is_match(picture_score)
                evidence += self.picture.explain(pa, pb)
        # as the index decides: the titles contradict a pair when their codes or given brands
        # conflict; one seller's own photo on two products proves nothing
        same_seller = a.seller_id is not None and a.seller_id == b.seller_id
        contradicted = levels["code"] in (2, 3) or levels["brand"] == 3
        by_picture = same_picture and p < self.match_posterior and not (same_seller and contradicted)
        match = p >= self.match_posterior or by_picture
        score = max(round(p, 4), signals["image"]) if by_picture else round(p, 4)
        evidence.append(_model_line(p, steps))
        if by_picture:
            evidence.append("the same picture (the image signal's own decision, geometric check included): a match "
                            "on the picture alone, whatever the titles say")
        # no accounts here: no shared picture is known to be the brand's own
        rel = relation(same_seller, match, same_picture=same_picture, contradicted=contradicted, brand_picture=False,
                       same_text=same_description(a, b))
        return Comparison(score=score, match=match, relation=rel, signals=signals, evidence=evidence, waterfall=steps,
                          posterior=round(p, 4), levels=levels, problems=problems)


def _distinct_texts(listings: list[Listing]) -> dict[tuple, ListingText]:
    """Each distinct listing's text, once (a listing in several pairs counts once in the IDF)."""
    out: dict[tuple, ListingText] = {}
    for x in listings:
        key = _text_key(x)
        if key not in out:
            out[key] = listing_text(x.title, brand=x.brand, description=x.description, attributes=x.attributes)
    return out


def _idf_of(texts: list[ListingText]) -> tuple[IdfTable | None, IdfTable | None]:
    return idf_tables(texts) if len(texts) >= MIN_IDF_LISTINGS else (None, None)


def _text_key(x: Listing) -> tuple:
    return x.title, x.brand, x.description, canonical_json(x.attributes)


def _word_evidence(a: ListingText, b: ListingText, level: int) -> list[str]:
    if level == 1:
        return [f"different model words: {'/'.join(sorted(a.words))} vs {'/'.join(sorted(b.words))}"]
    if level == 3:
        return [f"same model words: {'/'.join(sorted(a.words))}"]
    return []


def _model_line(p: float, steps: list[Step]) -> str:
    """The level model's decision in words: its posterior and the levels that moved it most."""
    moved = sorted(steps[1:], key=lambda s: -abs(s.weight))[:3]
    said = ", ".join(f"{s.level} {s.weight:+.2f}" for s in moved if abs(s.weight) >= 0.05)
    return f"level model: {p:.2f} likely the same product" + (f" (most weight: {said})" if said else "")

