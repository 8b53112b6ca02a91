"""Comparing two listings' texts: model-code agreement or conflict, brand, measures, colour and
IDF-weighted word overlap, merged into one score in [0, 1] with the reasons in plain words.

The constants of :func:`compare` were set on the calibration half of the Abt-Buy benchmark
(``evaluation/abt_buy_matcher.py``; each constant's comment says how); the rules are generic
and the same defaults are meant for other catalogues.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

from .idf import IdfTable
from .profile import TitleProfile, code_stem

# --------------------------------------------------------------------------------------------
# Compare
# --------------------------------------------------------------------------------------------


@dataclass
class TextComparison:
    """Score in [0, 1] of two listings' texts, its parts, and the evidence in plain words."""

    score: float
    parts: dict[str, float]
    evidence: list[str]


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


def _series_prefixed(short: str, long_: str) -> bool:
    """The long code is the short one behind a maker's series prefix of letters, perhaps with a
    letter suffix (colour, kit): "DMCGH4" / "GH4", "DMCGX85KK" / "GX85" (Panasonic's DMC-, as
    shops drop it). The short code must mix letters and digits, starting with a letter. Codes are
    upper case; the text levels ask the same of two lower-case model words."""
    if not (3 <= len(short) < len(long_) and short[0].isalpha() and any(c.isdigit() for c in short)):
        return False
    i = long_.find(short)
    if i < 2 or i > 4 or not long_[:i].isalpha():
        return False
    rest = long_[i + len(short):]
    return not rest or (rest.isalpha() and len(rest) <= 3)


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
    if _series_prefixed(short, long_):
        return _REL_CONTAINED
    ca, cb = code_stem(a), code_stem(b)
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


def _found(code: str, squashed: str) -> bool:
    """The code is in the other's squashed title, not as the head of a longer number: "DMCFZ20" is not in
    "DMCFZ200" (the FZ20 is not the FZ200), "MDREX55" is in "MDREX55BLK". Asked of a code's stem only: a
    whole code found before a digit of the next word ("HERO3" in "Hero 3 3") still agrees."""
    i = squashed.find(code)
    if i < 0 or not code[-1].isdigit():
        return i >= 0
    while i >= 0:
        end = i + len(code)
        if end == len(squashed) or not squashed[end].isdigit():
            return True
        i = squashed.find(code, i + 1)
    return False


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
                elif not sibling and len(code_stem(x)) >= 5 and _found(code_stem(x), other.squashed):
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
            what = x if best >= _REL_VARIANT else code_stem(x)
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


def _ends_given(value: str, values: list[str]) -> bool:
    """A range whose two ends the other side gives apart ("18-55" mm against "zoom lens - 18 mm 55 mm")."""
    if "-" not in value:
        return False
    low, high = value.split("-", 1)
    return low in values and high in values


def _number_part(a: TitleProfile, b: TitleProfile) -> tuple[float, list[str]]:
    """+1 when a measure both give agrees, -1 when one disagrees (46in vs 40in); a range agrees with its two
    ends given apart."""
    agree, conflict = [], []
    for unit in sorted(set(a.numbers) & set(b.numbers)):
        va, vb = a.numbers[unit], b.numbers[unit]
        same = [x for x in va if any(_same_value(x, y, unit) for y in vb) or _ends_given(x, vb)] \
            or [y for y in vb if _ends_given(y, va)]
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
# half (``python -m evaluation.abt_buy_matcher --fit`` prints it), rounded.  Two are priors instead:
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
