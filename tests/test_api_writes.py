"""Writes through the API: searchable as soon as answered, durable across restarts, in step across workers."""
from __future__ import annotations

import re

import httpx
import pytest

from api_support import cli_server, copy_market, make_key, server_process, thread_server


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


NEW_ITEMS = [
    # a copy of the lamp by a new seller, pointing at the lamp's picture inside the data folder
    {"item_id": "new-lamp", "seller_id": "seller-new", "title": "Brass desk lamp, green glass shade",
     "images": ["images/lamp-1.jpg"], "price": 25.0, "attributes": {"colour": "green"}, "listed_via": "api"},
    # pictures outside the data folder are refused for this item only; the item is still stored
    {"item_id": "sneaky", "seller_id": "seller-new", "title": "Ceramic coffee mug, blue glaze",
     "images": ["../../../../etc/passwd", "/etc/hostname", "images/mug-1.jpg"]},
]


@pytest.fixture
def market(tmp_path):
    index_dir = copy_market(tmp_path / "market")
    keys = {role: make_key(index_dir, role) for role in ("investigator", "ingest")}
    return index_dir, keys


def similar_ids(client: httpx.Client, key: str, item_id: str, **params) -> list[str]:
    response = client.get(f"/v1/items/{item_id}/similar", params={"k": 20, **params}, headers=auth(key))
    assert response.status_code == 200, response.text
    return [n["item_id"] for n in response.json()["neighbours"]]


def test_upsert_is_searchable_at_once_then_delete_is_gone(market):
    index_dir, keys = market
    reader, writer = keys["investigator"], keys["ingest"]
    with thread_server(index_dir) as url, httpx.Client(base_url=url, timeout=60) as client:
        response = client.put("/v1/items", json={"items": NEW_ITEMS}, headers=auth(writer))
        assert response.status_code == 200, response.text
        report = {r["item_id"]: r for r in response.json()["items"]}
        assert response.json()["upserted"] == 2
        assert {"title", "image"} <= set(report["new-lamp"]["signals"]) and report["new-lamp"]["problems"] == []
        sneaky = report["sneaky"]
        assert {"title", "image"} <= set(sneaky["signals"])  # the mug picture inside the folder is used
        refused = [p["problem"] for p in sneaky["problems"]]
        assert len(refused) == 2 and all("leaves the data folder" in p for p in refused)

        # searchable immediately, both ways round
        assert similar_ids(client, reader, "lamp-1")[0] == "new-lamp"
        neighbours = client.get("/v1/items/new-lamp/similar", headers=auth(reader)).json()["neighbours"]
        copy = next(n for n in neighbours if n["item_id"] == "lamp-1")
        assert copy["relation"] == "cross_seller_copy" and copy["match"] and copy["signals"]["image"] == 1.0
        found = client.post("/v1/search", data={"text": "brass desk lamp with a green glass shade"},
                            headers=auth(reader)).json()["neighbours"]
        assert "new-lamp" in [n["item_id"] for n in found[:4]]
        stored = client.get("/v1/items/new-lamp", headers=auth(reader)).json()["item"]
        assert stored["listed_via"] == "api" and stored["attributes"] == {"colour": "green"}
        # the refused paths are never served
        for n in (0, 1):
            assert client.get(f"/v1/items/sneaky/images/{n}", headers=auth(reader)).json()["error"]["code"] == \
                "image_unavailable"
        assert client.get("/v1/items/sneaky/images/2", headers=auth(reader)).status_code == 200

        # update replaces the old version
        changed = {**NEW_ITEMS[0], "title": "Blue glass vase", "images": []}
        assert client.put("/v1/items", json={"items": [changed]}, headers=auth(writer)).status_code == 200
        assert client.get("/v1/items/new-lamp", headers=auth(reader)).json()["item"]["title"] == "Blue glass vase"
        assert "new-lamp" not in similar_ids(client, reader, "lamp-1", min_score=0.5)

        # delete: gone at once, everywhere
        response = client.delete("/v1/items/new-lamp", headers=auth(writer))
        assert response.status_code == 200 and response.json() == {"item_id": "new-lamp", "deleted": True}
        assert client.get("/v1/items/new-lamp", headers=auth(reader)).status_code == 404
        assert "new-lamp" not in similar_ids(client, reader, "lamp-1")
        assert client.delete("/v1/items/new-lamp", headers=auth(writer)).status_code == 404
        assert client.delete("/v1/items/shoe-3", headers=auth(writer)).status_code == 200


@pytest.mark.slow  # starts `simgov serve --workers 2`: two more processes that load the text model
def test_writes_survive_a_restart_and_workers_stay_in_step(market, tmp_path):
    index_dir, keys = market
    reader, writer = keys["investigator"], keys["ingest"]
    with thread_server(index_dir) as url, httpx.Client(base_url=url, timeout=60) as client:
        assert client.put("/v1/items", json={"items": NEW_ITEMS}, headers=auth(writer)).status_code == 200
        assert client.delete("/v1/items/shoe-2", headers=auth(writer)).status_code == 200

    # a fresh app over the same folder (the first server is stopped): everything is still there
    with thread_server(index_dir) as url, httpx.Client(base_url=url, timeout=60) as client:
        assert client.get("/v1/items/new-lamp", headers=auth(reader)).status_code == 200
        assert client.get("/v1/items/shoe-2", headers=auth(reader)).status_code == 404
        assert similar_ids(client, reader, "lamp-1")[0] == "new-lamp"
        assert "shoe-2" not in similar_ids(client, reader, "shoe-1")

    # `simgov serve --workers 2`, separate processes: they see those writes, and each other's
    with cli_server(index_dir, "--workers", "2") as url:
        def fresh_get(path: str) -> httpx.Response:  # a new connection each time, to reach both workers
            return httpx.get(url + path, headers=auth(reader), timeout=60)

        assert fresh_get("/v1/items/new-lamp").status_code == 200
        assert fresh_get("/v1/items/shoe-2").status_code == 404
        item = {"item_id": "worker-item", "seller_id": "seller-w", "title": "Red running shoe size 42 mesh",
                "images": ["images/shoe-3.jpg"]}
        assert httpx.put(url + "/v1/items", json={"items": [item]}, headers=auth(writer), timeout=60).status_code == 200
        for _ in range(12):
            found = fresh_get("/v1/items/shoe-1/similar?k=5").json()["neighbours"]
            assert "worker-item" in [n["item_id"] for n in found]
        assert httpx.delete(url + "/v1/items/worker-item", headers=auth(writer), timeout=60).status_code == 200
        for _ in range(12):
            found = fresh_get("/v1/items/shoe-1/similar?k=20").json()["neighbours"]
            assert "worker-item" not in [n["item_id"] for n in found]
        admin = make_key(index_dir, "admin")
        metrics = httpx.get(url + "/metrics", headers=auth(admin), timeout=60).text
        served = sum(float(v) for v in re.findall(
            r'simgov_http_requests_total\{method="GET",route="/v1/items/\{item_id\}/similar",status="200"\} (\S+)',
            metrics))
        assert served == 24  # summed over both workers


@pytest.mark.slow  # starts `simgov serve --workers 2`
def test_workers_share_each_keys_rate_limit(market):
    index_dir, keys = market
    reader = auth(keys["investigator"])
    limits = {"SIMGOV_RATE_PER_SECOND": "0.001", "SIMGOV_RATE_BURST": "4"}
    with server_process(index_dir, "--workers", "2", env=limits) as (_, url, _):
        # a new connection each time, so that both workers answer: together they allow the burst once
        statuses = [httpx.get(url + "/v1/items/shoe-1", headers=reader, timeout=60).status_code for _ in range(8)]
    assert statuses == [200] * 4 + [429] * 4
