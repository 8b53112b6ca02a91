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

from .compare import Comparable, TextComparison, _same_value, _series_prefixed, _token_cosine, compare_prepared
from .idf import IdfTable, build_idf
from .profile import (APERTURE_RE, _GLUED_COLOUR_RE, _NUM_UNIT_RE, _ORDINAL_RE, _RANGE2_RE, _RATE_RE, _UNIT_TOKEN_RE,
                      TitleProfile, fold, profile)

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
    "sole": ["none", "same", "conflict"],
    "lens": ["none", "same", "body-kit", "differ"],
    "version": ["none", "conflict"],
    "mount": ["none", "conflict"],
    "audience": ["none", "kids", "gender"],
}
#: Upper edges of the token-cosine bands above.
TOKEN_EDGES = (0.15, 0.30, 0.45, 0.60, 0.80)
#: Units whose values name a different product when they differ (a 64 GB and a 128 GB card, a
#: 2-pack and a single unit), where other measures may be rounded or describe a part.
CAPACITY_UNITS = frozenset({"tb", "gb", "mb", "kb", "mah", "ml", "cl", "l", "oz", "pc", "x", "port", "ch",
                            "disc", "cup", "qt"})

_TAGGED = re.compile(r'^\s*"(.+?)"\s*@[a-z]{2}(?:-[a-z]{2,4})?\b', re.IGNORECASE)
# A quoted name followed by the shop's text without a language tag ('"Canon LP-E17 Battery" " Canon 9967B002
# Accessories CDW.com'); a quote after a bare number is an inch mark ('"Manfrotto 055 Series 67" 3-Section Tripod"').
_QUOTED = re.compile(r'^\s*"([^"]+)"\s+\S')
_INCHES = re.compile(r'(?:^|\s)\d+(?:[.,]\d+)?$')
# A scraper's missing value in place of the name ('"Null" "495942-B21 HP E5506 2.13GHz"'): the whole title is read.
_MISSING = frozenset({"null", "none", "nan", "n/a", "undefined"})
_TAG = re.compile(r'"?\s*@[a-z]{2}(?:-[a-z]{2,4})?\b', re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+")
_RESOLUTIONS = frozenset({"2k", "4k", "5k", "8k"})
_ROMAN = frozenset({"ii", "iii", "iv", "vi", "vii", "viii", "ix", "xi", "xii"})
# "for", as accessories name the product they fit ("battery for HERO4", "Ladegerät für EOS 60D"), in
# the languages of the scraped catalogues (accents folded).
_FOR = re.compile(r"\b(?:for|fur|pour|per|para|voor|dla|fits|compatible with|compatible con|compatible avec"
                  r"|compatibile con|kompatibel mit)\b([^()\[\]|]{1,60})")


# The sole of a football boot as the scraped catalogues write it (accents folded): firm ground, soft
# ground, artificial grass, turf, indoor, multi and hard ground. The same boot on another sole is another
# product (a Tiempo FG is not the Tiempo SG).
_SOLE_NAMES = {
    "fg": ("fg", "firm ground", "terreni compatti", "terreni copmpatti", "terrenos firmes", "terreno firme",
           "terrain sec", "nocken"),
    "sg": ("sg", "soft ground", "terreni morbidi", "terrenos blandos", "terreno blando", "terrain gras", "stollen"),
    "ag": ("ag", "artificial grass", "artificial ground", "erba artificiale", "erba sintetica", "cesped artificial",
           "terrain synthetique", "kunstrasen"),
    "tf": ("tf", "turf", "astroturf", "moqueta"),
    "ic": ("ic", "indoor", "futsal", "sala", "halle", "hallenschuhe", "salle"),
    "mg": ("mg", "multi ground", "multiground"),
    "hg": ("hg", "hard ground"),
}
_SOLE = {word: sole for sole, words in _SOLE_NAMES.items() for word in words}
_SOLE_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _SOLE), key=len, reverse=True)) + r")\b")


@lru_cache(maxsize=1 << 16)
def soles(text: str) -> frozenset[str]:
    """The football-boot soles a title names ("Tiempo Legend FG/AG" -> {"fg", "ag"})."""
    return frozenset(_SOLE[m] for m in _SOLE_RE.findall(fold(text)))


def _sole_level(a: ListingText, b: ListingText) -> int:
    """none: a side names no sole; same: a sole in common; conflict: none in common."""
    if not a.soles or not b.soles:
        return 0
    return 1 if a.soles & b.soles else 2


# A camera sold without a lens ("body only", "Gehäuse", "boîtier", "cuerpo", "corpo", "behuizing"); it and a
# lens's aperture (profile.APERTURE_RE) are read only from a text that also names a focal length (mm).
_BODY_RE = re.compile(r"\b(?:body|gehause|boitier|cuerpo|corpo|behuizing)\b")


# The camera makers whose mounts a lens is made for, as lens makers' listings name them ("Sigma 10-20mm ...
# for Canon", "(Nikon)", "Sony Alpha"); Minolta's mount is Sony's A-mount.
_MOUNTS = {"canon": "canon", "nikon": "nikon", "sony": "sony", "minolta": "sony", "pentax": "pentax",
           "fuji": "fujifilm", "fujifilm": "fujifilm", "olympus": "olympus", "panasonic": "panasonic",
           "leica": "leica", "samsung": "samsung"}
_MOUNT_RE = re.compile(r"\b(" + "|".join(_MOUNTS) + r")\b")


@dataclass(frozen=True)
class Lens:
    """What a camera or lens listing says of its optics: focal lengths (mm, ranges as "18-55"),
    apertures, whether it is a body without a lens, and the camera makers it names (read only with
    a focal length: the mounts a lens is for)."""

    focal: frozenset[str]
    apertures: frozenset[str]
    body: bool
    mounts: frozenset[str] = frozenset()


def lens(text: str, focal: list[str]) -> Lens:
    """The optics of a text whose measures in mm (the profile's) are `focal`."""
    low = fold(text)
    if not focal:
        return Lens(frozenset(), frozenset(), bool(_BODY_RE.search(low)))
    apertures = frozenset("-".join(f"{float(x):g}" for x in (m.group(1) or m.group(2)).split("-"))
                          for m in APERTURE_RE.finditer(low))
    mounts = frozenset(_MOUNTS[m] for m in _MOUNT_RE.findall(low))
    return Lens(frozenset(focal), apertures, bool(_BODY_RE.search(low)), mounts)


def _mount_level(a: Lens, b: Lens) -> int:
    """conflict: both name focal lengths and camera makers, none in common (a Sigma 4.5mm for Sony is not
    the one for Nikon); same makers say nothing beyond the brand level."""
    return 1 if a.mounts and b.mounts and not a.mounts & b.mounts else 0


def _lens_level(a: Lens, b: Lens) -> int:
    """body-kit: one side is a body and names no focal length, the other names a zoom range (a kit);
    differ: focal lengths or apertures on both sides, not the same; same: those given are the same."""
    for x, y in ((a, b), (b, a)):
        if x.body and not x.focal and any("-" in f for f in y.focal):
            return 2
    pairs = [(x, y) for x, y in ((a.focal, b.focal), (a.apertures, b.apertures)) if x and y]
    if not pairs:
        return 0
    return 1 if all(x == y or _range_apart(x, y) for x, y in pairs) else 3


def _range_apart(x: frozenset[str], y: frozenset[str]) -> bool:
    """One side gives a range's ends apart ("EF zoom lens - 24 mm 70 mm" against "EF 24-70mm"): the same
    values once ranges are read as their ends, one side writing no range."""
    ends = [frozenset(e for v in s for e in v.split("-")) for s in (x, y)]
    return ends[0] == ends[1] and not (any("-" in v for v in x) and any("-" in v for v in y))


# A number after a word of a product's name, not a measure: the model's version or generation under that
# word ("Pegasus 33", "evoPOWER 4.3", "Instax Mini 8", "Air Jordan 11", "Class 10"), a roman one ("Mark II",
# "RX100 III", "Phantom II": as its number) or one glued to a word of letters ("HERO4" as "Hero 4"). A "+"
# after it is another version ("HERO3+" is not the HERO3). Two names that put other numbers after the same
# word name other models; numbers after words of only one name say nothing.
_ROMAN_NUMBERS = {"ii": "2", "iii": "3", "iv": "4", "vi": "6", "vii": "7", "viii": "8", "ix": "9", "xi": "11",
                  "xii": "12"}
_VERSION_RE = re.compile(r"\b([a-z][a-z0-9]*)[\s-]+(\d{1,3}(?:\.\d)?|" + "|".join(_ROMAN_NUMBERS)
                         + r")(\+?)(?![\w,/%+-]|\.\d)")
_GLUED_VERSION_RE = re.compile(r"\b([a-z]{3,})(\d{1,2})(\+?)(?![\w,/%+-]|\.\d)")
_NOT_VERSION_WORDS = frozenset({"page", "pagina", "seite", "x", "in", "and", "of", "for", "with", "to", "by", "or",
                                "pack", "set", "lot"})


def versions(name: str) -> frozenset[tuple[str, str]]:
    """(word, number) of a product name (measures such as 64 GB or 18-55 mm taken out first)."""
    low = _NUM_UNIT_RE.sub(" ", _RANGE2_RE.sub(" ", fold(name)))
    return frozenset((w, _ROMAN_NUMBERS.get(n, n) + plus) for regex in (_VERSION_RE, _GLUED_VERSION_RE)
                     for w, n, plus in regex.findall(low) if w not in _NOT_VERSION_WORDS)


def _version_level(a: frozenset, b: frozenset) -> int:
    """conflict: some word has other numbers on each side. The same number says nothing of its own: a
    level for it (+0.38 fitted) outweighed a colour conflict of the same model (blue against red)."""
    shared = {w for w, _ in a} & {w for w, _ in b}
    return 1 if any(not {n for w, n in a if w == k} & {n for w, n in b if w == k} for k in shared) else 0


def _audience_level(a: TitleProfile, b: TitleProfile) -> int:
    """gender: one text is for men only, the other for women only; kids: one text is a child's version
    (junior, kids, enfant, bambino, GS ... read as "kids" by the profile) and the other is not. The
    same model for another wearer is another product."""
    ga, gb = ("men" in a.tokens, "women" in a.tokens), ("men" in b.tokens, "women" in b.tokens)
    if {ga, gb} == {(True, False), (False, True)}:
        return 2
    return 1 if ("kids" in a.tokens) != ("kids" in b.tokens) else 0


def head(title: str) -> str:
    """The product's name: the first language-tagged literal ("..."@en), or the first quoted literal
    of two words or more followed by more text, when the title starts with one (shops append their
    name, category and other offers after it); else the whole title."""
    m = _TAGGED.match(title or "")
    if m is None:
        m = _QUOTED.match(title or "")
        if m and (_INCHES.search(m.group(1)) or len(m.group(1).split()) < 2):
            m = None  # an inch mark, or one word: a brand or a category ('"Tissot" "Tissot Swiss Made Watch T047..."')
    name = m.group(1).strip() if m else ""
    return name if len(name) >= 3 and name.lower() not in _MISSING else (title or "").strip()


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
    low = text.lower()
    if "f" in low:
        low = APERTURE_RE.sub(" ", low)  # a lens's aperture (f/2.8, F4L) names no model
    if "/" in low or "ps" in low:
        low = _RATE_RE.sub(" ", low)  # nor a data rate (11Mbps, 90MB/s)
    for t in _WORD.findall(low):
        m = _GLUED_COLOUR_RE.match(t)
        if m is not None:
            t = m.group(1)  # "hero5black": the model HERO5 and its colour written without a space
        if t in _RESOLUTIONS:
            continue  # a video or screen resolution (4K, like 1080p) names no model
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
    soles: frozenset[str]
    lens: Lens
    versions: frozenset[tuple[str, str]]


def listing_text(title: str, *, brand: str | None = None, description: str | None = None,
                 attributes: Mapping | None = None) -> ListingText:
    name, text = head(title), untag(title)
    full = profile(text, brand=brand, description=description, attributes=attributes or None)
    # an untagged title with no description or attributes: the name's profile is the whole text's
    name_profile = full if name == text and not description and not attributes else profile(name, brand=brand)
    return ListingText(full=full, name_profile=name_profile, name=name, words=model_words(name),
                       soles=soles(text), lens=lens(text, full.numbers.get("mm", [])), versions=versions(name))


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


#: Byte units in gigabytes: a capacity one side writes in GB and the other in TB or MB is compared across them
#: (500GB against 1TB is another disk, 1TB against 1000GB the same).
BYTE_UNITS = {"kb": 1e-6, "mb": 1e-3, "gb": 1.0, "tb": 1e3}


def _capacity_level(a: TitleProfile, b: TitleProfile) -> int:
    """agree: a capacity unit both give has a value in common; conflict: one has none in common, or the
    byte capacities given in a unit of one side only (GB against TB) have no value in common within 3 %."""
    agree = conflict = False
    for unit in set(a.numbers) & set(b.numbers) & CAPACITY_UNITS:
        if any(_same_value(x, y, unit) for x in a.numbers[unit] for y in b.numbers[unit]):
            agree = True
        else:
            conflict = True
    only_a, only_b = _bytes(a, set(b.numbers)), _bytes(b, set(a.numbers))
    if only_a and only_b:
        if any(abs(x - y) <= 0.03 * max(x, y) for x in only_a for y in only_b):
            agree = True
        else:
            conflict = True
    return 2 if conflict else (1 if agree else 0)


def _bytes(p: TitleProfile, other_units: set[str]) -> list[float]:
    """The byte capacities (in GB) of a profile in units the other profile does not use."""
    return [float(v) * BYTE_UNITS[unit] for unit, values in p.numbers.items()
            if unit in BYTE_UNITS and unit not in other_units for v in values if "-" not in v]


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


def _words_level(a: frozenset[str], b: frozenset[str]) -> int:
    """none: a side has no model word; all-shared: each word of each side is on the other; some-shared: a word
    in common; conflict: none in common. A word behind a maker's series prefix is the word ("hdrcx405" is
    "cx405", "dmcgx85kk" is "gx85": the code relation `_series_prefixed`)."""
    if not a or not b:
        return 0
    if a == b:
        return 3
    only_a, only_b = a - b, b - a
    paired_a = {x for x in only_a if any(_series_related(x, y) for y in b)}
    paired_b = {y for y in only_b if any(_series_related(x, y) for x in a)}
    if len(paired_a) == len(only_a) and len(paired_b) == len(only_b):
        return 3
    return 2 if a & b or paired_a else 1


def _series_related(x: str, y: str) -> bool:
    return _series_prefixed(x, y) if len(x) < len(y) else _series_prefixed(y, x)


@dataclass
class TextLevels:
    """A pair's text levels (comparison -> level index), the text signal's own comparison of the
    whole texts (its score and plain-language evidence) and the name token cosine."""

    levels: dict[str, int]
    comparison: TextComparison
    name_cosine: float


def prepared_text(text: ListingText, idf_full: Mapping[str, float] | None,
                  idf_name: Mapping[str, float] | None) -> tuple[Comparable, Comparable]:
    """A listing's whole text and its name made ready for comparison (`Comparable`): a caller that
    compares one listing in many pairs (the self-join) makes them once and hands them to `text_levels`."""
    full = Comparable(text.full, idf_full)
    same = text.name_profile is text.full and idf_name is idf_full
    return full, full if same else Comparable(text.name_profile, idf_name)


def text_levels(a: ListingText, b: ListingText, idf_full: Mapping[str, float] | None,
                idf_name: Mapping[str, float] | None,
                ready: tuple[tuple[Comparable, Comparable], tuple[Comparable, Comparable]] | None = None) -> TextLevels:
    """The level of every text comparison of two listings under the population's IDF tables.
    `ready`: both listings' `prepared_text` under those tables, where the caller keeps them."""
    full_a, full_b = a.full, b.full
    (ready_a, name_a), (ready_b, name_b) = ready or (prepared_text(a, idf_full, idf_name),
                                                     prepared_text(b, idf_full, idf_name))
    comparison = compare_prepared(ready_a, ready_b)
    parts = comparison.parts
    code_evidence = [line for line in comparison.evidence if "model code" in line]
    name_cosine = _token_cosine(name_a, name_b)
    words = _words_level(a.words, b.words)
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
        "sole": _sole_level(a, b),
        "lens": _lens_level(a.lens, b.lens),
        "version": _version_level(a.versions, b.versions),
        "mount": _mount_level(a.lens, b.lens),
        "audience": _audience_level(full_a, full_b),
    }
    return TextLevels(levels, comparison, name_cosine)
