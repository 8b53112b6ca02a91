"""The HTTP API against a real uvicorn server on a loopback port (CONTRACT.md section 4)."""
from __future__ import annotations

import io
import re
import time

import httpx
import pytest
from PIL import Image

import simgov.api.detectors
from api_support import copy_market, draw_picture, make_key, thread_server

ROLES = ("investigator", "ingest", "admin")
MAX_BODY = 512 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server over a private copy of the built marketplace, with a key of every role."""
    index_dir = copy_market(tmp_path_factory.mktemp("api") / "market")
    keys = {role: make_key(index_dir, role) for role in ROLES}
    with thread_server(index_dir, max_body_bytes=MAX_BODY) as url:
        with httpx.Client(base_url=url, timeout=30) as client:
            yield client, keys, index_dir


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and isinstance(body["error"]["code"], str) and body["error"]["message"]
    assert "Traceback" not in response.text
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def jpeg(seed: int, size: int = 320) -> bytes:
    out = io.BytesIO()
    draw_picture(seed, size).save(out, format="JPEG", quality=90)
    return out.getvalue()


# -- auth: every endpoint, every case -------------------------------------------------------------
# (method, path, request options, roles allowed, status for an allowed role)
ENDPOINTS = [
    ("GET", "/v1/items/shoe-1", {}, {"investigator", "admin"}, 200),
    ("GET", "/v1/items/shoe-1/similar?k=3", {}, {"investigator", "admin"}, 200),
    ("GET", "/v1/items/shoe-1/images/0", {}, {"investigator", "admin"}, 200),
    ("POST", "/v1/search", {"data": {"text": "red shoe"}}, {"investigator", "admin"}, 200),
    ("GET", "/v1/items/shoe-1/counterfeit", {}, {"investigator", "admin"}, 200),
    ("GET", "/v1/items/shoe-1/group", {}, {"investigator", "admin"}, 200),
    ("GET", "/v1/accounts/seller-a/linked", {}, {"investigator", "admin"}, 200),
    ("GET", "/v1/accounts/seller-a/items", {}, {"investigator", "admin"}, 200),
    ("PUT", "/v1/items", {"json": {"items": [{"item_id": "auth-probe", "seller_id": "s", "title": "probe"}]}},
     {"ingest", "admin"}, 200),
    ("DELETE", "/v1/items/no-such-item", {}, {"ingest", "admin"}, 404),
    ("GET", "/v1/audit", {}, {"admin"}, 200),
    ("GET", "/metrics", {}, {"admin"}, 200),
]


@pytest.mark.parametrize("method,path,options,allowed,ok", ENDPOINTS, ids=[f"{m} {p}" for m, p, *_ in ENDPOINTS])
def test_every_auth_case(server, method, path, options, allowed, ok):
    client, keys, _ = server
    missing = client.request(method, path, **options)
    assert assert_error(missing, 401, "unauthorized")
    assert missing.headers["www-authenticate"] == "Bearer"
    altered = keys["admin"][:-1] + ("A" if keys["admin"][-1] != "A" else "B")  # one character off
    for bad in ("not-a-key", "sgk_000000000000_" + "x" * 43, altered):
        assert_error(client.request(method, path, headers=auth(bad), **options), 401, "unauthorized")
    for header in (f"Basic {keys['admin']}", "Bearer", keys["admin"]):
        assert_error(client.request(method, path, headers={"Authorization": header}, **options), 401, "unauthorized")
    for role in ROLES:
        response = client.request(method, path, headers=auth(keys[role]), **options)
        if role in allowed:
            assert response.status_code == ok, (role, response.text)
        else:
            assert_error(response, 403, "forbidden")


def test_healthz_is_open(server):
    client, _, _ = server
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_revoked_key_is_refused(server):
    from simgov.keys import KeyStore
    from simgov.storage.items import Store

    client, _, index_dir = server
    key = make_key(index_dir, "investigator")
    assert client.get("/v1/items/shoe-1", headers=auth(key)).status_code == 200
    store = Store(index_dir)
    KeyStore(store).revoke(key.split("_")[1])
    store.close()
    assert_error(client.get("/v1/items/shoe-1", headers=auth(key)), 401, "unauthorized")


# -- reads -------------------------------------------------------------------------------------------
def test_item_as_ingested(server):
    client, keys, _ = server
    body = client.get("/v1/items/shoe-1", headers=auth(keys["investigator"])).json()
    assert body["item"]["item_id"] == "shoe-1" and body["item"]["seller_id"] == "seller-a"
    assert body["item"]["title"] == "Red running shoe, size 42, breathable mesh"
    assert body["item"]["images"] == ["images/shoe-1.jpg", "images/shoe-1-back.png"]
    assert {"title", "image"} <= set(body["signals"])
    assert len(body["signals"]["image"]["pictures"]) == 2 and body["problems"] == []
    broken = client.get("/v1/items/broken-pic", headers=auth(keys["investigator"])).json()
    assert "title" in broken["signals"] and "image" not in broken["signals"]
    assert [p["signal"] for p in broken["problems"]] == ["image"]


def test_similar_finds_the_planted_copies(server):
    client, keys, _ = server
    body = client.get("/v1/items/shoe-1/similar", params={"k": 5}, headers=auth(keys["investigator"])).json()
    assert body["item_id"] == "shoe-1"
    top = {n["item_id"]: n for n in body["neighbours"][:2]}  # the re-listing and the copy, both the same picture
    assert top["shoe-2"]["relation"] == "same_seller_duplicate" and top["shoe-2"]["match"]
    assert top["shoe-3"]["relation"] == "cross_seller_copy" and top["shoe-3"]["match"]
    assert len(body["neighbours"]) == 5
    bag = client.get("/v1/items/bag-1/similar", params={"k": 3}, headers=auth(keys["investigator"])).json()
    first = bag["neighbours"][0]
    assert first["item_id"] == "bag-2" and first["relation"] == "cross_seller_copy" and first["match"]
    assert first["signals"]["image"] > 0.9 and first["evidence"]
    for n in body["neighbours"]:
        assert set(n) == {"item_id", "seller_id", "score", "signals", "match", "relation", "evidence"}
        assert 0 <= n["score"] <= 1 and all(0 <= s <= 1 for s in n["signals"].values())
        assert n["item_id"] != "shoe-1"
    assert [n["score"] for n in body["neighbours"]] == sorted((n["score"] for n in body["neighbours"]), reverse=True)


def test_similar_parameters(server):
    client, keys, _ = server
    h = auth(keys["investigator"])
    one = client.get("/v1/items/shoe-1/similar", params={"k": 1}, headers=h).json()["neighbours"]
    assert len(one) == 1
    titles = client.get("/v1/items/shoe-1/similar", params={"signals": "title"}, headers=h).json()["neighbours"]
    assert titles and all(set(n["signals"]) == {"title"} for n in titles)
    high = client.get("/v1/items/shoe-1/similar", params={"min_score": 0.9}, headers=h).json()["neighbours"]
    assert "shoe-2" in [n["item_id"] for n in high] and all(n["score"] >= 0.9 for n in high)
    assert len(high) < len(client.get("/v1/items/shoe-1/similar", headers=h).json()["neighbours"])
    for k in (0, 101, -1, "ten"):
        assert_error(client.get("/v1/items/shoe-1/similar", params={"k": k}, headers=h), 422, "validation_error")
    assert_error(client.get("/v1/items/shoe-1/similar", params={"min_score": 1.5}, headers=h), 422)
    error = assert_error(client.get("/v1/items/shoe-1/similar", params={"signals": "smell"}, headers=h), 422)
    assert "signals" in error["message"]


def test_unknown_ids_are_json_404(server):
    client, keys, _ = server
    h = auth(keys["admin"])
    for path in ("/v1/items/nope", "/v1/items/nope/similar", "/v1/items/nope/images/0", "/v1/items/nope/counterfeit",
                 "/v1/items/nope/group"):
        assert assert_error(client.get(path, headers=h), 404, "not_found")["message"] == "unknown item: nope"
    assert_error(client.delete("/v1/items/nope", headers=h), 404, "not_found")


def test_an_id_twice_in_a_batch_last_wins(server):
    client, keys, _ = server
    twice = {"items": [{"item_id": "twice", "seller_id": "s", "title": "first"},
                       {"item_id": "twice", "seller_id": "s", "title": "second"}]}
    response = client.put("/v1/items", json=twice, headers=auth(keys["ingest"]))
    assert response.status_code == 200 and response.json()["upserted"] == 1
    assert client.get("/v1/items/twice", headers=auth(keys["investigator"])).json()["item"]["title"] == "second"


def test_account_items(server):
    client, keys, _ = server
    body = client.get("/v1/accounts/seller-a/items", headers=auth(keys["investigator"])).json()
    assert [i["item_id"] for i in body["items"]] == ["shoe-1", "shoe-2"] and body["truncated"] is False
    body = client.get("/v1/accounts/seller-a/items", params={"limit": 1}, headers=auth(keys["investigator"])).json()
    assert len(body["items"]) == 1 and body["truncated"] is True


def test_counterfeit_assessment(server):
    client, keys, _ = server
    h = auth(keys["investigator"])
    fake = client.get("/v1/items/bag-2/counterfeit", headers=h).json()
    assert fake["item_id"] == "bag-2" and fake["suspect"] is True
    (suspect,) = fake["suspects"]
    assert suspect["reference_item_id"] == "bag-1" and suspect["seller_id"] == "seller-d"
    assert suspect["brand"] == "Maison Ore" and suspect["price_ratio"] < 0.2 and suspect["evidence"]
    honest = client.get("/v1/items/mug-1/counterfeit", headers=h).json()
    assert honest["suspect"] is False and honest["suspects"] == []
    reference = client.get("/v1/items/bag-1/counterfeit", headers=h).json()
    assert reference["suspect"] is False


def test_linked_accounts(server):
    client, keys, _ = server
    h = auth(keys["investigator"])
    body = client.get("/v1/accounts/seller-b/linked", headers=h).json()
    assert body["account_id"] == "seller-b"
    first = body["linked"][0]
    assert first["account_id"] == "seller-d" and first["match"] and first["score"] > 0.9
    kinds = {e["kind"] for e in first["evidence"]}
    assert "shared_identifier" in kinds
    assert "+44" not in str(body) and "GB33" not in str(body)  # identifiers are named, never shown
    assert not any(link["match"] for link in body["linked"][1:])
    assert len(client.get("/v1/accounts/seller-b/linked", params={"k": 1}, headers=h).json()["linked"]) == 1
    assert_error(client.get("/v1/accounts/nobody/linked", headers=h), 404, "not_found")


# -- pictures ------------------------------------------------------------------------------------------
def test_thumbnails_of_ingested_images_only(server):
    client, keys, _ = server
    h = auth(keys["investigator"])
    response = client.get("/v1/items/shoe-1/images/1", params={"size": 64}, headers=h)
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    thumb = Image.open(io.BytesIO(response.content))
    assert thumb.format == "JPEG" and max(thumb.size) <= 64
    assert_error(client.get("/v1/items/shoe-1/images/2", headers=h), 404, "not_found")
    assert_error(client.get("/v1/items/text-only/images/0", headers=h), 404, "not_found")
    assert_error(client.get("/v1/items/broken-pic/images/0", headers=h), 404, "image_unavailable")
    for bad in ("/v1/items/shoe-1/images/-1", "/v1/items/shoe-1/images/x", "/v1/items/shoe-1/images/0?size=5000"):
        assert_error(client.get(bad, headers=h), 422)
    # a path is never taken from the request
    assert client.get("/v1/items/shoe-1/images/..%2F..%2Fetc%2Fpasswd", headers=h).status_code in (404, 422)


# -- search --------------------------------------------------------------------------------------------
def test_search_by_text_image_and_both(server):
    client, keys, _ = server
    h = auth(keys["investigator"])
    by_text = client.post("/v1/search", data={"text": "brown leather handbag"}, params={"k": 3}, headers=h).json()
    assert by_text["query"] == {"text": "brown leather handbag", "image": None}
    assert {n["item_id"] for n in by_text["neighbours"][:2]} == {"bag-1", "bag-2"}
    assert all(n["relation"] == "similar" for n in by_text["neighbours"])
    picture = jpeg(3)  # the headphones' picture
    by_image = client.post("/v1/search", files={"image": ("q.jpg", picture, "image/jpeg")}, headers=h).json()
    assert by_image["query"]["image"] == {"width": 320, "height": 320}
    assert by_image["neighbours"][0]["item_id"] == "phones-1"
    first = by_image["neighbours"][0]
    assert set(first["signals"]) == {"image"} and first["signals"]["image"] > 0.9
    both = client.post("/v1/search", data={"text": "over-ear headphones"}, files={"image": ("q.jpg", picture)},
                       headers=h).json()
    first = both["neighbours"][0]
    assert first["item_id"] == "phones-1" and {"title", "image"} <= set(first["signals"])


def test_search_errors(server):
    client, keys, _ = server
    h = auth(keys["investigator"])
    assert_error(client.post("/v1/search", data={"text": "  "}, headers=h), 422, "validation_error")
    assert_error(client.post("/v1/search", headers=h), 422)
    assert_error(client.post("/v1/search", data={"text": "x"}, params={"k": 1000}, headers=h), 422)
    corrupt = client.post("/v1/search", files={"image": ("q.jpg", b"GIF89a not really", "image/gif")}, headers=h)
    assert_error(corrupt, 422, "bad_image")


def test_decompression_bomb_is_refused(server):
    client, keys, _ = server
    bomb = io.BytesIO()
    Image.new("1", (9000, 9000)).save(bomb, format="PNG")  # 81 megapixels in a few kilobytes
    assert len(bomb.getvalue()) < 100_000
    response = client.post("/v1/search", files={"image": ("bomb.png", bomb.getvalue(), "image/png")},
                           headers=auth(keys["investigator"]))
    error = assert_error(response, 413, "image_too_large")
    assert "pixels" in error["message"] or "bomb" in error["message"]


def test_oversized_upload_is_refused(server):
    client, keys, _ = server
    big = b"\xff" * (MAX_BODY + 1024)
    response = client.post("/v1/search", files={"image": ("big.jpg", big, "image/jpeg")},
                           headers=auth(keys["investigator"]))
    assert_error(response, 413, "too_large")

    def chunks():  # no Content-Length: the limit holds while the body streams in
        for _ in range(8):
            yield b"{" * (MAX_BODY // 4)

    response = client.put("/v1/items", content=chunks(),
                          headers={**auth(keys["ingest"]), "content-type": "application/json"})
    assert_error(response, 413, "too_large")


# -- error shapes --------------------------------------------------------------------------------------
def test_every_error_is_json(server):
    client, keys, _ = server
    h = auth(keys["admin"])
    assert_error(client.get("/nothing-here", headers=h), 404, "not_found")
    assert_error(client.get("/v1/items", headers=h), 405, "method_not_allowed")
    assert_error(client.post("/v1/items/shoe-1", headers=h), 405, "method_not_allowed")
    bad_json = client.put("/v1/items", content=b"{not json", headers={**h, "content-type": "application/json"})
    assert_error(bad_json, 422, "validation_error")
    assert_error(client.put("/v1/items", json={"items": []}, headers=h), 422, "validation_error")
    missing = assert_error(client.put("/v1/items", json={"items": [{"item_id": "x", "title": "t"}]}, headers=h), 422)
    assert "seller_id" in missing["message"]
    lone_surrogate = b'{"items": [{"item_id": "x", "seller_id": "s", "title": "\\ud800"}]}'
    json_h = {**h, "content-type": "application/json"}
    assert_error(client.put("/v1/items", content=lone_surrogate, headers=json_h), 422)
    blank_id = {"items": [{"item_id": "", "seller_id": "s", "title": "t"}]}
    assert_error(client.put("/v1/items", json=blank_id, headers=h), 422)


def test_unexpected_failure_is_a_json_500_without_stack_trace(server, monkeypatch):
    client, keys, _ = server

    def broken(index, item_id):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(simgov.api.detectors, "counterfeit", broken)
    response = client.get("/v1/items/shoe-1/counterfeit", headers=auth(keys["investigator"]))
    assert_error(response, 500, "internal_error")
    assert "secret internal detail" not in response.text


def test_security_headers_and_request_id(server):
    client, keys, _ = server
    response = client.get("/v1/items/shoe-1", headers={**auth(keys["investigator"]), "X-Request-ID": "case-42"})
    assert response.headers["x-request-id"] == "case-42"
    assert response.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


# -- audit and metrics ---------------------------------------------------------------------------------
def test_lookups_are_audited(server):
    client, keys, _ = server
    investigator = keys["investigator"]
    key_id = investigator.split("_")[1]
    started = time.time()
    client.get("/v1/items/mug-1", headers=auth(investigator))
    client.get("/v1/items/lamp-1/similar", params={"k": 2}, headers=auth(investigator))
    client.get("/v1/items/never-was", headers=auth(investigator))
    client.post("/v1/search", data={"text": "a brass lamp"}, headers=auth(investigator))
    entries = client.get("/v1/audit", params={"key_id": key_id, "since": started},
                         headers=auth(keys["admin"])).json()["entries"]
    got = [(e["endpoint"], e["ids"]) for e in entries]
    assert got == [("POST /v1/search", []), ("GET /v1/items/{item_id}", ["never-was"]),
                   ("GET /v1/items/{item_id}/similar", ["lamp-1"]), ("GET /v1/items/{item_id}", ["mug-1"])]
    assert all(e["key_id"] == key_id and e["role"] == "investigator" and e["at"] >= started - 1 for e in entries)
    assert entries[0]["detail"] == {"text": "a brass lamp"} and entries[2]["detail"] == {"k": "2"}
    only_lamp = client.get("/v1/audit", params={"item_id": "lamp-1"}, headers=auth(keys["admin"])).json()["entries"]
    assert [e["ids"] for e in only_lamp] == [["lamp-1"]]
    assert len(client.get("/v1/audit", params={"limit": 2}, headers=auth(keys["admin"])).json()["entries"]) == 2
    assert_error(client.get("/v1/audit", params={"limit": 0}, headers=auth(keys["admin"])), 422)


def test_metrics_in_prometheus_format(server):
    client, keys, _ = server
    client.get("/v1/items/shoe-1", headers=auth(keys["investigator"]))
    client.get("/v1/items/nope", headers=auth(keys["investigator"]))
    response = client.get("/metrics", headers=auth(keys["admin"]))
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert re.search(r'simgov_http_requests_total\{method="GET",route="/v1/items/\{item_id\}",status="200"\} \d', text)
    assert re.search(r'simgov_http_requests_total\{method="GET",route="/v1/items/\{item_id\}",status="404"\} \d', text)
    assert 'simgov_http_request_duration_seconds_bucket{le="0.1",method="GET",route="/v1/items/{item_id}"}' in text
    assert re.search(r"^simgov_index_items \d+", text, re.M)
    assert 'simgov_index_entries{signal="title"}' in text


# -- OpenAPI -------------------------------------------------------------------------------------------
def test_openapi_describes_every_response(server):
    client, _, _ = server
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ("/v1/items/{item_id}", "/v1/items/{item_id}/similar", "/v1/search", "/v1/items",
                 "/v1/items/{item_id}/counterfeit", "/v1/accounts/{account_id}/linked", "/v1/audit", "/healthz"):
        assert path in paths, path
    schemas = spec["components"]["schemas"]
    for name in ("Neighbour", "SimilarResponse", "SearchResponse", "UpsertResponse", "ErrorResponse",
                 "CounterfeitAssessment", "LinkedAccounts", "AuditPage", "ItemDetail"):
        assert name in schemas, name
    for path, operations in paths.items():
        for method, op in operations.items():
            for status, answer in op["responses"].items():
                assert answer.get("content"), (method, path, status)
            if path != "/healthz":
                assert op.get("security"), (method, path)
    similar = paths["/v1/items/{item_id}/similar"]["get"]
    k = next(p for p in similar["parameters"] if p["name"] == "k")
    assert k["schema"]["minimum"] == 1 and k["schema"]["maximum"] == 100
