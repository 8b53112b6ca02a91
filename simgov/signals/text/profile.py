"""What a listing's text identifies, extracted once per item and stored: a :class:`TitleProfile`.

Two listings of the same product rarely share their wording, but they usually share the
things that identify the product: the model number or part code, the brand, and numbers with
units (screen size, capacity, clock speed).  A sentence embedding captures the semantics of a
title ("LCD TV" ~ "flat panel HDTV") but is nearly blind to the difference between
``KDL-46V3000`` and ``KDL-40V3000``.  This module extracts those identifiers
(:func:`profile`) and gives keys for the text signal's inverted candidate index
(:func:`blocking_keys`); `compare.py` compares two profiles.

Everything here is pure: no I/O, no global state, no model; the rules are generic (no reliance
on how either shop writes its titles).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Mapping

# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------

# Canonical unit for each spelling.  A number followed by one of these is a measured attribute
# (46" screen, 500GB disk), never a model code.  The single quote is read as inches because
# scraped catalogues very often lose the double quote of 46" and keep only one tick.
_UNIT_SPELLINGS: dict[str, str] = {
    '"': "in", "''": "in", "'": "in", "in": "in", "inch": "in", "inches": "in", "zoll": "in", "pouces": "in",
    "tb": "tb", "gb": "gb", "mb": "mb", "kb": "kb",
    "ghz": "ghz", "mhz": "mhz", "hz": "hz",
    "mp": "mp", "megapixel": "mp", "megapixels": "mp", "mpix": "mp", "mpixel": "mp", "mpixels": "mp", "mpx": "mp",
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
    # the colourway words of sports shoes and watch straps
    "crimson", "anthracite", "volt", "turquoise", "olive", "coral", "lime", "fuchsia", "bordeaux", "khaki", "mint",
    "asphalt",
    # a watch's rose gold is its own colour, not gold (:data:`_ROSE_GOLD_RE`)
    "rosegold",
}
_COLOUR_ALIASES = {"grey": "gray", "violet": "purple"}
# A model word with a colour glued after its digits ("HERO5black", "X100Fsilver"): the model and its colour.
_GLUED_COLOUR_RE = re.compile(r"^([a-z][a-z0-9]*\d[a-z]?)(" + "|".join(sorted(_COLOURS, key=len, reverse=True))
                              + r")$")

# Words of other languages read as their English equivalent (after accents are folded, see
# :func:`fold`): colours, so that "Nero/Bianco" and "Black/White" agree and a colourway conflict is
# seen in any language; and the few words that name what a web shop's product is (leather, men's,
# women's, watch, shoes, camera, lens, battery, charger, bag, tripod, adapter, card, steel, automatic,
# chronograph, day / night), so that the word overlap of the same model described in two languages is
# not lost on them. Scraped catalogues (WDC) mix German, French, Spanish, Italian, Dutch, Polish and
# Portuguese titles.
TRANSLATIONS: dict[str, str] = {
    **dict.fromkeys(("schwarz", "noir", "noire", "negro", "negra", "nero", "nera", "zwart", "czarny", "czarna",
                     "czarne", "preto", "preta"), "black"),
    **dict.fromkeys(("weiss", "weis", "blanc", "blanche", "blanco", "blanca", "bianco", "bianca", "wit", "witte",
                     "bialy", "biala", "biale", "branco", "branca"), "white"),
    **dict.fromkeys(("rot", "rouge", "rojo", "roja", "rosso", "rossa", "rood", "czerwony", "czerwona",
                     "vermelho"), "red"),
    **dict.fromkeys(("blau", "bleu", "bleue", "azul", "blu", "blauw", "niebieski", "niebieska"), "blue"),
    **dict.fromkeys(("grun", "gruen", "vert", "verte", "verde", "groen", "zielony", "zielona"), "green"),
    **dict.fromkeys(("gelb", "jaune", "amarillo", "amarilla", "giallo", "gialla", "geel", "zolty", "zolta",
                     "amarelo"), "yellow"),
    **dict.fromkeys(("grau", "gris", "grise", "grigio", "grigia", "grijs", "szary", "szara", "cinza"), "gray"),
    **dict.fromkeys(("braun", "marron", "brun", "marrone", "bruin", "brazowy", "brazowa", "castanho"), "brown"),
    **dict.fromkeys(("silber", "argent", "argente", "argentee", "plata", "plateado", "argento", "zilver",
                     "srebrny", "srebrna", "prata", "prateado"), "silver"),
    **dict.fromkeys(("rosa", "roze", "rozowy", "rozowa"), "pink"),
    **dict.fromkeys(("lila", "morado", "viola", "paars", "fioletowy", "violett", "violeta", "violette"), "purple"),
    **dict.fromkeys(("hellblau", "dunkelblau", "azzurro", "marineblau"), "blue"),
    **dict.fromkeys(("platino", "platine", "platin"), "platinum"),
    **dict.fromkeys(("cremisi", "cremise", "carmesi", "karmesin", "carmin"), "crimson"),
    **dict.fromkeys(("asfalto", "asphalte"), "asphalt"),
    # shops' abbreviations of colourways ("Blk/Wht")
    "blk": "black", "wht": "white",
    **dict.fromkeys(("antracite", "antracita", "antracide", "anthrazit", "antraciet", "antracytowy"), "anthracite"),
    **dict.fromkeys(("turchese", "turkis", "tuerkis", "turquesa", "turkoois"), "turquoise"),
    **dict.fromkeys(("fuxia", "fucsia", "fuksja"), "fuchsia"),
    **dict.fromkeys(("limoen", "limette"), "lime"),
    **dict.fromkeys(("oliva", "oliv", "olijf"), "olive"),
    **dict.fromkeys(("burdeos", "bordo"), "bordeaux"),
    **dict.fromkeys(("kaki", "caqui", "cachi"), "khaki"),
    **dict.fromkeys(("coralle", "koralle", "corallo", "koraal"), "coral"),
    **dict.fromkeys(("naranja", "arancione", "oranje", "pomaranczowy", "laranja"), "orange"),
    **dict.fromkeys(("golden", "dore", "doree", "dorado", "dorada", "oro", "goud", "zloty", "zlota",
                     "dourado"), "gold"),
    **dict.fromkeys(("leder", "cuir", "piel", "pelle", "leer", "skora", "couro"), "leather"),
    **dict.fromkeys(("herren", "homme", "hommes", "hombre", "hombres", "uomo", "heren", "meskie", "meski",
                     "masculino", "mens", "man"), "men"),
    **dict.fromkeys(("damen", "femme", "femmes", "mujer", "mujeres", "donna", "dames", "damskie", "damski",
                     "feminino", "womens", "woman", "ladies", "lady"), "women"),
    **dict.fromkeys(("kids", "kid", "junior", "juniors", "jr", "youth", "boys", "boy", "girls", "girl", "gs", "bg",
                     "enfant", "enfants", "nino", "ninos", "nina", "ninas", "infantil", "bambino", "bambini", "bambina",
                     "kinder", "dzieciece", "dzieciecy", "dzieci", "crianca", "criancas"), "kids"),
    **dict.fromkeys(("uhr", "armbanduhr", "montre", "reloj", "orologio", "horloge", "zegarek", "relogio"),
                    "watch"),
    **dict.fromkeys(("schuhe", "chaussures", "zapatillas", "zapatos", "scarpe", "schoenen", "buty",
                     "sapatilhas"), "shoes"),
    **dict.fromkeys(("kamera", "camara", "fotocamera", "aparat", "kamery"), "camera"),
    **dict.fromkeys(("objektiv", "objectif", "objetivo", "obiettivo", "lente", "obiektyw"), "lens"),
    **dict.fromkeys(("akku", "batterie", "bateria", "batteria", "accu", "batterij", "akumulator"), "battery"),
    **dict.fromkeys(("ladegerat", "chargeur", "cargador", "caricabatterie", "caricatore", "oplader", "ladowarka",
                     "carregador"), "charger"),
    **dict.fromkeys(("tasche", "sac", "bolsa", "borsa", "torba"), "bag"),
    **dict.fromkeys(("stativ", "trepied", "tripode", "treppiede", "statief", "statyw"), "tripod"),
    **dict.fromkeys(("adaptateur", "adaptador", "adattatore"), "adapter"),
    **dict.fromkeys(("jour", "giorno", "dzien"), "day"),  # not "tag" (TAG Heuer) nor "dia" (diameter)
    **dict.fromkeys(("nacht", "nuit", "noche", "notte", "noc"), "night"),
    **dict.fromkeys(("speicherkarte", "tarjeta", "scheda", "karta", "cartao", "geheugenkaart"), "card"),
    **dict.fromkeys(("edelstahl", "acier", "acero", "acciaio", "rvs"), "steel"),
    **dict.fromkeys(("automatik", "automatique", "automatico", "automatisch", "automatyczny"), "automatic"),
    **dict.fromkeys(("chronographe", "cronografo", "chronograf"), "chronograph"),
}
_ANY_WORD_RE = re.compile(r"[^\W_]+")


def english_words(text: str) -> list[str]:
    """The text's words (runs of letters and digits, folded: :func:`fold`), each in English where `TRANSLATIONS`
    reads it so: the words of a name as the self-join's lexical candidates compare them."""
    return [TRANSLATIONS.get(w, w) for w in _ANY_WORD_RE.findall(fold(text))]


def in_english(text: str) -> str:
    """The text with the words `TRANSLATIONS` reads in English written in English ("Nike Free Run - Negro/Azul" ->
    "Nike Free Run - black/blue"), the other words as they were: what the title's sentence embedding reads, so
    that one product described in two languages is near itself."""
    folded = fold(text)
    if TRANSLATIONS.keys().isdisjoint(_ANY_WORD_RE.findall(folded)):
        return text  # most titles: nothing to translate, one scan
    return _ANY_WORD_RE.sub(lambda m: TRANSLATIONS.get(fold(m.group()), m.group()), text)


# Rose gold in the catalogues' languages (accents folded: "Roségold", "oro rosé", "różowe złoto"), read as one
# colour word before the words are split.
_ROSE_GOLD_RE = re.compile(r"\b(?:rose[\s-]?(?:gold|goud)|rotgold|or[\s-]rose|oro[\s-]ros(?:a|e|ado)|ouro[\s-]rosa"
                           r"|rozowe[\s-]zloto|zloto[\s-]rozowe)\b")
# Capacities written the French way, glued to their number ("8To", "256Mo", "16Go"): read as TB, MB, GB.
_FRENCH_BYTES_RE = re.compile(r"(?<=\d)(go|to|mo)(?![a-z0-9])")
_FRENCH_BYTES = {"go": "gb", "to": "tb", "mo": "mb"}
# A decimal comma ("15,6 pouces", "2,5 Zoll"): one or two digits after it; three are a thousands separator
# ("1,000mAh").
_DECIMAL_COMMA_RE = re.compile(r"(?<=\d),(?=\d{1,2}(?!\d))")
_THOUSANDS_COMMA_RE = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_FRENCH_BYTES_TOKEN_RE = re.compile(r"^\d+(?:go|to|mo)$", re.IGNORECASE)
_FOLDED = str.maketrans({"ß": "ss", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "đ": "d",
                         "ı": "i", "œ": "oe", "Œ": "OE", "´": "'", "\u2013": "-", "\u2014": "-"})

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


def fold(text: str) -> str:
    """Lower case without accents ("Weiß" -> "weiss", "Biały" -> "bialy", "DANİEL" -> "daniel"), so that
    words of other languages stay whole words instead of splitting at every accented letter; en and em
    dashes as hyphens ("75–300mm" is the range 75-300mm)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLDED))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _folded(text: str) -> str:
    """The text as words and numbers are read from it: folded (:func:`fold`), French byte units in English."""
    low = fold(text)
    return _FRENCH_BYTES_RE.sub(lambda m: _FRENCH_BYTES[m.group(1)], low) if "o" in low else low


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


_NOT_SQUASHED_RE = re.compile(r"[^A-Z0-9]")
# What a normalised code drops: str.translate's table, several times faster than a regex per token.
_CODE_PUNCTUATION = str.maketrans("", "", "-/+._'&")


def _squash(text: str) -> str:
    return _NOT_SQUASHED_RE.sub("", text.upper())


def _norm_code(tok: str) -> str:
    return tok.translate(_CODE_PUNCTUATION).upper()


# A watchmaker's reference of dotted digit groups ("311.92.44.51.01.005", "00.10919.08.13.01"): three
# groups or more, unlike a decimal, a version or a standard (2.4, 5.1, 802.11).
_DOTTED_REFERENCE_RE = re.compile(r"^\d+(?:\.\d+){2,}$")
_RATIO_RE = re.compile(r"\b\d+(?:\.\d+)?\s*:\s*\d+\b")  # 50000:1 contrast, 16:9 aspect
# A data rate ("90MB/s", "r95MB/s w90MB/s", "160 MB/sec", "300Mbps"): a measure of a card or a link, not a model
# code; read as a code, the same rate on two brands' cards was an exact code and a rate against the maker's
# part number a conflict.
_RATE_RE = re.compile(r"(?<![a-z0-9.])[rw]?\d+(?:[.,]\d+)?\s*(?:[kmgt]i?b(?:it)?|[kmgt]byte)\s*/\s*s(?:ec)?(?![a-z0-9])"
                      r"|(?<![a-z0-9.])\d+(?:[.,]\d+)?\s*[kmg]bps(?![a-z0-9])", re.IGNORECASE)
# A memory module's standard and timings ("PC2-5300", "PC3-10600R", "DDR4-2400", "2Rx4") or a memory card's bus
# ("UHS-1"): what many modules share, not a model code; read as codes, two makers' modules of one standard had an
# exact code in common.
_MEMORY_SPEC_RE = re.compile(r"(?<![a-z0-9-])(?:pc\d?l?-\d{3,5}[a-z]?|ddr\d?l?-\d{3,4}|\d{1,2}r[x]\d{1,2}|uhs-?[123])"
                             r"(?![a-z0-9-])", re.IGNORECASE)
# A lens's aperture ("f/3.5-5.6G", "f3.5-5.6G", "F4-5.6", "f/2.8L": a maker's letter may follow): not a measure
# (read as one, "5.6G" was 5.6 grams and "f/4L" 4 litres) nor a model word; the lens level reads its value
# (group 1 or 2).
APERTURE_RE = re.compile(r"(?<![a-z0-9])f\s*/\s*(\d+(?:\.\d+)?(?:\s*-\s*\d+(?:\.\d+)?)?)[a-z]{0,2}(?![a-z0-9])"
                         r"|(?<![a-z0-9])f(\d+(?:\.\d+)?-\d+(?:\.\d+)?|\d+\.\d+)[a-z]{0,2}(?![a-z0-9.])",
                         re.IGNORECASE)
# A sports shoe's style-colour code written with a space ("819716 001": style 819716, colourway 001), one
# code as when written with a hyphen: the same style in another colourway is another product.
_STYLE_COLOUR_RE = re.compile(r"(?<![\w.,-])(\d{6})\s(\d{3})(?![\w.,-])")


# Capitalised words joined by a digit ("Optics4Birding", "Parts4Cameras"): a shop's or a brand's name, not a model
# code; read as one, two listings of one shop had an exact code in common.
_WORDS_JOINED_BY_DIGIT_RE = re.compile(r"^[A-Z][a-z]{2,}\d[A-Z]([a-z]{2,})$")


def _is_code(raw: str, norm: str) -> bool:
    """A product code: letters and digits mixed, or a long run of digits (part no., UPC)."""
    if len(norm) < 3 or len(norm) > 20 or not norm.isalnum() or not norm.isascii() or norm.isalpha():
        return False  # (letters only: no digit, below)
    m = _WORDS_JOINED_BY_DIGIT_RE.match(raw)
    if m is not None and raw[-len(m.group(1)) - 1:].lower() not in _COLOURS:
        return False
    if "." in raw:
        # decimals and versions (2.4, 5.1, 802.11g) are not codes; a dotted code whose head
        # already mixes letters and digits is ("9N00.101").
        head = raw.split(".", 1)[0]
        if not (head.isalnum() and any(c.isalpha() for c in head) and any(c.isdigit() for c in head)) \
                and not _DOTTED_REFERENCE_RE.match(raw):
            return False
    # norm is ASCII letters and digits with a digit (above): letters too unless it is all digits
    if norm.isdigit():
        # digits only: a part number or UPC if long and not a ratio/range such as 10/100.
        return len(norm) >= 5 and "/" not in raw
    if _UNIT_TOKEN_RE.match(norm) or _ORDINAL_RE.match(norm) or _FRENCH_BYTES_TOKEN_RE.match(norm):
        return False
    return True


# Two names of one model joined by a slash ("SL1/100D", "T5i/700D": the American and the European name) are
# read as two codes: each side mixes letters and digits in three characters or more and is not a measure. A
# suffix without digits ("MB942Z/A", "EX32LP/BLK") or a capacity ("HX424C15FB/16", "DTSE9H/32GB": another
# product at another capacity) stays in the code.
_SLASHED_RE = re.compile(r"^([a-z0-9]{3,})/([a-z0-9]{3,})$", re.IGNORECASE)


def _slash_split(raw: str) -> list[str]:
    m = _SLASHED_RE.match(raw)
    if m is not None and all(_mixed(part) and not _UNIT_TOKEN_RE.match(part) for part in m.groups()):
        return list(m.groups())
    # measures joined by a slash (a card's read/write speeds "13x/4x") or a word with its own slash ("U3/Class":
    # a speed class and the word "Class") are read part by part, not as one code
    parts = raw.split("/")
    if not any(c.isdigit() for c in raw):
        return [raw]
    if all(_UNIT_TOKEN_RE.match(part) for part in parts) \
            or ("-" not in raw and any(part.isalpha() and len(part) >= 4 for part in parts)):
        return [part for part in parts if part]
    return [raw]


def _mixed(token: str) -> bool:
    return any(c.isdigit() for c in token) and any(c.isalpha() for c in token)


def _extract_codes(text: str) -> tuple[list[str], list[str]]:
    """Codes of a text, and its hyphenated words glued ("IC-BLK-TS" -> "ICBLKTS", a token
    that can meet the same code written without hyphens)."""
    text = _STYLE_COLOUR_RE.sub(r"\1-\2", _RATIO_RE.sub(" ", text))
    if "/" in text or "ps" in text or "PS" in text:
        text = _RATE_RE.sub(" ", text)
    if "-" in text or "x" in text or "X" in text:
        text = _MEMORY_SPEC_RE.sub(" ", text)
    raws = [t.strip(_CODE_STRIP) for t in _RAW_SPLIT_RE.split(text)]
    raws = [part for t in raws if t for part in (_slash_split(t) if "/" in t else (t,))]
    codes: list[str] = []
    glued: list[str] = []
    for raw in raws:
        if raw.isalpha():  # a plain word: neither a code (no digit) nor hyphenated
            continue
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


def _extract_numbers(low: str) -> dict[str, list[str]]:
    """Numbers with their units of a text made by :func:`_folded`."""
    found: dict[str, list[str]] = {}
    if "," in low:
        low = _DECIMAL_COMMA_RE.sub(".", _THOUSANDS_COMMA_RE.sub("", low))
    if "f" in low:
        low = APERTURE_RE.sub(" ", low)
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


def _split_glued_colours(words: list[str]) -> list[str]:
    """"hero5black" as "hero5" and "black": a model and its colour written without a space."""
    out = []
    for w in words:
        m = _GLUED_COLOUR_RE.match(w)
        out.extend(m.groups() if m is not None else (w,))
    return out


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
    low = _folded(full)
    if "ro" in low or "zlot" in low:
        low = _ROSE_GOLD_RE.sub("rosegold", low)

    codes, glued = _extract_codes(full)
    desc_codes: list[str] = []
    if description and not codes:
        desc_codes, _ = _extract_codes(_nfkc(description)[:400])

    # the words, each in English where it is a known colour or product word
    translated = [TRANSLATIONS.get(w, w) for w in _split_glued_colours(_WORD_RE.findall(low))]
    words = [w for w in translated if w not in _STOPWORDS]
    tokens: list[str] = []
    for w in words + [c.lower() for c in codes + glued]:
        if w not in tokens:
            tokens.append(w)

    b_norm = None
    brand_given = False
    if brand and brand.strip():
        b_norm = "".join(_WORD_RE.findall(fold(_nfkc(brand)))) or None
        brand_given = b_norm is not None
    if b_norm is None:
        # the first word, after leading articles and colours ("The", "Black Sony ...")
        for w in _WORD_RE.findall(fold(text)):
            if w in _COLOURS or w in _STOPWORDS:
                continue
            if w.isalpha() and len(w) >= 2:
                b_norm = w
            break

    colours: list[str] = []
    for w in translated:
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
        numbers=_extract_numbers(low),
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
        for k in (c, code_stem(c)):
            if len(k) >= 4 and k not in keys and any(ch.isdigit() for ch in k):
                keys.append(k)
    return keys


@lru_cache(maxsize=1 << 16)
def code_stem(code: str) -> str:
    """The code up to its last digit: ``WTW6700TWH`` -> ``WTW6700``.  Trailing letters are
    usually a colour, finish or region suffix.  (Cached: a self-join asks for each code's core
    in every pair it is part of.)"""
    i = len(code)
    while i > 0 and code[i - 1].isalpha():
        i -= 1
    return code[:i] if i > 0 else code
