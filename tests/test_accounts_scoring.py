"""Unit tests of the account link model: identifier normalisation, the marketplace rules of
`combine`, listing overlap terms, ring grouping, and the Account input model."""
from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from simgov.accounts.profiling import keyed_hash, profile
from simgov.accounts.scoring import DEFAULT_LINK_THRESHOLD, compare
from simgov.accounts.listings import overlap_term
from simgov.accounts.rings import group_rings
from simgov.schema import Account

SECRET = b"unit-test-secret"


def h(name, value):
    return keyed_hash(SECRET, name, value)


def test_phone_writings_of_one_number_hash_equal():
    assert h("phone", "+49 151 1234567") == h("phone", "0151 1234567") == h("phone", "+491511234567")
    assert h("phone", "+1 (555) 123-4567") == h("phone", "(555) 123-4567")
    assert h("phone", "+1 (555) 123-4567") != h("phone", "+1 (555) 123-4568")


def test_payout_account_labels_and_separators_are_ignored():
    same = ["ACH routing 123456789 account 0001234", "123456789-0001234", "routing: 123456789 / acct: 0001234"]
    assert len({h("payout_account", v) for v in same}) == 1
    assert h("payout_account", "IBAN: IT06 C159 6530") == h("payout_account", "it06c1596530")
    assert h("payout_account", "ACC-1") == h("payout_account", "acc1") != h("payout_account", "1")


def acct(account_id, name=None, address=None, handle=None, **ids):
    a = {"account_id": account_id, "identifiers": ids}
    if name:
        a["display_name"] = name
    if address:
        a["address"] = address
    if handle:
        a["handle"] = handle
    return profile(a, SECRET)


HARD = dict(phone="+44 20 7946 0018", device_id="dev-1", payout_account="GB33BUKB20201555555555", ip="1.2.3.4")


def test_a_shared_strong_identifier_is_not_outvoted_by_a_made_up_profile():
    a = acct("a", "Golden Deals", "12 Baker Street London", "golden_deals", email="gold@x.org", **HARD)
    b = acct("b", "Maria Gonzalez", "88 Harbour Road Cardiff", "mgz", email="other@y.org", device_id="dev-1",
             phone="+44 161 000 0000", payout_account="GB00OTHER", ip="9.9.9.9")
    c = compare(a, b)
    assert c.score >= DEFAULT_LINK_THRESHOLD and c.evidence[0]["detail"] == "same device_id"


def test_namesakes_whose_hard_identifiers_all_differ_are_not_linked():
    a = acct("a", "Manon Petit", "22 r Victor Hugo 75011 Paris", "manonpetit90", email="m1@x.fr", **HARD)
    b = acct("b", "Manon Petit", "153 r Victor Hugo 75015 Paris", "manonpetit", email="m2@y.fr",
             phone="+33 6 00 00 00 00", device_id="dev-2", payout_account="FR7612345", ip="5.6.7.8")
    assert compare(a, b).score < DEFAULT_LINK_THRESHOLD
    # the same pair without identifiers (FEBRL-like data) is still judged on the text alone
    assert compare(acct("a", "Manon Petit", "22 r Victor Hugo 75011 Paris"),
                   acct("b", "Manon Petit", "22 r Victor Hugo 75011 Paris")).score > 0.99


def test_display_name_and_handle_count_once():
    with_handle = compare(acct("a", "john smith", handle="johnsmith"), acct("b", "john smith", handle="johnsmith"))
    without = compare(acct("a", "john smith"), acct("b", "john smith"))
    assert with_handle.log_odds == pytest.approx(without.log_odds)


def test_listing_overlap_term():
    t = overlap_term("a", "b", 4, 6, 1, 10)
    assert t.detail == "4 of 6 listings of a match listings of b" and t.kind == "listing_overlap"
    assert t.similarity == pytest.approx(4 / 6) and t.log_odds > 0
    # one listing: half
    assert overlap_term("a", "b", 1, 1, 1, 1).log_odds < overlap_term("a", "b", 2, 2, 2, 2).log_odds
    assert overlap_term("a", "b", 0, 5, 0, 5) is None and overlap_term("a", "b", 0, 0, 0, 0) is None


def test_rings_chain_hard_links_only():
    t = DEFAULT_LINK_THRESHOLD
    # star: 0 shares a device with 1 and a payout account with 2; 1 and 2 share nothing
    scores = {(0, 1): 0.9, (0, 2): 0.8, (1, 2): 0.01}
    assert group_rings(3, scores, {(0, 1), (0, 2)}, None, t) == [[0, 1, 2]]
    # the same star held by soft links only: average linkage keeps the weakly tied member out
    assert group_rings(3, scores, set(), None, t) == [[0, 1]]
    # a soft link attaches an account to a core, one hop only: 3 does not follow 2 in
    scores = {(0, 1): 0.99, (1, 2): 0.7, (2, 3): 0.9}
    assert group_rings(4, scores, {(0, 1)}, lambda i, j: 0.0, t) == [[0, 1, 2]]
    # two cores bridged by a soft link stay two rings
    scores = {(0, 1): 0.99, (2, 3): 0.99, (1, 2): 0.8}
    assert group_rings(4, scores, {(0, 1), (2, 3)}, lambda i, j: 0.0, t) == [[0, 1], [2, 3]]
    assert group_rings(3, {(0, 1): 0.2}, set(), None, t) == []


def test_account_model_lifts_loose_identifiers_and_keeps_values_out_of_the_record():
    a = Account.model_validate({"account_id": " a1 ", "Email": "Jo@X.org", "identifiers": {"Phone": 12345678901},
                                "country": "NL", "authorized_brands": "Acme"})
    assert a.account_id == "a1" and a.identifiers == {"email": "Jo@X.org", "phone": "12345678901"}
    record = a.safe_record()
    assert record["identifier_names"] == ["email", "phone"] and record["country"] == "NL"
    assert record["authorized_brands"] == ["Acme"]
    assert "Jo@X.org" not in json.dumps(record) and "12345678901" not in json.dumps(record)


def test_account_model_errors_name_identifiers_not_values():
    with pytest.raises(ValidationError) as err:
        Account.model_validate({"account_id": "a", "identifiers": {"email": ["secret@x.org"]}})
    assert "identifier email" in str(err.value.errors()[0]["msg"])
    assert "secret@x.org" not in err.value.errors()[0]["msg"]
    with pytest.raises(ValidationError):
        Account.model_validate({"display_name": "no id"})
