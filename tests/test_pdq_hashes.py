"""simgov's own PDQ (hashes.pdq_dihedral: the reference's downsample done with OpenCV's box filter)
against the reference implementation that `pdqhash` wraps, on the PDQ conformance pictures and on
pictures of awkward sizes."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pdqhash
import pytest
from PIL import Image, ImageDraw, ImageFilter

from simgov.imageio import to_rgb
from simgov.signals.hashes import pdq_dihedral

PDQ = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "pdq"
PICTURES = sorted(str(p.relative_to(PDQ)) for p in PDQ.rglob("*") if p.suffix.lower() in (".jpg", ".png"))


def reference(rgb: np.ndarray) -> tuple[np.ndarray, int]:
    hashes, quality = pdqhash.compute_dihedral(np.ascontiguousarray(rgb))
    return np.stack([np.packbits(np.asarray(h, dtype=np.uint8)) for h in hashes]), int(quality)


def bits_apart(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.unpackbits(np.bitwise_xor(a, b), axis=1).sum(axis=1)


def drawn(seed: int, width: int, height: int) -> np.ndarray:
    """Shapes on a gradient, blurred a little: detail at every scale PDQ looks at."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    base = (120 + 80 * np.sin(xx / max(width, 1) * 5 + seed) * np.cos(yy / max(height, 1) * 3)).astype(np.uint8)
    img = Image.fromarray(np.stack([base, base[::-1], np.roll(base, 7, axis=1)], axis=-1))
    d = ImageDraw.Draw(img)
    for _ in range(30):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        box = [x0, y0, x0 + int(rng.integers(2, max(3, width // 2))), y0 + int(rng.integers(2, max(3, height // 2)))]
        d.ellipse(box, fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    return np.asarray(img.filter(ImageFilter.GaussianBlur(1)))


@pytest.mark.parametrize("rel", PICTURES)
def test_same_hashes_and_quality_as_the_reference_on_the_conformance_pictures(rel):
    rgb = np.asarray(to_rgb(Image.open(PDQ / rel)))
    ours, quality = pdq_dihedral(rgb)
    theirs, their_quality = reference(rgb)
    assert quality == their_quality
    assert bits_apart(ours, theirs).max() <= 1  # float rounding may flip a coefficient at the median


@pytest.mark.parametrize("size", [(5, 5), (6, 200), (63, 64), (64, 64), (65, 127), (128, 129), (333, 250),
                                  (400, 400), (801, 600), (1500, 90)])
def test_same_hashes_on_awkward_sizes(size):
    """Odd and even box windows, sides shorter than the 64x64 grid, long thin pictures."""
    rgb = drawn(sum(size), *size)
    ours, quality = pdq_dihedral(rgb)
    theirs, their_quality = reference(rgb)
    assert abs(quality - their_quality) <= 1
    assert bits_apart(ours, theirs).max() <= 2


@pytest.mark.parametrize("size", [(4, 100), (100, 4), (1, 1)])
def test_too_small_to_hash(size):
    """The reference hashes nothing under 5 pixels a side: all-zero hashes of quality 0, as here."""
    hashes, quality = pdq_dihedral(np.full((size[1], size[0], 3), 128, dtype=np.uint8))
    assert quality == 0 and not hashes.any()
    assert reference(np.full((size[1], size[0], 3), 128, dtype=np.uint8))[1] == 0

