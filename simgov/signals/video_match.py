"""Video fingerprints and the comparison of two videos: what the video signal stores and scores.

A video becomes its frames sampled at a fixed rate (`simgov.videoio`), each fingerprinted as the
picture signal fingerprints a picture (`simgov.signals.image.picture_features`: a uniform border
trimmed off, so letterbox bars go; PDQ in the eight dihedral orientations, so mirror images
match; ORB local features of the picture and of its mirror image; a colour thumbnail). A run of
consecutive samples whose PDQ hashes stay within `DUP_BITS` of its first one is one *segment*
(a still product shot, a paused livestream): stored once with its first sample and its length.

Two videos are compared segment by segment:

* frame pairs by PDQ: the best of the eight orientations within `PDQ_NEAR` bits, confirmed by the
  thumbnails turned the same way (simple frames have close hashes by chance), scored as the
  picture signal scores a pair of pictures;
* frame pairs by local features, for the segments of the shorter video that PDQ left unmatched
  (crops, banners): each one's descriptors vote for the other video's segments, and the best two
  are verified geometrically (`verify_features`: RANSAC similarity transform, spread, overlap,
  photometric agreement);
* temporal consistency: a copy keeps the order and pace of the original, so the frame pairs must
  agree on one mapping `t_other = speed * t + offset` (speeds from `SPEEDS`: sped-up and slowed
  copies, trimmed clips at any offset); pairs off the best mapping do not count.

The score is the share of the shorter video's sampled seconds that the other covers along that
mapping (a trimmed clip of a longer video is a copy), scaled down while fewer than
`MIN_MATCH_SECONDS` seconds match. Two different videos that share a logo intro cover only the
intro's share of each other. Seconds whose frames carry nothing to compare (black, flat) are
left out of the shares.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import faiss
import numpy as np

from .hashes import oriented
from .image import (MIN_INLIERS, PDQ_NEAR, Picture, agreement, pdq_copy_score, photometric, read_pictures,
                    verify_features)

#: ORB keypoints kept per segment (the picture signal keeps 160 of a picture; the first ones
#: spread over the frame, so the first 64 still cover it): the blob's size is mostly these.
KEYPOINTS = 64
#: Consecutive samples within this many PDQ bits of a segment's first sample join the segment.
DUP_BITS = 10
#: Flat samples (no usable PDQ) join a flat segment when their thumbnails differ by at most this
#: (mean absolute grey level difference).
DUP_THUMB = 4.0
#: A frame pair by PDQ or by local features counts when its picture score reaches this (the
#: picture signal's same-picture score).
FRAME_MATCH = 0.5
#: PDQ frame pairs tried per segment of the first video (nearest hashes first).
PDQ_TRIES = 3
#: Local features: a query descriptor votes for a segment whose descriptor is this close; the
#: segments with the most votes (at least MIN_VOTES) are verified, at most FEATURE_TRIES each.
VOTE_BITS, MIN_VOTES, FEATURE_TRIES = 56, 3, 2
#: Copies play at these speeds relative to the original (the mapping is searched over them).
SPEEDS = (0.5, 2 / 3, 0.75, 0.8, 1.0, 1.25, 1.5, 2.0)
#: Sampling intervals a mapped frame may fall off the other's segment (sampling phase, frames
#: skipped by the decoder, a speed not exactly one of SPEEDS).
TIME_TOLERANCE = 0.6
#: Matching seconds needed for a full score (a clip shorter than this scores proportionally less).
MIN_MATCH_SECONDS = 2
#: Frame pairs kept for finding the mapping (the strongest), and pairs shown as evidence.
MAX_PAIRS, SHOWN_PAIRS = 400, 6

VIDEO_HEAD = np.dtype([("video", "u1"), ("pad", "u1"), ("segments", "<u4"), ("samples", "<u4"),
                       ("width", "<u2"), ("height", "<u2"), ("interval_ms", "<u2"), ("duration_ms", "<u4"),
                       ("frame_rate_mhz", "<u4")])
SEGMENT_HEAD = np.dtype([("start", "<u4"), ("length", "<u4"), ("nbytes", "<u4")])
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


@dataclass
class Segment:
    start: int  # first sample
    length: int  # samples
    picture: Picture

    @property
    def blank(self) -> bool:
        """Nothing to compare: no usable PDQ and too few keypoints to verify."""
        return not self.picture.pdq_usable and len(self.picture.desc) < MIN_INLIERS


@dataclass
class Video:
    """One video's fingerprint (decoded from a blob, or being built)."""

    number: int
    samples: int
    width: int
    height: int
    interval: float  # seconds between samples
    duration: float  # seconds, as measured (0 when unknown)
    segments: list[Segment]
    frame_rate: float = 0.0  # frames a second of the file (0 when unknown)
    #: Made from PDQ hashes alone (a vPDQ file): one orientation, no thumbnails, no local features.
    hash_only: bool = False

    @property
    def usable_seconds(self) -> float:
        return sum(s.length for s in self.segments if not s.blank) * self.interval

    def to_bytes(self) -> bytes:
        head = np.zeros(1, dtype=VIDEO_HEAD)
        head["video"], head["segments"], head["samples"] = self.number, len(self.segments), self.samples
        head["width"], head["height"] = min(self.width, 65535), min(self.height, 65535)
        head["interval_ms"] = round(self.interval * 1000)
        head["duration_ms"] = min(round(self.duration * 1000), 2**32 - 1)
        head["frame_rate_mhz"] = min(round(self.frame_rate * 1000), 2**32 - 1)
        parts = [head.tobytes()]
        for seg in self.segments:
            body = seg.picture.to_bytes()
            sh = np.zeros(1, dtype=SEGMENT_HEAD)
            sh["start"], sh["length"], sh["nbytes"] = seg.start, seg.length, len(body)
            parts += [sh.tobytes(), body]
        return b"".join(parts)


def trimmed(picture: Picture, keypoints: int = KEYPOINTS) -> Picture:
    """The picture with its first `keypoints` local features only (they are spread over it)."""
    return Picture(picture.image, picture.quality, picture.trimmed, picture.width, picture.height, picture.pdq,
                   picture.thumb, picture.xy[:keypoints], picture.desc[:keypoints], picture.mdesc[:keypoints])


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamming distances between packed hashes: a (..., 32) against b (m, 32) -> (..., m)."""
    x = np.bitwise_xor(a[..., None, :], b)
    return _POPCOUNT[x].sum(axis=-1, dtype=np.int32)


def same_segment(seg: Segment, pic: Picture) -> bool:
    """Does this sample repeat the segment's first one (a still shot)?"""
    first = seg.picture
    if first.pdq_usable and pic.pdq_usable:
        return int(hamming(first.pdq[0], pic.pdq[0][None, :])[0]) <= DUP_BITS
    if not first.pdq_usable and not pic.pdq_usable:
        grey_a = first.thumb.astype(np.float32).mean(axis=2)
        grey_b = pic.thumb.astype(np.float32).mean(axis=2)
        return float(np.abs(grey_a - grey_b).mean()) <= DUP_THUMB
    return False


def read_videos(blob: bytes) -> list[Video]:
    out, offset = [], 0
    while offset < len(blob):
        head = np.frombuffer(blob, dtype=VIDEO_HEAD, count=1, offset=offset)[0]
        offset += VIDEO_HEAD.itemsize
        segments = []
        for _ in range(int(head["segments"])):
            sh = np.frombuffer(blob, dtype=SEGMENT_HEAD, count=1, offset=offset)[0]
            offset += SEGMENT_HEAD.itemsize
            n = int(sh["nbytes"])
            segments.append(Segment(int(sh["start"]), int(sh["length"]), read_pictures(blob[offset:offset + n])[0]))
            offset += n
        out.append(Video(int(head["video"]), int(head["samples"]), int(head["width"]), int(head["height"]),
                         int(head["interval_ms"]) / 1000.0, int(head["duration_ms"]) / 1000.0, segments,
                         int(head["frame_rate_mhz"]) / 1000.0))
    return out


@lru_cache(maxsize=64)  # blobs of long videos run to megabytes: keep few
def videos_of(blob: bytes) -> tuple[Video, ...]:
    return tuple(read_videos(blob))


# -- comparing two videos -------------------------------------------------------------------------
@dataclass(frozen=True)
class FramePair:
    """Segment i of the first video looks like segment j of the second."""

    i: int
    j: int
    score: float
    how: str  # "pdq" or "features"
    mirrored: bool
    orientation: int  # dihedral orientation of the PDQ match (0 for features)
    cropped: bool


@dataclass(frozen=True)
class VideoMatch:
    """How video a (number `a`) and video b cover each other."""

    a: int
    b: int
    score: float
    speed: float  # t_b = speed * t_a + offset
    offset: float
    seconds_a: float  # matching seconds of each
    seconds_b: float
    usable_a: float  # comparable seconds of each
    usable_b: float
    span_a: tuple[float, float]  # first and last matching second of each
    span_b: tuple[float, float]
    pairs: tuple[tuple[float, float, float, str], ...]  # shown keyframe pairs: (t_a, t_b, score, how)
    mirrored: bool
    rotated: bool
    cropped: bool

    def flipped(self) -> "VideoMatch":
        """The same match told from b's side."""
        return VideoMatch(self.b, self.a, self.score, 1.0 / self.speed, -self.offset / self.speed, self.seconds_b,
                          self.seconds_a, self.usable_b, self.usable_a, self.span_b, self.span_a,
                          tuple((tb, ta, s, h) for ta, tb, s, h in self.pairs), self.mirrored, self.rotated,
                          self.cropped)


_INVERSE_ORIENTATION = (0, 3, 2, 1, 4, 5, 6, 7)


def _pdq_pairs(va: Video, vb: Video) -> list[FramePair]:
    """Frame pairs by PDQ: va's eight orientations against vb's plain hashes (a video made of
    hashes alone has one orientation: the other side turns, or nothing does)."""
    if va.hash_only and not vb.hash_only:
        return [FramePair(p.j, p.i, p.score, p.how, p.mirrored, _INVERSE_ORIENTATION[p.orientation], p.cropped)
                for p in _pdq_pairs(vb, va)]
    turns = 1 if va.hash_only else 8
    usable_a = [i for i, s in enumerate(va.segments) if s.picture.pdq_usable]
    usable_b = [j for j, s in enumerate(vb.segments) if s.picture.pdq_usable]
    if not usable_a or not usable_b:
        return []
    pa = np.stack([va.segments[i].picture.pdq[:turns] for i in usable_a])  # (na, turns, 32)
    pb = np.stack([vb.segments[j].picture.pdq[0] for j in usable_b])  # (nb, 32)
    dist = hamming(pa, pb)  # (na, 8, nb)
    orient = dist.argmin(axis=1)  # (na, nb)
    best = dist.min(axis=1)
    out = []
    for row in range(len(usable_a)):
        order = np.argsort(best[row], kind="stable")[:PDQ_TRIES]
        for col in order.tolist():
            d = int(best[row, col])
            if d > PDQ_NEAR:
                break
            t = int(orient[row, col])
            sa, sb = va.segments[usable_a[row]].picture, vb.segments[usable_b[col]].picture
            score = float(pdq_copy_score(d))
            if not (va.hash_only or vb.hash_only):  # simple frames have close hashes by chance: colours must agree
                score *= photometric(agreement(oriented(sa.thumb, t).astype(np.float32), sb.thumb.astype(np.float32)))
            if score >= FRAME_MATCH:
                out.append(FramePair(usable_a[row], usable_b[col], score, "pdq", t in (4, 5, 6, 7), t, False))
    return out


def _feature_pairs(va: Video, vb: Video, skip: set[int]) -> list[FramePair]:
    """Frame pairs by local features for the segments of va not in `skip`."""
    queries = [i for i, s in enumerate(va.segments) if i not in skip and len(s.picture.desc) >= MIN_INLIERS]
    targets = [j for j, s in enumerate(vb.segments) if len(s.picture.desc) >= MIN_INLIERS]
    if not queries or not targets:
        return []
    index = faiss.IndexBinaryFlat(256)
    index.add(np.ascontiguousarray(np.concatenate([vb.segments[j].picture.desc for j in targets])))
    owner = np.concatenate([np.full(len(vb.segments[j].picture.desc), j) for j in targets])
    codes = np.concatenate([d for i in queries for d in (va.segments[i].picture.desc, va.segments[i].picture.mdesc)])
    source = np.concatenate([np.full(2 * len(va.segments[i].picture.desc), i) for i in queries])
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        dist, ids = index.search(np.ascontiguousarray(codes), 1)
    finally:
        faiss.omp_set_num_threads(previous)
    ok = (ids[:, 0] >= 0) & (dist[:, 0] <= VOTE_BITS)
    votes: dict[tuple[int, int], int] = {}
    for i, j in zip(source[ok].tolist(), owner[ids[ok, 0]].tolist()):
        votes[(i, j)] = votes.get((i, j), 0) + 1
    by_query: dict[int, list[tuple[int, int]]] = {}
    for (i, j), n in votes.items():
        if n >= MIN_VOTES:
            by_query.setdefault(i, []).append((n, j))
    out = []
    for i, options in by_query.items():
        for _, j in sorted(options, reverse=True)[:FEATURE_TRIES]:
            found = verify_features(va.segments[i].picture, vb.segments[j].picture)
            if found is not None and found.score >= FRAME_MATCH:
                out.append(FramePair(i, j, found.score, "features", found.mirrored, 0, found.overlap < 0.97))
    return out


def _times(seg: Segment, interval: float) -> tuple[float, float]:
    """The first and last sample time (seconds) of a segment."""
    return seg.start * interval, (seg.start + seg.length - 1) * interval


def _consistent(pairs: list[FramePair], va: Video, vb: Video) -> tuple[float, float, list[FramePair]]:
    """The mapping t_b = speed * t_a + offset that covers the most seconds of both videos with
    frame pairs that agree with it (within TIME_TOLERANCE), and those pairs."""
    times_a = np.array([_times(va.segments[p.i], va.interval) for p in pairs])
    times_b = np.array([_times(vb.segments[p.j], vb.interval) for p in pairs])
    length_a = np.array([va.segments[p.i].length * va.interval for p in pairs])
    length_b = np.array([vb.segments[p.j].length * vb.interval for p in pairs])
    seg_a = np.array([p.i for p in pairs])
    seg_b = np.array([p.j for p in pairs])
    scores = np.array([p.score for p in pairs])
    tolerance = TIME_TOLERANCE * max(va.interval, vb.interval)
    best_key, best = None, (1.0, 0.0, np.zeros(len(pairs), dtype=bool))
    for speed in SPEEDS:
        lo = times_b[:, 0] - speed * times_a[:, 1] - tolerance  # offsets under which pair k holds
        hi = times_b[:, 1] - speed * times_a[:, 0] + tolerance
        for offset in np.unique(((lo + hi) / 2).round(2)):  # each pair's own mapping
            ok = (lo <= offset + 1e-9) & (offset - 1e-9 <= hi)
            if not ok.any():
                continue
            _, first_a = np.unique(seg_a[ok], return_index=True)
            _, first_b = np.unique(seg_b[ok], return_index=True)
            covered = float(length_a[ok][first_a].sum() + length_b[ok][first_b].sum())
            key = (round(covered, 6), round(float(scores[ok].sum()), 6), -abs(math.log(speed)))
            if best_key is None or key > best_key:
                best_key, best = key, (speed, float(offset), ok)
    speed, offset, ok = best
    return speed, offset, [p for p, keep in zip(pairs, ok.tolist()) if keep]


def _covered(video: Video, segments: set[int]) -> tuple[float, tuple[float, float]]:
    """Seconds covered by these segments, and the first and last of them."""
    spans = [(video.segments[s].start * video.interval, (video.segments[s].start + video.segments[s].length)
              * video.interval) for s in sorted(segments)]
    return sum(b - a for a, b in spans), (min(a for a, _ in spans), max(b for _, b in spans))


def compare_videos(va: Video, vb: Video) -> VideoMatch | None:
    """How much of each video the other covers (None when nothing in them matches)."""
    if (len(va.segments), va.usable_seconds) > (len(vb.segments), vb.usable_seconds):
        found = compare_videos(vb, va)  # local features are looked up from the video with fewer segments
        return found.flipped() if found is not None else None
    pairs = _pdq_pairs(va, vb)
    pairs += _feature_pairs(va, vb, {p.i for p in pairs})
    if not pairs:
        return None
    pairs = sorted(pairs, key=lambda p: -p.score)[:MAX_PAIRS]
    speed, offset, kept = _consistent(pairs, va, vb)
    if not kept:
        return None
    seconds_a, span_a = _covered(va, {p.i for p in kept})
    seconds_b, span_b = _covered(vb, {p.j for p in kept})
    usable_a, usable_b = va.usable_seconds, vb.usable_seconds
    if usable_a <= 0 or usable_b <= 0:
        return None
    shorter_share, shorter_seconds = (min(1.0, seconds_a / usable_a), seconds_a) if usable_a <= usable_b \
        else (min(1.0, seconds_b / usable_b), seconds_b)
    score = shorter_share * min(1.0, shorter_seconds / MIN_MATCH_SECONDS)
    shown = _shown_pairs(kept, va, vb)
    return VideoMatch(va.number, vb.number, round(score, 4), speed, offset, seconds_a, seconds_b, usable_a, usable_b,
                      span_a, span_b, shown, _share(kept, lambda p: p.mirrored),
                      _share(kept, lambda p: p.how == "pdq" and p.orientation in (1, 2, 3, 6, 7)),
                      _share(kept, lambda p: p.cropped))


def _share(pairs: list[FramePair], test) -> bool:
    """Most of the pairs have this property."""
    return sum(1 for p in pairs if test(p)) * 2 > len(pairs)


def _shown_pairs(kept: list[FramePair], va: Video, vb: Video) -> tuple[tuple[float, float, float, str], ...]:
    """Up to SHOWN_PAIRS keyframe pairs spread over the match, as (t_a, t_b, score, how)."""
    ordered = sorted(kept, key=lambda p: (va.segments[p.i].start, -p.score))
    seen, unique = set(), []
    for p in ordered:
        if p.i not in seen:
            seen.add(p.i)
            unique.append(p)
    if len(unique) > SHOWN_PAIRS:
        picks = np.linspace(0, len(unique) - 1, SHOWN_PAIRS).round().astype(int)
        unique = [unique[k] for k in sorted(set(picks.tolist()))]
    return tuple((va.segments[p.i].start * va.interval, vb.segments[p.j].start * vb.interval, round(p.score, 3),
                  p.how) for p in unique)


@lru_cache(maxsize=64)
def compare(a: bytes, b: bytes) -> VideoMatch | None:
    """The best-matching pair of videos of two items' blobs, told from a's side (symmetric:
    computed in one canonical order)."""
    if a > b:
        found = compare(b, a)
        return found.flipped() if found is not None else None
    best: VideoMatch | None = None
    for va in videos_of(a):
        for vb in videos_of(b):
            found = compare_videos(va, vb)
            if found is not None and (best is None or found.score > best.score):
                best = found
    return best


def clock(seconds: float) -> str:
    """m:ss (or h:mm:ss) of a time in seconds."""
    whole = int(round(seconds))
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
