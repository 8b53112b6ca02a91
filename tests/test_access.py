"""Access: every route of the OpenAPI spec checks key and role; per-key rate limits; the request time
limit; security headers on every kind of answer; CORS closed unless configured. Real HTTP servers."""
from __future__ import annotations

import re
import time

import httpx
import pytest

from api_support import copy_market, draw_picture, make_key, thread_server

ROLES = ("investigator", "ingest", "admin")
#: Served without a key, and why: the spec and the console page hold no data (README changelog).
OPEN_PATHS = {"/healthz", "/openapi.json", "/ui", "/ui/assets", "/", "/docs"}
SAMPLE_PARAMS = {"item_id": "shoe-1", "account_id": "seller-a", "n": "0"}


@pytest.fixture
def market(tmp_path):
    """A private copy per test (the walk writes and deletes) with a key of every role."""
    index_dir = copy_market(tmp_path / "market")
    return index_dir, {role: make_key(index_dir, role) for role in ROLES}


def assert_json_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, (response.request.method, response.request.url, response.text[:300])
    assert response.headers["content-type"].startswith("application/json") and "Traceback" not in response.text
    error = response.json()["error"]
    assert error["message"] and (code is None or error["code"] == code), error
    return error


def assert_security_headers(response: httpx.Response) -> None:
    h = response.headers
    csp = h["content-security-policy"]
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in script_src and "frame-ancestors 'none'" in csp
    assert h["x-content-type-options"] == "nosniff" and h["x-frame-options"] == "DENY"
    assert h["referrer-policy"] == "no-referrer"


def test_every_route_in_the_spec_checks_key_and_role(market):
    index_dir, keys = market
    with thread_server(index_dir) as url, httpx.Client(base_url=url, timeout=60) as client:
        spec = client.get("/openapi.json").json()
        assert_security_headers(client.get("/openapi.json"))
        walked = 0
        for template, operations in spec["paths"].items():
            path = re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PARAMS.get(m.group(1), "x"), template)
            for method in operations:
                if template in OPEN_PATHS:
                    assert client.request(method, path).status_code == 200
                    continue
                walked += 1
                missing = client.request(method, path)
                assert_json_error(missing, 401, "unauthorized")
                assert missing.headers["www-authenticate"] == "Bearer"
                assert_security_headers(missing)
                assert_json_error(client.request(method, path, headers={"Authorization": "Bearer sgk_x_y"}), 401)
                answers = {role: client.request(method, path, headers={"Authorization": f"Bearer {keys[role]}"})
                           for role in ROLES}
                assert answers["admin"].status_code not in (401, 403), (method, template, answers["admin"].text)
                refused = [role for role, r in answers.items() if r.status_code == 403]
                assert refused, f"{method} {template}: no role is refused"
                for role in refused:
                    assert_json_error(answers[role], 403, "forbidden")
        assert walked >= 12


def test_only_the_declared_paths_are_open(market):
    from simgov.api.app import create_app

    app = create_app("never-opened")
    spec_paths = set(app.openapi()["paths"])
    served = set()
    for route in app.routes:  # routers are included as a whole (FastAPI >= 0.165): take their routes
        inner = getattr(route, "original_router", None)
        served |= {r.path for r in inner.routes} if inner is not None else {route.path}
    hidden = served - spec_paths
    assert hidden == OPEN_PATHS - {"/healthz"}, hidden  # everything else is in the spec, and walked above
    assert {p for p, ops in app.openapi()["paths"].items() if not any(o.get("security") for o in ops.values())} \
        == {"/healthz"}


def test_per_key_rate_limit(market):
    index_dir, keys = market
    with thread_server(index_dir, rate_per_second=1, rate_burst=3) as url, \
            httpx.Client(base_url=url, timeout=60) as client:
        reader = {"Authorization": f"Bearer {keys['investigator']}"}
        statuses = [client.get("/v1/items/shoe-1", headers=reader).status_code for _ in range(3)]
        limited = client.get("/v1/items/shoe-1", headers=reader)
        assert statuses == [200, 200, 200]
        assert_json_error(limited, 429, "rate_limited")
        assert_security_headers(limited)
        assert int(limited.headers["retry-after"]) >= 1
        # the bucket is per key: another key, and requests without one, are not held back
        assert client.get("/v1/items/shoe-1", headers={"Authorization": f"Bearer {keys['admin']}"}).status_code == 200
        assert_json_error(client.get("/v1/items/shoe-1"), 401)
        time.sleep(int(limited.headers["retry-after"]))
        assert client.get("/v1/items/shoe-1", headers=reader).status_code == 200


def test_request_time_limit_answers_503(market, tmp_path):
    index_dir, keys = market
    import io

    picture = io.BytesIO()
    draw_picture(11, 1600).save(picture, format="PNG")  # decoding and fingerprinting it takes far longer
    with thread_server(index_dir, request_timeout_s=0.02) as url, httpx.Client(base_url=url, timeout=60) as client:
        slow = client.post("/v1/search", files={"image": ("big.png", picture.getvalue(), "image/png")},
                           headers={"Authorization": f"Bearer {keys['investigator']}"})
        error = assert_json_error(slow, 503, "timeout")
        assert "0.02 s" in error["message"] and slow.headers["retry-after"] == "1"
        assert_security_headers(slow)
        deadline = time.monotonic() + 30  # the server goes on answering
        while client.get("/healthz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.2)


def test_security_headers_on_every_kind_of_answer(market):
    index_dir, keys = market
    with thread_server(index_dir, max_body_bytes=4096) as url, httpx.Client(base_url=url, timeout=60) as client:
        reader = {"Authorization": f"Bearer {keys['investigator']}"}
        answers = [client.get("/ui"), client.get("/ui/assets/app.js"), client.get("/ui/assets/app.css"),
                   client.get("/healthz"), client.get("/v1/items/shoe-1", headers=reader),
                   client.get("/v1/items/nope", headers=reader), client.get("/nowhere"),
                   client.put("/v1/items", content=b"x" * 8192, headers=reader),
                   client.get("/v1/items/shoe-1/images/0", headers=reader)]
        assert [a.status_code for a in answers] == [200, 200, 200, 200, 200, 404, 404, 413, 200]
        for answer in answers:
            assert_security_headers(answer)
        page = answers[0].text
        assert "<script src=" in page and not re.search(r"<script(?![^>]*\bsrc=)", page)
        assert not re.search(r"\son[a-z]+\s*=", page)  # no inline event handlers


def test_cors_is_closed_by_default_and_opens_only_to_listed_origins(market):
    index_dir, keys = market
    reader = {"Authorization": f"Bearer {keys['investigator']}"}
    preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
    with thread_server(index_dir) as url, httpx.Client(base_url=url, timeout=60) as client:
        for origin in ("https://evil.example", "https://console.example"):
            answer = client.options("/v1/items/shoe-1", headers={"Origin": origin, **preflight})
            assert "access-control-allow-origin" not in answer.headers and answer.status_code == 405
            answer = client.get("/v1/items/shoe-1", headers={"Origin": origin, **reader})
            assert answer.status_code == 200 and "access-control-allow-origin" not in answer.headers
    with thread_server(index_dir, cors_origins=["https://console.example"]) as url, \
            httpx.Client(base_url=url, timeout=60) as client:
        allowed = client.options("/v1/items/shoe-1", headers={"Origin": "https://console.example", **preflight})
        assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == "https://console.example"
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
        assert_security_headers(allowed)
        other = client.options("/v1/items/shoe-1", headers={"Origin": "https://evil.example", **preflight})
        assert "access-control-allow-origin" not in other.headers
        assert "origin" in assert_json_error(other, 400, "cors_refused")["message"]
        assert_security_headers(other)
        answer = client.get("/v1/items/shoe-1", headers={"Origin": "https://evil.example", **reader})
        assert "access-control-allow-origin" not in answer.headers
        answer = client.get("/v1/items/shoe-1", headers={"Origin": "https://console.example", **reader})
        assert answer.headers["access-control-allow-origin"] == "https://console.example"
