"""Issue 19 over HTTP, against a real uvicorn server: what a hostile seller, a hostile ingest client
and a curious insider could do, each answered with a 4xx JSON error or made harmless."""
from __future__ import annotations

import io
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx
import pytest
import uvicorn
from PIL import Image

from api_support import copy_market, free_port, make_key, server_process, thread_server
from simgov.api.app import create_app
from simgov.api.server import uvicorn_options
from simgov.imageio import MAX_UNREDUCED_PIXELS


@pytest.fixture(scope="module")
def market(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    index_dir = copy_market(tmp_path_factory.mktemp("hardening") / "market")
    return index_dir, {role: make_key(index_dir, role) for role in ("ingest", "investigator", "admin")}


@pytest.fixture(scope="module")
def api(market) -> Iterator[tuple[httpx.Client, dict[str, dict[str, str]]]]:
    index_dir, keys = market
    with thread_server(index_dir) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client, {role: {"Authorization": f"Bearer {key}"} for role, key in keys.items()}


def json_error(response: httpx.Response, status: int | None = None) -> dict:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert status is None or response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] and error["message"] and "Traceback" not in response.text
    return error


def _deep_body(item_id: str, depth: int) -> bytes:
    return (b'{"items": [{"item_id": "' + item_id.encode() + b'", "seller_id": "seller-x", "title": "t", '
            b'"attributes": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}]}")


@pytest.mark.parametrize("depth", [40, 210, 255, 400, 950, 1200, 5000])
def test_deeply_nested_writes_are_refused_and_nothing_is_stored(api, depth):
    client, keys = api
    response = client.put("/v1/items", content=_deep_body(f"deep-{depth}", depth),
                          headers={**keys["ingest"], "content-type": "application/json"})
    error = json_error(response)
    if depth < 1000:  # past ~1000 the JSON parser itself gives up: 400, "error parsing the body"
        assert response.status_code == 422 and "nested too deeply" in error["message"], error
    json_error(client.get(f"/v1/items/deep-{depth}", headers=keys["investigator"]), 404)


def test_wide_writes_are_refused(api):
    client, keys = api
    item = {"item_id": "wide", "seller_id": "seller-x", "title": "t", "attributes": {f"k{n}": n for n in range(20_000)}}
    error = json_error(client.put("/v1/items", json={"items": [item]}, headers=keys["ingest"]), 422)
    assert "JSON values" in error["message"]


@pytest.mark.parametrize("item_id", ["a/b", ".", "..", "seller-\u202enimda", "zero\u200bwidth"])
def test_ids_no_route_could_reach_or_that_read_as_another_are_refused(api, item_id):
    client, keys = api
    for field in ("item_id", "seller_id"):
        item = {"item_id": "fine-id", "seller_id": "seller-x", "title": "t", field: item_id}
        json_error(client.put("/v1/items", json={"items": [item]}, headers=keys["ingest"]), 422)
    json_error(client.get("/v1/items/fine-id", headers=keys["investigator"]), 404)


def test_audit_paging_past_the_largest_id_is_a_422(api):
    client, keys = api
    json_error(client.get("/v1/audit", params={"before_id": "9223372036854775808"}, headers=keys["admin"]), 422)
    assert client.get("/v1/audit", params={"before_id": str(2**63 - 1)}, headers=keys["admin"]).status_code == 200


def test_no_redirect_follows_the_host_header(api):
    client, _ = api
    for path in ("/ui/assets", "/ui/", "/v1/items/"):
        response = client.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
        assert "location" not in response.headers, (path, response.headers)
        json_error(response, 404)
    assert client.get("/ui/assets/app.js").status_code == 200


def test_ingest_clients_learn_a_count_of_bank_hits_not_bank_names(api):
    client, keys = api
    bank = {"name": "secret-watchlist"}
    assert client.post("/v1/banks", json=bank, headers=keys["admin"]).status_code == 201
    entry = {"kind": "title", "value": "Replica watch AAA grade", "label": "tip from the police"}
    client.post("/v1/banks/secret-watchlist/entries", json={"entries": [entry]}, headers=keys["admin"])
    item = {"item_id": "watch-9", "seller_id": "seller-x", "title": "Replica watch AAA grade"}
    response = client.put("/v1/items", json={"items": [item]}, headers=keys["ingest"])
    assert response.status_code == 200 and response.json()["items"][0]["bank_hits"] == 1
    assert "secret-watchlist" not in response.text and "police" not in response.text
    json_error(client.get("/v1/banks", headers=keys["ingest"]), 403)
    json_error(client.get("/v1/items/watch-9", headers=keys["ingest"]), 403)
    hits = client.get("/v1/items/watch-9", headers=keys["investigator"]).json()["bank_hits"]
    assert [h["bank"] for h in hits] == ["secret-watchlist"]


def _png(side: int) -> bytes:
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, format="PNG")
    return out.getvalue()


def test_search_pictures_that_would_decode_past_the_budget_are_refused(api):
    client, keys = api
    side = int(MAX_UNREDUCED_PIXELS ** 0.5) + 1  # 16.8 Mpx: under the 40 Mpx limit, but a PNG decodes in full
    error = json_error(client.post("/v1/search", files={"image": ("big.png", _png(side))},
                                   headers=keys["investigator"]), 413)
    assert "cannot be decoded reduced" in error["message"]
    ok = client.post("/v1/search", files={"image": ("small.png", _png(64))}, headers=keys["investigator"])
    assert ok.status_code == 200, ok.text


def test_an_address_that_keeps_failing_key_checks_is_held_back(market):
    index_dir, keys = market
    # a bucket that refills once in 1,000 s: what it answers cannot depend on how fast the test runs
    with thread_server(index_dir, failed_auth_rate=0.001, failed_auth_burst=5) as url, \
            httpx.Client(base_url=url, timeout=60) as client:
        answers = [client.get("/v1/items/shoe-1", headers={"Authorization": f"Bearer sgk_guess_{n}"}).status_code
                   for n in range(8)]
        assert answers == [401] * 5 + [429] * 3, answers
        held = client.get("/v1/items/shoe-1", headers={"Authorization": f"Bearer {keys['investigator']}"})
        assert "invalid API key" in json_error(held, 429)["message"] and int(held.headers["retry-after"]) >= 1
        json_error(client.get("/healthz"), 429)  # whatever the address asks
    with thread_server(index_dir) as url:  # the default lets a client with a wrong key see its 401s first
        answers = [httpx.get(f"{url}/v1/items/shoe-1", headers={"Authorization": "Bearer sgk_x_y"}).status_code
                   for _ in range(50)]
        assert answers == [401] * 50


def _raw(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=60)
    return sock


def _put_head(length: int, key: str) -> bytes:
    return (f"PUT /v1/items HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n").encode()


def _answer(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        part = sock.recv(65536)
        if not part:
            break
        data += part
    head, _, body = data.partition(b"\r\n\r\n")
    lengths = [line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")]
    length = int(lengths[0]) if lengths else 0
    while len(body) < length:
        part = sock.recv(65536)
        if not part:
            break
        body += part
    return int(head.split(b" ")[1]), body


def test_writes_beyond_the_cap_are_refused_at_once_and_apply_nothing(market):
    index_dir, keys = market
    body = b'{"items": [{"item_id": "slow-write", "seller_id": "seller-x", "title": "slow"}]}'
    with thread_server(index_dir, max_concurrent_writes=1) as url, httpx.Client(base_url=url, timeout=60) as client:
        slow = _raw(url)
        slow.sendall(_put_head(len(body), keys["ingest"]) + body[:10])  # holds the one write slot
        ingest = {"Authorization": f"Bearer {keys['ingest']}"}
        item = {"item_id": "second-write", "seller_id": "seller-x", "title": "second"}
        deadline = time.monotonic() + 30
        while True:  # until the server has taken the slow write in
            busy = client.put("/v1/items", json={"items": [item]}, headers=ingest)
            if busy.status_code == 503 or time.monotonic() > deadline:
                break
            client.delete("/v1/items/second-write", headers=ingest)
            time.sleep(0.05)
        assert busy.status_code == 503 and busy.json()["error"]["code"] == "busy" and busy.headers["retry-after"]
        inv = {"Authorization": f"Bearer {keys['investigator']}"}
        json_error(client.get("/v1/items/second-write", headers=inv), 404)  # nothing applied
        assert client.get("/v1/items/shoe-1", headers=inv).status_code == 200  # reads go on
        slow.sendall(body[10:])
        assert _answer(slow)[0] == 200
        slow.close()
        assert client.put("/v1/items", json={"items": [item]}, headers=ingest).status_code == 200


def test_a_write_whose_body_never_comes_is_cut_with_a_408(market):
    index_dir, keys = market
    with thread_server(index_dir, request_timeout_s=0.5) as url:
        sock = _raw(url)
        sock.sendall(_put_head(1000, keys["ingest"]) + b'{"items": [')
        status, body = _answer(sock)
        sock.close()
        assert status == 408 and b'"timeout"' in body and b"nothing was applied" in body


@contextmanager
def _server_with_options(index_dir: Path, **options) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(index_dir), host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="on", **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_connections_that_never_finish_their_headers_are_closed(market):
    index_dir, _ = market
    with _server_with_options(index_dir, **uvicorn_options(header_timeout_s=0.5)) as url:
        idle = [_raw(url) for _ in range(20)]
        for n, sock in enumerate(idle):
            if n % 2:  # half send part of a request head, half nothing at all
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        for sock in idle:
            assert sock.recv(1024) == b""  # closed by the server (the socket's own timeout is 60 s)
            sock.close()
        kept = _raw(url)  # a kept-alive connection gets the same limit for its next request
        kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _answer(kept)[0] == 200
        kept.sendall(b"GET /healthz HTTP/1.1\r\n")
        assert kept.recv(1024) == b""
        kept.close()
        assert httpx.get(f"{url}/healthz").status_code == 200


def test_simgov_serve_applies_the_header_time_limit_in_every_worker(market):
    index_dir, _ = market
    with server_process(index_dir, "--workers", "2") as (_, url, _):
        sockets = [_raw(url) for _ in range(4)]  # the workers take connections in turn
        for sock in sockets:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        for sock in sockets:
            assert sock.recv(1024) == b""  # closed after HEADER_TIMEOUT_S (10 s); the socket waits up to 60 s
            sock.close()
        assert httpx.get(f"{url}/healthz").status_code == 200


def test_a_seller_cannot_make_its_own_listing_a_reference(api):
    client, keys = api
    fake = {"item_id": "fake-ref", "seller_id": "seller-x", "title": "Brown leather handbag with gold buckle",
            "brand": "Maison Ore", "price": 50.0, "images": ["images/bag-1.jpg"], "reference": True}
    assert client.put("/v1/items", json={"items": [fake]}, headers=keys["ingest"]).status_code == 200
    assessment = client.get("/v1/items/fake-ref/counterfeit", headers=keys["investigator"]).json()
    assert any("not honoured" in note for note in assessment["notes"]), assessment["notes"]
    assert assessment["suspect"] and [s["reference_item_id"] for s in assessment["suspects"]] == ["bag-1"]
    # the genuine reference (seller-c is authorised for Maison Ore) is still one
    genuine = client.get("/v1/items/bag-1/counterfeit", headers=keys["investigator"]).json()
    assert genuine["notes"] == ["this listing is itself a brand-verified reference"]


def test_reads_and_detectors_survive_rows_that_no_longer_read_back(tmp_path):
    """Rows stored before the depth limit (210 deep) still read; a damaged one (lamp-1, and shoe-2,
    which is in a matched pair) is a 404 `unreadable_record` for itself and left out everywhere else."""
    import json
    import sqlite3

    from conftest import run_simgov

    index_dir = copy_market(tmp_path / "market")
    deep = {"item_id": "mug-1", "seller_id": "seller-f", "title": "Ceramic coffee mug 350 ml, blue glaze",
            "attributes": json.loads('{"a": ' * 210 + "1" + "}" * 210)}
    db = sqlite3.connect(index_dir / "store.sqlite")
    with db:
        db.execute("UPDATE items SET record=? WHERE item_id='mug-1'", (json.dumps(deep),))
        db.execute("UPDATE items SET record='{\"item_id\": ' WHERE item_id IN ('lamp-1', 'shoe-2')")
    db.close()
    key = make_key(index_dir, "investigator")
    with thread_server(index_dir) as url, httpx.Client(base_url=url, timeout=60,
                                                        headers={"Authorization": f"Bearer {key}"}) as client:
        assert client.get("/v1/items/mug-1").status_code == 200
        error = json_error(client.get("/v1/items/lamp-1"), 404)
        assert error["code"] == "unreadable_record" and "cannot be read back" in error["message"]
        for path in ("/v1/items/shoe-1/similar", "/v1/items/mug-1/similar", "/v1/items/bag-2/counterfeit",
                     "/v1/items/shoe-1/group", "/v1/accounts/seller-f/items"):
            assert client.get(path).status_code == 200, path
        assert [i["item_id"] for i in client.get("/v1/accounts/seller-f/items").json()["items"]] == ["mug-1"]
        members = [m["item_id"] for m in client.get("/v1/items/shoe-1/group").json()["members"]]
        assert "shoe-2" not in members  # its record is damaged: left out of shoe-1's group
    for command in ("counterfeits", "duplicates", "findings"):
        run_simgov(command, "--index", str(index_dir), "--out", str(tmp_path / f"{command}.jsonl"))


def test_the_audit_trail_keeps_bounded_entries_and_records_verdict_reads(api):
    client, keys = api
    long_id, long_name = "x" * 20_000, "p" * 20_000
    json_error(client.get(f"/v1/items/{long_id}", params={long_name: "v" * 5_000}, headers=keys["investigator"]), 404)
    client.get("/v1/verdicts", params={"kind": "pair"}, headers=keys["investigator"])
    entries = client.get("/v1/audit", params={"limit": 5}, headers=keys["admin"]).json()["entries"]
    verdicts, lookup = entries[0], entries[1]
    assert verdicts["endpoint"] == "GET /v1/verdicts" and verdicts["detail"] == {"kind": "pair"}
    assert lookup["endpoint"] == "GET /v1/items/{item_id}" and lookup["ids"] == ["x" * 256]
    assert lookup["detail"] == {"p" * 64: "v" * 256}


def test_no_bank_takes_the_pictures_of_a_reference_listing(api):
    client, keys = api
    pictures = [p["pdq"] for p in client.get("/v1/items/bag-1", headers=keys["investigator"])
                .json()["signals"]["image"]["pictures"]]
    other = [p["pdq"] for p in client.get("/v1/items/mug-1", headers=keys["investigator"])
             .json()["signals"]["image"]["pictures"]]
    client.post("/v1/banks", json={"name": "careless"}, headers=keys["admin"])
    added = client.post("/v1/banks/careless/entries", headers=keys["admin"], json={"entries": [
        {"kind": "pdq", "value": value} for value in pictures + other[:1]]}).json()
    assert added["added"] == 1  # only mug-1's picture: bag-1 is seller-c's reference listing for Maison Ore
    client.post("/v1/bank-hits/scan", headers=keys["admin"])
    assert client.get("/v1/items/bag-1", headers=keys["investigator"]).json()["bank_hits"] == []


@pytest.mark.browser
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian's chromium is not installed")
def test_the_console_shows_direction_overrides_as_visible_marks(tmp_path):
    from playwright.sync_api import sync_playwright

    # its own copy of the market: not a second server in this process on the index the module's serves
    index_dir = copy_market(tmp_path / "market")
    keys = {role: make_key(index_dir, role) for role in ("ingest", "investigator")}
    item = {"item_id": "bidi-title", "seller_id": "seller-x", "title": "Leather bag \u202eevil"}
    with thread_server(index_dir) as url, sync_playwright() as pw:
        assert httpx.put(f"{url}/v1/items", json={"items": [item]},
                         headers={"Authorization": f"Bearer {keys['ingest']}"}).status_code == 200
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(f"{url}/ui")
            page.locator("#key-gate").wait_for(state="visible")
            page.fill("#key-input", keys["investigator"])
            page.click("#key-form button")
            page.evaluate("() => { location.hash = '#/item/bidi-title'; }")
            heading = page.locator("#item-card[data-item='bidi-title'] h2")
            heading.wait_for()
            assert heading.inner_text() == "Leather bag <U+202E>evil"
        finally:
            browser.close()
