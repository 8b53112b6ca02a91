"""Compare: the decision about two listings that need not be indexed, as `simgov compare`."""
from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from simgov.compare import Comparer

from ..deps import Index, Investigator, Keys, endpoint_name
from ..errors import responses
from ..models import ListingIn

router = APIRouter(tags=["compare"], responses=responses(400, 401, 403, 413, 422))


class CompareRequest(BaseModel):
    """Two item records (CONTRACT.md section 1; `item_id` and `seller_id` may be left out). A picture
    path outside the index's data folders, missing or unreadable is left out and named in `problems`."""

    model_config = ConfigDict(extra="forbid")
    a: ListingIn
    b: ListingIn


class WaterfallStep(BaseModel):
    level: str = Field(description='a comparison level the pair fell in ("prior": the model\'s intercept)')
    weight: float = Field(description="what it adds to the match logit (log odds)")


class CompareResponse(BaseModel):
    score: float = Field(ge=0, le=1)
    match: bool
    relation: str = Field(description="same_seller_duplicate | cross_seller_copy | picture_reuse | same_product "
                                      "| similar")
    signals: dict[str, float] = Field(description="each signal's score in [0, 1]; one either listing lacks is absent")
    evidence: list[str]
    waterfall: list[WaterfallStep] = Field(description="the level model's prior and each level's weight")
    problems: list[str] = Field(default_factory=list, description="pictures left out of the decision and why "
                                "(missing, unreadable, or outside the index's data folders)")


@router.post("/v1/compare", response_model=CompareResponse)
def compare(request: Request, body: CompareRequest, index: Index, keys: Keys,
            principal: Investigator) -> CompareResponse:
    """Whether two listings are the same merchandise, with a score per signal, the evidence in plain
    words and the level model's waterfall; decided with the index's title model and word weights."""
    ids = [x.item_id for x in (body.a, body.b) if x.item_id]
    keys.record(principal, endpoint_name(request), ids, {"titles": [body.a.title[:100], body.b.title[:100]]})
    result = Comparer.for_index(index).compare(body.a, body.b, index.data_roots())
    return CompareResponse.model_validate(result.record())
