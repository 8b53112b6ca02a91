"""The pairwise account link score: Fellegi-Sunter terms (one :class:`LinkTerm` per signal that
both accounts have) added into one probability (:func:`combine`) with plain-words evidence; pairs
at or above :data:`DEFAULT_LINK_THRESHOLD` are links, and
:func:`simgov.matching.grouping.group_links` turns links into groups without chaining weak links.
The text and identifier terms are here (:func:`text_terms`, :func:`identifier_terms`); the avatar
and listing signals make their own terms.

Pure library code: no printing, no I/O.
"""
from __future__ import annotations

import hmac
import math
from collections import Counter
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Iterable, Sequence

from ..matching import thresholds
from .profiling import AccountProfile

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

#: Link when the score (posterior probability of "same person") is at least this: even odds, the
#: Bayes decision point of the log-odds model above (`account_link` in calibration.json says how
#: it was checked).
DEFAULT_LINK_THRESHOLD = thresholds.default("account_link")


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
