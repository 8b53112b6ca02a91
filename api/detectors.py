"""The detectors behind the API: counterfeit assessment of an item, accounts linked to an account.

Kept apart from the routers so that the routers only deal with HTTP (auth, audit, parameters).
"""
from __future__ import annotations

from simgov.detectors.counterfeits import assess_item
from simgov.index import SimIndex
from simgov.records import CounterfeitAssessment
from simgov.verdicts import Verdicts

from .models import LinkedAccounts


def authorized_brands(index: SimIndex, seller_id: str) -> set[str]:
    """The brands an account may sell (`authorized_brands` of its record; none if unknown)."""
    stored = index.accounts.store.get(seller_id)
    return set(stored.record.get("authorized_brands") or []) if stored else set()


def counterfeit(index: SimIndex, item_id: str) -> CounterfeitAssessment:
    """The counterfeit assessment of one indexed item (unknown item: UnknownId)."""
    return assess_item(index, item_id, lambda seller_id: authorized_brands(index, seller_id))


def linked(index: SimIndex, account_id: str, k: int, min_score: float) -> LinkedAccounts:
    """Accounts linked to this one, best first, with evidence and verdicts (unknown account: UnknownId)."""
    found = index.accounts.linked(account_id, k=k, min_score=min_score)
    verdicts = Verdicts(index).review_linked(account_id, found)
    return LinkedAccounts(account_id=account_id, linked=found, verdicts=verdicts)
