"""Helpers on packed binary hashes (PDQ, pHash), shared by the picture and avatar signals."""
from __future__ import annotations

import numpy as np


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise Hamming distances between two stacks of packed hashes: (n, bytes) x (m, bytes) -> (n, m)."""
    x = np.bitwise_xor(a[:, None, :], b[None, :, :])
    return np.unpackbits(x, axis=2).sum(axis=2)
