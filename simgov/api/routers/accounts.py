"""Accounts: linked accounts (from the detectors) and the items an account lists."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from .. import detectors
from ..deps import Index, Lookup
from ..errors import responses
from ..models import AccountItems, LinkedAccounts
from .items import K, MinScore

router = APIRouter(prefix="/v1/accounts", tags=["accounts"], responses=responses(401, 403, 422))


@router.get("/{account_id}/linked", response_model=LinkedAccounts, responses=responses(404))
def linked(account_id: str, index: Index, _: Lookup, k: K = 10, min_score: MinScore = 0.0) -> LinkedAccounts:
    """Accounts linked to this one, best first, each with a link score, a decision and its evidence
    (shared identifiers, profile and address likeness, avatar, listing overlap)."""
    return detectors.linked(index, account_id, k=k, min_score=min_score)


@router.get("/{account_id}/items", response_model=AccountItems)
def account_items(account_id: str, index: Index, _: Lookup,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> AccountItems:
    """The live items listed by this account (seller id), by item id; empty for an unknown account."""
    items = index.store.seller_items(account_id, limit + 1)
    return AccountItems(account_id=account_id, items=items[:limit], truncated=len(items) > limit)
