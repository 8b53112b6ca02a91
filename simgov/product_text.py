"""Lexical and structured comparison of product titles.

Two listings of the same product rarely share their wording, but they usually share the
things that identify the product: the model number or part code, the brand, and numbers with
units (screen size, capacity, clock speed).  A sentence embedding captures the semantics of a
title ("LCD TV" ~ "flat panel HDTV") but is nearly blind to the difference between
``KDL-46V3000`` and ``KDL-40V3000``.  This module extracts those identifiers once per item
(:func:`profile`, stored as a :class:`TitleProfile`), gives keys for an inverted candidate
index (:func:`blocking_keys`), compares two profiles with plain-words evidence
(:func:`compare`); `simgov.matching.combine` merges this score with the other signals'.

Everything here is pure: no I/O, no global state, no model.  The constants of
:func:`compare` were set on the calibration half of the Abt-Buy
benchmark (``scripts/eval_abt_buy_matcher.py``; each constant's comment says how), and the
rules are generic (no reliance on how either shop writes its titles): the same defaults are
meant for other catalogues.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Iterator, Mapping

__all__ = [
    "TitleProfile",
    "TextComparison",
    "IdfTable",
    "profile",
    "blocking_keys",
    "build_idf",
    "compare",
    "Comparable",
    "compare_prepared",
]

# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------

# Canonical unit for each spelling.  A number followed by one of these is a measured attribute
# (46" screen, 500GB disk), never a model code.  The single quote is read as inches because
# scraped catalogues very often lose the double quote of 46" and keep only one tick.
_UNIT_SPELLINGS: dict[str, str] = {
    '"': "in", "''": "in", "'": "in", "in": "in", "inch": "in", "inches": "in",
    "tb": "tb", "gb": "gb", "mb": "mb", "kb": "kb",
    "ghz": "ghz", "mhz": "mhz", "hz": "hz",
    "mp": "mp", "megapixel": "mp", "megapixels": "mp", "mpix": "mp",
    "mm": "mm", "cm": "cm",
    "ft": "ft", "feet": "ft", "foot": "ft",
    "w": "w", "watt": "w", "watts": "w",
    "v": "v", "volt": "v", "volts": "v", "mah": "mah",
    "lb": "lb", "lbs": "lb", "oz": "oz", "kg": "kg", "g": "g",
    "x": "x",
    "p": "p", "i": "p",  # 1080p / 1080i: vertical resolution
    "ms": "ms", "rpm": "rpm",
    "port": "port", "ports": "port",
    "disc": "disc", "discs": "disc", "disk": "disc",
    "cup": "cup", "cups": "cup",
    "channel": "ch", "channels": "ch", "ch": "ch",
    "speed": "speed", "speeds": "speed",
    "piece": "pc", "pieces": "pc", "pc": "pc", "pcs": "pc",
    "way": "way",
    "qt": "qt", "quart": "qt",
    "cuft": "cuft",
    "ml": "ml", "cl": "cl", "l": "l", "litre": "l", "liter": "l", "litres": "l", "liters": "l",
}

# A number with one of these words is a duration ("30-day returns", "24h delivery"): neither a
# model code nor a product measure, since sellers' terms of sale and shipping carry them.
_DURATION_WORDS = ("days", "day", "hours", "hour", "hrs", "hr", "h", "weeks", "week", "months", "month",
                   "years", "year", "yrs", "yr", "min", "mins")

_UNIT_ALT = "|".join(
    sorted((re.escape(u) for u in _UNIT_SPELLINGS if u not in {'"', "''", "'"}), key=len, reverse=True)
)
# number [- number] [space or hyphen] unit, the unit not followed by a letter or digit.
_NUM_UNIT_RE = re.compile(
    r"(?<![a-z0-9.])(\d+(?:\.\d+)?)(?:\s*-\s*(\d+(?:\.\d+)?))?"
    r"(?:(?:\s*|-)(" + _UNIT_ALT + r")(?![a-z0-9])|\s*(''|\"|'))"
)
# "17mm - 85mm": a range with the unit written twice
_RANGE2_RE = re.compile(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)\s*(" + _UNIT_ALT + r")\s*-\s*(\d+(?:\.\d+)?)\s*\2(?![a-z0-9])")
# A standalone year (edition of software, model year): "Office 2007" vs "Office 2008".
_YEAR_RE = re.compile(r"(?<![\w.\-/])(199\d|20[0-3]\d)(?![\w.\-/])")
_CUFT_RE = re.compile(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)\s*cu\.?\s*ft\b")
# A whole normalised token that is only a (range of) number(s) with a unit: "500GB", "28135MM".
_UNIT_TOKEN_RE = re.compile(r"^\d+(?:" + _UNIT_ALT + "|" + "|".join(_DURATION_WORDS) + r")$", re.IGNORECASE)
_ORDINAL_RE = re.compile(r"^\d+(?:st|nd|rd|th)$", re.IGNORECASE)

_COLOURS = {
    "black", "white", "silver", "red", "blue", "green", "pink", "gray", "grey", "brown",
    "gold", "purple", "orange", "yellow", "beige", "titanium", "chrome", "bronze", "graphite",
    "ivory", "platinum", "charcoal", "navy", "cyan", "magenta", "teal", "copper",
}
_COLOUR_ALIASES = {"grey": "gray"}

_STOPWORDS = {
    "a", "an", "and", "the", "for", "with", "w", "of", "in", "on", "to", "by", "or", "from",
    "new", "&", "plus",
}

# Tokens for the word-overlap score: runs of letters/digits, a decimal point kept inside
# numbers ("2.4").
_WORD_RE = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
# Raw tokens for code extraction: split on whitespace and on punctuation that never occurs
# inside a model code.  Hyphen, slash, dot and plus stay so that "KDL-46V3000" and
# "MB942Z/A" survive as one token.
_RAW_SPLIT_RE = re.compile(r"[\s,;:()\[\]{}|!?*#@~<>=\"]+")
_CODE_STRIP = "-/+'._&"


def _nfkc(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    return (
        text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
        .replace("\u2033", '"').replace("\u2032", "'")
    )


# --------------------------------------------------------------------------------------------
# Profile
# --------------------------------------------------------------------------------------------


@dataclass
class TitleProfile:
    """What a listing's text says about the product, extracted once and stored per item.

    ``codes`` are normalised model numbers / part codes found in the title (upper case,
    without ``-``, ``/``, ``.`` or spaces); ``squashed`` is the title in capitals without
    anything but letters and digits, where a code of the other listing can be found even when
    this one writes it with inner spaces ("MDR EX32LP/BLK"); ``desc_codes`` come from the
    description and stand in when the title has none.  ``numbers`` maps a canonical unit to
    the values seen with it ("18-55" for a range).
    """

    tokens: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    squashed: str = ""
    desc_codes: list[str] = field(default_factory=list)
    brand: str | None = None
    brand_given: bool = False
    numbers: dict[str, list[str]] = field(default_factory=dict)
    colours: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        # What dataclasses.asdict gives, without its recursive deep copy (a third of the
        # lexical signal's build time went there); the fields are flat lists, a dict of lists
        # and scalars, copied one level deep so the result never aliases the profile.
        return {"tokens": list(self.tokens), "codes": list(self.codes), "squashed": self.squashed,
                "desc_codes": list(self.desc_codes), "brand": self.brand, "brand_given": self.brand_given,
                "numbers": {k: list(v) for k, v in self.numbers.items()}, "colours": list(self.colours)}

    @classmethod
    def from_dict(cls, d: Mapping) -> "TitleProfile":
        return cls(
            tokens=list(d.get("tokens", [])),
            codes=list(d.get("codes", [])),
            squashed=str(d.get("squashed", "")),
            desc_codes=list(d.get("desc_codes", [])),
            brand=d.get("brand"),
            brand_given=bool(d.get("brand_given", False)),
            numbers={str(k): list(v) for k, v in (d.get("numbers") or {}).items()},
            colours=list(d.get("colours", [])),
        )

    def match_codes(self) -> list[str]:
        """Codes to compare: the title's, or the description's when the title has none."""
        return self.codes or self.desc_codes


def _squash(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def _norm_code(tok: str) -> str:
    return re.sub(r"[-/+._'&]", "", tok).upper()


_RATIO_RE = re.compile(r"\b\d+(?:\.\d+)?\s*:\s*\d+\b")  # 50000:1 contrast, 16:9 aspect


def _is_code(raw: str, norm: str) -> bool:
    """A product code: letters and digits mixed, or a long run of digits (part no., UPC)."""
    if len(norm) < 3 or len(norm) > 20 or not norm.isalnum() or not norm.isascii():
        return False
    if "." in raw:
        # decimals and versions (2.4, 5.1, 802.11g) are not codes; a dotted code whose head
        # already mixes letters and digits is ("9N00.101").
        head = raw.split(".", 1)[0]
        if not (head.isalnum() and any(c.isalpha() for c in head) and any(c.isdigit() for c in head)):
            return False
    has_digit = any(c.isdigit() for c in norm)
    has_alpha = any(c.isalpha() for c in norm)
    if not has_digit:
        return False
    if not has_alpha:
        # digits only: a part number or UPC if long and not a ratio/range such as 10/100.
        return len(norm) >= 5 and "/" not in raw
    if _UNIT_TOKEN_RE.match(norm) or _ORDINAL_RE.match(norm):
        return False
    return True


def _extract_codes(text: str) -> tuple[list[str], list[str]]:
    """Codes of a text, and its hyphenated words glued ("IC-BLK-TS" -> "ICBLKTS", a token
    that can meet the same code written without hyphens)."""
    text = _RATIO_RE.sub(" ", text)
    raws = [t.strip(_CODE_STRIP) for t in _RAW_SPLIT_RE.split(text)]
    raws = [t for t in raws if t]
    codes: list[str] = []
    glued: list[str] = []
    for raw in raws:
        norm = _norm_code(raw)
        ok = _is_code(raw, norm)
        if ok and norm not in codes:
            codes.append(norm)
        elif ("-" in raw or "/" in raw) and norm.isalnum() and len(norm) >= 4 and norm not in glued:
            glued.append(norm)
    return codes, glued


def _fmt_number(x: str) -> str:
    v = float(x)
    return str(int(v)) if v == int(v) else f"{v:g}"


def _extract_numbers(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    low = text.lower()
    for m in _CUFT_RE.finditer(low):
        found.setdefault("cuft", []).append(_fmt_number(m.group(1)))
    low = _CUFT_RE.sub(" ", low)
    low = _RANGE2_RE.sub(lambda m: f"{m.group(1)}-{m.group(3)}{m.group(2)}"
                         if float(m.group(3)) > float(m.group(1)) else m.group(0), low)
    for m in _YEAR_RE.finditer(low):
        if m.group(1) not in found.setdefault("year", []):
            found["year"].append(m.group(1))
    if not found.get("year"):
        found.pop("year", None)
    for m in _NUM_UNIT_RE.finditer(low):
        unit = _UNIT_SPELLINGS[m.group(3) or m.group(4)]
        val = _fmt_number(m.group(1))
        if m.group(2):
            if float(m.group(2)) > float(m.group(1)):  # a range such as 18-55mm is one value
                val += "-" + _fmt_number(m.group(2))
            else:  # "21 inch - 4.5 inch": a list, not a range; keep the second too
                second = _fmt_number(m.group(2))
                vals = found.setdefault(unit, [])
                if second not in vals:
                    vals.append(second)
        vals = found.setdefault(unit, [])
        if val not in vals:
            vals.append(val)
    return found


def profile(
    title: str,
    *,
    brand: str | None = None,
    description: str | None = None,
    attributes: Mapping | None = None,
) -> TitleProfile:
    """Extract tokens, codes, brand, numbers with units and colours from a listing's text.

    ``brand`` as entered by the seller wins; otherwise the first word of the title is taken as
    a guess (most titles start with the brand), marked ``brand_given=False`` so that
    :func:`compare` trusts it less.  Attribute values (e.g. ``{"model": "KDL-46V3000"}``) are
    read like title text.  The description is only mined for codes, used when the title has
    none: descriptions also name compatible models, so they never veto a match.
    """
    text = _nfkc(title)
    attr_text = ""
    if attributes:
        attr_text = " ".join(str(v) for v in attributes.values() if isinstance(v, (str, int, float)))
    full = f"{text} {_nfkc(attr_text)}".strip()
    low = full.lower()

    codes, glued = _extract_codes(full)
    desc_codes: list[str] = []
    if description and not codes:
        desc_codes, _ = _extract_codes(_nfkc(description)[:400])

    words = [w for w in _WORD_RE.findall(low) if w not in _STOPWORDS]
    tokens: list[str] = []
    for w in words + [c.lower() for c in codes + glued]:
        if w not in tokens:
            tokens.append(w)

    b_norm = None
    brand_given = False
    if brand and brand.strip():
        b_norm = "".join(_WORD_RE.findall(_nfkc(brand).lower())) or None
        brand_given = b_norm is not None
    if b_norm is None:
        # the first word, after leading articles and colours ("The", "Black Sony ...")
        for w in _WORD_RE.findall(text.lower()):
            if w in _COLOURS or w in _STOPWORDS:
                continue
            if w.isalpha() and len(w) >= 2:
                b_norm = w
            break

    colours: list[str] = []
    for w in _WORD_RE.findall(low):
        c = _COLOUR_ALIASES.get(w, w)
        if c in _COLOURS and c not in colours:
            colours.append(c)

    return TitleProfile(
        tokens=tokens,
        codes=codes,
        squashed=_squash(full),
        desc_codes=desc_codes,
        brand=b_norm,
        brand_given=brand_given,
        numbers=_extract_numbers(full),
        colours=colours,
    )


def blocking_keys(p: TitleProfile) -> list[str]:
    """Keys for the inverted candidate index: normalised codes and their stems.

    Two listings of one product share at least one key when they share a code or when one
    adds a colour/region suffix (``DVPNS57P`` vs ``DVPNS57PB``): the stem, the code up to its
    last digit, is a key too.  (Codes written with inner spaces are left to the embedding
    neighbours; :func:`compare` still finds them.)
    Codes shorter than 4 characters are left out: "PS3" would block half a shop.
    """
    return code_keys(p.match_codes())


def code_keys(codes: Iterable[str]) -> list[str]:
    """:func:`blocking_keys` of a profile's match codes (read straight from a stored profile)."""
    keys: list[str] = []
    for c in codes:
        for k in (c, _core(c)):
            if len(k) >= 4 and k not in keys and any(ch.isdigit() for ch in k):
                keys.append(k)
    return keys


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


# --------------------------------------------------------------------------------------------
# Compare
# --------------------------------------------------------------------------------------------


@dataclass
class TextComparison:
    """Score in [0, 1] of two listings' texts, its parts, and the evidence in plain words."""

    score: float
    parts: dict[str, float]
    evidence: list[str]


@lru_cache(maxsize=1 << 16)
def _core(code: str) -> str:
    """The code up to its last digit: ``WTW6700TWH`` -> ``WTW6700``.  Trailing letters are
    usually a colour, finish or region suffix.  (Cached: a self-join asks for each code's core
    in every pair it is part of.)"""
    i = len(code)
    while i > 0 and code[i - 1].isalpha():
        i -= 1
    return code[:i] if i > 0 else code


def _strong(code: str) -> bool:
    """A code long enough to identify a model; "PS3", "D60" or "40D" may name a family."""
    return len(code) >= 5


# Relation between two codes -> the agreement it shows (1 = same model).  Hand-set ordinal
# levels (how sure each kind of relation is), not fitted; the fitted "code" weight of
# compare() scales them all.
_REL_SAME = 1.0        # identical after normalisation
_REL_VARIANT = 0.8     # one is the other plus a short suffix starting with a letter
_REL_NEAR = 0.6        # same digits, one letter inserted or dropped ("SCDC382" / "SCD382")
_REL_CONTAINED = 0.6   # one contains the other (manufacturer number inside a UPC or SKU)
_REL_SIBLING = 0.0     # same stem, different letter suffix: "CLI8Y" / "CLI8R" are sibling
#                        products (colours, regions): no agreement, but no conflict either


def _one_letter_edit(x: str, y: str) -> bool:
    """y is x with one letter inserted (or the reverse)."""
    if len(x) > len(y):
        x, y = y, x
    if len(y) != len(x) + 1:
        return False
    for i in range(len(y)):
        if y[:i] + y[i + 1:] == x:
            return y[i].isalpha()
    return False


def _relation(a: str, b: str) -> float | None:
    """How two normalised codes relate: a weight from the table above, None if unrelated."""
    if a == b:
        return _REL_SAME
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) >= 4 and long_.startswith(short):
        rest = long_[len(short):]
        if rest[0].isalpha() and len(rest) <= 4 and not (short[-1].isalpha() and rest.isdigit()):
            return _REL_VARIANT
    if len(short) >= 5 and _one_letter_edit(a, b):
        return _REL_NEAR
    if len(short) >= 5 and short in long_:
        return _REL_CONTAINED
    ca, cb = _core(a), _core(b)
    if ca == cb and len(ca) >= 3 and any(c.isalpha() for c in ca):
        return _REL_SIBLING
    return None


_LETTERS_RE = re.compile(r"[A-Z]*")


@lru_cache(maxsize=1 << 16)
def _letters(code: str) -> str:
    """The letters a code starts with, before its first digit (cached, as `_core`)."""
    return _LETTERS_RE.match(code).group(0)


def _same_family(a: str, b: str) -> bool:
    """Both codes start with the same letters (at least two) before their first digit."""
    pa = _letters(a)
    return len(pa) >= 2 and pa == _letters(b)


def _code_part(a: TitleProfile, b: TitleProfile) -> tuple[float, list[str]]:
    """+ agreement strength in (0, 1], -1 or -0.5 for a conflict, 0 when codes say nothing.

    A short code ("D60", "PS3") names a family as often as a model: its agreement counts
    half.  A code of one side found inside the other's squashed title agrees too ("MDREX55"
    in "Earbuds - MDR EX55/BLK").  A conflict needs no relation between any pair of codes (one
    shared code among several is enough to agree) and either a long code on both sides or
    two short codes of one family ("D60" / "D90").
    """
    ca, cb = a.match_codes(), b.match_codes()
    best, best_pair, related, sibling = 0.0, None, False, False
    for x in ca:
        for y in cb:
            r = _relation(x, y)
            if r is None:
                continue
            related = True
            sibling = sibling or r == _REL_SIBLING
            s = r * (1.0 if (_strong(x) or _strong(y)) else 0.5)
            if s > best:
                best, best_pair = s, (x, y)
    if best < _REL_SAME:
        for xs, other in ((ca, b), (cb, a)):
            for x in xs:
                if not _strong(x):
                    continue
                if x in other.squashed:
                    # written with inner spaces or hyphens on the other side ("MDR EX55/BLK")
                    r = _REL_VARIANT
                elif not sibling and len(_core(x)) >= 5 and _core(x) in other.squashed:
                    # "COOLPIXS550GB" vs "Coolpix S550": the model without its colour suffix;
                    # not when the other side has a code with the same stem and another suffix
                    r = _REL_CONTAINED
                else:
                    continue
                related = True
                if r > best:
                    best, best_pair = r, (x, "")
    if best_pair is not None:
        x, y = best_pair
        if x == y:
            return best, [f"model code {x} on both"]
        if not y:
            what = x if best >= _REL_VARIANT else _core(x)
            return best, [f"model code {what} found in the other title"]
        return best, [f"model codes {x} and {y} agree"]
    sa = [c for c in a.codes if _strong(c)]
    sb = [c for c in b.codes if _strong(c)]
    if sa and sb and not related:
        ev = [f"different model codes: {'/'.join(sa[:3])} vs {'/'.join(sb[:3])}"]
        # Same family, different model (KDL46V3000 / KDL40V3000: same letters, different
        # digits) is the clearest negative.  Codes of unrelated shapes may come from two
        # numbering systems (maker's model vs part number or SKU): a weaker negative.
        if any(_same_family(x, y) for x in sa for y in sb):
            return -1.0, ev
        return -0.5, ev
    if not related:
        # short codes of one family with different numbers: "D60" / "D90", "CS3" / "CS4"
        for x in a.codes:
            for y in b.codes:
                px, py = _letters(x), _letters(y)
                if px and px == py and not (_strong(x) and _strong(y)):
                    return -0.5, [f"different model codes: {x} vs {y}"]
    if related:
        return 0.0, ["model codes of sibling products (same stem, different suffix)"]
    return 0.0, []


def _brand_part(ca: "Comparable", cb: "Comparable") -> tuple[float, list[str]]:
    a, b = ca.profile, cb.profile
    if not a.brand or not b.brand:
        return 0.0, []
    if a.brand == b.brand:
        return 1.0, [f"brand {a.brand} on both"]
    ta, tb, glued_a, glued_b = ca.tokens, cb.tokens, ca.glued, cb.glued
    # one side names the other's brand somewhere (not first), or writes it in two words
    if a.brand in tb or a.brand in glued_b or b.brand in ta or b.brand in glued_a:
        return 1.0, [f"brand {a.brand if (a.brand in tb or a.brand in glued_b) else b.brand} on both"]
    if a.brand_given and b.brand_given:
        return -1.0, [f"different brands: {a.brand} vs {b.brand}"]
    # A guessed brand is the title's first word, which is often not a brand at all
    # ("Computer Speakers - SRSA212/BLK"): its disagreement is no evidence.
    return 0.0, []


# Continuous measures that shops round (24.7 vs 25 cu ft, 14.7 vs 15 MP); counts, years and
# resolutions must match exactly.
_ROUNDED_UNITS = {"in", "cm", "mm", "ft", "cuft", "lb", "kg", "oz", "g", "w", "v", "mah", "ghz", "mhz", "mp", "qt"}


def _fmt_measure(val: str, unit: str) -> str:
    return f"{unit} {val}" if unit == "year" else f"{val}{unit}"


def _same_value(x: str, y: str, unit: str) -> bool:
    """Equal, or for a rounded measure equal within 3 %."""
    if x == y:
        return True
    if unit not in _ROUNDED_UNITS:
        return False
    try:
        fx, fy = float(x), float(y)
    except ValueError:  # ranges such as 18-55
        return False
    return abs(fx - fy) <= 0.03 * max(abs(fx), abs(fy))


def _number_part(a: TitleProfile, b: TitleProfile) -> tuple[float, list[str]]:
    """+1 when a measure both give agrees, -1 when one disagrees (46in vs 40in)."""
    agree, conflict = [], []
    for unit in sorted(set(a.numbers) & set(b.numbers)):
        va, vb = a.numbers[unit], b.numbers[unit]
        same = [x for x in va if any(_same_value(x, y, unit) for y in vb)]
        if same:
            agree.append(_fmt_measure(same[0], unit))
        else:
            conflict.append(f"{_fmt_measure('/'.join(va), unit)} vs {_fmt_measure('/'.join(vb), unit)}")
    if conflict:
        return -1.0, [f"different measures: {', '.join(conflict)}"]
    if agree:
        return 1.0, [f"same measures: {', '.join(agree)}"]
    return 0.0, []


def _colour_part(a: TitleProfile, b: TitleProfile) -> tuple[float, list[str]]:
    if a.colours and b.colours and not set(a.colours) & set(b.colours):
        return -1.0, [f"different colours: {'/'.join(a.colours)} vs {'/'.join(b.colours)}"]
    return 0.0, []


class Comparable:
    """A profile made ready for comparisons under one IDF table: its token set, each token's
    squared IDF weight and their sum, its glued token pairs.  `compare` makes one per side of
    a pair; a self-join makes one per item and compares it with all its neighbours
    (:func:`compare_prepared`), instead of rebuilding them in every pair."""

    __slots__ = ("profile", "tokens", "weights", "norm", "_glued")

    def __init__(self, p: TitleProfile, idf: Mapping[str, float] | None = None):
        self.profile = p
        self.tokens = set(p.tokens)
        self._glued: set[str] | None = None
        if idf is None:
            self.weights, self.norm = None, 0.0
        else:
            dflt = getattr(idf, "default", 1.0)
            # the plain dict's get for an IdfTable (same values: it stores no None), not its
            # Python-level get
            get = idf._idf.get if isinstance(idf, IdfTable) else idf.get
            self.weights = {t: get(t, dflt) ** 2 for t in self.tokens}
            self.norm = sum(self.weights.values())

    @property
    def glued(self) -> set[str]:
        """Adjacent tokens written as one word ("sam" "sung" -> "samsung"); made when first asked
        (only pairs whose brands differ need them)."""
        if self._glued is None:
            tokens = self.profile.tokens
            self._glued = {x + y for x, y in zip(tokens, tokens[1:])}
        return self._glued


def _token_cosine(a: Comparable, b: Comparable) -> float:
    ta, tb = a.tokens, b.tokens
    if not ta or not tb:
        return 0.0
    if a.weights is None or b.weights is None:
        return len(ta & tb) / math.sqrt(len(ta) * len(tb))
    if ta is tb:
        # one item on both sides: intersect with a fresh copy, as with two profiles (intersecting
        # a set with itself copies it, and the sum below would add the weights in another order)
        tb = set(b.profile.tokens)
    w = a.weights
    num = sum(w[t] for t in ta & tb)
    den = math.sqrt(a.norm * b.norm)
    return num / den if den else 0.0


# compare(): score = 1 / (1 + exp(-z)), z = bias + sum of weight * part.  bias, tokens, code,
# brand and numbers: logistic regression on the candidate pairs of the Abt-Buy calibration
# half (``eval_abt_buy_matcher.py --fit`` prints it), rounded.  Two are priors instead:
# * colour: the fit asks for 2.5-4.5, i.e. a different colour word alone would veto a match;
#   3.0 is the low end, because a colour word can be a finish or a feature ("red-eye
#   reduction").  Raising it from 2.0 left Abt-Buy's held-out F1 at 0.947 and lifted the
#   half-unmatched variant from 0.917 to 0.919; colour variants of one model were the main
#   false matches of the demo marketplace.
# * brand_conflict: Abt-Buy has no seller-entered brands, so different *given* brands were
#   never seen; 2.5 makes them a clear negative that strong code agreement can still beat.
_TEXT_W = {
    "bias": -5.4,
    "tokens": 5.7,           # IDF-weighted cosine of the title tokens, in [0, 1]
    "code": 4.7,             # code agreement in (0, 1], or -1 / -0.5 for conflicting codes
    "brand": 0.8,            # +1 same brand (given, or guessed from the first word)
    "brand_conflict": 2.5,   # times -1 when the seller-entered brands differ
    "numbers": 0.5,          # +1 same measures, -1 different measures
    "colour": 3.0,           # -1 different colours
}


def compare(a: TitleProfile, b: TitleProfile, idf: Mapping[str, float] | None = None) -> TextComparison:
    """How strongly the two texts say "same product", with the reasons.

    Parts: IDF-weighted token cosine, model-code agreement or conflict, brand, numbers with
    units and colour; merged by a logistic formula into ``score`` in [0, 1].
    """
    return compare_prepared(Comparable(a, idf), Comparable(b, idf))


def compare_prepared(ca: Comparable, cb: Comparable) -> TextComparison:
    """:func:`compare` of two profiles made ready under the same IDF table."""
    a, b = ca.profile, cb.profile
    tok = _token_cosine(ca, cb)
    code, ev_code = _code_part(a, b)
    brand, ev_brand = _brand_part(ca, cb)
    num, ev_num = _number_part(a, b)
    col, ev_col = _colour_part(a, b)
    parts = {"tokens": tok, "code": code, "brand": brand, "numbers": num, "colour": col}
    z = _TEXT_W["bias"] + sum(_TEXT_W[k] * v for k, v in parts.items() if k != "brand")
    z += (_TEXT_W["brand"] if brand >= 0 else _TEXT_W["brand_conflict"]) * brand
    score = 1.0 / (1.0 + math.exp(-z))
    evidence = ev_code + ev_brand + ev_num + ev_col
    if tok >= 0.5:
        evidence.append(f"titles share most of their distinctive words ({tok:.2f})")
    return TextComparison(score=score, parts=parts, evidence=evidence)
