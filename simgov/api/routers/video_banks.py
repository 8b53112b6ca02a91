"""Video banks (admin role): load and write vPDQ hash files, the form Meta's vPDQ and HMA exchange
video hashes in (`simgov.signals.video_vpdq`). Each file is one video, kept as one `vpdq` entry of
a bank; listings whose videos it matches are flagged as for any bank entry."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import PlainTextResponse, Response

from simgov.errors import BadInput
from simgov.signals.video_vpdq import VPDQ_FILE_PATTERN, format_vpdq, parse_vpdq

from ..deps import BankAdmin, Index
from ..errors import ApiError, responses
from ..models import BankAddResult

router = APIRouter(tags=["banks"], responses=responses(400, 401, 403, 422))

VPDQ_FILE = {200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                   "description": "the entry's vPDQ hash file: `frame_number,quality,pdq_hash,timestamp` lines"}}


VPDQ_BODY = {"required": True, "description": "one video's vPDQ hash file",
             "content": {"text/plain": {"schema": {"type": "string", "pattern": VPDQ_FILE_PATTERN}}}}


@router.post("/v1/banks/{name}/videos", response_model=BankAddResult, responses=responses(404, 413),
             openapi_extra={"requestBody": VPDQ_BODY})
async def import_vpdq(name: str, request: Request, index: Index, principal: BankAdmin,
                      label: Annotated[str | None, Query(max_length=500, description="why this video is bad")] = None
                      ) -> BankAddResult:
    """Load one video's vPDQ hash file (text/plain: `frame_number,quality,pdq_hash,timestamp`
    lines, quality 0-100, timestamp in seconds under 100,000) as an entry of the bank. Nothing is
    loaded when a line is malformed or no line holds a frame (422); the error names every bad line."""
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("the vPDQ file is not UTF-8 text") from None
    frames = parse_vpdq(text)
    index.banks.get(name)
    added, already = index.banks.add(name, [("vpdq", format_vpdq(frames), label)], source="import:api",
                                     by=principal.key_id)
    return BankAddResult(bank=name, added=added, already_there=already)


@router.get("/v1/banks/{name}/videos/{entry_id}", response_class=Response,
            responses={**VPDQ_FILE, **responses(404)})
def export_vpdq(name: str, entry_id: Annotated[int, Path(ge=1, le=2**62)], index: Index, _: BankAdmin) -> Response:
    """One `vpdq` entry of the bank as a vPDQ hash file, to share with HMA or another simgov."""
    found = [e for e in index.banks.entries(name, "vpdq") if e.entry_id == entry_id]
    if not found:
        raise ApiError(404, "not_found", f"bank {name} has no vPDQ entry {entry_id}")
    return PlainTextResponse(found[0].value)
