"""Listing videos (product videos, livestream clips): re-uploads found through re-encoding, resizing,
crops, mirrors, trims, speed changes, banners and letterbox bars.

What a video becomes (``compute``, in the build's worker pool): frames sampled at
``Config.videos.sample_interval`` (one a second, as vPDQ) by `simgov.videoio`, fingerprinted as
the picture signal fingerprints pictures and folded into segments of repeated frames
(`simgov.signals.video_match`). How two videos are scored and explained is there too.

First stage (``search``): a FAISS binary index of the plain PDQ hash of every segment, searched
with the query's segments in their eight orientations, and a FAISS binary index of the first
``INDEXED_KEYPOINTS`` ORB descriptors of every segment, searched with the query's descriptors as
is and mirrored (crops and banners move PDQ hashes). A candidate item is ranked by the share of
the query's segments that found it either way.

Decision: a pair whose video score reaches ``MATCH_THRESHOLD`` (``VideoSignal.is_match``) shows
the same video (edited, trimmed); the score's part in the item match (``match_part``) is nothing
below the threshold and enough at it to make the pair a match on its own, whatever the titles
say: a verified near-copy video is the same merchandise, while two different videos of one
product are common and say nothing against it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from ..config import BinaryIndexConfig, VideoLimits
from ..errors import ImageRejected
from ..imageio import resolve_inside
from ..matching import thresholds
from ..matching.evidence import MatchPart
from ..schema import Item
from ..vectors import BinaryIndex
from ..videoio import VideoRejected, sample_frames
from .base import BankIndex, BankMatch, BuildContext, Candidate, SignalOutput
from .image import FEATURES_VERSION, PDQ_BITS, PDQ_SIZE, PDQ_UNRELATED, picture_features
from .pdq_orb_index import HashEntries, PdqOrbIndex, PdqOrbSignal
from .video_match import (DUP_BITS, KEYPOINTS, MIN_MATCH_SECONDS, VOTE_BITS, Segment, Video, VideoMatch, clock,
                          compare, compare_videos, same_segment, trimmed, videos_of)
from .video_vpdq import parse_vpdq, video_from_vpdq

#: Video-only match decision: a pair whose video score reaches this shows the same video
#: (`video_same_video` in calibration.json: benchmarks/video_edits.py, held-out videos under eight
#: edits, distinct videos for false matches).
MATCH_THRESHOLD = thresholds.threshold("video_same_video")
#: The video score's logit in the item match at MATCH_THRESHOLD and above (below: nothing): more
#: than every other part can subtract (the bias -3.35, title 2 x -0.6, text 6 x -0.5, image
#: 2 x -0.6: -8.75), so a video copy alone matches.
PART_GAIN = 10.0
#: The evidence a present video score counts for in the mutual-best bonus's coverage: the picture
#: signal's prior weight (a video that matches nothing must not make a mutual-best pair a match).
PART_WEIGHT = 2.0
INDEXED_KEYPOINTS = 16
ORB_INDEX_FLAT_MAX = 50_000
#: First stage: a query segment finds an item through a PDQ hash this close (a looser bound than
#: a frame match: candidates are verified by the score).
SEARCH_PDQ_BITS = 48
SEARCH_VOTES = 3
SEGMENT_SHIFT = 24  # index ids: vec_id << 24 | video number << 16 | segment number (wrapped)


@dataclass(frozen=True)
class ThresholdPart(MatchPart):
    """`gain` from a score of `centre` on, nothing below: a signal with its own calibrated decision,
    whose yes decides the item match and whose no is no evidence against it (two different
    videos of one product are common). `weight` stays what a present score counts for in the
    combination's coverage of the evidence."""

    gain: float = 1.0

    def logit(self, score: float) -> float:
        return self.gain if score >= self.centre else 0.0


def fingerprint_video(path: Path, number: int, limits: VideoLimits) -> Video:
    """Sample, fingerprint and fold one video file into segments (VideoRejected when unusable)."""
    info, frames = sample_frames(path, interval=limits.sample_interval, longest=PDQ_SIZE,
                                 max_bytes=limits.max_bytes, max_seconds=limits.max_seconds,
                                 max_pixels=limits.max_pixels)
    segments: list[Segment] = []
    samples, last_time = 0, 0.0
    for frame in frames:
        picture = picture_features(Image.fromarray(frame.rgb), number)
        last_time = frame.time
        samples = frame.sample + 1
        if segments and same_segment(segments[-1], picture):
            segments[-1].length = frame.sample + 1 - segments[-1].start
            continue
        if segments:  # a segment lasts until the next one starts (samples skipped in between included)
            segments[-1].length = frame.sample - segments[-1].start
        segments.append(Segment(frame.sample, 1, trimmed(picture)))
    if not segments:
        raise VideoRejected("no frame could be decoded")
    duration = info.duration if info.duration is not None else last_time
    return Video(number, samples, info.width, info.height, limits.sample_interval, duration, segments,
                 info.frame_rate or 0.0)


def describe_match(m: VideoMatch) -> str:
    """"5 of 6 sampled seconds match, mirrored, from 0:12 to 1:06 of the other", from a's side."""
    shorter_is_a = m.usable_a <= m.usable_b
    seconds, usable = (m.seconds_a, m.usable_a) if shorter_is_a else (m.seconds_b, m.usable_b)
    own = "its" if shorter_is_a else "the other's"
    what = []
    if m.mirrored:
        what.append("mirrored")
    if m.rotated:
        what.append("turned")
    if m.cropped:
        what.append("cropped")
    if abs(math.log(m.speed)) > 0.05:
        what.append(f"the other at {m.speed:.2g}x speed")
    how = f", {', '.join(what)}" if what else ""
    span_b = f"from {clock(m.span_b[0])} to {clock(m.span_b[1])} of the other"
    span_a = f"{clock(m.span_a[0])} to {clock(m.span_a[1])} of this one"
    return (f"{seconds:.0f} of {own} {usable:.0f} sampled seconds match{how}, {span_b} ({span_a}; "
            f"video {m.a + 1} vs video {m.b + 1}; score {m.score:.2f})")


class VpdqBankIndex(BankIndex):
    """vPDQ entries of the video banks (one vPDQ hash file each, as Meta's HMA exchanges them):
    a listing's video matches an entry when the signal would call the two the same video. The
    entries' frame hashes sit in a flat FAISS binary index that the listing's segments search in
    their eight orientations; only entries found that way are compared in full."""

    NEIGHBOURS = 16  # nearest frame hashes looked at per segment and orientation

    def __init__(self, entries: list[tuple[int, str]]):
        self.videos = {entry_id: video_from_vpdq(parse_vpdq(value)) for entry_id, value in entries}
        ids, codes = [], []
        for entry_id, video in self.videos.items():
            for seg in video.segments:
                if seg.picture.pdq_usable:
                    ids.append(entry_id)
                    codes.append(seg.picture.pdq[0])
        self.index = BinaryIndex.create(PDQ_BITS, max(1, len(ids)), BinaryIndexConfig(kind="flat"))
        if ids:
            self.index.add(np.array(ids, dtype=np.int64), np.stack(codes))

    def search(self, blob: bytes) -> list[BankMatch]:
        found: dict[int, BankMatch] = {}
        for video in videos_of(blob):
            usable = [s.picture.pdq for s in video.segments if s.picture.pdq_usable]
            if not usable or not self.index.ntotal:
                continue
            dist, ids = self.index.search(np.concatenate(usable), min(self.NEIGHBOURS, self.index.ntotal))
            for entry_id in set(ids[(ids >= 0) & (dist <= SEARCH_PDQ_BITS)].tolist()):
                m = compare_videos(video, self.videos[entry_id])
                if m is not None and m.score >= MATCH_THRESHOLD and \
                        (entry_id not in found or found[entry_id].score < m.score):
                    found[entry_id] = BankMatch(entry_id, m.score,
                                                f"video {m.a + 1} matches vPDQ entry {entry_id}: {describe_match(m)}")
        return sorted(found.values(), key=lambda f: -f.score)


class VideoSignal(PdqOrbSignal):
    name = "video"
    version = 1
    parallel = True
    kind = "video"
    bank_kind = "vpdq"
    description = ("videos (frames sampled once a second, fingerprinted as pictures: PDQ in eight orientations "
                   "after trimming borders, ORB local features verified geometrically; scored by how much of "
                   "the shorter video the other covers in one consistent time mapping)")
    match_part = ThresholdPart(weight=PART_WEIGHT, centre=MATCH_THRESHOLD, gain=PART_GAIN)
    MATCH_THRESHOLD = MATCH_THRESHOLD

    def __init__(self, config):
        super().__init__(config)
        self.hash_index = PdqOrbIndex("video", "videos", ORB_INDEX_FLAT_MAX)

    def bank_index(self, entries: list[tuple[int, str]]) -> VpdqBankIndex | None:
        return VpdqBankIndex(entries) if entries else None

    @classmethod
    def is_match(cls, score: float | None) -> bool:
        """The video-only decision: does a pair with this video score show the same video (edited)?"""
        return score is not None and score >= cls.MATCH_THRESHOLD

    def identity(self) -> dict[str, Any]:
        return {"version": self.version, "sample_interval": self.config.videos.sample_interval,
                "keypoints": KEYPOINTS, "indexed_keypoints": INDEXED_KEYPOINTS, "dup_bits": DUP_BITS,
                "picture_features": FEATURES_VERSION}

    # -- computing ----------------------------------------------------------------------------
    def fingerprint_paths(self, paths: list[str], ctx: BuildContext) -> SignalOutput:
        limits = self.config.videos
        parts, problems = [], []
        for number, path_text in enumerate(paths[: limits.max_videos_per_item]):
            try:
                video = fingerprint_video(resolve_inside(path_text, ctx.data_roots), number, limits)
            except (ImageRejected, VideoRejected) as exc:  # resolve_inside speaks of images: say video
                problems.append(f"video {path_text}: {str(exc).replace('image ', 'video ')}")
                continue
            except (cv2.error, ValueError, OverflowError, OSError) as exc:
                problems.append(f"video {path_text}: could not be fingerprinted ({type(exc).__name__}: {exc})")
                continue
            parts.append(video.to_bytes())
            if all(s.blank for s in video.segments):
                problems.append(f"video {path_text}: no frame with enough detail to compare")
        if len(paths) > limits.max_videos_per_item:
            problems.append(f"only the first {limits.max_videos_per_item} videos are used")
        return SignalOutput(b"".join(parts) if parts else None, problems)

    def compute(self, items: list[Item], ctx: BuildContext) -> list[SignalOutput]:
        return [self.fingerprint_paths(item.videos, ctx) if item.videos else SignalOutput(None) for item in items]

    # -- index --------------------------------------------------------------------------------
    def reset(self, expected: int) -> None:
        self.hash_index.reset(expected * 8, expected * 8 * INDEXED_KEYPOINTS, self.config.binary_index)

    def index_entries(self, vec_ids: list[int], blobs: list[bytes]) -> HashEntries:
        entries = HashEntries([], [], [], [])
        for vec_id, blob in zip(vec_ids, blobs):
            for video in videos_of(blob):
                for number, seg in enumerate(video.segments):
                    ident = (int(vec_id) << SEGMENT_SHIFT) | (video.number << 16) | (number & 0xFFFF)
                    if seg.picture.pdq_usable:
                        entries.pdq_ids.append(ident)
                        entries.pdq_codes.append(seg.picture.pdq[0])
                    n = min(INDEXED_KEYPOINTS, len(seg.picture.desc))
                    if n:
                        entries.orb_ids.append(np.full(n, ident, dtype=np.int64))
                        entries.orb_codes.append(seg.picture.desc[:n])
        return entries

    def units(self, blob: bytes) -> int:
        return len(videos_of(blob))

    def search_one(self, blob: bytes, k: int) -> list[Candidate]:
        """Items ranked by the share of the query's segments that find them (by PDQ in any
        orientation, or by local-feature votes), the nearest PDQ hashes first on a tie."""
        segments = [seg for video in videos_of(blob) for seg in video.segments if not seg.blank]
        if not segments:
            return []
        found: dict[int, set[int]] = {}  # item -> query segments that found it
        nearest: dict[int, int] = {}
        wide = max(4 * k, 32)  # one item holds many segments: look past them to other items
        usable = [(n, s) for n, s in enumerate(segments) if s.picture.pdq_usable]
        if usable and self.hash_index.has_pdq():
            codes = np.concatenate([s.picture.pdq for _, s in usable])  # eight orientations each
            dist, ids = self.hash_index.pdq.search(codes, min(wide, self.hash_index.pdq.ntotal))
            owner = np.repeat([n for n, _ in usable], 8)
            for row, query in enumerate(owner.tolist()):
                for ident, d in zip(ids[row].tolist(), dist[row].tolist()):
                    if ident < 0 or d > SEARCH_PDQ_BITS:
                        continue
                    item = ident >> SEGMENT_SHIFT
                    found.setdefault(item, set()).add(query)
                    nearest[item] = min(nearest.get(item, PDQ_BITS + 1), d)
        with_kp = [(n, s) for n, s in enumerate(segments) if len(s.picture.desc)]
        if with_kp and self.hash_index.has_orb():
            codes = np.concatenate([d for _, s in with_kp for d in (s.picture.desc, s.picture.mdesc)])
            owner = np.concatenate([np.full(2 * len(s.picture.desc), n) for n, s in with_kp])
            dist, ids = self.hash_index.orb.search(codes, 2)
            ok = (ids >= 0) & (dist <= VOTE_BITS)
            rows = np.broadcast_to(np.arange(len(codes))[:, None], ids.shape)[ok]
            items = ids[ok] >> SEGMENT_SHIFT
            if len(items):
                # a query descriptor votes once per item
                votes = np.unique(np.stack([owner[rows], rows, items], axis=1), axis=0)
                keys, counts = np.unique(votes[:, [0, 2]], axis=0, return_counts=True)
                for (query, item), n in zip(keys.tolist(), counts.tolist()):
                    if n >= SEARCH_VOTES:
                        found.setdefault(item, set()).add(query)
        ranked = sorted(found, key=lambda v: (-len(found[v]), nearest.get(v, PDQ_UNRELATED)))
        return [Candidate(v, len(found[v]) / len(segments)) for v in ranked[:k]]

    # -- scoring ------------------------------------------------------------------------------
    def score(self, a: bytes, b: bytes) -> float | None:
        m = compare(a, b)
        return None if m is None else m.score

    def explain(self, a: bytes, b: bytes) -> list[str]:
        m = compare(a, b)
        if m is None:
            return []
        verdict = "same video" if self.is_match(m.score) else "no video copy"
        line = f"video: {verdict}: {describe_match(m)}"
        if not self.is_match(m.score) and m.score > 0:
            line += f" (a copy covers at least {MATCH_THRESHOLD:.0%} of the shorter video and {MIN_MATCH_SECONDS} s)"
        return [line]

    def match_details(self, a: bytes, b: bytes) -> dict[str, Any] | None:
        """The matching keyframes side by side with their time codes, for the console."""
        m = compare(a, b)
        if m is None:
            return None
        return {"video_a": m.a, "video_b": m.b, "score": m.score, "match": self.is_match(m.score),
                "speed": m.speed, "offset": round(m.offset, 2), "summary": describe_match(m),
                "keyframes": [{"time_a": ta, "time_b": tb, "clock_a": clock(ta), "clock_b": clock(tb),
                               "score": s, "how": how} for ta, tb, s, how in m.pairs]}

    def describe(self, blob: bytes) -> dict[str, Any]:
        return {"videos": [{"video": v.number, "sampled_seconds": round(v.samples * v.interval, 1),
                            "segments": len(v.segments), "size": [v.width, v.height],
                            "duration": round(v.duration, 2), "usable_seconds": round(v.usable_seconds, 1)}
                           for v in videos_of(blob)]}

