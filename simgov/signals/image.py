"""Listing pictures: PDQ (256 bits, with quality) and pHash (64 bits) in FAISS binary indexes.

An item's blob holds one record per usable picture. A pair of items is as similar as its best
pair of pictures. PDQ hashes of quality below `MIN_PDQ_QUALITY` carry too little detail to be
trusted (flat or tiny pictures); they are stored but not used for matching, and the evidence
says so; pHash still compares such pictures.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import imagehash
import numpy as np
import pdqhash
from PIL import Image

from ..errors import ImageRejected
from ..imageio import load_image, resolve_inside
from ..schema import Item
from ..vectorindex import BinaryIndex
from .base import BuildContext, Candidate, Query, Signal, SignalOutput, top_candidates

MIN_PDQ_QUALITY = 50
PDQ_BITS, PHASH_BITS = 256, 64
# Distances at which a hash pair counts as unrelated: about half the bits of random pairs' mean
# distance (128 of 256 for PDQ, 32 of 64 for pHash); similarity falls linearly to 0 there.
PDQ_ZERO_AT, PHASH_ZERO_AT = 128, 32
# Records: image number (1 byte), PDQ quality (1 byte), PDQ hash (32 bytes), pHash (8 bytes).
RECORD = np.dtype([("image", "u1"), ("quality", "u1"), ("pdq", "u1", 32), ("phash", "u1", 8)])
PDQ_FILE, PHASH_FILE = "image_pdq.faiss", "image_phash.faiss"
ID_SHIFT = 8  # index ids are vec_id << 8 | image number
DRAFT_SIZE = 512


@dataclass(frozen=True)
class Fingerprint:
    pdq: np.ndarray  # 32 uint8
    quality: int
    phash: np.ndarray  # 8 uint8


def fingerprint(img: Image.Image) -> Fingerprint:
    """PDQ and pHash of an RGB picture."""
    bits, quality = pdqhash.compute(np.asarray(img, dtype=np.uint8))
    phash_bits = imagehash.phash(img).hash.flatten()
    return Fingerprint(np.packbits(bits.astype(np.uint8)), int(quality), np.packbits(phash_bits.astype(np.uint8)))


def _records(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=RECORD)


def _hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise Hamming distances between two stacks of packed hashes (n, m)."""
    x = np.bitwise_xor(a[:, None, :], b[None, :, :])
    return np.unpackbits(x, axis=2).sum(axis=2)


def pdq_similarity(distance):
    return np.clip(1.0 - np.asarray(distance, dtype=np.float64) / PDQ_ZERO_AT, 0.0, 1.0)


def phash_similarity(distance):
    return np.clip(1.0 - np.asarray(distance, dtype=np.float64) / PHASH_ZERO_AT, 0.0, 1.0)


class ImageSignal(Signal):
    name = "image"
    version = 1
    description = "pictures (PDQ and pHash perceptual hashes, Hamming distance)"

    def __init__(self, config):
        super().__init__(config)
        self.pdq_index: BinaryIndex | None = None
        self.phash_index: BinaryIndex | None = None

    def identity(self) -> dict[str, Any]:
        return {"version": self.version, "min_pdq_quality": MIN_PDQ_QUALITY}

    # -- computing ----------------------------------------------------------------------------
    def _load(self, path: Path) -> Image.Image:
        limits = self.config.images
        return load_image(path, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels, draft_size=DRAFT_SIZE)

    def fingerprint_paths(self, paths: list[str], ctx: BuildContext) -> SignalOutput:
        records, problems = [], []
        for number, path_text in enumerate(paths[: self.config.images.max_images_per_item]):
            try:
                fp = fingerprint(self._load(resolve_inside(path_text, ctx.data_roots)))
            except ImageRejected as exc:
                problems.append(f"image {path_text}: {exc}")
                continue
            records.append((number, fp.quality, fp.pdq, fp.phash))
            if fp.quality < MIN_PDQ_QUALITY:
                problems.append(f"image {path_text}: PDQ quality {fp.quality} below {MIN_PDQ_QUALITY}, "
                                "PDQ not used for matching (pHash still is)")
        if len(paths) > self.config.images.max_images_per_item:
            problems.append(f"only the first {self.config.images.max_images_per_item} images are used")
        blob = np.array(records, dtype=RECORD).tobytes() if records else None
        return SignalOutput(blob, problems)

    def compute(self, items: list[Item], ctx: BuildContext) -> list[SignalOutput]:
        return [self.fingerprint_paths(item.images, ctx) if item.images else SignalOutput(None) for item in items]

    def compute_query(self, query: Query) -> bytes | None:
        if query.image is None:
            return None
        fp = fingerprint(query.image)
        return np.array([(0, fp.quality, fp.pdq, fp.phash)], dtype=RECORD).tobytes()

    # -- index --------------------------------------------------------------------------------
    def reset(self, expected: int) -> None:
        cfg = self.config.binary_index
        self.pdq_index = BinaryIndex.create(PDQ_BITS, expected, cfg)
        self.phash_index = BinaryIndex.create(PHASH_BITS, expected, cfg)

    def add(self, vec_ids, blobs) -> None:
        pdq_ids, pdq_codes, ph_ids, ph_codes = [], [], [], []
        for vec_id, blob in zip(vec_ids.tolist(), blobs):
            for rec in _records(blob):
                ident = (vec_id << ID_SHIFT) | int(rec["image"])
                ph_ids.append(ident)
                ph_codes.append(rec["phash"])
                if rec["quality"] >= MIN_PDQ_QUALITY:
                    pdq_ids.append(ident)
                    pdq_codes.append(rec["pdq"])
        if pdq_ids:
            self.pdq_index.add(np.array(pdq_ids), np.stack(pdq_codes))
        if ph_ids:
            self.phash_index.add(np.array(ph_ids), np.stack(ph_codes))

    def remove(self, vec_ids, blobs) -> None:
        ids = np.array([(v << ID_SHIFT) | int(r["image"]) for v, b in zip(vec_ids.tolist(), blobs) for r in _records(b)])
        self.pdq_index.remove(ids)
        self.phash_index.remove(ids)

    def save(self, folder: Path) -> list[str]:
        self.pdq_index.save(folder / PDQ_FILE)
        self.phash_index.save(folder / PHASH_FILE)
        return [PDQ_FILE, PHASH_FILE]

    def load(self, folder: Path) -> None:
        self.pdq_index = BinaryIndex.load(folder / PDQ_FILE)
        self.phash_index = BinaryIndex.load(folder / PHASH_FILE)

    def size(self) -> int:
        return self.phash_index.ntotal if self.phash_index else 0

    def search(self, blobs: list[bytes], k: int) -> list[list[Candidate]]:
        results: list[list[Candidate]] = []
        for blob in blobs:
            recs = _records(blob)
            merged: dict[int, float] = {}
            usable = recs[recs["quality"] >= MIN_PDQ_QUALITY]
            for index, codes, to_sim in (
                (self.pdq_index, usable["pdq"] if len(usable) else None, pdq_similarity),
                (self.phash_index, recs["phash"], phash_similarity),
            ):
                if codes is None or index.ntotal == 0:
                    continue
                dist, ids = index.search(np.ascontiguousarray(codes), k * 2)
                for row_ids, row_dist in zip(ids, dist):
                    for cand in top_candidates(row_ids, to_sim(row_dist), shift=ID_SHIFT):
                        merged[cand.vec_id] = max(merged.get(cand.vec_id, 0.0), cand.score)
            ranked = sorted(merged.items(), key=lambda kv: -kv[1])[:k]
            results.append([Candidate(v, s) for v, s in ranked if s > 0])
        return results

    # -- scoring ------------------------------------------------------------------------------
    def _best_pair(self, a: bytes, b: bytes) -> dict[str, Any] | None:
        ra, rb = _records(a), _records(b)
        if not len(ra) or not len(rb):
            return None
        ph_dist = _hamming(ra["phash"], rb["phash"])
        pdq_dist = _hamming(ra["pdq"], rb["pdq"])
        usable = (ra["quality"][:, None] >= MIN_PDQ_QUALITY) & (rb["quality"][None, :] >= MIN_PDQ_QUALITY)
        sims = np.where(usable, np.maximum(pdq_similarity(pdq_dist), phash_similarity(ph_dist)), phash_similarity(ph_dist))
        i, j = np.unravel_index(int(np.argmax(sims)), sims.shape)
        return {"score": float(sims[i, j]), "a": int(ra["image"][i]), "b": int(rb["image"][j]),
                "pdq": int(pdq_dist[i, j]), "phash": int(ph_dist[i, j]), "pdq_used": bool(usable[i, j]),
                "quality": (int(ra["quality"][i]), int(rb["quality"][j]))}

    def score(self, a: bytes, b: bytes) -> float | None:
        best = self._best_pair(a, b)
        return None if best is None else best["score"]

    def explain(self, a: bytes, b: bytes) -> list[str]:
        best = self._best_pair(a, b)
        if best is None:
            return []
        which = f"picture {best['a'] + 1} vs picture {best['b'] + 1}"
        if best["pdq_used"]:
            return [f"image PDQ {best['pdq']} of {PDQ_BITS} bits apart, pHash {best['phash']} of {PHASH_BITS} ({which})"]
        low = min(best["quality"])
        return [f"image pHash {best['phash']} of {PHASH_BITS} bits apart ({which}); PDQ not used: "
                f"quality {low} below {MIN_PDQ_QUALITY}"]

    def describe(self, blob: bytes) -> dict[str, Any]:
        return {"pictures": [{"image": int(r["image"]), "pdq": bytes(r["pdq"]).hex(), "pdq_quality": int(r["quality"]),
                              "phash": bytes(r["phash"]).hex()} for r in _records(blob)]}
