"""vPDQ hash files, the form in which Meta's vPDQ (ThreatExchange, HMA) writes and reads a video's hash.

One line per sampled frame, `frame_number,quality,pdq_hash,timestamp`: the frame's number in the
video, PDQ quality 0-100, 64 hex digits, seconds with three decimals (as the vpdq library's
`outputVPDQFeatureToFile` writes it; its reader takes the same four comma-separated fields).
A file is taken whole or not at all: every bad line is reported with its number.

A listing's video fingerprint exports to this form (one line per sampled second, the plain PDQ
hash of the frame as the video signal hashed it), and a vPDQ file imports as a video made of
hashes alone (`Video.hash_only`) that the video signal compares with listings' videos: the
listing's side turns through its eight orientations, PDQ frame pairs within `pdq_near` bits,
the same time-consistent coverage as between two listings.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..errors import BadInput
from ..hashlines import BadLine, read_lines
from .image import THUMB, Picture
from .video_match import Segment, Video

_LINE = re.compile(r"^\s*(\d{1,10})\s*,\s*(\d{1,3})\s*,\s*([0-9A-Fa-f]{64})\s*,\s*([0-9]+(?:\.[0-9]*)?)\s*$")
MAX_FRAMES = 200_000
#: Timestamps at or past this many seconds are refused (an overflowing one made a NaN sampling interval).
MAX_SECONDS = 100_000
_SPEC_LINE = r"[0-9]{1,10},(100|[1-9]?[0-9]),[0-9A-Fa-f]{64},[0-9]{1,5}(\.[0-9]{0,3})?"
#: The vPDQ files this parser takes, as a JSON Schema pattern for the API's description: one or more
#: frame lines (a subset of what it takes: no blank lines, comments or spaces).
VPDQ_FILE_PATTERN = rf"^({_SPEC_LINE}\r?\n)*{_SPEC_LINE}(\r?\n)?$"


@dataclass(frozen=True)
class VpdqFrame:
    frame_number: int
    quality: int
    hash: str  # 64 lower-case hex digits
    timestamp: float  # seconds


def parse_vpdq(text: str) -> list[VpdqFrame]:
    """The frames of a vPDQ hash file; BadInput naming every bad line (nothing is half-read)."""
    frames = read_lines(text, _vpdq_line, "vPDQ")
    if not frames:
        raise BadInput("the vPDQ file holds no frame hash")
    if len(frames) > MAX_FRAMES:
        raise BadInput(f"the vPDQ file holds {len(frames)} frame hashes, over the limit of {MAX_FRAMES}")
    return frames


def _vpdq_line(line: str) -> VpdqFrame:
    m = _LINE.match(line)
    if m is None:
        raise BadLine("not 'frame_number,quality,64 hex digit PDQ hash,timestamp'")
    quality, timestamp = int(m[2]), float(m[4])
    if quality > 100:
        raise BadLine(f"quality {quality} is over 100")
    if timestamp >= MAX_SECONDS:
        raise BadLine(f"timestamp {m[4][:20]} is not under {MAX_SECONDS} seconds")
    return VpdqFrame(int(m[1]), quality, m[3].lower(), timestamp)


def format_vpdq(frames: list[VpdqFrame]) -> str:
    """The vPDQ file of these frames (as the vpdq library writes it)."""
    return "".join(f"{f.frame_number},{f.quality},{f.hash},{f.timestamp:.3f}\n" for f in frames)


def vpdq_from_video(video: Video) -> list[VpdqFrame]:
    """One vPDQ line per sample of a listing's video fingerprint (a segment's hash for each of its samples)."""
    out = []
    for seg in video.segments:
        hex_hash = bytes(seg.picture.pdq[0]).hex()
        for sample in range(seg.start, seg.start + seg.length):
            t = sample * video.interval
            out.append(VpdqFrame(int(round(t * video.frame_rate)), seg.picture.quality, hex_hash, round(t, 3)))
    return out


def video_from_vpdq(frames: list[VpdqFrame], number: int = 0) -> Video:
    """A video made of a vPDQ file's hashes, to compare with listings' videos. Samples are
    numbered by time at the file's own interval (the median gap between timestamps)."""
    ordered = sorted(frames, key=lambda f: (f.timestamp, f.frame_number))
    times = np.array([f.timestamp for f in ordered])
    gaps = np.diff(times)
    gaps = gaps[gaps > 0]
    interval = float(np.median(gaps)) if len(gaps) else 1.0
    segments: list[Segment] = []
    empty_xy, empty_desc = np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8)
    thumb = np.zeros((THUMB, THUMB, 3), np.uint8)
    for f in ordered:
        sample = int(round(f.timestamp / interval))
        if segments and sample <= segments[-1].start + segments[-1].length - 1:
            continue  # two hashes of one sampling time: the first stands
        pdq = np.zeros((8, 32), np.uint8)
        pdq[0] = np.frombuffer(bytes.fromhex(f.hash), dtype=np.uint8)
        picture = Picture(number, f.quality, False, 0, 0, pdq, thumb, empty_xy, empty_desc, empty_desc)
        if segments:
            segments[-1].length = sample - segments[-1].start
        segments.append(Segment(sample, 1, picture))
    samples = segments[-1].start + 1
    frame_rate = 0.0
    with_frames = [(f.frame_number, f.timestamp) for f in ordered if f.timestamp > 0]
    if with_frames:
        frame_rate = float(np.median([n / t for n, t in with_frames]))
    return Video(number, samples, 0, 0, interval, samples * interval, segments, frame_rate, hash_only=True)

