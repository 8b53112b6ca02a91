"""BinaryIndex: the inverted file that an "ivf" index becomes once it is large, and its round trip."""
import numpy as np

from simgov.config import BinaryIndexConfig
from simgov.vectors import BinaryIndex

CFG = BinaryIndexConfig(kind="ivf", flat_max=2000, ivf_lists=16, ivf_probe=4)


def _codes(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 32), dtype=np.uint8)


def _near(codes: np.ndarray, bits: int, seed: int) -> np.ndarray:
    """The same codes with `bits` random bits flipped in each."""
    rng = np.random.default_rng(seed)
    out = codes.copy()
    for row in out:
        for bit in rng.choice(256, size=bits, replace=False):
            row[bit // 8] ^= 1 << (bit % 8)
    return out


def test_an_ivf_index_is_exact_while_small_and_an_inverted_file_once_large(tmp_path):
    index = BinaryIndex.create(256, 0, CFG)
    small = _codes(1000, 1)
    index.add(np.arange(1000), small)
    assert index.kind == "ivf" and not hasattr(index._inner(), "nprobe")  # still the exact scan
    index.add(np.arange(1000, 3000), _codes(2000, 2))
    assert index._inner().nprobe == 4 and index.ntotal == 3000
    # exact copies always find their original (with its id); near copies (20 of 256 bits changed)
    # mostly do: random codes have no clusters, the worst case for an inverted file (0.9 measured)
    assert np.array_equal(index.search(small[:50], 1)[1][:, 0], np.arange(50))
    assert (index.search(_near(small[:50], 20, 3), 1)[1][:, 0] == np.arange(50)).mean() >= 0.8
    index.remove(np.arange(10))
    assert index.ntotal == 2990 and not set(index.search(small[:10], 1)[1][:, 0]) & set(range(10))
    index.save(tmp_path / "orb.faiss")
    loaded = BinaryIndex.load(tmp_path / "orb.faiss", CFG)
    assert loaded.kind == "ivf" and loaded._inner().nprobe == 4
    assert np.array_equal(loaded.search(small[10:60], 3)[1], index.search(small[10:60], 3)[1])


def test_a_small_ivf_index_loads_back_as_one_that_will_grow(tmp_path):
    index = BinaryIndex.create(256, 0, CFG)
    index.add(np.arange(100), _codes(100, 4))
    index.save(tmp_path / "small.faiss")
    loaded = BinaryIndex.load(tmp_path / "small.faiss", CFG)
    loaded.add(np.arange(100, 2100), _codes(2000, 5))
    assert loaded._inner().nprobe == 4
