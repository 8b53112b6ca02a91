"""Videos of ingested items, for the console: how two listings' videos match (the keyframe pairs
with their time codes) and a keyframe of an item's own video as a small JPEG.

As for pictures, the path is never taken from the request: the video number picks an entry of
the stored item's `videos`, which resolves inside the index's data folders as when it was hashed.
"""
from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from PIL import Image
from pydantic import BaseModel

from simgov.errors import ImageRejected
from simgov.imageio import resolve_inside
from simgov.videoio import VideoRejected, frame_at

from ..deps import Index, Lookup
from ..errors import ApiError, responses

router = APIRouter(prefix="/v1/items", tags=["items"], responses=responses(401, 403, 422))

JPEG = {200: {"content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
              "description": "the frame as a JPEG no larger than `size` pixels on its longer side"}}


class Keyframe(BaseModel):
    time_a: float
    time_b: float
    clock_a: str
    clock_b: str
    score: float
    how: str


class VideoMatchResponse(BaseModel):
    item_id: str
    other_id: str
    video_a: int
    video_b: int
    score: float
    match: bool
    speed: float
    offset: float
    summary: str
    keyframes: list[Keyframe]


@router.get("/{item_id}/videos/match/{other_id}", response_model=VideoMatchResponse, responses=responses(404))
def video_match(item_id: str, other_id: str, index: Index, _: Lookup) -> VideoMatchResponse:
    """How the two items' videos match: the best pair of videos, its score and summary, and the
    matching keyframes side by side with their time codes (404 when either has no video or they
    share nothing)."""
    signal = index.signals.get("video")
    if signal is None:
        raise ApiError(404, "not_found", "this index has no video signal")
    a, b = index.item(item_id), index.item(other_id)
    blobs = index.item_blobs([a.vec_id, b.vec_id], ["video"])
    blob_a, blob_b = blobs[a.vec_id].get("video"), blobs[b.vec_id].get("video")
    if blob_a is None or blob_b is None:
        missing = item_id if blob_a is None else other_id
        raise ApiError(404, "not_found", f"item {missing} has no usable video")
    details = signal.match_details(blob_a, blob_b)
    if details is None:
        raise ApiError(404, "not_found", f"no frame of the videos of {item_id} and {other_id} matches")
    return VideoMatchResponse(item_id=item_id, other_id=other_id, **details)


@router.get("/{item_id}/videos/{n}/frame", response_class=Response, responses={**JPEG, **responses(404)})
def video_frame(item_id: str, n: Annotated[int, Path(ge=0, le=254, description="video number, 0 = the first")],
                index: Index, _: Lookup,
                t: Annotated[float, Query(ge=0, le=36_000, description="seconds from the start")] = 0.0,
                size: Annotated[int, Query(ge=16, le=1024, description="longer side in pixels")] = 256) -> Response:
    """The frame of video `n` of an ingested item shown at `t` seconds, as a bounded-size JPEG."""
    item = index.item(item_id).item
    videos = getattr(item, "videos", None) or []
    if n >= len(videos):
        raise ApiError(404, "not_found", f"item {item_id} has {len(videos)} video(s), no video {n}")
    limits = index.config.videos
    try:
        path = resolve_inside(videos[n], index.data_roots())
        rgb = frame_at(path, t, longest=size, max_bytes=limits.max_bytes, max_seconds=limits.max_seconds,
                       max_pixels=limits.max_pixels)
    except (ImageRejected, VideoRejected) as exc:
        raise ApiError(404, "video_unavailable", f"video {n} of item {item_id} cannot be shown: {exc}") from None
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=85, optimize=True)
    return Response(out.getvalue(), media_type="image/jpeg", headers={"cache-control": "private, max-age=300"})
