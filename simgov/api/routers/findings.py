"""The findings queue (counterfeit suspects, duplicate groups, rings, bank hits) and verdicts on
findings; seller and creator risk, which the findings explain."""
from __future__ import annotations

import threading
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from simgov.findings.model import Finding, FindingPage, FindingVerdictRequest, SellerList, SellerRisk
from simgov.findings.queue import MAX_LIMIT, Filters, FindingsPending, FindingsQueue, NothingToUndo
from simgov.findings.risk import ranked, seller_risks

from ..deps import Index, Investigator, Lookup
from ..errors import ApiError, responses

router = APIRouter(tags=["findings"], responses=responses(401, 403, 422))
#: How long a request waits for the first scan of an index before it is answered 503.
FIRST_SCAN_WAIT_S = 20.0
_opening = threading.Lock()

Id = Annotated[str, Path(min_length=1, max_length=256)]


def get_queue(request: Request, index: Index) -> FindingsQueue:
    """The process's findings queue over the open index, brought up to date in the background."""
    with _opening:
        queue = getattr(request.app.state, "findings", None)
        if queue is None or queue.index is not index:
            queue = request.app.state.findings = FindingsQueue(index)
    try:
        queue.start(wait_s=FIRST_SCAN_WAIT_S)
    except FindingsPending as exc:
        raise ApiError(503, "findings_pending", str(exc), {"Retry-After": "10"}) from None
    return queue


Queue = Annotated[FindingsQueue, Depends(get_queue)]


@router.get("/v1/findings", response_model=FindingPage, responses=responses(503))
def findings(queue: Queue, _: Lookup,
             kind: Annotated[Literal["counterfeit", "cross_seller_copy", "relisting", "picture_reuse", "ring",
                                     "bank_hit"] | None, Query()] = None,
             status: Annotated[Literal["open", "confirmed", "rejected"] | None, Query()] = None,
             seller_id: Annotated[str | None, Query(max_length=256,
                                                    description="findings that blame or involve this account")] = None,
             item_id: Annotated[str | None, Query(max_length=256,
                                                  description="findings that hold this listing")] = None,
             brand: Annotated[str | None, Query(max_length=200)] = None,
             min_score: Annotated[float, Query(ge=0, le=1)] = 0.0,
             sort: Annotated[Literal["severity", "score", "newest"], Query()] = "severity",
             limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
             cursor: Annotated[str | None, Query(max_length=2000, description="next_cursor of the page before")] = None,
             ) -> FindingPage:
    """Every kind of finding in one list, most severe first by default, each with its latest verdict.
    Listings written through the API are re-checked in the background: a new counterfeit suspect
    appears without a rebuild. Page on with `cursor` (the answer's `next_cursor`)."""
    filters = Filters(kind=kind, status=status, seller_id=seller_id, item_id=item_id, brand=brand, min_score=min_score)
    return queue.page(filters, sort=sort, limit=limit, cursor=cursor)


@router.get("/v1/findings/{finding_id}", response_model=Finding, responses=responses(404, 503))
def finding(finding_id: Id, queue: Queue, _: Lookup) -> Finding:
    """One finding, with its latest verdict."""
    return queue.get(finding_id)


@router.post("/v1/findings/{finding_id}/verdict", response_model=Finding, responses=responses(400, 404, 503))
def decide(finding_id: Id, body: FindingVerdictRequest, queue: Queue, principal: Investigator) -> Finding:
    """Confirm or reject a finding. It is recorded as the verdicts it is made of (`GET /v1/verdicts`):
    a counterfeit suspect, a duplicate group, or a ring as the link of its first member to each
    other member; bank hits are managed in their bank instead (422)."""
    return queue.decide(finding_id, body.decision, body.reason, body.note, principal.key_id, principal.name)


@router.delete("/v1/findings/{finding_id}/verdict", response_model=Finding, responses=responses(404, 409, 503))
def undo(finding_id: Id, queue: Queue, principal: Investigator) -> Finding:
    """Undo the verdict that counts for a finding (each verdict it was recorded as, `DELETE
    /v1/verdicts/{id}`): the finding's earlier verdict counts again, else it is open. A finding
    without a verdict: 409."""
    try:
        return queue.undo(finding_id, principal.key_id)
    except NothingToUndo as exc:
        raise ApiError(409, "no_verdict", str(exc)) from None


@router.get("/v1/sellers", response_model=SellerList, responses=responses(503))
def sellers(queue: Queue, index: Index, _: Lookup,
            sort: Annotated[Literal["risk", "seller_id"], Query()] = "risk",
            limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
            min_risk: Annotated[float, Query(ge=0, le=1)] = 0.0) -> SellerList:
    """Sellers and creators ranked by risk, each with the findings and links that explain it."""
    found = [r for r in ranked(seller_risks(index, queue.current()), sort) if r.risk >= min_risk]
    return SellerList(sellers=found[:limit])


@router.get("/v1/sellers/{seller_id}/risk", response_model=SellerRisk, responses=responses(404, 503))
def seller_risk(seller_id: Id, queue: Queue, index: Index, _: Lookup) -> SellerRisk:
    """One seller's or creator's risk and its reasons (404 for an id with no listing and no account)."""
    risks = seller_risks(index, queue.current())
    if seller_id not in risks:
        raise ApiError(404, "not_found", f"unknown seller: {seller_id}")
    return risks[seller_id]
