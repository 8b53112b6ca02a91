"""Liveness (open) and Prometheus metrics (admin key)."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from .. import metrics
from ..deps import Admin, Index
from ..errors import responses
from ..models import Health

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
def healthz(index: Index) -> Health:
    """Liveness: the process answers and its store is readable. Needs no key."""
    index.store.ping()
    return Health(status="ok")


@router.get("/metrics", response_class=Response, responses={
    200: {"content": {metrics.CONTENT_TYPE: {"schema": {"type": "string"}}}, "description": "Prometheus text format"},
    **responses(401, 403)})
def prometheus_metrics(index: Index, _: Admin) -> Response:
    """Request counts by route and status, latency histograms and index sizes (admin key)."""
    return Response(metrics.render(index), media_type=metrics.CONTENT_TYPE)
