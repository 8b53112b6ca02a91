"""Pictures of ingested items, for the console: only an item's own images, re-encoded as small JPEGs.

The path is never taken from the request: the image number picks an entry of the stored item's
`images` list, which resolves inside the index's data folders exactly as when it was fingerprinted.
"""
from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from simgov.errors import ImageRejected
from simgov.imageio import load_image, resolve_inside

from ..deps import Index, Lookup
from ..errors import ApiError, responses

router = APIRouter(prefix="/v1/items", tags=["items"], responses=responses(401, 403, 422))

JPEG = {200: {"content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
              "description": "the picture as a JPEG no larger than `size` pixels on its longer side"}}


@router.get("/{item_id}/images/{n}", response_class=Response, responses={**JPEG, **responses(404)})
def item_image(item_id: str, n: Annotated[int, Path(ge=0, le=254, description="image number, 0 = the first")],
               index: Index, _: Lookup,
               size: Annotated[int, Query(ge=16, le=1024, description="longer side in pixels")] = 256) -> Response:
    """Picture `n` of an ingested item as a bounded-size JPEG."""
    item = index.item(item_id).item
    if n >= len(item.images):
        raise ApiError(404, "not_found", f"item {item_id} has {len(item.images)} image(s), no image {n}")
    limits = index.config.images
    try:
        path = resolve_inside(item.images[n], index.data_roots())
        img = load_image(path, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels, draft_size=size)
    except ImageRejected as exc:
        raise ApiError(404, "image_unavailable", f"image {n} of item {item_id} cannot be shown: {exc}") from None
    img.thumbnail((size, size))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=85, optimize=True)
    return Response(out.getvalue(), media_type="image/jpeg", headers={"cache-control": "private, max-age=300"})
