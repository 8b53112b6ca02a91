"""Listing pictures: near-copies found through crops, mirrors, quarter turns, padding, small
rotations, banners and recompression.

What a picture becomes (``compute``; see ``benchmarks/image_edits.py`` for its cost):

* a flat uniform border is trimmed off first (padding onto a white square, letterboxing, a
  studio background; nested borders one after the other). A band across the top or bottom that
  covers the side borders (a banner stamped across the padding) is left out of the content. A
  natural background with noise in it is not a border;
* PDQ of the trimmed picture in all eight dihedral orientations (mirror images, quarter turns);
* up to ``MAX_KEYPOINTS`` ORB keypoints of the trimmed picture scaled to ``WORK_SIZE`` pixels,
  taken round-robin over a 4x4 grid so that no busy area (banner text) takes them all, each with
  the descriptor of the picture and the descriptor of its mirror image;
* a ``THUMB`` x ``THUMB`` colour thumbnail, for a photometric check of aligned pictures.

First stage (``search``, index lookups, no scan of the gallery's blobs): a FAISS binary index of
one PDQ hash per picture, searched with the query's eight orientations, and a FAISS binary index
of the first ``INDEXED_KEYPOINTS`` descriptors of each picture (exact when small, an inverted
file when large), searched with all of the query's descriptors, as is and mirrored; a picture
collects a vote per query keypoint that lands on it. Candidates: PDQ near-copies, the nearest few
PDQ hashes however far, then pictures by votes.

Second stage (``score``, per candidate pair, picture pair by picture pair):

* PDQ: the best distance over the eight orientations; it counts only if the thumbnails, turned
  the same way, agree (simple pictures such as one blob on white have close hashes by chance);
* local features: ratio-test matches, a RANSAC similarity transform (rotation, scale, shift),
  inliers spread over the picture (not a strip of shared banner text), each picture covered by
  the other on at least half its area (a close-up of the same object is not a copy), and the
  share of the overlap whose colour thumbnails agree once aligned (a band at the top or bottom
  may disagree: a banner).

``score`` is in [0, 1]: the best of the PDQ score (``1 - distance/128`` up to 31 bits, then falling
to 0 at 64 bits, times the photometric check) and the local-feature score (confidence from the
inlier count times the photometric agreement); a pair of items is as similar as its best pair of
pictures. ``MATCH_THRESHOLD`` (``ImageSignal.is_match``) is the image-only match decision,
calibrated on distinct pictures by ``benchmarks/image_edits.py``.

PDQ hashes of quality below ``MIN_PDQ_QUALITY`` carry too little detail to be trusted (flat or
tiny pictures): they are stored but not indexed or compared; local features still are.
``fingerprint`` (plain PDQ and pHash of a whole picture) stays for the avatar signal.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import faiss
import imagehash
import numpy as np
import pdqhash
from PIL import Image

from ..config import BinaryIndexConfig
from ..errors import ImageRejected
from ..imageio import load_image, resolve_inside
from ..matching import thresholds
from ..matching.evidence import MatchPart
from ..schema import Item
from ..vectors import BinaryIndex
from .base import BankIndex, BankMatch, BuildContext, Candidate, Query, SignalOutput
from .hashes import oriented, pdq_dihedral
from .pdq_orb_index import PDQ_BITS, HashEntries, PdqOrbIndex, PdqOrbSignal

cv2.setNumThreads(1)  # pictures are processed in parallel by the build, not inside OpenCV

MIN_PDQ_QUALITY = 50
PHASH_BITS = 64
# Distances at which a hash pair counts as unrelated: about half the bits of random pairs' mean
# distance (128 of 256 for PDQ, 32 of 64 for pHash); similarity falls linearly to 0 there.
PDQ_ZERO_AT, PHASH_ZERO_AT = 128, 32
#: The customary PDQ near-copy distance (bits of 256), for the plain-words evidence.
PDQ_NEAR = int(thresholds.default("pdq_near"))
#: Distinct pictures come as close as about 64 bits (flat, simple pictures): the PDQ score is 0 there.
PDQ_UNRELATED = 64

# -- picture preparation --------------------------------------------------------------------------
PDQ_SIZE = 384        # PDQ of the trimmed picture as decoded, area-reduced by a whole factor past twice this
DRAFT_SIZE = PDQ_SIZE  # JPEGs decode reduced to at least this size (much faster than full size)
WORK_SIZE = 320       # local features of the trimmed picture at this longest side
THUMB = 32            # photometric thumbnail (colour, THUMB x THUMB)
BORDER_TOL = 8        # a border pixel differs from the border colour by at most this (of 255)
BORDER_FLAT = 1.0     # ... and the median border pixel by at most this: added borders are flat
BORDER_CONTENT = 40   # content differs from the border colour by more than this (JPEG ringing less)
BORDER_SPECKS = 0.005  # a border line may have this share of other pixels (JPEG ringing)
BANNER_MAX = 0.3      # a banner across the padding covers at most this share of the height
BORDER_MIN_BAND = 0.015     # a border counts as found when it is at least this share of the side

# -- local features ---------------------------------------------------------------------------------
MAX_KEYPOINTS = 160   # stored per picture (each with its descriptor and its mirror image's)
INDEXED_KEYPOINTS = 32  # of those, the first (spread over the grid) go into the first-stage index
ORB_DETECT = 600      # detected before the spread selection (busy areas must not crowd out the rest)
# 5 pyramid levels 1.25 apart (2.4x in scale): copies are compared at one working size, so a crop or a
# resize leaves little scale to bridge; 8 levels 1.2 apart cost 1.3x the CPU of a whole fingerprint.
# 4 levels 1.3 apart lost a copy of a silhouette photo (horse, turned 4 degrees and halved: no match)
ORB_LEVELS, ORB_SCALE, ORB_FAST, ORB_EDGE, ORB_PATCH = 5, 1.25, 10, 16, 31
GRID = 4
RATIO = 0.85          # Lowe's ratio test for descriptor matches
MATCH_MAX_BITS = 64   # a descriptor match is at most this many bits of 256 apart
RANSAC_PX = 4.0       # reprojection error of an inlier, in working-size pixels
MIN_INLIERS = 10
SCALE_RANGE = (1 / 3, 3.0)
MIN_SPREAD = 0.03    # inliers must spread over at least this share of the width and of the height
MIN_OVERLAP = 0.5     # the aligned pictures must each be covered by the other on this share of their area
INDEX_MATCH_BITS = 56  # first stage: a query descriptor votes for pictures this close
MIN_VOTES, FULL_VOTES = 3, 40  # first stage: votes to be a candidate, votes for a candidate score of 1
PDQ_NEAREST = 3       # first stage: the nearest PDQ hashes are always candidates, however far
ORB_INDEX_FLAT_MAX = 50_000  # descriptors; an inverted file above (about 1500 pictures)

# -- scoring ----------------------------------------------------------------------------------------
INLIER_SCALE = 6.0   # feature confidence 1 - exp(-(inliers - MIN_INLIERS + 1) / INLIER_SCALE)
AGREE_LOW, AGREE_HIGH = 0.55, 0.85  # photometric agreement mapped linearly onto [0, 1] between these
#: The same mapping, stricter, for a local-feature match of two listings' pictures: two different
#: shots of one object (another angle, light, background) line up locally, on one flat face, and
#: look alike in a 32-pixel thumbnail (72-87% of it agrees, demo sellers' own photos), while an
#: edited copy agrees on 87.5% at the least (a real photo turned 4 degrees; demo copies 93%).
#: Video frames keep AGREE_LOW, AGREE_HIGH.
SHOT_AGREE_LOW, SHOT_AGREE_HIGH = 0.62, 0.92
#: A copy keeps its colours; another shot of the same product, under its own light and white balance,
#: does not, even where its thumbnail agrees within the tolerances above. Above this median chroma
#: difference (Cr, Cb levels of 255) of the aligned thumbnails, a local-feature match of two listings'
#: pictures is another shot, not a copy. Measured on the picture pairs the thumbnail check passes: the
#: real photos of `benchmarks.image_edits` under the 12 edits of `benchmarks.image_listings`, at most 3.7;
#: demo copies, counterfeits and ring listings (seed 7), 99% at most 4.2; demo honest sellers' own shots
#: of one product, median 6.5 (a quarter below 3.3: those need a finer check still).
SHOT_COLOUR_SHIFT = 6.0
#: Another shot seen three ways at once, for a local-feature match whose colours shift less than that:
#: the colours shift somewhat (a median chroma difference of at least SHOT_SOME_SHIFT levels), the
#: thumbnails agree less than an edited copy's (below the agreement range's top), and the matched
#: keypoints fit the best similarity transform only loosely (median inlier residual of at least
#: SHOT_RESIDUAL working-size pixels). An edit (crop, resize, turn, mirror) moves every point of the
#: picture by one similarity transform, to the keypoints' localisation error; a shot from another
#: place sees the product in another perspective, which no similarity undoes. Each sign alone also
#: comes from heavy recompression of a copy (demo seed 7: copies' residual up to 1.5 px, colour shift
#: up to 4.3, agreement as low as 0.93); all three together came from another shot only (13 of the
#: 17 honest sellers' own shots that passed before, none of 248 copies, counterfeits and ring listings).
SHOT_SOME_SHIFT = 2.0
SHOT_RESIDUAL = 1.0
AGREE_TOL = 14.0      # grey levels a thumbnail pixel may differ (plus half its local gradient)
CHROMA_TOL = 16.0     # chroma (Cr, Cb) levels a thumbnail pixel may differ (plus half its local gradient)
GAIN_RANGE, MAX_OFFSET = (0.8, 1.25), 25.0  # brightness and contrast changes allowed before comparing
TEXTURE_GRAD = 12.0   # thumbnail pixels with at least this gradient are texture (edges, detail)
BANNER_ROWS = THUMB // 4  # a band of up to this many thumbnail rows (columns) along one side may disagree
BANNER_PENALTY = 0.25     # ... at a cost of this much agreement per share of rows left out
MAX_VERIFIED_PAIRS = 16  # picture pairs verified with local features per item pair
#: Image-only match decision: a pair whose image score reaches this is the same picture (edited).
#: The largest score of a distinct picture in the benchmark plus a margin (`image_same_picture` in
#: simgov/matching/calibration.json says how it was measured).
MATCH_THRESHOLD = thresholds.threshold("image_same_picture")

#: What `picture_features` computes and stores. The image and the video signals' identities carry
#: it, so that an index built with other fingerprints is refused (rebuild) instead of half matching.
#: 2: PDQ on the decoded picture with the reference's own downsample (hashes.pdq_dihedral, not
#: pdqhash on a 384-pixel resize), ORB detected and described in one pass, thumbnail from the
#: working-size picture; ORB on 5 pyramid levels 1.25 apart from 600 detections (was 8, 1.2 apart, 1000).
FEATURES_VERSION = 2

ID_SHIFT = 8  # PDQ index ids are vec_id << 8 | picture number
KP_SHIFT = 16  # descriptor index ids are vec_id << 16 | picture number << 8 | keypoint number

#: pdqhash.compute_dihedral order, and how the second picture relates to the first when the
#: first one's hash in that orientation is close to the second one's plain hash.
DIHEDRAL = ("same orientation", "rotated 90 degrees", "rotated 180 degrees", "rotated 270 degrees",
            "flipped upside down", "mirror image", "mirrored and rotated 90 degrees",
            "mirrored and rotated 270 degrees")

HEAD = np.dtype([("image", "u1"), ("quality", "u1"), ("flags", "u1"), ("pad", "u1"),
                 ("width", "<u2"), ("height", "<u2"), ("n", "<u2"), ("pdq", "u1", (8, 32)),
                 ("thumb", "u1", (THUMB, THUMB, 3))])
FLAG_TRIMMED = 1
XY_SCALE = 64  # keypoint coordinates stored as uint16 of pixels * 64


# -- the plain whole-picture fingerprint (also used by the avatar signal) ----------------------------
@dataclass(frozen=True)
class Fingerprint:
    pdq: np.ndarray  # 32 uint8
    quality: int
    phash: np.ndarray  # 8 uint8


def fingerprint(img: Image.Image) -> Fingerprint:
    """PDQ and pHash of a whole RGB picture."""
    bits, quality = pdqhash.compute(np.asarray(img, dtype=np.uint8))
    phash_bits = imagehash.phash(img).hash.flatten()
    return Fingerprint(np.packbits(bits.astype(np.uint8)), int(quality), np.packbits(phash_bits.astype(np.uint8)))


def pdq_similarity(distance):
    """1 - distance/128: the plain PDQ similarity (also the avatar signal's)."""
    return np.clip(1.0 - np.asarray(distance, dtype=np.float64) / PDQ_ZERO_AT, 0.0, 1.0)


def pdq_copy_score(distance):
    """The image score of a PDQ distance: 1 - distance/128 up to the customary near-copy distance
    (31 bits, 0.76), then falling to 0 at PDQ_UNRELATED bits, where distinct pictures begin."""
    d = np.asarray(distance, dtype=np.float64)
    knee = 1.0 - PDQ_NEAR / PDQ_ZERO_AT
    beyond = np.clip(knee * (PDQ_UNRELATED - d) / (PDQ_UNRELATED - PDQ_NEAR), 0.0, knee)
    return np.where(d <= PDQ_NEAR, 1.0 - d / PDQ_ZERO_AT, beyond)


def phash_similarity(distance):
    return np.clip(1.0 - np.asarray(distance, dtype=np.float64) / PHASH_ZERO_AT, 0.0, 1.0)


# -- preparing one picture ---------------------------------------------------------------------------
def trim_box(arr: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of the content inside a uniform border of an RGB array, or None.

    A border is flat (added padding, letterboxing, a studio background), so its tolerance is tight
    and a natural background with sensor noise is not one. A line (row or column) is border when
    all but a few of its pixels are border colour. A band at the top or bottom edge that covers
    the side borders (a banner stamped across the padding) is left out of the content.
    """
    h, w = arr.shape[:2]
    if h < 16 or w < 16:
        return None
    a = arr.astype(np.int16)
    perimeter = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    q = perimeter // 16
    keys = (q[:, 0] * 16 + q[:, 1]) * 16 + q[:, 2]
    colour = np.median(perimeter[keys == np.bincount(keys).argmax()], axis=0)
    off = np.abs(perimeter - colour).max(axis=1)
    if (off <= BORDER_TOL).mean() < 0.4 or np.median(off[off <= BORDER_TOL]) > BORDER_FLAT:
        return None  # no border, or a natural background with noise in it
    deviation = np.abs(a - colour).max(axis=2)
    content = deviation > BORDER_CONTENT
    rows_used = np.ones(h, dtype=bool)
    side_border = (deviation[:, 0] <= BORDER_TOL) & (deviation[:, -1] <= BORDER_TOL)
    for rows in (np.arange(h - 1, -1, -1), np.arange(h)):  # a banner at the bottom, then at the top
        run = int(np.argmax(side_border[rows])) if side_border.any() else h
        if 0 < run <= BANNER_MAX * h and side_border[rows[run:]].mean() >= 0.9:
            rows_used[rows[:run]] = False
    col_content = content[rows_used].sum(axis=0) > max(1, BORDER_SPECKS * rows_used.sum())
    row_content = (content.sum(axis=1) > max(1, BORDER_SPECKS * w)) & rows_used
    rows, cols = np.flatnonzero(row_content), np.flatnonzero(col_content)
    if len(rows) < 8 or len(cols) < 8:
        return None
    x0, y0, x1, y1 = int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1
    if max(x0 / w, y0 / h, (w - x1) / w, (h - y1) / h) < BORDER_MIN_BAND:
        return None  # no border worth the name
    return x0, y0, x1, y1


def _area_reduced(arr: np.ndarray, longest: int) -> np.ndarray:
    """arr area-averaged by the whole factor that keeps its longest side at least `longest`
    (OpenCV's fast path); arr itself when that factor is 1."""
    h, w = arr.shape[:2]
    factor = min(int(max(h, w) / longest), h, w)
    if factor < 2:
        return arr
    h, w = (h // factor) * factor, (w // factor) * factor
    return cv2.resize(arr[:h, :w], (w // factor, h // factor), interpolation=cv2.INTER_AREA)


def _resized(arr: np.ndarray, longest: int) -> np.ndarray:
    """arr scaled so that its longest side is `longest`: area averaging by a whole factor first,
    then bilinear for the rest (less than a factor of two)."""
    arr = _area_reduced(arr, longest)
    h, w = arr.shape[:2]
    scale = longest / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if size == (w, h):
        return arr
    return cv2.resize(arr, size, interpolation=cv2.INTER_LINEAR)


def _select_spread(keypoints, width: int, height: int, k: int) -> np.ndarray:
    """Indices of k keypoints taken round-robin over a GRID x GRID grid, strongest first in each cell."""
    if len(keypoints) <= k:
        return np.arange(len(keypoints))
    pts = cv2.KeyPoint_convert(keypoints)
    response = np.array([kp.response for kp in keypoints], dtype=np.float32)
    cx = np.minimum(GRID - 1, (pts[:, 0] * GRID / width).astype(np.int64))
    cy = np.minimum(GRID - 1, (pts[:, 1] * GRID / height).astype(np.int64))
    cell = cy * GRID + cx
    order = np.lexsort((-response, cell))  # by cell, strongest first
    sorted_cells = cell[order]
    starts = np.searchsorted(sorted_cells, sorted_cells, side="left")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - starts
    return np.lexsort((cell, rank))[:k]  # round robin: every cell's best, then every cell's second...


_LOCAL = threading.local()


def _orb():
    """This thread's ORB detector (OpenCV objects are not shared between threads)."""
    orb = getattr(_LOCAL, "orb", None)
    if orb is None:
        orb = _LOCAL.orb = cv2.ORB_create(nfeatures=ORB_DETECT, scaleFactor=ORB_SCALE, nlevels=ORB_LEVELS,
                                          edgeThreshold=ORB_EDGE, patchSize=ORB_PATCH, fastThreshold=ORB_FAST)
    return orb


def _local_features(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keypoint positions (n, 2) float32, descriptors (n, 32) and mirror-image descriptors (n, 32)."""
    orb = _orb()
    h, w = grey.shape
    empty = (np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8), np.zeros((0, 32), np.uint8))
    if min(h, w) < 2 * ORB_EDGE:
        return empty
    keypoints, desc = orb.detectAndCompute(grey, None)  # one pyramid for detection and description
    if desc is None or not len(keypoints):
        return empty
    chosen = _select_spread(keypoints, w, h, MAX_KEYPOINTS)
    keypoints, desc = [keypoints[i] for i in chosen.tolist()], desc[chosen]
    # The same keypoints in the mirror image: x flipped, angle mirrored; descriptors recomputed there.
    flipped = [cv2.KeyPoint(w - 1 - kp.pt[0], kp.pt[1], kp.size, (180.0 - kp.angle) % 360.0, kp.response,
                            kp.octave, i) for i, kp in enumerate(keypoints)]
    flipped, mdesc = orb.compute(np.ascontiguousarray(grey[:, ::-1]), flipped)
    if mdesc is None or not len(flipped):
        return empty
    keep = np.array([kp.class_id for kp in flipped], dtype=np.int64)  # ORB may drop some near the edge
    xy = np.array([kp.pt for kp in keypoints], dtype=np.float32)[keep]
    return xy, desc[keep], mdesc


@dataclass
class Picture:
    """One picture's features, as stored in (and read back from) a blob."""

    image: int
    quality: int
    trimmed: bool
    width: int
    height: int
    pdq: np.ndarray  # (8, 32) uint8: dihedral PDQ hashes of the trimmed picture
    thumb: np.ndarray  # (THUMB, THUMB, 3) uint8, RGB
    xy: np.ndarray  # (n, 2) float32, working-size pixels
    desc: np.ndarray  # (n, 32) uint8
    mdesc: np.ndarray  # (n, 32) uint8, of the mirror image (x -> width - 1 - x)

    @property
    def pdq_usable(self) -> bool:
        return self.quality >= MIN_PDQ_QUALITY

    def to_bytes(self) -> bytes:
        head = np.zeros(1, dtype=HEAD)
        head["image"], head["quality"], head["flags"] = self.image, self.quality, FLAG_TRIMMED if self.trimmed else 0
        head["width"], head["height"], head["n"] = self.width, self.height, len(self.xy)
        head["pdq"], head["thumb"] = self.pdq, self.thumb
        xy = np.clip(np.round(self.xy * XY_SCALE), 0, 65535).astype("<u2")
        return b"".join([head.tobytes(), xy.tobytes(), np.ascontiguousarray(self.desc).tobytes(),
                         np.ascontiguousarray(self.mdesc).tobytes()])


def picture_features(img: Image.Image, image: int = 0) -> Picture:
    """Everything the signal keeps of one decoded RGB picture."""
    if img.mode != "RGB":
        img = img.convert("RGB")
    arr = np.asarray(img)
    trimmed = False
    small = _resized(arr, WORK_SIZE) if max(arr.shape[:2]) > WORK_SIZE else arr
    sx, sy = arr.shape[1] / small.shape[1], arr.shape[0] / small.shape[0]
    left, top, right, bottom = 0, 0, small.shape[1], small.shape[0]
    for _ in range(3):  # nested borders (a black frame padded onto white) come off one by one
        box = trim_box(small[top:bottom, left:right])
        if box is None:
            break
        left, top, right, bottom = left + box[0], top + box[1], left + box[2], top + box[3]
    if (left, top, right, bottom) != (0, 0, small.shape[1], small.shape[0]):
        x0, y0 = math.floor(left * sx), math.floor(top * sy)
        x1, y1 = math.ceil(right * sx), math.ceil(bottom * sy)
        if min(x1 - x0, y1 - y0) >= 8:
            arr, trimmed = arr[y0:y1, x0:x1], True
    if trimmed or max(small.shape[:2]) != WORK_SIZE:
        small = _resized(arr, WORK_SIZE)  # the trimmed picture, or a small one enlarged
    pdq, quality = pdq_dihedral(_area_reduced(arr, PDQ_SIZE))
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    xy, desc, mdesc = _local_features(grey)
    thumb = cv2.resize(small, (THUMB, THUMB), interpolation=cv2.INTER_AREA)
    return Picture(image, quality, trimmed, grey.shape[1], grey.shape[0], pdq, thumb, xy, desc, mdesc)


def read_pictures(blob: bytes) -> list[Picture]:
    out, offset, size = [], 0, HEAD.itemsize
    while offset < len(blob):
        head = np.frombuffer(blob, dtype=HEAD, count=1, offset=offset)[0]
        n = int(head["n"])
        offset += size
        xy = np.frombuffer(blob, dtype="<u2", count=2 * n, offset=offset).reshape(n, 2).astype(np.float32) / XY_SCALE
        offset += 4 * n
        desc = np.frombuffer(blob, dtype=np.uint8, count=32 * n, offset=offset).reshape(n, 32)
        offset += 32 * n
        mdesc = np.frombuffer(blob, dtype=np.uint8, count=32 * n, offset=offset).reshape(n, 32)
        offset += 32 * n
        out.append(Picture(int(head["image"]), int(head["quality"]), bool(head["flags"] & FLAG_TRIMMED),
                           int(head["width"]), int(head["height"]), head["pdq"], head["thumb"], xy, desc, mdesc))
    return out


@lru_cache(maxsize=512)
def _pictures(blob: bytes) -> tuple[Picture, ...]:
    return tuple(read_pictures(blob))


# -- comparing two pictures ----------------------------------------------------------------------------
@dataclass(frozen=True)
class FeatureMatch:
    inliers: int
    mirrored: bool
    scale: float
    angle: float  # degrees
    overlap: float  # share of either picture covered by the other once aligned (the smaller share)
    agreement: float  # share of the overlap whose thumbnails agree
    spread: float  # how far the inliers spread (see _extent; the smaller of the two pictures')
    score: float
    colour_shift: float = 0.0  # median chroma difference of the overlap (see colour_shift)
    residual: float = 0.0  # median distance of the inliers from where the similarity puts them (working px)


@dataclass(frozen=True)
class PictureEvidence:
    a: int
    b: int
    score: float
    pdq: int | None  # best distance over the eight orientations; None when PDQ is not usable
    orientation: int  # index into DIHEDRAL of that distance
    pdq_score: float  # its score, after the photometric check
    pdq_agreement: float | None  # agreement of the thumbnails in that orientation (None: not compared)
    trimmed: bool
    features: FeatureMatch | None
    pdq_quality: tuple[int, int]

    @property
    def by_features(self) -> bool:
        return self.features is not None and self.features.score > self.pdq_score


class _single_thread:
    """FAISS on one OpenMP thread for the small searches here (thread start-up costs more than they do)."""

    def __enter__(self):
        self.previous = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)

    def __exit__(self, *exc):
        faiss.omp_set_num_threads(self.previous)


def _knn2(da: np.ndarray, db: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two nearest descriptors of db for every descriptor of da: (distances, indices), (n, 2)."""
    index = faiss.IndexBinaryFlat(256)
    index.add(np.ascontiguousarray(db))
    with _single_thread():
        return index.search(np.ascontiguousarray(da), 2)


def _ratio_matches(da: np.ndarray, db: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices (into da, into db) of descriptor matches that pass the distance and ratio tests."""
    if len(da) < 2 or len(db) < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    dist, idx = _knn2(da, db)
    ok = (dist[:, 0] <= MATCH_MAX_BITS) & (dist[:, 0] < RATIO * dist[:, 1]) & (idx[:, 0] >= 0)
    return np.flatnonzero(ok), idx[ok, 0]


def _thumb_grid(p: Picture) -> np.ndarray:
    """Working-size pixel coordinates (THUMB*THUMB, 2) of the thumbnail's pixel centres."""
    u = (np.arange(THUMB, dtype=np.float32) + 0.5) / THUMB
    xs, ys = np.meshgrid(u * p.width - 0.5, u * p.height - 0.5)
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def _agreement_one_way(pa: Picture, pb: Picture, m: np.ndarray, mirrored: bool) -> tuple[float, float, float]:
    """Share of a's thumbnail inside b once aligned by m (a -> b), the agreement there and the
    colour shift there (`colour_shift`)."""
    pts = _thumb_grid(pa)
    if mirrored:
        pts[:, 0] = pa.width - 1 - pts[:, 0]
    mapped = pts @ m[:, :2].T + m[:, 2]
    bx = (mapped[:, 0] + 0.5) * THUMB / pb.width - 0.5
    by = (mapped[:, 1] + 0.5) * THUMB / pb.height - 0.5
    inside = (bx >= -0.5) & (bx <= THUMB - 0.5) & (by >= -0.5) & (by <= THUMB - 0.5)
    overlap = float(inside.mean())
    if inside.sum() < 16:
        return overlap, 0.0, 0.0
    tb = cv2.remap(pb.thumb.astype(np.float32), bx.reshape(THUMB, THUMB).astype(np.float32),
                   by.reshape(THUMB, THUMB).astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    ta, inside = pa.thumb.astype(np.float32), inside.reshape(THUMB, THUMB)
    return overlap, agreement(ta, tb, inside), colour_shift(ta, tb, inside)


def colour_shift(ta: np.ndarray, tb: np.ndarray, inside: np.ndarray) -> float:
    """Median chroma difference (the larger of Cr and Cb, levels of 255) of two aligned colour
    thumbnails where `inside`: near 0 for a copy (edits that move, crop, stamp or recompress a picture
    keep its colours; a banner covers less than half of it), several levels for another shot under
    another light and white balance."""
    ya = cv2.cvtColor(np.ascontiguousarray(ta, dtype=np.float32), cv2.COLOR_RGB2YCrCb)
    yb = cv2.cvtColor(np.ascontiguousarray(tb, dtype=np.float32), cv2.COLOR_RGB2YCrCb)
    return float(np.median(np.abs(ya[..., 1:] - yb[..., 1:]).max(axis=2)[inside]))


def agreement(ta: np.ndarray, tb: np.ndarray, inside: np.ndarray | None = None) -> float:
    """Share of two aligned colour thumbnails (THUMB, THUMB, 3) that agrees, where `inside`.

    Grey levels agree after a mild gain and offset (brightness and contrast filters), within a
    tolerance that grows with the local gradient (alignment is not exact); colours agree within a
    tolerance too. The textured pixels must agree as well as the whole: flat areas agree by
    chance. A band of rows or columns along one side (a banner or caption stamped on one of the
    pictures, seen in either's frame) may be left out of the comparison, at a cost."""
    inside = np.ones(ta.shape[:2], dtype=bool) if inside is None else inside
    ya = cv2.cvtColor(np.ascontiguousarray(ta, dtype=np.float32), cv2.COLOR_RGB2YCrCb)
    yb = cv2.cvtColor(np.ascontiguousarray(tb, dtype=np.float32), cv2.COLOR_RGB2YCrCb)
    ga, gb = _gradient(ya), _gradient(yb)  # (THUMB, THUMB, 3): luma, Cr, Cb
    grad = np.maximum(ga[..., 0], gb[..., 0])[inside]
    chroma_grad = np.maximum(ga[..., 1:], gb[..., 1:]).max(axis=2)[inside]
    a, b = ya[..., 0][inside], yb[..., 0][inside]
    gain, offset = 1.0, 0.0
    keep = np.ones(len(a), dtype=bool)
    for _ in range(2):  # robust gain and offset: least squares on the better 70% of pixels
        aa, bb = a[keep], b[keep]
        am, bm = float(aa.mean()), float(bb.mean())
        var = float(((aa - am) ** 2).mean())
        if var > 1.0:
            gain = float(np.clip(((aa - am) * (bb - bm)).mean() / var, *GAIN_RANGE))
        offset = float(np.clip(bm - gain * am, -MAX_OFFSET, MAX_OFFSET))
        resid = np.abs(b - (gain * a + offset))
        k = int(0.7 * (len(resid) - 1))
        keep = resid <= np.partition(resid, k)[k]
    chroma = np.abs(ya[..., 1:] - yb[..., 1:]).max(axis=2)[inside]
    agree = (resid <= AGREE_TOL + 0.5 * grad) & (chroma <= CHROMA_TOL + 0.5 * chroma_grad)
    textured = grad >= TEXTURE_GRAD
    # Counts per thumbnail row and per column of: pixels inside, agreeing, textured, textured and
    # agreeing; then every way of leaving out up to BANNER_ROWS lines at one side, at once.
    where = np.nonzero(inside.ravel())[0]
    weights = np.stack([np.ones(len(agree)), agree, textured, agree & textured]).astype(np.float64)
    bands = np.arange(1, BANNER_ROWS + 1)
    best = 0.0
    for line in (where // THUMB, where % THUMB):
        counts = np.stack([np.bincount(line, weights=w, minlength=THUMB) for w in weights])
        total = counts.sum(axis=1)
        front = np.cumsum(counts, axis=1)  # lines 0..i
        options = np.concatenate([total[:, None], total[:, None] - front[:, bands - 1], front[:, THUMB - bands - 1]],
                                 axis=1)  # all lines; without the first `band`; without the last `band`
        cost = BANNER_PENALTY * np.concatenate([[0], bands, bands]) / THUMB
        n, ok, tex, tex_ok = options
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(tex >= 16, np.minimum(ok / n, tex_ok / tex), ok / n) - cost
        usable = (n >= 16) & ((cost == 0) | (n >= 0.6 * total[0]))
        if usable.any():
            best = max(best, float(share[usable].max()))
    return best


def _gradient(t: np.ndarray) -> np.ndarray:
    """Largest absolute difference to a neighbour, per pixel (and per channel)."""
    gy, gx = np.gradient(t, axis=(0, 1))
    return np.maximum(np.abs(gx), np.abs(gy))


def photometric(agree: float, low: float = AGREE_LOW, high: float = AGREE_HIGH) -> float:
    """Photometric agreement of two aligned thumbnails mapped onto a confidence in [0, 1]."""
    return min(1.0, max(0.0, (agree - low) / (high - low)))


def _extent(points: np.ndarray, width: int, height: int) -> float:
    """How far the points spread: the smaller of their 10-90% ranges across and down, as shares
    of the picture's width and height (matches confined to a strip of text spread little)."""
    lo, hi = np.percentile(points, [10, 90], axis=0)
    return float(min((hi[0] - lo[0]) / width, (hi[1] - lo[1]) / height))


def _feature_score(inliers: int, agreement: float, spread: float, agree_range: tuple[float, float]) -> float:
    if inliers < MIN_INLIERS or spread < MIN_SPREAD:
        return 0.0
    return (1.0 - math.exp(-(inliers - MIN_INLIERS + 1) / INLIER_SCALE)) * photometric(agreement, *agree_range)


def verify_features(pa: Picture, pb: Picture, agree_range: tuple[float, float] = (AGREE_LOW, AGREE_HIGH),
                    max_colour_shift: float | None = None) -> FeatureMatch | None:
    """The best geometric match of b's keypoints with a's (as is, or mirrored), or None; its score
    maps the aligned pictures' photometric agreement onto a confidence between `agree_range`, and
    is 0 where the overlap's colours shift by more than `max_colour_shift` (another shot)."""
    best: FeatureMatch | None = None
    if len(pb.desc) < MIN_INLIERS:
        return None
    for mirrored in (False, True):
        qi, ti = _ratio_matches(pa.mdesc if mirrored else pa.desc, pb.desc)
        if len(qi) < MIN_INLIERS or (best is not None and len(qi) <= best.inliers):
            continue
        src = pa.xy[qi].copy()
        if mirrored:
            src[:, 0] = pa.width - 1 - src[:, 0]
        dst = pb.xy[ti]
        m, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PX,
                                              maxIters=1000, confidence=0.995, refineIters=10)
        if m is None or mask is None:
            continue
        inliers = int(mask.sum())
        scale = math.hypot(float(m[0, 0]), float(m[1, 0]))
        if inliers < MIN_INLIERS or not SCALE_RANGE[0] <= scale <= SCALE_RANGE[1]:
            continue
        angle = math.degrees(math.atan2(float(m[1, 0]), float(m[0, 0])))
        inl = mask.ravel().astype(bool)
        residual = float(np.median(np.linalg.norm(src[inl] @ m[:, :2].T + m[:, 2] - dst[inl], axis=1)))
        spread = min(_extent(src[inl], pa.width, pa.height), _extent(dst[inl], pb.width, pb.height))
        cover_a, agree_a, shift_a = _agreement_one_way(pa, pb, m, mirrored)
        inverse = cv2.invertAffineTransform(m)
        if mirrored:  # b -> mirrored a -> a: flip x back after the inverse
            inverse = np.array([[-1, 0, pa.width - 1], [0, 1, 0]], dtype=np.float64) @ np.vstack([inverse, [0, 0, 1]])
        cover_b, agree_b, shift_b = _agreement_one_way(pb, pa, inverse, False)
        overlap = min(cover_a, cover_b)
        if overlap < MIN_OVERLAP:
            continue  # a small part of one picture (a close-up of the same object is not a copy)
        agreement = (agree_a * cover_a + agree_b * cover_b) / (cover_a + cover_b)
        shift = (shift_a * cover_a + shift_b * cover_b) / (cover_a + cover_b)
        score = (0.0 if max_colour_shift is not None and another_shot(shift, agreement, residual, agree_range[1],
                                                                       max_colour_shift)
                 else _feature_score(inliers, agreement, spread, agree_range))
        found = FeatureMatch(inliers, mirrored, scale, angle, overlap, agreement, spread, score, shift, residual)
        if best is None or (found.score, found.inliers) > (best.score, best.inliers):
            best = found
    return best


def another_shot(shift: float, agreement: float, residual: float, agree_high: float, max_shift: float) -> bool:
    """Is a local-feature match of two pictures another shot of the same thing rather than an edited
    copy? Its colours shift by more than `max_shift`, or it shows all three signs of another shot
    at once (SHOT_SOME_SHIFT, below `agree_high`, SHOT_RESIDUAL)."""
    return shift > max_shift or (shift >= SHOT_SOME_SHIFT and agreement < agree_high and residual >= SHOT_RESIDUAL)


def _pdq_best(pa: Picture, pb: Picture) -> tuple[int | None, int]:
    if not (pa.pdq_usable and pb.pdq_usable):
        return None, 0
    dist = np.unpackbits(np.bitwise_xor(pa.pdq, pb.pdq[0][None, :]), axis=1).sum(axis=1)
    t = int(np.argmin(dist))
    return int(dist[t]), t


#: Skip the local-feature check of a picture pair whose PDQ already scores this much (a plain near-copy).
PDQ_SURE = 0.85


def _compare_ordered(a: bytes, b: bytes) -> PictureEvidence | None:
    pa_all, pb_all = _pictures(a), _pictures(b)
    if not pa_all or not pb_all:
        return None
    pairs = []
    for pa in pa_all:
        for pb in pb_all:
            dist, t = _pdq_best(pa, pb)
            pairs.append((dist if dist is not None else PDQ_BITS + 1, pa.image, pb.image, pa, pb, dist, t))
    pairs.sort(key=lambda p: p[:3])
    best: PictureEvidence | None = None
    for rank, (_, _, _, pa, pb, dist, t) in enumerate(pairs):
        pdq_score = 0.0 if dist is None else float(pdq_copy_score(dist))
        pdq_agreement = None
        if pdq_score > 0:  # close hashes of simple pictures (a blob on white) happen: the thumbnails must agree
            pdq_agreement = agreement(oriented(pa.thumb, t).astype(np.float32), pb.thumb.astype(np.float32))
            pdq_score *= photometric(pdq_agreement)
        features = None
        if rank < MAX_VERIFIED_PAIRS and pdq_score < PDQ_SURE:
            features = verify_features(pa, pb, (SHOT_AGREE_LOW, SHOT_AGREE_HIGH), SHOT_COLOUR_SHIFT)
        score = max(pdq_score, features.score if features else 0.0)
        if best is None or score > best.score:
            best = PictureEvidence(pa.image, pb.image, score, dist, t, pdq_score, pdq_agreement,
                                   pa.trimmed != pb.trimmed, features, (pa.quality, pb.quality))
    return best


_INVERSE_ORIENTATION = (0, 3, 2, 1, 4, 5, 6, 7)


@lru_cache(maxsize=1024)
def compare(a: bytes, b: bytes) -> PictureEvidence | None:
    """The best pair of pictures of two items' blobs, with its evidence (symmetric in a and b:
    computed in one canonical order, then told from a's side)."""
    if a <= b:
        return _compare_ordered(a, b)
    ev = _compare_ordered(b, a)
    if ev is None:
        return None
    f = ev.features
    if f is not None:
        f = FeatureMatch(f.inliers, f.mirrored, 1.0 / f.scale, f.angle if f.mirrored else -f.angle, f.overlap,
                         f.agreement, f.spread, f.score, f.colour_shift, f.residual)
    return PictureEvidence(ev.b, ev.a, ev.score, ev.pdq, _INVERSE_ORIENTATION[ev.orientation], ev.pdq_score,
                           ev.pdq_agreement, ev.trimmed, f, (ev.pdq_quality[1], ev.pdq_quality[0]))


def same_file(a: bytes, b: bytes) -> bool:
    """Do two items' blobs show one picture file, pixel for pixel (PDQ 0 bits apart as is, the
    thumbnails equal, level for level)? What shops showing one catalogue photo do; a copier saving
    another seller's photo and uploading it again passes it through one more encoding, if not
    through edits (its thumbnail then differs somewhere, if only by a level)."""
    ev = compare(a, b)
    if ev is None or ev.pdq != 0 or ev.orientation != 0 or ev.trimmed:
        return False
    ta, tb = _pictures(a)[ev.a].thumb, _pictures(b)[ev.b].thumb
    return bool(np.array_equal(ta, tb))


def _describe_features(f: FeatureMatch, verdict: str) -> str:
    what = []
    if f.mirrored:
        what.append("mirror image")
    turn = ((f.angle + 180.0) % 360.0) - 180.0
    if abs(turn) >= 1.5:
        what.append(f"rotated {abs(turn):.0f} degrees")
    if f.overlap < 0.97:
        what.append("crop")
    elif abs(f.scale - 1.0) > 0.04:
        what.append("resized")
    kind = ", ".join(what) or "same framing"
    return (f"{kind}: {f.inliers} matching local features, {verdict} ({f.agreement:.0%} of the overlapping "
            f"area agrees, scale {f.scale:.2f})")


def _describe_evidence(ev: PictureEvidence) -> str:
    which = f"picture {ev.a + 1} vs picture {ev.b + 1}"
    trimmed = "; a uniform border was trimmed off one of them first" if ev.trimmed else ""
    if ev.pdq is not None and ev.pdq <= PDQ_NEAR and ev.pdq_score >= MATCH_THRESHOLD:
        if ev.orientation == 0:
            head = f"same picture: PDQ {ev.pdq} of {PDQ_BITS} bits apart"
        else:
            turning = "flipping" if ev.orientation in (4, 5) else "turning"
            head = f"{DIHEDRAL[ev.orientation]}: PDQ {ev.pdq} of {PDQ_BITS} bits apart after {turning}"
        also = f"; {ev.features.inliers} local features agree" if ev.features is not None and ev.by_features else ""
        return f"{head} ({which}){also}{trimmed}"
    if ev.features is not None and ev.by_features and ev.score >= MATCH_THRESHOLD:
        return f"{_describe_features(ev.features, 'geometric check passed')} ({which}){trimmed}"
    parts = [f"no near-copy ({which})"]
    if ev.pdq is not None and ev.pdq <= PDQ_NEAR and ev.pdq_agreement is not None:
        parts.append(f"PDQ {ev.pdq} of {PDQ_BITS} bits apart, but the pictures' detail and colours differ "
                     f"({ev.pdq_agreement:.0%} agrees)")
    elif ev.pdq is not None:
        parts.append(f"PDQ {ev.pdq} of {PDQ_BITS} bits apart at best")
    else:
        parts.append(f"PDQ not used: quality {min(ev.pdq_quality)} below {MIN_PDQ_QUALITY}")
    if ev.features is not None and ev.features.colour_shift > SHOT_COLOUR_SHIFT:
        parts.append(f"{ev.features.inliers} local features line up, but the colours differ as in another shot "
                     f"of the same thing (median chroma difference {ev.features.colour_shift:.1f} levels)")
    elif ev.features is not None and another_shot(ev.features.colour_shift, ev.features.agreement,
                                                  ev.features.residual, SHOT_AGREE_HIGH, SHOT_COLOUR_SHIFT):
        f = ev.features
        parts.append(f"{f.inliers} local features line up, but as in another shot of the same thing: in another "
                     f"perspective (median {f.residual:.1f} px off one similarity transform), with shifted colours "
                     f"(median chroma difference {f.colour_shift:.1f} levels), {f.agreement:.0%} agrees")
    elif ev.features is not None:
        parts.append(f"{ev.features.inliers} local features line up, but the pictures around them differ "
                     f"({ev.features.agreement:.0%} agrees)")
    return "; ".join(parts)


class PdqBankIndex(BankIndex):
    """PDQ entries of the picture banks in a flat FAISS binary index: a picture matches an entry
    within the near-copy distance (`pdq_near`) in any of its eight orientations."""

    NEIGHBOURS = 4  # nearest entries looked at per picture

    def __init__(self, entries: list[tuple[int, str]]):
        self.index = BinaryIndex.create(PDQ_BITS, len(entries), BinaryIndexConfig(kind="flat"))
        codes = np.stack([np.frombuffer(bytes.fromhex(value), dtype=np.uint8) for _, value in entries])
        self.index.add(np.array([entry_id for entry_id, _ in entries], dtype=np.int64), codes)

    def search(self, blob: bytes) -> list[BankMatch]:
        found = []
        for pic in read_pictures(blob):
            if not pic.pdq_usable:
                continue
            dist, ids = self.index.search(np.ascontiguousarray(pic.pdq), self.NEIGHBOURS)
            for d, entry_id in zip(dist.ravel().tolist(), ids.ravel().tolist()):
                if entry_id >= 0 and d <= PDQ_NEAR:
                    found.append(BankMatch(entry_id, float(pdq_copy_score(d)),
                                           f"picture {pic.image + 1} is {d} bits from PDQ entry {entry_id}"))
        return found


class ImageSignal(PdqOrbSignal):
    name = "image"
    version = 3
    parallel = True
    description = ("pictures (PDQ in eight orientations after trimming borders, ORB local features "
                   "verified by a RANSAC similarity transform and a photometric check)")
    kind = "picture"
    bank_kind = "pdq"
    # no image data in Abt-Buy: a prior weight equal to the title embedding's, centre 0.6 a guess
    match_part = MatchPart(weight=2.0, centre=0.6)
    MATCH_THRESHOLD = MATCH_THRESHOLD

    def __init__(self, config):
        super().__init__(config)
        self.hash_index = PdqOrbIndex("image", "pictures", ORB_INDEX_FLAT_MAX)

    def bank_index(self, entries: list[tuple[int, str]]) -> PdqBankIndex | None:
        return PdqBankIndex(entries) if entries else None

    @classmethod
    def is_match(cls, score: float | None) -> bool:
        """The image-only decision: is a pair with this image score the same picture (edited)?"""
        return score is not None and score >= cls.MATCH_THRESHOLD

    def identity(self) -> dict[str, Any]:
        return {"version": self.version, "features": FEATURES_VERSION, "min_pdq_quality": MIN_PDQ_QUALITY,
                "pdq_size": PDQ_SIZE, "work_size": WORK_SIZE, "keypoints": MAX_KEYPOINTS,
                "indexed_keypoints": INDEXED_KEYPOINTS,
                "orb": [ORB_DETECT, ORB_LEVELS, ORB_SCALE, ORB_FAST, ORB_EDGE, ORB_PATCH, GRID],
                "thumb": THUMB}

    # -- computing ----------------------------------------------------------------------------
    def _load(self, path: Path) -> Image.Image:
        limits = self.config.images
        return load_image(path, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels, draft_size=DRAFT_SIZE)

    def fingerprint_paths(self, paths: list[str], ctx: BuildContext) -> SignalOutput:
        parts, problems = [], []
        for number, path_text in enumerate(paths[: self.config.images.max_images_per_item]):
            try:
                pic = picture_features(self._load(resolve_inside(path_text, ctx.data_roots)), number)
            except ImageRejected as exc:
                problems.append(f"image {path_text}: {exc}")
                continue
            except (cv2.error, ValueError, OverflowError) as exc:  # a picture no step should choke on
                problems.append(f"image {path_text}: could not be fingerprinted ({type(exc).__name__}: {exc})")
                continue
            parts.append(pic.to_bytes())
            if pic.quality < MIN_PDQ_QUALITY:
                problems.append(f"image {path_text}: PDQ quality {pic.quality} below {MIN_PDQ_QUALITY}, "
                                "PDQ not used for matching (local features still are)")
        if len(paths) > self.config.images.max_images_per_item:
            problems.append(f"only the first {self.config.images.max_images_per_item} images are used")
        return SignalOutput(b"".join(parts) if parts else None, problems)

    def compute(self, items: list[Item], ctx: BuildContext) -> list[SignalOutput]:
        return [self.fingerprint_paths(item.images, ctx) if item.images else SignalOutput(None) for item in items]

    def compute_query(self, query: Query) -> bytes | None:
        if query.image is None:
            return None
        return picture_features(query.image, 0).to_bytes()

    # -- index --------------------------------------------------------------------------------
    def reset(self, expected: int) -> None:
        self.hash_index.reset(expected, expected * INDEXED_KEYPOINTS, self.config.binary_index)

    def index_entries(self, vec_ids: list[int], blobs: list[bytes]) -> HashEntries:
        entries = HashEntries([], [], [], [])
        for vec_id, blob in zip(vec_ids, blobs):
            for pic in _pictures(blob):
                ident = (int(vec_id) << ID_SHIFT) | pic.image
                if pic.pdq_usable:
                    entries.pdq_ids.append(ident)
                    entries.pdq_codes.append(pic.pdq[0])
                n = min(INDEXED_KEYPOINTS, len(pic.desc))
                if n:
                    entries.orb_ids.append((int(vec_id) << KP_SHIFT) | (pic.image << 8) | np.arange(n, dtype=np.int64))
                    entries.orb_codes.append(pic.desc[:n])
        return entries

    def units(self, blob: bytes) -> int:
        return len(_pictures(blob))

    def search_one(self, blob: bytes, k: int) -> list[Candidate]:
        """Candidates from both routes: PDQ neighbours (near-copies in any orientation, and always
        the few nearest, for pictures with little texture) and local-feature votes (crops, small
        rotations, banners)."""
        pics = _pictures(blob)
        pdq_best: dict[int, int] = {}
        usable = [p.pdq for p in pics if p.pdq_usable]
        if usable and self.hash_index.has_pdq():
            with _single_thread():  # eight orientations per picture
                dist, ids = self.hash_index.pdq.search(np.concatenate(usable), k)
            for ident, d in zip(ids.ravel().tolist(), dist.ravel().tolist()):
                if ident >= 0 and d < pdq_best.get(ident >> ID_SHIFT, PDQ_BITS + 1):
                    pdq_best[ident >> ID_SHIFT] = d
        votes: dict[int, int] = {}
        with_kp = [p for p in pics if len(p.desc)]
        if with_kp and self.hash_index.has_orb():
            # every keypoint of every picture, as is and mirrored, in one search; a query keypoint
            # votes once for each item it lands on (counted per picture and orientation)
            queries = np.concatenate([d for p in with_kp for d in (p.desc, p.mdesc)])
            group = np.concatenate([np.full(len(p.desc), 2 * i + m) for i, p in enumerate(with_kp) for m in (0, 1)])
            with _single_thread():
                dist, ids = self.hash_index.orb.search(queries, 2)
            ok = (ids >= 0) & (dist <= INDEX_MATCH_BITS)
            rows = np.broadcast_to(np.arange(len(queries))[:, None], ids.shape)[ok]
            items = ids[ok] >> KP_SHIFT
            if len(items):
                pairs = np.unique(np.stack([rows, items], axis=1), axis=0)  # one vote per query keypoint and item
                keys = np.stack([group[pairs[:, 0]], pairs[:, 1]], axis=1)
                uniq, counts = np.unique(keys, axis=0, return_counts=True)
                for (_, vec_id), n in zip(uniq.tolist(), counts.tolist()):
                    if n >= MIN_VOTES and n > votes.get(vec_id, 0):
                        votes[vec_id] = n

        def rank_score(vec_id: int) -> float:
            d = pdq_best.get(vec_id)
            pdq = 0.0 if d is None else max(float(pdq_copy_score(d)), 0.05 * float(pdq_similarity(d)))
            return max(pdq, min(1.0, 0.1 + votes.get(vec_id, 0) / FULL_VOTES) if vec_id in votes else 0.0)

        by_pdq = sorted(pdq_best, key=lambda v: pdq_best[v])
        chosen = [v for v in by_pdq if pdq_best[v] <= PDQ_UNRELATED][:k]  # near-copies by hash
        chosen += [v for v in by_pdq[:PDQ_NEAREST] if v not in chosen]  # the nearest hashes, however far
        for v in sorted(votes, key=lambda v: -votes[v]):
            if len(chosen) >= k:
                break
            if v not in chosen:
                chosen.append(v)
        for v in by_pdq:  # room left: farther hashes
            if len(chosen) >= k:
                break
            if v not in chosen:
                chosen.append(v)
        ranked = sorted(((v, rank_score(v)) for v in chosen[:max(k, 0)]), key=lambda kv: -kv[1])
        return [Candidate(v, s) for v, s in ranked]

    # -- scoring ------------------------------------------------------------------------------
    def score(self, a: bytes, b: bytes) -> float | None:
        ev = compare(a, b)
        return None if ev is None else round(ev.score, 4)

    def explain(self, a: bytes, b: bytes) -> list[str]:
        ev = compare(a, b)
        if ev is None:
            return []
        return [f"image: {_describe_evidence(ev)}"]

    def describe(self, blob: bytes) -> dict[str, Any]:
        return {"pictures": [{"image": p.image, "pdq": bytes(p.pdq[0]).hex(), "pdq_quality": p.quality,
                              "border_trimmed": p.trimmed, "keypoints": int(len(p.xy)),
                              "size": [p.width, p.height]} for p in _pictures(blob)]}
