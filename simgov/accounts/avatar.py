"""Avatar pictures: PDQ perceptual hashes in a FAISS binary index (as for listing pictures).

Only PDQ hashes of quality >= :data:`simgov.signals.image.MIN_PDQ_QUALITY` are indexed and
compared (flat or tiny pictures carry too little detail). Two avatars within
:data:`MATCH_DISTANCE` bits are the same picture: positive evidence; different pictures say
nothing (people change avatars). A picture used by more than :data:`COMMON_USERS` accounts is a
platform default or a stock picture and is not counted.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ImageRejected
from ..imageio import load_image, resolve_inside
from ..matching import thresholds
from ..schema import Account
from ..signals.base import BuildContext, SignalOutput
from ..signals.hashes import hamming
from ..signals.image import MIN_PDQ_QUALITY, fingerprint, pdq_similarity
from ..signals.pdq_orb_index import PDQ_BITS
from .base import AccountRecord
from .pdq_indexed import PdqIndexedSignal, path_signature
from .scoring import LinkTerm

RECORD = np.dtype([("quality", "u1"), ("pdq", "u1", 32), ("phash", "u1", 8)])
#: PDQ distance at or below which two avatars are the same picture (re-encoded, resized): the
#: customary PDQ match threshold of 31 of 256 bits (`avatar_match_distance`, calibration.json).
MATCH_DISTANCE = int(thresholds.default("avatar_match_distance"))
#: Log-likelihood ratio of the same avatar picture: strangers rarely use one picture, but stock
#: pictures exist, so it weighs less than a shared identifier (and links only with other evidence).
AGREE = 3.0
#: A picture shared by more accounts than this is a default or stock picture: not evidence.
COMMON_USERS = 5
DRAFT_SIZE = 512


def _record(blob: bytes) -> np.void:
    return np.frombuffer(blob, dtype=RECORD)[0]


class AvatarSignal(PdqIndexedSignal):
    name = "avatar"
    version = 1
    description = "avatar picture (PDQ perceptual hash, Hamming distance)"
    index_file = "account_avatar_pdq.faiss"

    def identity(self) -> dict[str, Any]:
        return {"version": self.version, "min_pdq_quality": MIN_PDQ_QUALITY, "match_distance": MATCH_DISTANCE}

    # -- computing ----------------------------------------------------------------------------
    def signature(self, account: Account, ctx: BuildContext) -> str:
        return path_signature(account.avatar, ctx) if account.avatar else ""

    def compute(self, accounts: list[Account], ctx: BuildContext) -> list[SignalOutput]:
        limits = self.config.images
        out = []
        for account in accounts:
            if not account.avatar:
                out.append(SignalOutput(None))
                continue
            try:
                img = load_image(resolve_inside(account.avatar, ctx.data_roots), max_bytes=limits.max_bytes,
                                 max_pixels=limits.max_pixels, draft_size=DRAFT_SIZE)
                fp = fingerprint(img)
            except ImageRejected as exc:
                out.append(SignalOutput(None, [f"avatar {account.avatar}: {exc}"]))
                continue
            problems = []
            if fp.quality < MIN_PDQ_QUALITY:
                problems.append(f"avatar {account.avatar}: PDQ quality {fp.quality} below {MIN_PDQ_QUALITY}, "
                                "not used for linking")
            blob = np.array([(fp.quality, fp.pdq, fp.phash)], dtype=RECORD).tobytes()
            out.append(SignalOutput(blob, problems))
        return out

    # -- index --------------------------------------------------------------------------------
    def pdq_entries(self, records: list[AccountRecord]) -> tuple[list[int], list[np.ndarray]]:
        ids, codes = [], []
        for r in records:
            blob = r.blobs.get(self.name)
            if blob is not None and (rec := _record(blob))["quality"] >= MIN_PDQ_QUALITY:
                ids.append(r.acc_id)
                codes.append(rec["pdq"])
        return ids, codes

    # -- linking ------------------------------------------------------------------------------
    def _near(self, session, records: list[AccountRecord], k: int) -> list[dict[str, int]]:
        """For each record: account id → PDQ distance of accounts with the same picture."""
        out: list[dict[str, int]] = [{} for _ in records]
        rows = [(n, _record(b)["pdq"]) for n, r in enumerate(records)
                if (b := r.blobs.get(self.name)) is not None and _record(b)["quality"] >= MIN_PDQ_QUALITY]
        if not rows or self.size() == 0:
            return out
        with session.lock:
            dist, ids = self.index.search(np.stack([c for _, c in rows]), k)
        names = session.ids_by_acc(int(i) for i in ids.ravel() if i >= 0)
        for (n, _), drow, irow in zip(rows, dist, ids):
            out[n] = {names[int(i)]: int(d) for d, i in zip(drow, irow)
                      if i >= 0 and d <= MATCH_DISTANCE and int(i) in names}
        return out

    def candidates(self, session, records: list[AccountRecord], k: int) -> list[set[str]]:
        found = self._near(session, records, max(k, COMMON_USERS) + 2)
        for r, near in zip(records, found):
            session.cache.setdefault("avatar_users", {})[r.account_id] = len(near)
        return [set(near) for near in found]

    def users(self, session, rec: AccountRecord) -> int:
        """How many live accounts (this one included) use this account's picture."""
        cache = session.cache.setdefault("avatar_users", {})
        if rec.account_id not in cache:
            cache[rec.account_id] = len(self._near(session, [rec], COMMON_USERS + 2)[0])
        return cache[rec.account_id]

    def terms(self, session, a: AccountRecord, b: AccountRecord) -> list[LinkTerm]:
        ba, bb = a.blobs.get(self.name), b.blobs.get(self.name)
        if ba is None or bb is None:
            return []
        ra, rb = _record(ba), _record(bb)
        if ra["quality"] < MIN_PDQ_QUALITY or rb["quality"] < MIN_PDQ_QUALITY:
            return []
        d = int(hamming(ra["pdq"][None, :], rb["pdq"][None, :])[0, 0])
        if d > MATCH_DISTANCE:
            return []
        sim = float(pdq_similarity(d))
        # full weight up to half the match distance, then falling to 0 at the match distance
        w = AGREE * min(1.0, (MATCH_DISTANCE + 1 - d) / ((MATCH_DISTANCE + 1) / 2))
        detail = f"same avatar picture (PDQ {d} of {PDQ_BITS} bits apart)"
        users = max(self.users(session, a), self.users(session, b))
        if users > COMMON_USERS:
            w = 0.0
            detail += f", but {users} accounts use it (a default or stock picture): not counted"
        return [LinkTerm("avatar", "avatar", sim, w, detail)]
