"""The IVF-Flat dense index that `auto` builds above dense_index.flat_max: trained on what it was
given once it is first searched or saved, searched with the recall of exact search, kept across a
save and load, and the same self-join as an exact index when it probes every list."""
from __future__ import annotations

import json
import subprocess

import numpy as np

from conftest import SIMGOV, write_abt_buy_items
from simgov.config import DenseIndexConfig
from simgov import pair_scoring
from simgov.index import SimIndex
from simgov.vectors import DenseIndex

CFG = DenseIndexConfig(flat_max=2000, ivf_train_size=3000)


def clustered(n: int, dim: int = 32, seed: int = 1) -> np.ndarray:
    """Unit vectors around 60 centres, as titles of a catalogue crowd around its products."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((60, dim))
    x = centres[rng.integers(0, 60, n)] + 0.35 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def filled(x: np.ndarray, cfg: DenseIndexConfig = CFG) -> DenseIndex:
    index = DenseIndex.create(x.shape[1], len(x), cfg)
    for start in range(0, len(x), 1000):
        index.add(np.arange(start, min(len(x), start + 1000)), x[start:start + 1000])
    return index


def test_ivf_above_flat_max_keeps_recall_of_exact_search(tmp_path):
    x = clustered(8000)
    index = filled(x)
    assert index.kind == "ivf" and index.index is None and index.ntotal == 8000  # held, not yet trained
    exact = filled(x, DenseIndexConfig(kind="flat"))
    queries = x[::40]
    _, want = exact.search(queries, 10)
    _, got = index.search(queries, 10)
    assert index.index.nlist > 1 and index.index.nprobe == CFG.ivf_flat_nprobe < index.index.nlist
    recall = np.mean([len(set(w) & set(g)) / 10 for w, g in zip(want, got)])
    assert recall >= 0.98
    index.save(tmp_path / "title.faiss")
    loaded = DenseIndex.load(tmp_path / "title.faiss", cfg=CFG)
    assert loaded.kind == "ivf" and loaded.ntotal == 8000
    assert np.array_equal(loaded.search(queries, 10)[1], got)
    vectors, found = loaded._reconstruct(np.array([3, 7999, 9000]))
    assert found.tolist() == [True, True, False] and np.array_equal(vectors[:2], x[[3, 7999]])
    assert sorted(np.concatenate([ids for ids, _ in loaded.vectors()]).tolist()) == list(range(8000))


def test_probing_scans_as_many_lists_inside_the_block_only():
    """The pairs self-join probes dense_index.pairs_nprobe lists: fewer lists, fewer of the exact
    neighbours found; the lookups' nprobe is back after the block."""
    x = clustered(8000)
    index, exact = filled(x), filled(x, DenseIndexConfig(kind="flat"))
    queries = x[::40]
    _, want = exact.search(queries, 10)
    with index.probing(1):
        assert index.index.nprobe == 1
        _, one = index.search(queries, 10)
    assert index.index.nprobe == CFG.ivf_flat_nprobe
    _, full = index.search(queries, 10)

    def recall(got):
        return np.mean([len(set(w) & set(g)) / 10 for w, g in zip(want, got)])
    assert recall(one) < recall(full)
    with exact.probing(1):  # an exact index searches as it is
        assert np.array_equal(exact.search(queries, 10)[1], want)


def test_removed_before_and_after_training_are_gone():
    x = clustered(5000)
    index = filled(x)
    index.remove(np.arange(0, 1000))  # a whole held batch, before training
    index.remove(np.array([1500, 1501]))
    assert index.ntotal == 3998
    _, hits = index.search(x[1000:1200], 20)
    assert not np.isin(hits, [*range(1000), 1500, 1501]).any()
    index.remove(np.array([2500]))  # after training
    assert index.ntotal == 3997 and 2500 not in index.search(x[2500:2501], 5)[1]


def test_as_many_as_flat_max_stay_exact():
    x = clustered(1500)
    index = filled(x)
    index.search(x[:1], 1)
    assert index.kind == "flat" and index.ntotal == 1500
    empty = DenseIndex.create(32, 10_000, CFG)
    assert empty.search(x[:2], 3)[1].tolist() == [[-1], [-1]] and empty.kind == "flat"


def test_self_join_over_ivf_with_every_list_probed_is_the_exact_one(tmp_path):
    """A build above flat_max gets an IVF title index; probing every list, it finds the exact
    index's pairs with the same signal scores. Only a tie at the k-th neighbour may go the other
    way (FAISS's exact scan and its list scan add in different orders); decided scores are left
    out, as the catalogue's fit over all pairs moves with any one of them (and so does which
    titles exact re-scoring replaces: off here)."""
    items = write_abt_buy_items(tmp_path / "items.jsonl", 200, descriptions=False)
    rows = {}
    for name, dense in (("flat", {}), ("ivf", {"flat_max": 100, "ivf_train_size": 1000, "ivf_flat_nprobe": 4096,
                                                   "pairs_nprobe": 4096})):
        config = tmp_path / f"{name}.json"
        config.write_text(json.dumps({"dense_index": dense, "text_model": {"engine": "static", "rescore_bands": 0}}))
        folder = tmp_path / name
        subprocess.run([SIMGOV, "build", "--items", str(items), "--index", str(folder), "--config", str(config),
                        "--quiet"], check=True)
        index = SimIndex.open(folder)
        try:
            assert index.signals["title"].index.kind == name
            rows[name] = {(p.item_a, p.item_b): list(p.signals.items()) for p in index.pairs(workers=1)}
        finally:
            index.close()
    flat, ivf = rows["flat"], rows["ivf"]
    assert len(flat) > 500 and len(set(flat) ^ set(ivf)) <= len(flat) // 500
    assert all(flat[key] == ivf[key] for key in set(flat) & set(ivf))


def test_pool_scores_the_ivf_join_block_by_block_as_this_process_does(tmp_path, monkeypatch):
    """The IVF self-join hands each block's pairs to the scoring pool as it is joined (a pair found
    from both of its listings' blocks, and again by the text signal, is scored once): the same pairs,
    scores and decisions as scoring them all in this process."""
    items = write_abt_buy_items(tmp_path / "items.jsonl", 200, descriptions=False)
    config = tmp_path / "ivf.json"
    config.write_text(json.dumps({"dense_index": {"flat_max": 100, "ivf_train_size": 1000}}))
    subprocess.run([SIMGOV, "build", "--items", str(items), "--index", str(tmp_path / "ivf"), "--config", str(config),
                    "--quiet"], check=True)
    monkeypatch.setattr(pair_scoring, "SELF_JOIN_BLOCK", 64)  # 400 listings: 7 blocks
    index = SimIndex.open(tmp_path / "ivf")
    try:
        assert index.signals["title"].index.kind == "ivf"
        alone = [p.model_dump() for p in index.pairs(workers=1, reuse=False)]
        pooled = [p.model_dump() for p in index.pairs(workers=2, chunk=200, reuse=False)]
    finally:
        index.close()
    assert len(alone) > 1000 and pooled == alone


def test_self_join_search_finds_the_ivf_search_neighbours():
    """The self-join's list-by-list search (simgov/vectors/self_join.py) gives each query the
    neighbours the IVF search scanning as many lists gives, best first, with the same similarities
    to float rounding; only a tie within rounding at the k-th may go the other way."""
    x = clustered(8000)
    index = filled(x)
    queries = x[::7]
    with index.probing(6):
        want_sims, want = index.search(queries, 11)
    got_sims, got = index.self_join_search(queries, 11, 6)
    assert got.shape == want.shape == (len(queries), 11)
    assert np.allclose(got_sims, want_sims, atol=1e-5)
    assert np.all(np.diff(got_sims, axis=1) <= 0)  # best first
    differ = [r for r in range(len(queries)) if set(got[r]) != set(want[r])]
    assert len(differ) <= len(queries) // 200
    for r in differ:  # a near tie at the edge
        assert abs(float(want_sims[r, -1]) - float(got_sims[r, -1])) < 1e-5
    fewer_sims, fewer = index.self_join_search(queries[:3], 11, 1)  # one list: its members only
    with index.probing(1):
        assert [set(row) for row in fewer] == [set(row) for row in index.search(queries[:3], 11)[1]]
    exact = filled(x, DenseIndexConfig(kind="flat"))  # other kinds: their search
    assert np.array_equal(exact.self_join_search(queries[:5], 4, 1)[1], exact.search(queries[:5], 4)[1])


def test_self_join_search_pads_short_lists_as_the_search_does():
    x = clustered(2100)
    index = filled(x, DenseIndexConfig(flat_max=2000, ivf_train_size=2100, ivf_nlist=50))
    index.search(x[:1], 1)
    assert index.kind == "ivf"
    sizes = [index.index.invlists.list_size(i) for i in range(index.index.nlist)]
    k = max(sizes) + 5  # more than one list holds
    with index.probing(1):
        want_sims, want = index.search(x[:20], k)
    got_sims, got = index.self_join_search(x[:20], k, 1)
    assert np.array_equal(got == -1, want == -1) and (got == -1).any()
    assert np.array_equal(got_sims[got == -1], want_sims[want == -1])
    empty_sims, empty = index.self_join_search(x[:0], 5, 3)
    assert empty.shape == empty_sims.shape == (0, 5)
