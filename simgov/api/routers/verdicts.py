"""Investigator verdicts: confirm or reject a finding (investigator role), list them."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from simgov.records import Verdict
from simgov.verdicts import AlreadyUndone, Verdicts

from ..deps import Index, Investigator, Lookup
from ..errors import ApiError, responses
from ..models import VerdictList, VerdictRequest

router = APIRouter(prefix="/v1/verdicts", tags=["verdicts"], responses=responses(400, 401, 403, 422))


@router.post("", response_model=Verdict, status_code=201, responses=responses(404))
def give_verdict(body: VerdictRequest, index: Index, principal: Investigator) -> Verdict:
    """Confirm or reject a finding: an item pair, a duplicate group, a counterfeit suspect
    ([item_id, reference_item_id]) or a linked account pair. The finding's evidence now is stored
    with the verdict; a rejected finding stops being a match until a signal agrees that did not.
    Confirming a counterfeit adds the suspect's pictures to its brand's bank. The verdict names the
    key's holder (else its label)."""
    return Verdicts(index).record(body.kind, body.ids, body.decision, body.reason, body.note, principal.key_id,
                                  principal.name)


@router.get("", response_model=VerdictList)
def list_verdicts(index: Index, _: Lookup,
                  kind: Annotated[Literal["pair", "group", "counterfeit", "link"] | None, Query()] = None,
                  decision: Annotated[Literal["confirmed", "rejected"] | None, Query()] = None,
                  item_id: Annotated[str | None,
                                     Query(max_length=256, description="only findings with this id")] = None,
                  latest: Annotated[bool, Query(description="only the verdict that counts for each finding")] = False,
                  limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> VerdictList:
    """Verdicts, oldest first (every decision is kept; the latest one per finding counts); a read
    recorded in the audit trail."""
    return VerdictList(verdicts=Verdicts(index).list(kind=kind, decision=decision, item_id=item_id,
                                                     latest_only=latest, limit=limit))


@router.get("/{verdict_id}", response_model=Verdict, responses=responses(404))
def get_verdict(verdict_id: Annotated[int, Path(ge=1, le=2**62)], index: Index, _: Lookup) -> Verdict:
    """One verdict (a read recorded in the audit trail, as every lookup is)."""
    return Verdicts(index).get(verdict_id)


@router.delete("/{verdict_id}", response_model=Verdict, responses=responses(404, 409))
def undo_verdict(verdict_id: Annotated[int, Path(ge=1, le=2**62)], index: Index, principal: Investigator) -> Verdict:
    """Undo a verdict. It stays in the history (`undone_at`, `undone_by`) and no longer counts: the
    finding's earlier verdict does, else the finding is open again. Undoing a confirmed counterfeit
    disables the bank entries it added. A verdict undone already: 409."""
    try:
        return Verdicts(index).undo(verdict_id, principal.key_id)
    except AlreadyUndone as exc:
        raise ApiError(409, "already_undone", str(exc)) from None
