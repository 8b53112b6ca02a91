"""The lookup audit trail, for admins."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ..deps import Admin, Keys
from ..errors import responses
from ..models import AuditPage

router = APIRouter(tags=["audit"], responses=responses(401, 403, 422))


@router.get("/v1/audit", response_model=AuditPage)
def audit(keys: Keys, _: Admin,
          key_id: Annotated[str | None, Query(max_length=64, description="only this key's lookups")] = None,
          item_id: Annotated[str | None,
                             Query(max_length=256, description="only lookups that asked for this id")] = None,
          since: Annotated[float | None, Query(ge=0, description="only entries at or after this Unix time")] = None,
          before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1,
                                                 description="page on: entries older than this entry_id")] = None,
          limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> AuditPage:
    """Recorded lookups, newest first: which key asked for which ids through which endpoint, and when."""
    return AuditPage(entries=keys.audit(key_id=key_id, item_id=item_id, since=since, before_id=before_id, limit=limit))
