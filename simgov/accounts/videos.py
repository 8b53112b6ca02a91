"""Creators' videos: two accounts that post the same video (edited, trimmed, mirrored).

An account's `videos` are fingerprinted as listings' videos are (`simgov.signals.video`: the same
blob, the same comparison and threshold). Candidates come from a FAISS binary index of every
segment's PDQ hash, searched with an account's segments in their eight orientations. The same
video on two accounts is evidence of one person behind both, but weaker than an avatar: a video
is reposted by others more often than a face picture is reused, and a video posted by more than
:data:`COMMON_USERS` accounts (a viral clip, a brand's advert) is not counted at all.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..schema import Account
from ..signals.base import BuildContext, SignalOutput
from ..signals.video import MATCH_THRESHOLD, SEARCH_PDQ_BITS, VideoSignal, describe_match
from ..signals.video_match import compare, videos_of
from .base import AccountRecord
from .pdq_indexed import PdqIndexedSignal, path_signature
from .scoring import LinkTerm

SEGMENT_SHIFT = 24  # index ids: acc_id << 24 | video number << 16 | segment number (wrapped)
#: Log-likelihood ratio of the same video on two accounts (less than the same avatar's 3.0).
AGREE = 2.0
#: A video posted by more accounts than this is a viral clip or an advert: not evidence.
COMMON_USERS = 5
NEIGHBOURS = 32  # nearest segment hashes looked at per segment and orientation


class CreatorVideoSignal(PdqIndexedSignal):
    name = "videos"
    version = 1
    description = "creators' videos (the listing video signal's fingerprints and comparison)"
    index_file = "account_video_pdq.faiss"

    def __init__(self, config):
        super().__init__(config)
        self.videos = VideoSignal(config)

    def identity(self) -> dict[str, Any]:
        return {"version": self.version, "video": self.videos.identity(), "match_threshold": MATCH_THRESHOLD}

    # -- computing ----------------------------------------------------------------------------
    def signature(self, account: Account, ctx: BuildContext) -> str:
        return "|".join(path_signature(path_text, ctx) for path_text in account.videos)

    def compute(self, accounts: list[Account], ctx: BuildContext) -> list[SignalOutput]:
        return [self.videos.fingerprint_paths(a.videos, ctx) if a.videos else SignalOutput(None) for a in accounts]

    # -- index --------------------------------------------------------------------------------
    def pdq_entries(self, records: list[AccountRecord]) -> tuple[list[int], list[np.ndarray]]:
        ids, codes = [], []
        for r in records:
            blob = r.blobs.get(self.name)
            for video in videos_of(blob) if blob is not None else ():
                for number, seg in enumerate(video.segments):
                    if seg.picture.pdq_usable:
                        ids.append((r.acc_id << SEGMENT_SHIFT) | (video.number << 16) | (number & 0xFFFF))
                        codes.append(seg.picture.pdq[0])
        return ids, codes

    # -- linking ------------------------------------------------------------------------------
    def _found(self, session, rec: AccountRecord) -> set[str]:
        """Accounts holding a segment within the search distance of one of this account's."""
        blob = rec.blobs.get(self.name)
        codes = [seg.picture.pdq for video in (videos_of(blob) if blob is not None else ())
                 for seg in video.segments if seg.picture.pdq_usable]
        if not codes or self.size() == 0:
            return set()
        with session.lock:
            dist, ids = self.index.search(np.concatenate(codes), min(NEIGHBOURS, self.size()))
        acc_ids = {int(i) >> SEGMENT_SHIFT for i in ids[(ids >= 0) & (dist <= SEARCH_PDQ_BITS)].tolist()}
        return set(session.ids_by_acc(acc_ids).values())

    def candidates(self, session, records: list[AccountRecord], k: int) -> list[set[str]]:
        return [self._found(session, r) for r in records]

    def _same_video(self, a: AccountRecord, b: AccountRecord):
        ba, bb = a.blobs.get(self.name), b.blobs.get(self.name)
        if ba is None or bb is None:
            return None
        found = compare(ba, bb)
        return found if found is not None and found.score >= MATCH_THRESHOLD else None

    def _posters(self, session, rec: AccountRecord) -> int:
        """How many live accounts (this one included) post a copy of one of this account's videos."""
        cache = session.cache.setdefault("video_posters", {})
        if rec.account_id not in cache:
            others = self._found(session, rec) - {rec.account_id}
            records = session.get(sorted(others)).values() if others else ()
            cache[rec.account_id] = 1 + sum(1 for r in records if self._same_video(rec, r) is not None)
        return cache[rec.account_id]

    def terms(self, session, a: AccountRecord, b: AccountRecord) -> list[LinkTerm]:
        found = self._same_video(a, b)
        if found is None:
            return []
        detail = f"same video: {describe_match(found)}"
        weight = AGREE
        posters = max(self._posters(session, a), self._posters(session, b))
        if posters > COMMON_USERS:
            weight = 0.0
            detail += f", but {posters} accounts post it (a viral clip or an advert): not counted"
        return [LinkTerm("videos", "video", found.score, weight, detail)]
