"""Search by ad-hoc text and/or an uploaded picture."""
from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Form, Request

from simgov.errors import ImageTooLarge
from simgov.imageio import decode_image
from simgov.signals import Query

from ..deps import Index, Keys, Reader, endpoint_name
from ..errors import responses
from ..models import SearchForm, SearchQueryInfo, SearchResponse
from .items import K, MinScore, Signals, signal_names

router = APIRouter(tags=["search"], responses=responses(400, 401, 403, 413, 422))


@router.post("/v1/search", response_model=SearchResponse)
def search(request: Request, index: Index, keys: Keys, principal: Reader, form: Annotated[SearchForm, Form()],
           k: K = 10, signals: Signals = None, min_score: MinScore = 0.0) -> SearchResponse:
    """Neighbours of a text and/or a picture, sent as multipart/form-data; at least one of the two."""
    names = signal_names(signals)
    text = form.text if form.text and form.text.strip() else None
    image = form.image
    picture, detail = None, {}
    if image is not None:
        limit = index.config.images.max_bytes
        data = image.file.read(limit + 1)
        if len(data) > limit:
            raise ImageTooLarge(f"uploaded image is over the limit of {limit} bytes")
        detail = {"image_bytes": len(data), "image_sha256": hashlib.sha256(data).hexdigest()}
        picture = decode_image(data, max_pixels=index.config.images.max_pixels)
    if text is not None:
        detail["text"] = text[:200]
    keys.record(principal, endpoint_name(request), [], detail)
    neighbours = index.search(Query(text=text, image=picture), k=k, signals=names, min_score=min_score)
    size = None if picture is None else {"width": picture.width, "height": picture.height}
    return SearchResponse(query=SearchQueryInfo(text=text, image=size), neighbours=neighbours)
