"""Account profiles and the pairwise link scorer for sock-puppet detection.

An account is reduced to an :class:`AccountProfile`: normalised free-text fields plus keyed
hashes of its identifiers (the raw identifiers are hashed in :func:`profile` and never stored).
Linking is two stages:

1. Candidate generation by index lookup, never all-pairs: a dense hashed character n-gram vector
   of :func:`candidate_text` searched top-k in a FAISS inner-product index, plus exact blocking on
   identifier hashes (:func:`blocking_keys`). :func:`candidate_pairs` does both.
2. :func:`compare` scores each candidate pair in [0, 1] with plain-words evidence; pairs at or
   above :data:`DEFAULT_LINK_THRESHOLD` are links. :func:`simgov.grouping.group_links` turns links into groups
   without chaining weak links.

Pure library code: no printing, no I/O.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

__all__ = [
    "AccountProfile",
    "LinkComparison",
    "DEFAULT_LINK_THRESHOLD",
    "keyed_hash",
    "normalise_name",
    "normalise_address",
    "profile",
    "candidate_text",
    "blocking_keys",
    "ngram_vectors",
    "candidate_pairs",
    "ngram_dice",
    "compare",
    "combine",
    "LinkTerm",
    "text_terms",
    "identifier_terms",
    "STRONG_IDENTIFIERS",
]

# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------

#: Address abbreviations unified to one spelling, so "12 Smith St." and "12 smith street" agree.
#: Both sides are normalised the same way, so consistency matters more than the exact expansion
#: (e.g. "st" is always "street", also in "st kilda").
ADDRESS_ABBREVIATIONS: dict[str, str] = {
    "st": "street", "str": "street", "rd": "road", "ave": "avenue", "av": "avenue",
    "cres": "crescent", "cr": "crescent", "crs": "crescent", "ct": "court", "crt": "court",
    "pl": "place", "dr": "drive", "drv": "drive", "ln": "lane", "hwy": "highway",
    "pde": "parade", "cct": "circuit", "cir": "circuit", "tce": "terrace", "terr": "terrace",
    "blvd": "boulevard", "bvd": "boulevard", "cl": "close", "gr": "grove", "gve": "grove",
    "sq": "square", "esp": "esplanade", "mt": "mount", "nth": "north", "sth": "south",
    "vlge": "village", "vlg": "village", "retrmnt": "retirement", "hts": "heights",
    "apt": "apartment", "appt": "apartment", "unt": "unit", "flt": "flat", "lvl": "level",
    "flr": "floor", "bldg": "building", "hse": "house", "ctr": "centre", "center": "centre",
    "pk": "park", "est": "estate", "ck": "creek", "cnr": "corner", "locn": "location",
    "caravn": "caravan", "hosp": "hospital",
}

_PUNCT = re.compile(r"[^\w\s]+", re.UNICODE)
_SPACE = re.compile(r"\s+")
_ALNUM_SPLIT = re.compile(r"(?<=\d)(?=[^\W\d_])|(?<=[^\W\d_])(?=\d)")


def _fold(text: str) -> str:
    """Lowercase, strip accents, punctuation to spaces, collapse whitespace."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = _PUNCT.sub(" ", text.lower()).replace("_", " ")
    return _SPACE.sub(" ", text).strip()


def normalise_name(text: str | None) -> str:
    """Display name folded for comparison: 'Jón  O'Neil-Smith' -> 'jon o neil smith'."""
    return _fold(text) if text else ""


def normalise_address(text: str | None) -> str:
    """Lowercase, punctuation removed, digits split from letters, abbreviations unified.

    '12b Smith St., Springfield' -> '12 b smith street springfield'.
    """
    if not text:
        return ""
    folded = _ALNUM_SPLIT.sub(" ", _fold(text))
    return " ".join(ADDRESS_ABBREVIATIONS.get(t, t) for t in folded.split())


_DOTLESS_EMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def _normalise_email(v: str) -> str:
    """Lowercase, no spaces, '+tag' dropped from the local part ('jo+2@x.org' is jo@x.org's
    mailbox, a cheap way to open many accounts), dots dropped where the provider ignores them."""
    v = re.sub(r"\s+", "", v)
    local, sep, domain = v.rpartition("@")
    if not sep or not local:
        return v
    local = local.split("+", 1)[0] or local
    if domain in _DOTLESS_EMAIL_DOMAINS:
        local = local.replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


#: A phone number is compared by its last digits: the international (+49 151 …), compact (+49151…)
#: and national (0151 …) writings of one number share them, while the country code and trunk
#: prefix differ. Nine digits keep numbers apart in every numbering plan of 9+ digit numbers.
PHONE_TAIL_DIGITS = 9
#: Labels people write around bank account numbers ("ACH routing … account …", "IBAN: …").
#: A label is a whole word followed by a space, a colon or the end ("ACC-1" keeps its letters).
_PAYOUT_LABELS = re.compile(r"\b(?:iban|bic|swift|ach|aba|routing|account|acct|number|sort code)\b(?=[\s:#]|$)")


def _normalise_identifier(name: str, value: str) -> str:
    """Canonical form of an identifier before hashing, so trivial formatting does not break
    equality: phones keep their last digits; emails lose case and +tags; dates keep digits only;
    payout accounts lose labels, case and separators; id numbers lose case, spaces and separators."""
    v = unicodedata.normalize("NFKC", str(value)).strip().lower()
    n = name.lower()
    if "phone" in n:
        return re.sub(r"\D", "", v)[-PHONE_TAIL_DIGITS:]
    if "email" in n:
        return _normalise_email(v)
    if n in {"date_of_birth", "dob", "birth_date"}:
        return re.sub(r"\D", "", v)
    if n in {"payout_account", "iban", "bank_account"}:
        return re.sub(r"[^0-9a-z]", "", _PAYOUT_LABELS.sub(" ", v))
    if n in {"id_number", "tax_id", "ssn"}:
        return re.sub(r"[\s\-./]", "", v)
    return re.sub(r"\s+", " ", v)


def keyed_hash(secret: bytes, name: str, value: str) -> str:
    """HMAC-SHA256 of the normalised identifier value, domain-separated by identifier name.

    Keyed (not a plain hash) so a leaked store cannot be reversed by hashing every phone number;
    domain-separated so the same string as an email and as an id does not collide.
    """
    if not isinstance(secret, (bytes, bytearray)) or not secret:
        raise ValueError("secret must be non-empty bytes")
    msg = name.strip().lower().encode("utf-8") + b"\x00" + _normalise_identifier(name, value).encode("utf-8")
    return hmac.new(bytes(secret), msg, hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------------------------
# Profile
# --------------------------------------------------------------------------------------------


@dataclass
class AccountProfile:
    """What linking needs to know about one account; safe to store (no raw identifiers)."""

    account_id: str
    display_name: str = ""
    handle: str = ""
    bio_tokens: list[str] = field(default_factory=list)
    address: str = ""
    identifier_hashes: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping) -> "AccountProfile":
        return cls(
            account_id=str(d["account_id"]),
            display_name=d.get("display_name") or "",
            handle=d.get("handle") or "",
            bio_tokens=list(d.get("bio_tokens") or []),
            address=d.get("address") or "",
            identifier_hashes=dict(d.get("identifier_hashes") or {}),
        )


def _handle(text: str | None) -> str:
    return re.sub(r"[^0-9a-z]+", "", _fold(text).replace(" ", "")) if text else ""


def profile(account: Mapping, secret: bytes) -> AccountProfile:
    """Build a profile; identifiers are hashed here and the raw values are dropped."""
    ids = account.get("identifiers") or {}
    hashes = {
        str(k).strip().lower(): keyed_hash(secret, str(k), str(v))
        for k, v in ids.items()
        if v is not None and str(v).strip()
    }
    bio = _fold(account.get("bio") or "")
    return AccountProfile(
        account_id=str(account["account_id"]),
        display_name=normalise_name(account.get("display_name")),
        handle=_handle(account.get("handle")),
        bio_tokens=sorted(set(bio.split())),
        address=normalise_address(account.get("address")),
        identifier_hashes=hashes,
    )


# --------------------------------------------------------------------------------------------
# Candidate generation
# --------------------------------------------------------------------------------------------


def candidate_text(p: AccountProfile) -> str:
    """Text for the dense n-gram candidate vector: name tokens sorted (so swapped given name and
    surname still share n-grams), then handle and address."""
    parts = [" ".join(sorted(p.display_name.split())), p.handle, p.address]
    return " ".join(x for x in parts if x)


#: Identifiers shared by many unrelated accounts (a date of birth, a carrier NAT ip) make huge
#: blocks; blocks larger than this are skipped for candidates (the hash still counts in compare).
MAX_BLOCK_SIZE = 50


def blocking_keys(p: AccountProfile) -> list[str]:
    """Exact-match keys: any two accounts sharing a key become candidates."""
    return [f"{k}:{h}" for k, h in sorted(p.identifier_hashes.items())]


def ngram_vectors(texts: list[str], dim: int = 512) -> np.ndarray:
    """Hashed character 2-3-gram counts, L2-normalised, dense float32 (n, dim).

    Hashing needs no fitted vocabulary, so a new account is vectorised without refitting; inner
    product of the vectors is cosine similarity of n-gram profiles, robust to typos.
    """
    from sklearn.feature_extraction.text import HashingVectorizer

    vec = HashingVectorizer(
        analyzer="char_wb", ngram_range=(2, 3), n_features=dim, alternate_sign=False,
        norm="l2", lowercase=True, dtype=np.float32,
    )
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    return np.ascontiguousarray(vec.transform(texts).toarray(), dtype=np.float32)


#: Nearest neighbours per account in the n-gram search. 10 keeps all FEBRL true pairs together
#: with identifier blocking (see scripts/eval_febrl_links.py for the measured candidate recall).
DEFAULT_K = 10


def candidate_pairs(
    profiles: Sequence[AccountProfile],
    k: int = DEFAULT_K,
    dim: int = 512,
    use_ngrams: bool = True,
    use_blocking: bool = True,
) -> set[tuple[int, int]]:
    """Candidate index pairs (i < j): FAISS top-k on n-gram vectors plus identifier blocking.

    Both are index lookups (cost ~ n*k plus block sizes), never an all-pairs comparison.
    """
    n = len(profiles)
    pairs: set[tuple[int, int]] = set()
    if n < 2:
        return pairs
    if use_ngrams and k > 0:
        import faiss

        x = ngram_vectors([candidate_text(p) for p in profiles], dim)
        index = faiss.IndexFlatIP(dim)
        index.add(x)
        _, nbrs = index.search(x, min(k + 1, n))
        for i in range(n):
            for j in nbrs[i]:
                j = int(j)
                if j >= 0 and j != i:
                    pairs.add((i, j) if i < j else (j, i))
    if use_blocking:
        blocks: dict[str, list[int]] = defaultdict(list)
        for i, p in enumerate(profiles):
            for key in blocking_keys(p):
                blocks[key].append(i)
        for members in blocks.values():
            if 1 < len(members) <= MAX_BLOCK_SIZE:
                for x_ in range(len(members)):
                    for y_ in range(x_ + 1, len(members)):
                        pairs.add((members[x_], members[y_]))
    return pairs


# --------------------------------------------------------------------------------------------
# Pairwise comparison
# --------------------------------------------------------------------------------------------


@dataclass
class LinkComparison:
    """Result of :func:`compare`. ``parts`` holds each compared signal's similarity in [0, 1];
    a signal missing on either side is absent from ``parts`` (not 0)."""

    score: float
    parts: dict[str, float]
    evidence: list[dict]
    log_odds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


@lru_cache(maxsize=1 << 17)
def _grams(text: str, n: int = 3) -> tuple[dict[str, int], int]:
    """Multiset of character n-grams of each word, padded with spaces (word order free, so a
    swapped given name and surname still match; the padding marks word starts and ends), and
    its size."""
    out: Counter = Counter()
    for tok in text.split():
        t = f" {tok} "
        out.update(t[i : i + n] for i in range(max(1, len(t) - n + 1)))
    return dict(out), sum(out.values())


def ngram_dice(a: str, b: str) -> float | None:
    """Dice coefficient of word-padded character 3-gram multisets; None if either is empty."""
    if not a or not b:
        return None
    (ga, na), (gb, nb) = _grams(a), _grams(b)
    if len(ga) > len(gb):
        ga, gb = gb, ga
    common = 0
    for gram, count in ga.items():
        other = gb.get(gram)
        if other:
            common += count if count < other else other
    return 2.0 * common / (na + nb) if na + nb else None


# Scoring is Fellegi-Sunter style: each signal present on both accounts adds a log-likelihood
# ratio (log of how much more often a duplicate pair shows it than an unrelated candidate pair);
# the sum plus a prior is squashed to a probability. A signal missing on either side adds 0.
#
# Text signals add WEIGHT * (similarity - CENTRE): positive above the centre, negative below.
# The weights are set by hand from rough match/non-match rates, not fitted to labels: a near
# identical address is rarer between strangers than a near-identical name (names repeat), so the
# address weighs more; see DEFAULT_LINK_THRESHOLD for how the result was checked.

#: Log prior odds that a top-k candidate pair is the same person: about 1 in 8.
PRIOR_LOG_ODDS = -2.0
NAME_WEIGHT, NAME_CENTRE = 8.0, 0.5
HANDLE_WEIGHT, HANDLE_CENTRE = 6.0, 0.5
ADDRESS_WEIGHT, ADDRESS_CENTRE = 12.0, 0.5
#: Bio overlap is weak (people copy templates) and only counted with a few words on both sides.
BIO_WEIGHT, BIO_CENTRE, BIO_MIN_TOKENS = 4.0, 0.5, 3

#: Log-likelihood ratio of an exact identifier-hash match. Strangers practically never share an
#: id number, payout account, email or phone (ratio ~ e^6 ~ 400 even allowing for shared family
#: accounts); dates of birth collide about 1 in 100 among look-alike candidates (e^4 ~ 55); ip
#: addresses are shared behind NAT and VPNs.
IDENTIFIER_AGREE: dict[str, float] = {
    "id_number": 6.0, "payout_account": 6.0, "email": 6.0, "phone": 5.0, "device_id": 5.0,
    "date_of_birth": 4.0, "ip": 2.0,
}
IDENTIFIER_AGREE_DEFAULT = 4.0
#: Log-likelihood ratio of a mismatch. Weak on purpose: typos and data entry errors make a true
#: duplicate disagree on an id number or date of birth some 10-15% of the time (FEBRL shows the
#: same), and a person may hold several emails, phones, devices and ips, so those say ~nothing.
IDENTIFIER_DISAGREE: dict[str, float] = {
    "id_number": -1.5, "date_of_birth": -1.5, "payout_account": -0.5, "email": -0.3,
    "phone": -0.3, "device_id": -0.3, "ip": 0.0,
}
IDENTIFIER_DISAGREE_DEFAULT = -0.5

#: Link when the score (posterior probability of "same person") is at least this: even odds.
#: Where it came from: 0.5 is the Bayes decision point of the log-odds model above, chosen before
#: measuring and not searched on labels. Label-free check: on the FEBRL candidate pairs (k=10)
#: the histogram of log-odds is bimodal and its emptiest bin lies between -4 and 0 on all four
#: sets, i.e. at or just below this threshold. With labels (measuring only), FEBRL1-4 pair F1
#: stays >= 0.986 for any threshold from 0.1 to 0.95; figures in scripts/eval_febrl_links.py.
DEFAULT_LINK_THRESHOLD = 0.5


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def _jaccard(a: Sequence[str], b: Sequence[str]) -> float:
    sa, sb = set(a), set(b)
    return len(sa & sb) / len(sa | sb) if sa | sb else 0.0


#: Identifier kinds whose agreement alone makes a link (agreement weight >= 5): strangers do not
#: share them. In a marketplace these are the "hard" links between accounts.
STRONG_IDENTIFIERS = frozenset(k for k, w in IDENTIFIER_AGREE.items() if w >= 5.0)
#: When a strong identifier agrees, everything that disagrees (a made-up persona: another name,
#: handle, bio or address, other emails, phones or payout accounts) can subtract at most this
#: much together: a sock puppet is made to look different, the one shared payout account or
#: device is what gives it away.
DISAGREE_FLOOR = -2.5
#: When at least two strong identifier kinds are present on both accounts and none agrees, profile
#: text that agrees can add at most this much: namesakes in one city (same name, same street)
#: whose emails, phones, devices and payout accounts all differ are different people unless other
#: evidence (avatar, listing overlap, a shared weaker identifier) agrees too. Data without two
#: strong identifier kinds (FEBRL: id number and date of birth) never meets this condition.
TEXT_AGREE_CAP = 3.0
#: Evidence groups: text fields (profile and address) are what the floor and the cap act on.
TEXT, IDENTIFIER, OTHER = "text", "identifier", "other"


@dataclass
class LinkTerm:
    """One signal's contribution to a pair's link score: a log-likelihood ratio and its evidence.

    ``field`` names the compared signal (``display_name``, ``address``, ``email``, ``avatar``,
    ``listing_overlap`` …) and becomes a key of :attr:`LinkComparison.parts`.
    """

    field: str
    kind: str
    similarity: float
    log_odds: float
    detail: str
    group: str = OTHER

    def evidence(self) -> dict:
        return {"kind": self.kind, "score": round(float(min(max(self.similarity, 0.0), 1.0)), 3),
                "detail": self.detail}


def text_terms(a: AccountProfile, b: AccountProfile) -> list[LinkTerm]:
    """Display name, handle, bio and address: each present on both sides gives one term."""
    out: list[LinkTerm] = []
    s = ngram_dice(a.display_name, b.display_name)
    if s is not None:
        out.append(LinkTerm("display_name", "profile", s, NAME_WEIGHT * (s - NAME_CENTRE),
                            f"display names {s:.2f} alike: '{a.display_name}' ~ '{b.display_name}'", TEXT))
    if a.handle and b.handle:
        s = 1.0 if a.handle == b.handle else ngram_dice(a.handle, b.handle) or 0.0
        out.append(LinkTerm("handle", "profile", s, HANDLE_WEIGHT * (s - HANDLE_CENTRE),
                            f"handles {s:.2f} alike: '{a.handle}' ~ '{b.handle}'", TEXT))
    if len(a.bio_tokens) >= BIO_MIN_TOKENS and len(b.bio_tokens) >= BIO_MIN_TOKENS:
        s = _jaccard(a.bio_tokens, b.bio_tokens)
        out.append(LinkTerm("bio", "profile", s, BIO_WEIGHT * (s - BIO_CENTRE),
                            f"bios share {s:.0%} of their words", TEXT))
    s = ngram_dice(a.address, b.address)
    if s is not None:
        out.append(LinkTerm("address", "address", s, ADDRESS_WEIGHT * (s - ADDRESS_CENTRE),
                            f"addresses {s:.2f} alike", TEXT))
    return out


def identifier_terms(a: AccountProfile, b: AccountProfile) -> list[LinkTerm]:
    """One term per identifier kind present on both sides: agreement or mismatch of the hashes.

    The detail names the identifier, never its value or hash.
    """
    out: list[LinkTerm] = []
    for name in sorted(a.identifier_hashes.keys() & b.identifier_hashes.keys()):
        if hmac.compare_digest(a.identifier_hashes[name], b.identifier_hashes[name]):
            out.append(LinkTerm(name, "shared_identifier", 1.0, IDENTIFIER_AGREE.get(name, IDENTIFIER_AGREE_DEFAULT),
                                f"same {name}", IDENTIFIER))
        else:
            out.append(LinkTerm(name, "identifier_mismatch", 0.0,
                                IDENTIFIER_DISAGREE.get(name, IDENTIFIER_DISAGREE_DEFAULT),
                                f"different {name}", IDENTIFIER))
    return out


def _text_log_odds(terms: list[LinkTerm]) -> float:
    """Sum of the text terms, counting a display name and a handle that agree (or disagree)
    together once: the handle is usually made from the name, so the two are not independent."""
    w = {t.field: t.log_odds for t in terms}
    total = sum(w.values())
    if "display_name" in w and "handle" in w and w["display_name"] * w["handle"] > 0:
        total -= min(w["display_name"], w["handle"], key=abs)
    return total


def combine(terms: Iterable[LinkTerm], prior: float = PRIOR_LOG_ODDS) -> LinkComparison:
    """Fellegi-Sunter sum of the terms plus the prior, squashed to a probability.

    Text terms are summed by :func:`_text_log_odds`. When a strong identifier agrees, text and
    identifier disagreements together subtract at most :data:`DISAGREE_FLOOR`; when two or more
    strong identifier kinds are compared and none agrees, agreeing text adds at most
    :data:`TEXT_AGREE_CAP`. Evidence is ordered by contribution, most in favour first.
    """
    terms = list(terms)
    text = [t for t in terms if t.group == TEXT]
    ids = [t for t in terms if t.group == IDENTIFIER]
    strong_compared = {t.field for t in ids if t.field in STRONG_IDENTIFIERS}
    strong_shared = {t.field for t in ids if t.field in STRONG_IDENTIFIERS and t.similarity >= 1.0 and t.log_odds > 0}
    pos = _text_log_odds([t for t in text if t.log_odds > 0])
    neg = _text_log_odds([t for t in text if t.log_odds < 0])
    mismatch = sum(t.log_odds for t in ids if t.log_odds < 0)
    if strong_shared:
        neg, mismatch = max(neg + mismatch, DISAGREE_FLOOR), 0.0
    elif len(strong_compared) >= 2:
        pos = min(pos, TEXT_AGREE_CAP)
    agree = sum(t.log_odds for t in ids if t.log_odds > 0)
    other = sum(t.log_odds for t in terms if t.group not in (TEXT, IDENTIFIER))
    z = prior + pos + neg + agree + mismatch + other
    ordered = sorted(terms, key=lambda t: -t.log_odds)
    return LinkComparison(score=_sigmoid(z), parts={t.field: t.similarity for t in terms},
                          evidence=[t.evidence() for t in ordered], log_odds=z)


def compare(a: AccountProfile, b: AccountProfile, extra: Iterable[LinkTerm] = ()) -> LinkComparison:
    """Score how likely two accounts are the same person (or operator), with plain-words evidence.

    ``extra`` adds terms of other signals (avatar, listing overlap). Evidence never contains
    identifier values or hashes, only which identifier agreed.
    """
    return combine([*text_terms(a, b), *identifier_terms(a, b), *extra])


# --------------------------------------------------------------------------------------------
# Grouping
# --------------------------------------------------------------------------------------------
