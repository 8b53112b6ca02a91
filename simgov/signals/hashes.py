"""Helpers on packed binary hashes (PDQ, pHash) and the pictures they hash, shared by the picture, video
and avatar signals."""
from __future__ import annotations

import cv2
import numpy as np


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise Hamming distances between two stacks of packed hashes: (n, bytes) x (m, bytes) -> (n, m)."""
    x = np.bitwise_xor(a[:, None, :], b[None, :, :])
    return np.unpackbits(x, axis=2).sum(axis=2)


def oriented(thumb: np.ndarray, orientation: int) -> np.ndarray:
    """The thumbnail turned as pdqhash.compute_dihedral turns the picture for its hash number `orientation`."""
    if orientation in (1, 2, 3):
        return np.rot90(thumb, orientation)
    if orientation == 4:
        return thumb[::-1]
    if orientation == 5:
        return thumb[:, ::-1]
    if orientation == 6:
        return thumb.transpose(1, 0, 2)
    if orientation == 7:
        return np.rot90(thumb, 2).transpose(1, 0, 2)
    return thumb


# -- PDQ from a decoded picture ----------------------------------------------------------------------
# PDQ (Meta's reference, which `pdqhash` wraps) blurs the full-size luma with a tent filter (two
# passes of clipped box averages, a window of a 128th of each side), samples it at the centres of a
# 64x64 grid and keeps the signs of 16x16 DCT coefficients against their median. The blur is the
# cost (about 4 ms of a 400x400 picture in the reference's column loops); done here with OpenCV's
# box filter and the rest in numpy it is a few tenths of a millisecond, and the hashes are the
# reference's: same filter, same samples, same DCT (float rounding aside).
PDQ_GRID = 64
_PDQ_MIN_SIDE = 5  # the reference hashes nothing smaller (quality 0, all-zero hashes)
_DCT = (np.sqrt(2.0 / PDQ_GRID) * np.cos(np.pi / 2.0 / PDQ_GRID * np.arange(1, 17)[:, None]
                                         * (2 * np.arange(PDQ_GRID)[None, :] + 1))).astype(np.float32)
_ODD = np.where(np.arange(16) % 2 == 1, 1.0, -1.0).astype(np.float32)  # +1 on odd frequencies, -1 on even
_CHECKER = np.where(np.add.outer(np.arange(16), np.arange(16)) % 2 == 1, -1.0, 1.0).astype(np.float32)


def _box_window(side: int) -> tuple[int, int, np.ndarray]:
    """The reference's box window along a side of `side` pixels: (size, offset of its first pixel
    before the centre, how many pixels each clipped window covers)."""
    size = (side + 2 * PDQ_GRID - 1) // (2 * PDQ_GRID)
    before = size - (size + 2) // 2
    centre = np.arange(side)
    covered = np.minimum(side - 1, centre + size - 1 - before) - np.maximum(0, centre - before) + 1
    return size, before, covered.astype(np.float32)


def pdq_luma64(rgb: np.ndarray) -> np.ndarray:
    """The reference's 64x64 float luma of an RGB uint8 picture (tent-filtered, centre-sampled)."""
    h, w = rgb.shape[:2]
    luma = cv2.cvtColor(rgb.astype(np.float32), cv2.COLOR_RGB2GRAY)  # 0.299 R + 0.587 G + 0.114 B
    wx, bx, nx = _box_window(w)
    wy, by, ny = _box_window(h)
    covered = np.outer(ny, nx)
    for _ in range(2):  # box along rows and along columns, twice: a tent; windows clipped at the edges
        luma = cv2.boxFilter(luma, -1, (wx, wy), anchor=(bx, by), normalize=False,
                             borderType=cv2.BORDER_CONSTANT) / covered
    rows = ((np.arange(PDQ_GRID) + 0.5) * h / PDQ_GRID).astype(np.int64)
    cols = ((np.arange(PDQ_GRID) + 0.5) * w / PDQ_GRID).astype(np.int64)
    return luma[np.ix_(rows, cols)]


def _pdq_quality(luma64: np.ndarray) -> int:
    """The reference's quality: the sum of quantised gradients of the 64x64 luma, scaled to 0..100."""
    down = np.trunc((luma64[:-1, :] - luma64[1:, :]) * 100 / 255)
    across = np.trunc((luma64[:, :-1] - luma64[:, 1:]) * 100 / 255)
    return min(100, int(np.abs(down).sum() + np.abs(across).sum()) // 90)


def _pdq_bits(dct: np.ndarray) -> np.ndarray:
    """32 bytes: bit k (k = 16 i + j) set when coefficient (i, j) exceeds the lower median, packed
    from bit 255 down (the byte order of `pdqhash` followed by numpy.packbits)."""
    median = np.partition(dct.ravel(), 127)[127]
    return np.packbits((dct.ravel() > median)[::-1])


def pdq_dihedral(rgb: np.ndarray) -> tuple[np.ndarray, int]:
    """PDQ hashes of an RGB uint8 picture in the eight dihedral orientations, (8, 32) uint8 in
    pdqhash.compute_dihedral's order (as is, rotated 90, 180, 270, flipped about the x axis,
    about the y axis, about the diagonal, about the anti-diagonal), and the PDQ quality."""
    h, w = rgb.shape[:2]
    if h < _PDQ_MIN_SIDE or w < _PDQ_MIN_SIDE:
        return np.zeros((8, 32), dtype=np.uint8), 0
    luma = pdq_luma64(np.ascontiguousarray(rgb))
    a = _DCT @ luma @ _DCT.T
    turned = (a, (a * _ODD[None, :]).T, a * _CHECKER, (a * _ODD[:, None]).T,
              a * _ODD[:, None], a * _ODD[None, :], a.T, (a * _CHECKER).T)
    return np.stack([_pdq_bits(t) for t in turned]), _pdq_quality(luma)
