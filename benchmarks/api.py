"""Latency and throughput of lookups by id over loopback, next to in-process search.

    .venv/bin/python -m benchmarks.api                       # 100k items, 8 clients, 1 worker
    .venv/bin/python -m benchmarks.api --index /tmp/bench100k --workers 2 --clients 16
    .venv/bin/python -m benchmarks.api --index /tmp/bench100k --endpoint item   # GET /v1/items/{id}

`--endpoint similar` (default) times `GET /v1/items/{id}/similar` (neighbours, scored and explained);
`--endpoint item` times `GET /v1/items/{id}` (the stored item, its signals and bank hits).

Builds (or reuses, with --index) a synthetic index of N listings: product families of five
listings each (copies and re-listings across sellers). Title vectors are random normalised
vectors around a per-family centre, written straight through the store and index API instead of
encoding 100k titles with the model; the lexical text signal is computed from the synthetic
titles by the real signal, and with `--pictures N` the first N families get a drawn picture
fingerprinted by the real image signal. The server is the real one (`simgov serve`, an investigator key, the
audit trail written on every lookup); the load generator is asyncio + aiohttp on the same machine,
so it shares the cores with the server. The server builds the index's kept neighbour lists at its start when
the generation has none (simgov.neighbours; a reused --index keeps them); the timing starts once they are on
disk. In the same run, after the server has stopped, the same
lookups are timed in-process: the full `SimIndex.similar` and the bare FAISS searches under it.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import aiohttp  # noqa: E402
import faiss  # noqa: E402
import httpx  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

from simgov.config import Config  # noqa: E402
from simgov.errors import IndexMismatch  # noqa: E402
from simgov.generations import read_manifest  # noqa: E402
from simgov.index import SimIndex  # noqa: E402
from simgov.keys import KeyStore  # noqa: E402
from simgov.neighbours import NeighbourLists  # noqa: E402
from simgov.schema import Item  # noqa: E402
from simgov.signals import BuildContext  # noqa: E402
from simgov.storage.items import ItemWrite  # noqa: E402

FAMILY = 5
BRANDS = ["Altura", "Fenwick", "Halden", "Maison Aurel", "Orbis", "Rivet", "Tessaro", "Yarrow", "Kestrel", "Lumen",
          "Norvik", "Palisade", "Quill", "Sable", "Torrent", "Umbra", "Vireo", "Wexford", "Zephyr", "Brightwater"]
TYPES = [("smartphone", "GB"), ("wristwatch", "mm"), ("handbag", "cm"), ("sneaker", "EU"), ("headphones", "mm"),
         ("coffee mug", "ml"), ("desk lamp", "W"), ("backpack", "L"), ("sunglasses", "mm"), ("water bottle", "ml")]
COLOURS = ["black", "white", "red", "blue", "green", "grey", "brown", "pink", "yellow", "orange"]
NOISE = ["", "NEW", "sale", "free shipping", "original", "top condition", "fast dispatch", "genuine", "2024", "bundle"]


def listing_title(rng: random.Random, family: int) -> tuple[str, str]:
    frng = random.Random(family)
    brand, (kind, unit), colour = frng.choice(BRANDS), frng.choice(TYPES), frng.choice(COLOURS)
    model = f"{brand[:2].upper()}-{frng.choice('ABCDEFGHKLMNPRSTVX')}{frng.randrange(10, 999)}"
    size = f"{frng.randrange(2, 60) * 5} {unit}"
    parts = [brand, kind, model, colour, size]
    head, tail = parts[:2], parts[2:]
    rng.shuffle(tail)
    extra = rng.choice(NOISE)
    return " ".join(head + tail + ([extra] if extra else [])), brand


def draw(seed: int, size: int = 256) -> Image.Image:
    rng = random.Random(seed)
    img = Image.new("RGB", (size, size), tuple(rng.randrange(120, 256) for _ in range(3)))
    pen = ImageDraw.Draw(img)
    for _ in range(16):
        x0, y0 = rng.randrange(0, size - 30), rng.randrange(0, size - 30)
        box = (x0, y0, x0 + rng.randrange(20, size // 2), y0 + rng.randrange(20, size // 2))
        colour = tuple(rng.randrange(0, 200) for _ in range(3))
        getattr(pen, rng.choice(("rectangle", "ellipse")))(box, fill=colour)
    return img


def build_synthetic(folder: Path, n_items: int, n_pictures: int, seed: int) -> None:
    """Write the synthetic index through the store and index API (see the module docstring)."""
    started = time.monotonic()
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "images").mkdir(parents=True)
    index = SimIndex.open(folder, create_with=Config())
    title, text, image = index.signals["title"], index.signals["text"], index.signals["image"]
    dim = title.index.dim
    rng, nrng = random.Random(seed), np.random.default_rng(seed)
    families = n_items // FAMILY
    n_sellers = max(50, n_items // 20)
    ctx = BuildContext(data_roots=[folder])
    picture_blobs: dict[int, bytes] = {}
    for f in range(min(n_pictures, families)):
        draw(seed * 1_000_003 + f).save(folder / "images" / f"{f}.jpg", quality=85)
    batch = 5000
    for start in range(0, families * FAMILY, batch):
        items, title_blobs = [], []
        for i in range(start, min(start + batch, families * FAMILY)):
            f = i // FAMILY
            centre = np.random.default_rng(f).standard_normal(dim).astype(np.float32)
            centre /= np.linalg.norm(centre)
            vec = centre + nrng.standard_normal(dim).astype(np.float32) * 0.02
            title_blobs.append((vec / np.linalg.norm(vec)).astype(np.float32).tobytes())
            name, brand = listing_title(rng, f)
            items.append(Item(item_id=f"it-{i:07d}", seller_id=f"s-{rng.randrange(n_sellers):05d}", title=name,
                              brand=brand, price=round(rng.uniform(5, 500), 2), currency="EUR",
                              images=[f"images/{f}.jpg"] if f < n_pictures else []))
        text_out = text.compute(items, ctx)
        need = {}  # one listing per family whose picture is not fingerprinted yet
        for it in items:
            f = int(it.item_id[3:]) // FAMILY
            if it.images and f not in picture_blobs:
                need.setdefault(f, it)
        for f, out in zip(need, image.compute(list(need.values()), ctx)):
            picture_blobs[f] = out.blob
        writes = []
        for item, tblob, tout in zip(items, title_blobs, text_out):
            blobs = {"title": tblob}
            if tout.blob is not None:
                blobs["text"] = tout.blob
            f = int(item.item_id[3:]) // FAMILY
            if f in picture_blobs and picture_blobs[f] is not None:
                blobs["image"] = picture_blobs[f]
            writes.append(ItemWrite(item, item.content_hash(), blobs, []))
        index.write(writes, live=False)
        print(f"  stored {start + len(items):,} / {families * FAMILY:,} items ({time.monotonic() - started:.0f} s)",
              file=sys.stderr)
    index.rebuild_structures()
    index.publish(extra={"data_roots": [str(folder.resolve())], "bench": {"items": families * FAMILY,
                                                                           "pictures": n_pictures, "seed": seed}})
    index.close()
    print(f"  built in {time.monotonic() - started:.0f} s", file=sys.stderr)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q)) * 1000


ENDPOINTS = {"similar": "/v1/items/{}/similar", "item": "/v1/items/{}"}


async def load(url: str, key: str, ids: list[str], clients: int, k: int,
               endpoint: str) -> tuple[list[float], float, int]:
    """`clients` concurrent keep-alive connections; each sends its share of the lookups in turn.
    aiohttp, not httpx: the load generator shares the cores with the server, and httpx spent about
    three times as much CPU per request (208 against 617 requests/s on /healthz, same run)."""
    latencies: list[float] = []
    errors = 0
    queue = list(ids)

    async def client() -> None:
        nonlocal errors
        async with aiohttp.ClientSession(url, headers={"Authorization": f"Bearer {key}"},
                                         connector=aiohttp.TCPConnector(limit=1),
                                         timeout=aiohttp.ClientTimeout(total=600)) as http:
            while queue:
                item_id = queue.pop()
                t = time.perf_counter()
                try:
                    async with http.get(ENDPOINTS[endpoint].format(item_id),
                                        params={"k": k} if endpoint == "similar" else None) as response:
                        await response.read()
                        errors += response.status != 200
                except aiohttp.ClientError:
                    errors += 1
                latencies.append(time.perf_counter() - t)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, time.perf_counter() - started, errors


def server_cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system) of the server process and its worker processes so far, from
    /proc (None where there is none): the cost per request, whatever the machine's load does to
    the rate."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                    for c in (task / "children").read_text().split()]
    except OSError:
        return None
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return own + sum(c for child in children if (c := server_cpu_s(child)) is not None)


def wait_for_kept_lists(folder: Path, server: subprocess.Popen, timeout_s: float = 3600) -> float:
    """Seconds until the server's kept neighbour lists (simgov.neighbours, built at its start when the
    generation has none) are on disk: lookups are timed as they run from then on, and the build's
    CPU does not weigh on either endpoint's figure."""
    manifest = read_manifest(folder)
    fetch = Config.model_validate(manifest["config"]).search.candidates_per_signal + 1
    path = NeighbourLists.path(folder, manifest["generation"], fetch)
    started = time.monotonic()
    while not path.exists():
        if server.poll() is not None or time.monotonic() - started > timeout_s:
            raise SystemExit(f"the server made no kept neighbour lists ({path})")
        time.sleep(0.5)
    return time.monotonic() - started


def reusable_synthetic(folder: Path, manifest: dict | None, args) -> bool:
    """Whether `folder` holds the synthetic index these arguments ask for, built by this code."""
    if not manifest or manifest.get("bench") != {"items": args.items // FAMILY * FAMILY, "pictures": args.pictures,
                                                 "seed": args.seed}:
        return False
    try:
        SimIndex.open(folder).close()
    except IndexMismatch as exc:  # built by another version of a signal
        print(f"rebuilding: {exc}", file=sys.stderr)
        return False
    return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--pictures", type=int, default=0,
                    help="families with a drawn picture (5 listings each), for the image signal (default none)")
    ap.add_argument("--index", type=Path, help="index folder to build or reuse (default: a temporary folder)")
    ap.add_argument("--as-is", action="store_true",
                    help="measure the --index folder as it is (any built index, e.g. a bulk build's): never build it")
    ap.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    ap.add_argument("--requests", type=int, default=2000, help="timed lookups (after 100 warm-up ones)")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument("--endpoint", choices=sorted(ENDPOINTS), default="similar",
                    help="similar: neighbours by id (default); item: the stored item by id")
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    temp = None
    folder = args.index
    if folder is None:
        temp = tempfile.mkdtemp(prefix="simgov-bench-")
        folder = Path(temp) / "index"
    manifest = read_manifest(folder) if folder.exists() else None
    if args.as_is:
        if not manifest:
            raise SystemExit(f"--as-is: no built index in {folder}")
    elif not reusable_synthetic(folder, manifest, args):
        print(f"building a synthetic index of {args.items:,} items in {folder} ...", file=sys.stderr)
        build_synthetic(folder, args.items, args.pictures, args.seed)
    try:
        return run(folder, args)
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)


def run(folder: Path, args) -> int:
    index = SimIndex.open(folder)
    key = KeyStore(index.store).create("investigator", "benchmarks.api")[0]
    rng = random.Random(args.seed + 1)
    all_ids = [r[0] for r in index.store.connection().execute("SELECT item_id FROM items WHERE deleted=0")]
    sizes = {name: s.size() for name, s in index.signals.items()}
    index.close()
    ids = [rng.choice(all_ids) for _ in range(args.requests + 100)]

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # The per-key rate limit is off: this measures what the server can answer, not the policy.
    server = subprocess.Popen([sys.executable, "-m", "simgov.cli", "serve", "--index", str(folder), "--port", str(port),
                               "--workers", str(args.workers), "--log-level", "warning"], cwd=REPO,
                              env={**os.environ, "SIMGOV_RATE_PER_SECOND": "0"})
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.5)
        kept_after = wait_for_kept_lists(folder, server)
        # warm-up: every worker, every code path
        asyncio.run(load(url, key, ids[:100], args.clients, args.k, args.endpoint))
        cpu_before = server_cpu_s(server.pid)
        latencies, wall, errors = asyncio.run(load(url, key, ids[100:], args.clients, args.k, args.endpoint))
        cpu_after = server_cpu_s(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    # In-process, same lookups, server stopped: the library call and the FAISS searches under it.

    faiss.omp_set_num_threads(1)  # as in the server
    index = SimIndex.open(folder)
    sample = ids[100:100 + min(500, args.requests)]
    lib, title_search, image_search = [], [], []
    fetch = max(args.k, index.config.search.candidates_per_signal) + 1
    for item_id in sample:
        t = time.perf_counter()
        if args.endpoint == "similar":
            index.similar(item_id, k=args.k)
        else:
            stored = index.item(item_id)
            index.item_blobs([stored.vec_id])
        lib.append(time.perf_counter() - t)
        vec = index.item(item_id).vec_id
        blobs = index.item_blobs([vec])[vec]
        t = time.perf_counter()
        index.signals["title"].search([blobs["title"]], fetch)
        title_search.append(time.perf_counter() - t)
        if "image" in blobs:
            t = time.perf_counter()
            index.signals["image"].search([blobs["image"]], fetch)
            image_search.append(time.perf_counter() - t)
    title_kind = index.signals["title"].index.kind
    index.close()

    server_ms = None if cpu_before is None or cpu_after is None else (cpu_after - cpu_before) / len(latencies) * 1000
    rows = [(f"GET {ENDPOINTS[args.endpoint].format('{id}')} over HTTP", latencies, len(latencies) / wall),
            ("SimIndex.similar in-process" if args.endpoint == "similar" else "SimIndex.item + blobs in-process",
             lib, None),
            (f"FAISS title search ({title_kind}, one query)", title_search, None)]
    if image_search:
        rows.append(("image signal search (1 item's pictures)", image_search, None))
    print(f"\n{sum(1 for _ in all_ids):,} items; entries per signal: "
          + ", ".join(f"{n} {v:,}" for n, v in sizes.items())
          + f"; k={args.k}; {args.clients} clients, {args.workers} worker(s), {os.cpu_count()} CPUs; "
          + f"{len(latencies):,} timed HTTP lookups, {errors} errors; "
          + f"kept neighbour lists ready {kept_after:.0f} s after the server answered"
          + (f"; server CPU {server_ms:.2f} ms a request" if server_ms is not None else ""))
    print(f"{'':44} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
    for name, values, rate in rows:
        print(f"{name:44} {percentile(values, 50):8.2f} {percentile(values, 99):8.2f} "
              f"{(f'{rate:8.1f}' if rate else ''):>8}")
    print(json.dumps({"endpoint": args.endpoint, "items": len(all_ids), "clients": args.clients,
                      "workers": args.workers, "k": args.k,
                      "http_p50_ms": round(percentile(latencies, 50), 2),
                      "http_p99_ms": round(percentile(latencies, 99), 2),
                      "http_rps": round(len(latencies) / wall, 1), "errors": errors,
                      "server_cpu_ms": round(server_ms, 3) if server_ms is not None else None,
                      "kept_lists_wait_s": round(kept_after, 1),
                      "in_process_p50_ms": round(percentile(lib, 50), 2),
                      "title_faiss_p50_ms": round(percentile(title_search, 50), 3),
                      "title_faiss_p99_ms": round(percentile(title_search, 99), 3)}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
