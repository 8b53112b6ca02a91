"""A bounded mixed load on loopback against a real `simgov serve`, then the checks that matter.

    .venv/bin/python -m scripts.soak [--index DIR] [--seconds 15] [--clients 8] [--workers 1]

For a fixed time, `--clients` threads (each with its own investigator and ingest keys) send a mix
of item lookups, `similar` lookups, searches by text and by picture, and batch upserts (new items
and updates of their own earlier ones). A write answered 503 `busy` (the server's cap on concurrent
writes; nothing applied) is sent again after its Retry-After, as a client should, and counted (its
latency includes the wait). Then: no answer may be a 5xx or a dropped connection, every
acknowledged write must be served as acknowledged, and the latency percentiles of each kind of
request are reported (after one untimed warm-up request, as the server loads its models lazily).
The soak writes into the index it serves: give it a copy. Without `--index`, a small marketplace
(120 listings, a third with pictures) is generated and built first with the default settings.
Prints a JSON summary on stdout; exit status 1 when a check fails.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx

from scripts.kill_build import draw, make_catalogue
from simgov.build.local import build
from simgov.keys import KeyStore
from simgov.storage.items import Store

REPO = Path(__file__).resolve().parents[1]
SIMGOV = str(Path(sys.executable).with_name("simgov"))

#: Share of each kind of request in the mix.
MIX = {"lookup": 0.35, "similar": 0.25, "search_text": 0.15, "search_image": 0.05, "upsert": 0.20}
#: Times a write answered 503 busy is sent again before its 503 counts as a server error.
BUSY_RETRIES = 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(index: Path, workers: int, log) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([SIMGOV, "serve", "--index", str(index), "--port", str(port),
                             "--workers", str(workers), "--log-level", "warning"], cwd=REPO, stdout=log, stderr=log,
                            env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"simgov serve exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("simgov serve did not come up in 120 s")


class Client(threading.Thread):
    """One user: its own keys, its own item id space (so its updates have a known last version)."""

    def __init__(self, n: int, url: str, keys: tuple[str, str], item_ids: list[str], picture: bytes,
                 deadline: float, seed: int):
        super().__init__(daemon=True)
        self.n, self.url, self.item_ids, self.picture, self.deadline = n, url, item_ids, picture, deadline
        self.reader = {"Authorization": f"Bearer {keys[0]}"}
        self.writer = {"Authorization": f"Bearer {keys[1]}"}
        self.rng = random.Random(seed)
        self.samples: list[tuple[str, int, float]] = []  # (kind, status or 0 for a dropped connection, seconds)
        self.acked: dict[str, str] = {}  # item id -> title of its last acknowledged version
        self.written = 0
        self.busy = 0  # writes answered 503 busy (nothing applied, retry after): sent again

    def put_items(self, client: httpx.Client, rows: list[dict]) -> httpx.Response:
        """PUT /v1/items as a well-behaved client: a 503 `busy` (the server's cap on concurrent writes;
        nothing applied) is sent again after its Retry-After (times 1 to 2, so that the waiting writers
        spread out), up to BUSY_RETRIES times."""
        for _ in range(BUSY_RETRIES):
            response = client.put("/v1/items", json={"items": rows}, headers=self.writer)
            if response.status_code != 503 or response.json().get("error", {}).get("code") != "busy":
                return response
            self.busy += 1
            time.sleep(float(response.headers.get("retry-after", "1")) * (1 + self.rng.random()))
        return client.put("/v1/items", json={"items": rows}, headers=self.writer)

    def request(self, client: httpx.Client) -> tuple[str, httpx.Response | None]:
        kind = self.rng.choices(list(MIX), weights=list(MIX.values()))[0]
        item = self.rng.choice(self.item_ids)
        try:
            if kind == "lookup":
                return kind, client.get(f"/v1/items/{item}", headers=self.reader)
            if kind == "similar":
                return kind, client.get(f"/v1/items/{item}/similar", params={"k": 10}, headers=self.reader)
            if kind == "search_text":
                words = " ".join(self.rng.sample(["red", "shoe", "leather", "bag", "lamp", "steel", "bottle", "mug",
                                                  "wireless", "black", "wool", "desk"], 3))
                return kind, client.post("/v1/search", data={"text": words}, headers=self.reader)
            if kind == "search_image":
                return kind, client.post("/v1/search", files={"image": ("q.jpg", self.picture, "image/jpeg")},
                                         headers=self.reader)
            rows = []
            for _ in range(self.rng.randint(1, 3)):
                if self.acked and self.rng.random() < 0.3:  # update one of this client's own items
                    item_id = self.rng.choice(sorted(self.acked))
                else:
                    self.written += 1
                    item_id = f"soak-{self.n}-{self.written}"
                rows.append({"item_id": item_id, "seller_id": f"soak-seller-{self.n}",
                             "title": f"soak listing {item_id} version {self.rng.randrange(10**9)} {item} copy"})
            latest = {r["item_id"]: r["title"] for r in rows}
            response = self.put_items(client, rows)
            if response.status_code == 200:
                self.acked.update(latest)
            return kind, response
        except httpx.TransportError:
            return kind, None

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as client:
            while time.monotonic() < self.deadline:
                started = time.perf_counter()
                kind, response = self.request(client)
                self.samples.append((kind, response.status_code if response is not None else 0,
                                     time.perf_counter() - started))


def percentiles(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    at = lambda q: values[min(len(values) - 1, int(q * len(values)))] * 1000  # noqa: E731
    return {"n": len(values), "p50_ms": round(at(0.50), 1), "p95_ms": round(at(0.95), 1),
            "p99_ms": round(at(0.99), 1), "max_ms": round(values[-1] * 1000, 1)}


def picture_bytes() -> bytes:
    out = io.BytesIO()
    draw(3, 256).save(out, format="JPEG", quality=85)
    return out.getvalue()


def make_index(work: Path) -> Path:
    items = make_catalogue(work / "data", 120)
    build(items, work / "index")
    return work / "index"


def soak(index: Path, seconds: float, clients: int, workers: int) -> dict:
    with sqlite3.connect(index / "store.sqlite") as db:
        item_ids = [r[0] for r in db.execute("SELECT item_id FROM items WHERE deleted=0 ORDER BY item_id")]
    store = Store(index)
    keystore = KeyStore(store)
    keys = [(keystore.create("investigator", f"soak {n}"), keystore.create("ingest", f"soak {n}"))
            for n in range(clients)]
    log = tempfile.TemporaryFile()
    proc, url = start_server(index, workers, log)
    try:
        picture = picture_bytes()
        warm = {"Authorization": f"Bearer {keys[0][0][0]}"}  # the server loads its models at first use: not timed
        httpx.post(f"{url}/v1/search", data={"text": "warm up"}, files={"image": ("q.jpg", picture, "image/jpeg")},
                   headers=warm, timeout=300)
        httpx.get(f"{url}/v1/items/{item_ids[0]}/similar", headers=warm, timeout=300)
        deadline = time.monotonic() + seconds
        threads = [Client(n, url, (r[0], w[0]), item_ids, picture, deadline, seed=n) for n, (r, w) in enumerate(keys)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        acked = {k: v for t in threads for k, v in t.acked.items()}
        missing = []
        with httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {keys[0][0][0]}"}) as client:
            for item_id, title in acked.items():
                response = client.get(f"/v1/items/{item_id}")
                if response.status_code == 429:  # the checking key's own limit: wait, then ask again
                    time.sleep(int(response.headers.get("retry-after", "1")))
                    response = client.get(f"/v1/items/{item_id}")
                if response.status_code != 200 or response.json()["item"]["title"] != title:
                    missing.append(item_id)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        for r, w in keys:
            keystore.revoke(r[1].key_id)
            keystore.revoke(w[1].key_id)
        store.close()
    samples = [s for t in threads for s in t.samples]
    statuses: dict[str, int] = defaultdict(int)
    by_kind: dict[str, list[float]] = defaultdict(list)
    for kind, status, elapsed in samples:
        statuses[str(status)] += 1
        by_kind[kind].append(elapsed)
    server_errors = sum(n for s, n in statuses.items() if s == "0" or s.startswith("5"))
    if server_errors or missing:
        log.seek(0)
        print(log.read().decode(errors="replace")[-4000:], file=sys.stderr)
    log.close()
    return {"seconds": seconds, "clients": clients, "workers": workers, "items_at_start": len(item_ids),
            "requests": len(samples), "requests_per_second": round(len(samples) / seconds, 1),
            "statuses": dict(sorted(statuses.items())), "server_errors_or_dropped": server_errors,
            "writes_busy_and_resent": sum(t.busy for t in threads),
            "acknowledged_items": len(acked), "acknowledged_missing": len(missing),
            "latency": {kind: percentiles(values) for kind, values in sorted(by_kind.items())},
            "ok": server_errors == 0 and not missing and bool(acked)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, help="an index folder to serve (default: a small one built first)")
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    work = None
    if args.index is None:
        work = Path(tempfile.mkdtemp(prefix="simgov-soak-"))
        print("building a small index ...", file=sys.stderr)
        args.index = make_index(work)
    try:
        summary = soak(args.index, args.seconds, args.clients, args.workers)
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(summary))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
