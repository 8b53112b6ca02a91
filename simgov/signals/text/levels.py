"""The text signal's comparison levels for the level match model (`simgov.matching.levels`).

A pair's texts fall in one level of each comparison below (level 0 of each says nothing); the match
model adds a fitted weight per level. The parts are those of :func:`compare.compare_prepared`
(codes, brand, measures, colours), plus capacities and counts, the distinctive-word cosine of the
product name and the model words of the name.

Scraped titles carry schema.org literals (``"GoPro HERO4"@en "Shop | Cameras"@en``): the product's
name is the first tagged literal (:func:`head`); codes, brand and measures are read from the whole
title without the tags (:func:`untag`), word overlap and the title embedding from the name only, so
that the shop's name and category appended after it count for nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

from .compare import Comparable, TextComparison, _same_value, _token_cosine, compare_prepared
from .idf import IdfTable, build_idf
from .profile import _ORDINAL_RE, _UNIT_TOKEN_RE, TitleProfile, fold, profile

#: comparison -> its level names; index 0 is the null level (no information, weight 0).
TEXT_LEVELS: dict[str, list[str]] = {
    "code": ["none", "one-side", "conflict-family", "conflict-other", "sibling", "weak", "variant", "exact"],
    "brand": ["unknown", "agree", "guess-differ", "given-conflict"],
    "numbers": ["none", "agree", "conflict"],
    "capacity": ["none", "agree", "conflict"],
    "colour": ["none", "same", "subset", "overlap", "conflict"],
    "tokens": ["<0.15", "0.15-0.30", "0.30-0.45", "0.45-0.60", "0.60-0.80", ">=0.80"],
    "mw": ["none", "conflict", "some-shared", "all-shared"],
    "fits": ["none", "accessory"],
}
#: Upper edges of the token-cosine bands above.
TOKEN_EDGES = (0.15, 0.30, 0.45, 0.60, 0.80)
#: Units whose values name a different product when they differ (a 64 GB and a 128 GB card, a
#: 2-pack and a single unit), where other measures may be rounded or describe a part.
CAPACITY_UNITS = frozenset({"tb", "gb", "mb", "kb", "mah", "ml", "cl", "l", "oz", "pc", "x", "port", "ch",
                            "disc", "cup", "qt"})

_TAGGED = re.compile(r'^\s*"(.+?)"\s*@[a-z]{2}(?:-[a-z]{2,4})?\b', re.IGNORECASE)
_TAG = re.compile(r'"?\s*@[a-z]{2}(?:-[a-z]{2,4})?\b', re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+")
_ROMAN = frozenset({"ii", "iii", "iv", "vi", "vii", "viii", "ix", "xi", "xii"})
# "for", as accessories name the product they fit ("battery for HERO4", "Ladegerät für EOS 60D"), in
# the languages of the scraped catalogues (accents folded).
_FOR = re.compile(r"\b(?:for|fur|pour|per|para|voor|dla|fits|compatible with|compatible con|compatible avec"
                  r"|compatibile con|kompatibel mit)\b([^()\[\]|]{1,60})")


def head(title: str) -> str:
    """The product's name: the first language-tagged literal ("..."@en) when the title starts with
    one (shops append their name and category after it), else the whole title."""
    m = _TAGGED.match(title or "")
    return m.group(1).strip() if m and len(m.group(1).strip()) >= 3 else (title or "").strip()


def untag(title: str) -> str:
    """The title without language tags and their quotes; unchanged when it has no tag (a bare
    quote may mean inches)."""
    if not _TAG.search(title or ""):
        return (title or "").strip()
    return re.sub(r"\s+", " ", _TAG.sub(" ", title).replace('"', " ")).strip()


def model_words(text: str) -> frozenset[str]:
    """Words that name a model: letters and digits mixed (T7i, WX80, HERO4), not a measure (64gb,
    18mm) nor an ordinal; roman generation marks (RX100 II / III). Shorter than the model codes of
    the profile, which need three characters."""
    out = set()
    for t in _WORD.findall(text.lower()):
        if t in _ROMAN or (len(t) >= 2 and any(c.isdigit() for c in t) and any(c.isalpha() for c in t)
                           and not _UNIT_TOKEN_RE.match(t) and not _ORDINAL_RE.match(t)):
            out.add(t)
    return frozenset(out)


@lru_cache(maxsize=1 << 16)
def fitted_models(name: str) -> frozenset[str]:
    """The model words a name says it is for ("Dual Battery Charger (for HERO4)" -> {"hero4"}): the
    name is an accessory of those models, not one of them."""
    return frozenset(w for m in _FOR.finditer(fold(name)) for w in model_words(m.group(1)))


def _fits_level(a: ListingText, b: ListingText) -> int:
    """accessory: one side is for a model the other names, and the other is for nothing."""
    fa, fb = fitted_models(a.name), fitted_models(b.name)
    return 1 if (fa & b.words and not fb) or (fb & a.words and not fa) else 0


@dataclass(frozen=True)
class ListingText:
    """One listing's text as the levels read it: the profile of the whole untagged text, the
    profile of the name alone, the name and its model words."""

    full: TitleProfile
    name_profile: TitleProfile
    name: str
    words: frozenset[str]


def listing_text(title: str, *, brand: str | None = None, description: str | None = None,
                 attributes: Mapping | None = None) -> ListingText:
    name = head(title)
    return ListingText(full=profile(untag(title), brand=brand, description=description, attributes=attributes or None),
                       name_profile=profile(name, brand=brand), name=name, words=model_words(name))


def idf_tables(texts: list[ListingText]) -> tuple[IdfTable, IdfTable]:
    """IDF of the whole texts and of the names over a population (a pairs file's listings)."""
    return build_idf(t.full for t in texts), build_idf(t.name_profile for t in texts)


def _code_level(value: float, evidence: list[str], a: TitleProfile, b: TitleProfile) -> int:
    if value >= 0.999:
        return 7  # exact
    if value >= 0.6:
        return 6  # variant, near or contained
    if value > 0:
        return 5  # weak: a short code agrees
    if value <= -0.99:
        return 2  # conflict within one family
    if value < 0:
        return 3  # conflict of other shapes
    if any("sibling" in line for line in evidence):
        return 4
    return 1 if (a.match_codes() or b.match_codes()) else 0


def _capacity_level(a: TitleProfile, b: TitleProfile) -> int:
    agree = conflict = False
    for unit in set(a.numbers) & set(b.numbers) & CAPACITY_UNITS:
        if any(_same_value(x, y, unit) for x in a.numbers[unit] for y in b.numbers[unit]):
            agree = True
        else:
            conflict = True
    return 2 if conflict else (1 if agree else 0)


def _band(x: float, edges) -> int:
    return sum(x >= e for e in edges)


def _colour_level(a: TitleProfile, b: TitleProfile) -> int:
    """none: a side names no colour; same: the same colours; subset: one side names only colours of the
    other (a shop that lists the main colours of a colourway); overlap: some shared and each side has
    its own; conflict: none shared."""
    if not a.colours or not b.colours:
        return 0
    ca, cb = set(a.colours), set(b.colours)
    if ca == cb:
        return 1
    return 2 if ca <= cb or cb <= ca else (3 if ca & cb else 4)


@dataclass
class TextLevels:
    """A pair's text levels (comparison -> level index), the text signal's own comparison of the
    whole texts (its score and plain-language evidence) and the name token cosine."""

    levels: dict[str, int]
    comparison: TextComparison
    name_cosine: float


def text_levels(a: ListingText, b: ListingText, idf_full: Mapping[str, float] | None,
                idf_name: Mapping[str, float] | None) -> TextLevels:
    """The level of every text comparison of two listings under the population's IDF tables."""
    full_a, full_b = a.full, b.full
    comparison = compare_prepared(Comparable(full_a, idf_full), Comparable(full_b, idf_full))
    parts = comparison.parts
    code_evidence = [line for line in comparison.evidence if "model code" in line]
    name_cosine = _token_cosine(Comparable(a.name_profile, idf_name), Comparable(b.name_profile, idf_name))
    if not a.words or not b.words:
        words = 0
    else:
        words = 3 if a.words == b.words else (2 if a.words & b.words else 1)
    brand = parts["brand"]
    levels = {
        "code": _code_level(parts["code"], code_evidence, full_a, full_b),
        "brand": 1 if brand > 0 else 3 if brand < 0 else (2 if full_a.brand and full_b.brand else 0),
        "numbers": 1 if parts["numbers"] > 0 else (2 if parts["numbers"] < 0 else 0),
        "capacity": _capacity_level(full_a, full_b),
        "colour": _colour_level(full_a, full_b),
        "tokens": _band(name_cosine, TOKEN_EDGES),
        "mw": words,
        "fits": _fits_level(a, b),
    }
    return TextLevels(levels, comparison, name_cosine)
