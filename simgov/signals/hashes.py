"""Helpers on packed binary hashes (PDQ, pHash) and the pictures they hash, shared by the picture, video
and avatar signals."""
from __future__ import annotations

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
