"""Items: read one, its neighbours, its counterfeit assessment, its duplicate group; write a batch; delete one."""
from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Query

from simgov.records import CounterfeitAssessment
from simgov.schema import canonical_json
from simgov.signals import REGISTRY, BuildContext
from simgov.verdicts import Verdicts

from .. import detectors
from ..deps import Index, Lookup, Writer
from ..errors import ApiError, responses
from ..models import (DeleteResponse, ItemDetail, ItemGroupResponse, SignalProblem, SimilarResponse,
                      UpsertRequest, UpsertResponse, UpsertResult)

router = APIRouter(prefix="/v1/items", tags=["items"], responses=responses(401, 403, 422))

K = Annotated[int, Query(ge=1, le=100, description="number of neighbours")]
_NAME = "(" + "|".join(REGISTRY) + ")"
Signals = Annotated[str | None, Query(pattern=f"^({_NAME}(,{_NAME})*)?$", examples=[",".join(REGISTRY)],
                                      description="comma-separated signals to use (default: all)")]
MinScore = Annotated[float, Query(ge=0, le=1, description="leave out neighbours scoring below this")]


def signal_names(text: str | None) -> list[str] | None:
    """The `signals` parameter as a list (the index checks the names)."""
    return list(dict.fromkeys(text.split(","))) if text else None


@router.get("/{item_id}", response_model=ItemDetail, responses=responses(404))
def get_item(item_id: str, index: Index, _: Lookup) -> ItemDetail:
    """The item as ingested, with the signals it has and why any are missing."""
    stored = index.item(item_id)
    blobs = index.item_blobs([stored.vec_id])[stored.vec_id]
    signals = {name: index.signals[name].describe(blob) for name, blob in blobs.items()}
    problems = [SignalProblem(signal=s, problem=p) for s, p in index.store.problems(stored.vec_id)]
    hits = index.banks.hits(item_ids=[item_id])
    return ItemDetail(item=stored.item, signals=signals, problems=problems, bank_hits=hits)


@router.get("/{item_id}/similar", response_model=SimilarResponse, responses=responses(404))
def similar(item_id: str, index: Index, _: Lookup, k: K = 10, signals: Signals = None,
            min_score: MinScore = 0.0) -> SimilarResponse:
    """The item's nearest items, best first, each scored per signal and explained."""
    names = signal_names(signals)
    neighbours = index.similar(item_id, k=k, signals=names, min_score=min_score)
    verdicts = Verdicts(index).review_neighbours(item_id, neighbours)
    return SimilarResponse(item_id=item_id, neighbours=neighbours, verdicts=verdicts)


@router.get("/{item_id}/counterfeit", response_model=CounterfeitAssessment, responses=responses(404))
def counterfeit(item_id: str, index: Index, _: Lookup) -> CounterfeitAssessment:
    """The item checked against the brand-verified reference listings that resemble it: a suspect
    when it copies one, comes from a seller not authorised for the brand, and is priced well below."""
    return detectors.counterfeit(index, item_id)


@router.get("/{item_id}/group", response_model=ItemGroupResponse, responses=responses(404))
def group(item_id: str, index: Index, _: Lookup) -> ItemGroupResponse:
    """The duplicate group holding the item, found live: the item's matched neighbours, theirs in
    turn (at most `max_members` listings), grouped without chaining weak links as `simgov duplicates`
    does. Each member comes with its seller, title, picture count and score with this item; the
    group with its evidence and the investigator's verdict on it, if any (confirm or reject it with
    `POST /v1/verdicts`, kind `group`, ids its members)."""
    return detectors.group(index, item_id)


@router.put("", response_model=UpsertResponse, responses=responses(400, 413))
def upsert(body: UpsertRequest, index: Index, _: Writer) -> UpsertResponse:
    """Add or replace a batch of items. When this answers 200 the batch is stored durably and searchable.

    Relative image paths resolve inside the index's data folders; a picture that cannot be used
    (outside them, missing, corrupt, too large) is reported for its item, which is still stored
    with its other signals. An item id given twice in one batch: the last one wins.
    """
    latest = {item.item_id: item for item in body.items}  # an id given twice: the last one wins
    for item in latest.values():
        try:  # JSON escapes can carry lone surrogates, which no UTF-8 store can hold
            canonical_json(item.model_dump(mode="json")).encode("utf-8")
        except UnicodeEncodeError:
            raise ApiError(422, "validation_error",
                           f"item {item.item_id!r} holds text that is not valid Unicode") from None
    writes = index.compute(list(latest.values()), BuildContext(data_roots=index.data_roots()))
    index.write(writes, live=True)  # also checks every item against the known-bad banks
    hits = Counter(h.item_id for h in index.banks.hits(item_ids=list(latest)))  # a count: banks are admins' to name
    return UpsertResponse(upserted=len(writes), items=[
        UpsertResult(item_id=w.item.item_id, signals=list(w.blobs),
                     problems=[SignalProblem(signal=s, problem=p) for s, p in w.problems],
                     bank_hits=hits[w.item.item_id]) for w in writes])


@router.delete("/{item_id}", response_model=DeleteResponse, responses=responses(404))
def delete(item_id: str, index: Index, _: Writer) -> DeleteResponse:
    """Remove an item; it stops being found at once, durably."""
    index.delete(item_id)
    return DeleteResponse(item_id=item_id, deleted=True)
