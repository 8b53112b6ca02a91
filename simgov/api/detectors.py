"""The detectors behind the API: counterfeit assessment of an item, its duplicate group, accounts linked
to an account.

Kept apart from the routers so that the routers only deal with HTTP (auth, audit, parameters).
"""
from __future__ import annotations

from simgov.detectors.counterfeits import assess_item, authorizations
from simgov.detectors.duplicates import item_group
from simgov.index import SimIndex
from simgov.records import CounterfeitAssessment
from simgov.verdicts import MAX_GROUP, Verdicts

from .models import GroupMember, ItemGroupResponse, LinkedAccounts


def counterfeit(index: SimIndex, item_id: str) -> CounterfeitAssessment:
    """The counterfeit assessment of one indexed item (unknown item: UnknownId)."""
    return assess_item(index, item_id, authorizations(index))


def linked(index: SimIndex, account_id: str, k: int, min_score: float) -> LinkedAccounts:
    """Accounts linked to this one, best first, with evidence and verdicts (unknown account: UnknownId)."""
    found = index.accounts.linked(account_id, k=k, min_score=min_score)
    verdicts = Verdicts(index).review_linked(account_id, found)
    return LinkedAccounts(account_id=account_id, linked=found, verdicts=verdicts)


def group(index: SimIndex, item_id: str) -> ItemGroupResponse:
    """The duplicate group holding one item, with what the console shows of each member (unknown
    item: UnknownId)."""
    found = item_group(index, item_id)
    scores = {item_id: None, **found.member_scores}
    order = sorted(scores, key=lambda i: (i != item_id, -(scores[i] or 0.0), i))
    items = {member_id: index.item(member_id).item for member_id in order} if found.group else {}
    members = [GroupMember(item_id=i, seller_id=item.seller_id, title=item.title, images=len(item.images),
                           score=scores[i]) for i, item in items.items()]
    return ItemGroupResponse(item_id=item_id, group=found.group, match=found.match, members=members,
                             truncated=found.truncated, max_members=MAX_GROUP)
