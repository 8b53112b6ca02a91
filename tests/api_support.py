"""Shared by the API and console tests: a small marketplace with drawn pictures, built once per test
process, and a real uvicorn server on a free loopback port.

Not a conftest: the built index is cached at module level, so every test module that imports this
one shares one build (the text model loads once), and tests that write get a copy of it.
"""
from __future__ import annotations

import atexit
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def draw_picture(seed: int, size: int = 320) -> Image.Image:
    """A detailed, deterministic product-like picture (enough structure for a good PDQ quality)."""
    rng = random.Random(seed)
    img = Image.new("RGB", (size, size), tuple(rng.randrange(150, 256) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    for _ in range(14):
        x0, y0 = rng.randrange(0, size - 40), rng.randrange(0, size - 40)
        x1, y1 = x0 + rng.randrange(30, size // 2), y0 + rng.randrange(30, size // 2)
        colour = tuple(rng.randrange(0, 200) for _ in range(3))
        shape = rng.choice(("rect", "ellipse", "line"))
        if shape == "rect":
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        elif shape == "ellipse":
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.line((x0, y0, x1, y1), fill=colour, width=rng.randrange(3, 12))
    return img


#: (item_id, seller_id, title, picture seed or None, edit, extra fields)
ITEMS = [
    ("shoe-1", "seller-a", "Red running shoe, size 42, breathable mesh", 1, None,
     {"brand": "Fleetfoot", "price": 89.0}),
    ("shoe-2", "seller-a", "Red running shoe size 42 breathable mesh", 1, "jpeg",
     {"brand": "Fleetfoot", "price": 85.0}),
    ("shoe-3", "seller-b", "Red running shoe - size 42 - breathable mesh", 1, "crop",
     {"brand": "Fleetfoot", "price": 30.0}),
    ("bag-1", "seller-c", "Brown leather handbag with gold buckle", 2, None, {"brand": "Maison Ore", "price": 420.0,
                                                                            "reference": True}),
    ("bag-2", "seller-d", "Brown leather hand bag, gold buckle", 2, "resize", {"brand": "Maison Ore", "price": 60.0}),
    ("phones-1", "seller-e", "Wireless over-ear headphones, black, noise cancelling", 3, None, {"price": 199.0}),
    ("mug-1", "seller-f", "Ceramic coffee mug 350 ml, blue glaze", 4, None, {"price": 12.5, "currency": "EUR"}),
    ("lamp-1", "seller-f", "Brass desk lamp with green shade", 5, None, {"category": "home/lighting"}),
    ("text-only", "seller-g", "Vintage paperback novel, first edition", None, None, {}),
    ("broken-pic", "seller-g", "Garden hose 20 m", "broken", None, {}),
]


#: Sellers; seller-b and seller-d are one person (same phone and payout account, near-same name).
ACCOUNTS = [
    {"account_id": "seller-a", "kind": "merchant", "display_name": "Fleetfoot Official Store", "handle": "fleetfoot",
     "authorized_brands": ["Fleetfoot"], "email": "shop@fleetfoot.example", "address": "1 Harbour Road, Portsmouth"},
    {"account_id": "seller-b", "kind": "merchant", "display_name": "Bargain Barn Kicks", "handle": "bargainbarn",
     "email": "barn.deals@mail.example", "phone": "+44 7700 900123", "payout_account": "GB33BUKB20201555555555",
     "address": "Unit 4, 17 Mill Lane, Leeds LS1 4AP"},
    {"account_id": "seller-c", "kind": "merchant", "display_name": "Maison Ore", "handle": "maisonore",
     "authorized_brands": ["Maison Ore"], "email": "contact@maisonore.example", "address": "8 Rue du Bac, Paris"},
    {"account_id": "seller-d", "kind": "merchant", "display_name": "Bargain Barn Bags", "handle": "bargainbarn2",
     "email": "bags.barn@mail.example", "phone": "+44 7700 900123", "payout_account": "GB33BUKB20201555555555",
     "address": "Unit 4, 17 Mill Lane, Leeds LS1 4AP"},
    {"account_id": "seller-e", "kind": "merchant", "display_name": "Sound Supply", "handle": "soundsupply",
     "email": "hello@soundsupply.example", "address": "22 Canal Street, Manchester"},
    {"account_id": "seller-f", "kind": "creator", "display_name": "Clay and Brass", "handle": "clayandbrass",
     "email": "studio@clayandbrass.example", "address": "3 Kiln Yard, Stoke"},
]


def make_marketplace(folder: Path) -> Path:
    """Items and accounts files and pictures under `folder`; returns the items file."""
    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    rows = []
    for item_id, seller, title, seed, edit, extra in ITEMS:
        row = {"item_id": item_id, "seller_id": seller, "title": title, "description": f"{title}. Ships in 2 days.",
               **extra}
        if seed == "broken":
            (images / f"{item_id}.jpg").write_bytes(b"this is not a picture")
            row["images"] = [f"images/{item_id}.jpg"]
        elif seed is not None:
            img = draw_picture(seed)
            if edit == "crop":
                img = img.crop((8, 8, 312, 312)).resize((320, 320))
            elif edit == "resize":
                img = img.resize((200, 200))
            img.save(images / f"{item_id}.jpg", quality=70 if edit == "jpeg" else 92)
            draw_picture(seed + 100).save(images / f"{item_id}-back.png")
            row["images"] = [f"images/{item_id}.jpg", f"images/{item_id}-back.png"]
        rows.append(row)
    items_file = folder / "items.jsonl"
    items_file.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (folder / "accounts.jsonl").write_text("".join(json.dumps(a) + "\n" for a in ACCOUNTS), encoding="utf-8")
    return items_file


_BUILT: Path | None = None
_LOCK = threading.Lock()


def built_market() -> Path:
    """A marketplace folder with `items.jsonl`, `images/` and a built `index/`, made once per process."""
    global _BUILT
    with _LOCK:
        if _BUILT is None:
            from simgov.build.local import build

            root = Path(tempfile.mkdtemp(prefix="simgov-api-test-"))
            atexit.register(shutil.rmtree, root, True)
            items_file = make_marketplace(root / "market")
            build(items_file, root / "market" / "index", accounts_file=items_file.parent / "accounts.jsonl")
            _BUILT = root / "market"
        return _BUILT


def copy_market(dest: Path) -> Path:
    """A private copy of the built marketplace (its data root moves with it); returns the index folder."""
    src = built_market()
    shutil.copytree(src, dest)
    manifest_path = dest / "index" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["data_roots"] = [str(dest.resolve())]
    manifest_path.write_text(json.dumps(manifest))
    return dest / "index"


def make_key(index_dir: Path, role: str) -> str:
    from simgov.keys import KeyStore
    from simgov.storage.items import Store

    store = Store(index_dir)
    try:
        return KeyStore(store).create(role, f"test {role}")[0]
    finally:
        store.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def thread_server(index_dir: Path, **app_options) -> Iterator[str]:
    """`create_app` served by a real uvicorn server in a thread of this process; yields its base URL."""
    import uvicorn

    from simgov.api.app import create_app

    port = free_port()
    config = uvicorn.Config(create_app(index_dir, **app_options), host="127.0.0.1", port=port,
                            log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120  # the index (and its text model) opens at startup: slow on a loaded machine
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def server_process(index_dir: Path, *extra: str, env: dict[str, str] | None = None, log_level: str = "warning",
                   timeout: float = 90) -> Iterator[tuple[subprocess.Popen, str, Path]]:
    """`simgov serve` in a subprocess; yields (process, base URL, log file). Stopped (or reaped, when a
    test killed it) on exit."""
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})}
    log_path = Path(tempfile.mkstemp(prefix="simgov-serve-", suffix=".log")[1])
    log = log_path.open("wb")
    proc = subprocess.Popen([PYTHON, "-m", "simgov.cli", "serve", "--index", str(index_dir), "--port", str(port),
                             "--log-level", log_level, *extra], cwd=REPO, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"simgov serve exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("simgov serve did not come up")
            time.sleep(0.2)
        yield proc, url, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        log_path.unlink(missing_ok=True)


@contextmanager
def cli_server(index_dir: Path, *extra: str, timeout: float = 90) -> Iterator[str]:
    """`simgov serve` in a subprocess (a real process restart between uses); yields its base URL."""
    with server_process(index_dir, *extra, timeout=timeout) as (_, url, _):
        yield url
