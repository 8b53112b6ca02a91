"""The Milvus dense backend (simgov/vectors/milvus.py) against Milvus Lite started by the test: the
same results contract as the FAISS store, and an index served from Milvus gives the same
neighbours as the same index served by FAISS (library, CLI and `simgov serve`)."""
from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

pytest.importorskip("pymilvus", reason="the milvus extra is not installed: pip install 'simgov[milvus]'")
pytest.importorskip("milvus_lite", reason="Milvus Lite is not installed: pip install 'simgov[milvus]'")

from conftest import run_simgov  # noqa: E402
from simgov.vectors import milvus as milvus_store  # noqa: E402
from simgov.config import Config, DenseIndexConfig  # noqa: E402
from simgov.index import SimIndex  # noqa: E402
from simgov.vectors.milvus import MilvusDenseIndex  # noqa: E402
from simgov.vectors import BACKEND_ENV, MILVUS_URI_ENV, DenseIndex, DenseStore  # noqa: E402


@pytest.fixture
def milvus_env(tmp_path, monkeypatch):
    """The Milvus backend on a fresh Milvus Lite file; every client closed afterwards."""
    uri = str(tmp_path / "milvus.db")
    monkeypatch.setenv(BACKEND_ENV, "milvus")
    monkeypatch.setenv(MILVUS_URI_ENV, uri)
    yield uri
    milvus_store.close_all()


def _vectors(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_store_contract_matches_faiss(tmp_path):
    uri = str(tmp_path / "contract.db")
    config = Config(milvus_uri=uri, dense_index=DenseIndexConfig(kind="flat"))
    x = _vectors(300)
    ids = np.arange(300, dtype=np.int64) * 3 + 7  # caller-chosen ids, not positions
    faiss_store = DenseIndex.create(32, 300, config.dense_index)
    milvus = MilvusDenseIndex.create(32, 300, config, "title")
    try:
        assert isinstance(faiss_store, DenseStore) and isinstance(milvus, DenseStore)
        for store in (faiss_store, milvus):
            store.add(ids, x)
        assert milvus.ntotal == faiss_store.ntotal == 300 and milvus.dim == 32

        # search by vector: same ids in the same order, same cosine similarities
        fs, fi = faiss_store.search(x[:20], 10)
        ms, mi = milvus.search(x[:20], 10)
        assert (fi == mi).all()
        assert np.allclose(fs, ms, atol=1e-5)
        assert (mi[:, 0] == ids[:20]).all()  # each vector finds itself first

        # search by id, with an unknown id padded with -1
        fs, fi = faiss_store.search_ids(np.array([ids[5], 999_999]), 4)
        ms, mi = milvus.search_ids(np.array([ids[5], 999_999]), 4)
        assert (fi == mi).all() and mi[0, 0] == ids[5] and (mi[1] == -1).all()

        # insert of an existing id replaces (upsert); delete forgets
        milvus.add(ids[:1], x[1:2])
        assert milvus.ntotal == 300
        assert milvus.search(x[1:2], 2)[1][0].tolist() in ([ids[0], ids[1]], [ids[1], ids[0]])
        for store in (faiss_store, milvus):
            store.remove(ids[1:3])
        assert milvus.ntotal == faiss_store.ntotal == 298
        fs, fi = faiss_store.search(x[3:4], 5)
        ms, mi = milvus.search(x[3:4], 5)
        assert (fi == mi).all() and not set(ids[1:3]) & set(mi[0].tolist())

        # more neighbours asked for than stored: padded with -1, never an error
        small = MilvusDenseIndex.create(32, 3, config, "title")
        small.add(ids[:3], x[:3])
        s, i = small.search(x[:1], 10)
        assert i.shape == (1, 10) and (i[0, 3:] == -1).all() and set(i[0, :3]) == set(ids[:3])

        # persisted as a pointer to the collection, reopened from it
        files = milvus.write(tmp_path, "title")
        assert files == ["title.milvus.json"]
        again = MilvusDenseIndex.open(tmp_path, "title", config)
        assert again.collection == milvus.collection and again.ntotal == 298
    finally:
        milvus_store.close_all()


def _neighbours(index: SimIndex, item_id: str, k: int = 5) -> list[tuple[str, float, bool]]:
    return [(n.item_id, n.score, n.match) for n in index.similar(item_id, k=k)]


def test_faiss_index_served_from_milvus_gives_same_neighbours(built_index, tmp_path, milvus_env, monkeypatch):
    """An index built with FAISS, opened with the Milvus backend: its title vectors are copied into
    a collection named after the generation, once; similar and pairs are unchanged."""
    folder = tmp_path / "idx"
    shutil.copytree(built_index, folder)
    monkeypatch.delenv(BACKEND_ENV)
    reference = SimIndex.open(folder)
    ids = [r[1] for batch in reference.store.iter_live() for r in batch]
    want = {i: _neighbours(reference, i) for i in ids}
    want_pairs = sorted((p.item_a, p.item_b, p.score) for p in reference.pairs())
    reference.close()

    monkeypatch.setenv(BACKEND_ENV, "milvus")
    served = SimIndex.open(folder)
    assert isinstance(served.signals["title"].index, MilvusDenseIndex)
    assert {i: _neighbours(served, i) for i in ids} == want
    assert sorted((p.item_a, p.item_b, p.score) for p in served.pairs()) == want_pairs
    collection = served.signals["title"].index.collection
    served.close()
    second = SimIndex.open(folder)  # another process or replica: finds the copy complete
    assert second.signals["title"].index.collection == collection
    assert milvus_store.client(milvus_env).list_collections() == [collection]
    second.close()


def test_index_built_on_milvus_writes_publishes_and_drops_old_collections(catalogue, tmp_path, milvus_env):
    from simgov.build.local import build

    folder = tmp_path / "idx"
    config = Config(dense_backend="milvus", milvus_uri=milvus_env)
    build(catalogue, folder, config)
    manifest = json.loads((folder / "manifest.json").read_text())
    generation = folder / "indexes" / manifest["generation"]
    assert manifest["files"]["title"] == ["title.milvus.json"] and not (generation / "title.faiss").exists()
    first = json.loads((generation / "title.milvus.json").read_text())["collection"]

    index = SimIndex.open(folder)
    assert _neighbours(index, "item-00")[0][0] == "relist-00"
    assert _neighbours(index, "copy-02")[0][0] == "item-02"
    # an API-style write is searchable at once (upsert into the collection), and a delete hides it
    from simgov.schema import Item
    from simgov.signals import BuildContext

    item = Item(item_id="new-1", title="Acme TrailRunner 5 running shoe, blue, size 42", seller_id="seller-9")
    index.write(index.compute([item], BuildContext(data_roots=[catalogue.parent])))
    assert "new-1" in [n[0] for n in _neighbours(index, "item-00", k=3)]
    index.delete("new-1")
    assert "new-1" not in [n[0] for n in _neighbours(index, "item-00", k=10)]

    # a rebuild writes a fresh collection; publishing it drops the superseded one
    index.rebuild_structures()
    index.publish()
    second = index.signals["title"].index.collection
    assert second != first
    assert milvus_store.client(milvus_env).list_collections() == [second]
    assert _neighbours(index, "item-00")[0][0] == "relist-00"
    index.close()


def test_cli_similar_and_serve_with_milvus_backend(built_index, tmp_path):
    from api_support import cli_server, make_key
    import httpx

    folder = tmp_path / "idx"
    shutil.copytree(built_index, folder)
    db = tmp_path / "cli-milvus.db"
    want = json.loads(run_simgov("similar", "item-00", "--index", str(folder), "--json").stdout)
    got = json.loads(run_simgov("similar", "item-00", "--index", str(folder), "--json",
                                "--backend", "milvus", "--milvus-uri", str(db)).stdout)
    # (signal and evidence order follow a set's order, which differs from process to process)
    norm = lambda rows: [{**n, "evidence": sorted(n["evidence"])} for n in rows]  # noqa: E731
    assert norm(got) == norm(want)

    key = make_key(folder, "investigator")
    with cli_server(folder, "--backend", "milvus", "--milvus-uri", str(db)) as url:
        response = httpx.get(f"{url}/v1/items/copy-02/similar", params={"k": 3},
                             headers={"Authorization": f"Bearer {key}"}, timeout=60)
    assert response.status_code == 200, response.text
    served = response.json()["neighbours"]
    direct = json.loads(run_simgov("similar", "copy-02", "--index", str(folder), "--json", "-k", "3").stdout)
    assert [(n["item_id"], n["score"]) for n in served] == [(n["item_id"], n["score"]) for n in direct]


def test_backend_errors_are_plain(built_index, tmp_path, monkeypatch):
    folder = tmp_path / "idx"
    shutil.copytree(built_index, folder)
    monkeypatch.setenv(BACKEND_ENV, "milvus")
    monkeypatch.delenv(MILVUS_URI_ENV, raising=False)
    proc = run_simgov("similar", "item-00", "--index", str(folder), "--backend", "milvus", check=False,
                      env={**os.environ})
    assert proc.returncode == 1 and "needs a URI" in proc.stderr
