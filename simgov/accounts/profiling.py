"""Accounts reduced to what linking needs: an :class:`AccountProfile` (normalised free-text
fields plus keyed hashes of the identifiers; the raw identifiers are hashed in :func:`profile` and
never stored), and how candidate pairs are found: a dense hashed character n-gram vector of
:func:`candidate_text` searched top-k (the profile signal, `simgov.accounts.profile`), plus exact
blocking on identifier hashes (:func:`blocking_keys`, the identifier signal). :func:`candidate_pairs`
does both over a list of profiles at once. `simgov.accounts.scoring` compares two profiles.

Pure library code: no printing, no I/O.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Mapping, Sequence

import numpy as np

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
#: with identifier blocking (see evaluation/febrl.py for the measured candidate recall).
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
