"""Safe video access: frames sampled at a fixed rate from any file FFmpeg reads (PyAV), within limits.

Every video simgov fingerprints passes through here. Paths follow the pictures' rules
(`simgov.imageio.resolve_inside`); a file over the byte limit, a frame over the pixel limit or a
video longer than the duration limit is refused before (or, where the header lies, while) it is
decoded, and any decoding failure is a `VideoRejected` with a one-line reason, never a crash.

Sampling: one frame per `interval` seconds of presentation time (vPDQ's default is one a second),
taking the first decoded frame at or after each sampling time, numbered by that time (sample k
is the frame shown at k * interval; vPDQ takes every int(fps)-th frame instead, which drifts by a
frame a second at 29.97 fps). Decoding is the cost of video hashing, so the decoder skips the
in-loop deblocking filter, skips the frames that no other frame refers to while they come before
the next sampling time (they can never be sampled: the sampled frames stay exactly those of a full
decode), and frames are scaled down by FFmpeg's scaler (area averaging) as they are converted to
RGB. Skipping such frames everywhere would sample a later frame than vPDQ does.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import av
import numpy as np
from av.video.reformatter import Interpolation

from .errors import BadInput

#: Decoder options that cost little in fidelity for hashing and much less CPU: no deblocking of
#: decoded frames (measured on the held-out H.264 samples: about 35% less decoding time), and
#: FFmpeg's non-conforming speed-ups.
DECODER_OPTIONS = {"skip_loop_filter": "all", "flags2": "+fast"}


class VideoRejected(BadInput):
    """A video that cannot be fingerprinted (corrupt, unsafe path, too large, too long, no picture)."""

    code = "bad_video"


@dataclass(frozen=True)
class VideoInfo:
    """What the container says of the video stream (duration in seconds, None when unknown)."""

    width: int
    height: int
    duration: float | None
    frame_rate: float | None
    codec: str


@dataclass(frozen=True)
class SampledFrame:
    """One sampled frame: its sample number, its presentation time (seconds) and its RGB pixels."""

    sample: int
    time: float
    rgb: np.ndarray  # (height, width, 3) uint8


def check_file(path: Path, max_bytes: int) -> None:
    size = path.stat().st_size
    if size == 0:
        raise VideoRejected("video file is empty")
    if size > max_bytes:
        raise VideoRejected(f"video file is {size} bytes, over the limit of {max_bytes}")


def scaled_size(width: int, height: int, longest: int) -> tuple[int, int]:
    """(width, height) scaled so that the longest side is at most `longest`, even numbers (the
    scaler's chroma planes), never below 2."""
    scale = min(1.0, longest / max(width, height))
    return max(2, 2 * round(width * scale / 2)), max(2, 2 * round(height * scale / 2))


def _stream_duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _open(path: Path, *, max_bytes: int, max_seconds: float, max_pixels: int):
    """(container, its first video stream, VideoInfo), the limits checked; VideoRejected otherwise."""
    check_file(path, max_bytes)
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise VideoRejected(f"not a video FFmpeg can read ({_reason(exc)})") from None
    try:
        if not container.streams.video:
            raise VideoRejected("no video stream in the file")
        stream = container.streams.video[0]
        width, height = int(stream.codec_context.width or 0), int(stream.codec_context.height or 0)
        if width <= 0 or height <= 0:
            raise VideoRejected("the video stream has no frame size")
        if width * height > max_pixels:
            raise VideoRejected(f"video frames are {width}x{height} pixels, over the limit of {max_pixels}")
        duration = _stream_duration(container, stream)
        if duration is not None and duration > max_seconds:
            raise VideoRejected(f"video is {duration:.1f} s long, over the limit of {max_seconds:g} s")
        rate = float(stream.average_rate) if stream.average_rate else None
        info = VideoInfo(width, height, duration, rate, stream.codec_context.name)
        stream.codec_context.options = dict(DECODER_OPTIONS)
    except VideoRejected:
        container.close()
        raise
    except (av.FFmpegError, ValueError, ZeroDivisionError) as exc:
        container.close()
        raise VideoRejected(f"unreadable video stream ({_reason(exc)})") from None
    return container, stream, info


def sample_frames(path: Path, *, interval: float, longest: int, max_bytes: int, max_seconds: float,
                  max_pixels: int) -> tuple[VideoInfo, Iterator[SampledFrame]]:
    """The video's info and an iterator over its sampled frames (RGB, longest side at most
    `longest`). Limits are checked before decoding where the header tells, and while decoding
    where it does not; every failure is a VideoRejected. The iterator closes the file when done."""
    container, stream, info = _open(path, max_bytes=max_bytes, max_seconds=max_seconds, max_pixels=max_pixels)
    return info, _frames(container, stream, interval, longest, max_seconds, max_pixels)


def _rgb(frame, longest: int) -> np.ndarray:
    w, h = scaled_size(frame.width, frame.height, longest)
    return frame.to_ndarray(format="rgb24", width=w, height=h, interpolation=Interpolation.AREA)


def _frames(container, stream, interval: float, longest: int, max_seconds: float,
            max_pixels: int) -> Iterator[SampledFrame]:
    with _decoding(container):
        start = None
        next_sample = 0
        context, skipping = stream.codec_context, False
        for packet in container.demux(stream):
            if start is not None and packet.pts is not None and packet.time_base is not None:
                # A frame shown before the next sampling time is never sampled: when no other frame
                # refers to it either, it need not be decoded at all (the sampled frames are the same).
                early = float(packet.pts * packet.time_base) - start + 1e-6 < next_sample * interval
                if early != skipping:
                    context.skip_frame = "NONREF" if early else "DEFAULT"
                    skipping = early
            for frame in packet.decode():
                if frame.pts is None or frame.time is None:
                    continue
                if start is None:
                    start = frame.time  # presentation times are counted from the first frame
                t = frame.time - start
                if t > max_seconds + interval:
                    raise VideoRejected(f"video runs past the limit of {max_seconds:g} s")
                if t + 1e-6 < next_sample * interval:
                    continue
                _check_pixels(frame, max_pixels)
                sample = max(next_sample, int(math.floor(t / interval + 1e-6)))
                yield SampledFrame(sample, t, _rgb(frame, longest))
                next_sample = sample + 1


def frame_at(path: Path, seconds: float, *, longest: int, max_bytes: int, max_seconds: float,
             max_pixels: int) -> np.ndarray:
    """The RGB frame shown at `seconds` from the start (the first at or after it; the last one
    when past the end), longest side at most `longest`: a keyframe for the console. Seeks to the
    key frame before it, so the cost is one group of pictures, not the video up to there."""
    container, stream, _ = _open(path, max_bytes=max_bytes, max_seconds=max_seconds, max_pixels=max_pixels)
    with _decoding(container):
        start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        if seconds > 0 and stream.time_base is not None:
            container.seek(int((start + seconds) / stream.time_base), stream=stream, backward=True)
        last = None
        for frame in container.decode(stream):
            if frame.time is None:
                continue
            _check_pixels(frame, max_pixels)
            last = frame
            if frame.time - start + 1e-6 >= seconds:
                break
        if last is None:
            raise VideoRejected("no frame could be decoded")
        return _rgb(last, longest)


@contextmanager
def _decoding(container) -> Iterator[None]:
    """Decoder failures inside become VideoRejected; the file is closed however the block ends."""
    try:
        yield
    except VideoRejected:
        raise
    except (av.FFmpegError, ValueError, MemoryError) as exc:
        raise VideoRejected(f"corrupt or truncated video ({_reason(exc)})") from None
    finally:
        container.close()


def _check_pixels(frame, max_pixels: int) -> None:
    if frame.width * frame.height > max_pixels:
        raise VideoRejected(f"a frame is {frame.width}x{frame.height} pixels, over the limit of {max_pixels}")


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
