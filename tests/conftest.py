"""Shared fixtures: a small generated catalogue with real pictures, built once per test session."""
from __future__ import annotations

import csv
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from benchmarks.api import build_synthetic

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "testdata"
SIMGOV = str(Path(sys.executable).with_name("simgov"))

PRODUCTS = [
    ("Acme TrailRunner 5 running shoe blue size 42", "shoe"),
    ("Borealis steel water bottle 750 ml green", "bottle"),
    ("Cobalt X200 smartphone 128GB black", "phone"),
    ("Dunmore leather messenger bag brown", "bag"),
    ("Everlight LED desk lamp white 9W", "lamp"),
    ("Fjord wool beanie hat grey", "hat"),
    ("Gamma wireless earbuds noise cancelling", "earbuds"),
    ("Helio 24 inch monitor full HD", "monitor"),
    ("Iris ceramic coffee mug 350ml", "mug"),
    ("Juno kids bicycle 16 inch red", "bicycle"),
    ("Kappa yoga mat 6mm purple", "mat"),
    ("Lumen digital wristwatch waterproof", "watch"),
]


def draw_picture(seed: int, size: int = 256) -> Image.Image:
    """A deterministic picture with enough structure for perceptual hashes to tell it apart."""
    rng = random.Random(seed)
    img = Image.new("RGB", (size, size), tuple(rng.randint(0, 255) for _ in range(3)))
    d = ImageDraw.Draw(img)
    for _ in range(14):
        x0, y0 = rng.randint(0, size - 40), rng.randint(0, size - 40)
        x1, y1 = x0 + rng.randint(20, size // 2), y0 + rng.randint(20, size // 2)
        colour = tuple(rng.randint(0, 255) for _ in range(3))
        (d.ellipse if rng.random() < 0.5 else d.rectangle)([x0, y0, x1, y1], fill=colour)
    return img


def write_abt_buy_items(path: Path, per_shop: int, *, descriptions: bool = True) -> Path:
    """The first `per_shop` listings of each Abt-Buy shop as simgov items (real titles and codes)."""
    with path.open("w", encoding="utf-8") as fh:
        for shop in ("abt", "buy"):
            with open(SHARED / "abt-buy" / f"{shop}.csv", encoding="utf-8", newline="") as src:
                for n, row in enumerate(csv.DictReader(src, delimiter="|")):
                    if n == per_shop:
                        break
                    item = {"item_id": f"{shop}-{row['id']}", "title": row["name"], "seller_id": shop}
                    if descriptions:
                        item["description"] = row.get("description") or ""
                    fh.write(json.dumps(item) + "\n")
    return path


def synthetic_look_alikes(tmp_path_factory, name: str, seed: int) -> Path:
    """benchmarks.api's synthetic catalogue of look-alike product families, built once per module:
    400 listings, 80 families of 5 among 50 sellers, 12 families pictured."""
    folder = tmp_path_factory.mktemp(name) / "index"
    build_synthetic(folder, 400, 12, seed=seed)
    return folder


def write_catalogue(folder: Path) -> Path:
    """Twelve products from distinct sellers, a same-seller re-listing and a cross-seller copy."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    rows = []
    for n, (title, kind) in enumerate(PRODUCTS):
        draw_picture(n).save(folder / "images" / f"p{n}.jpg", quality=92)
        rows.append({"item_id": f"item-{n:02d}", "title": title, "seller_id": f"seller-{n % 6}",
                     "images": [f"images/p{n}.jpg"], "price": 10.0 + n, "category": kind})
    # seller-0 re-lists product 0 with the same photo; seller-5 copies product 2 with a flipped, recompressed photo
    rows.append({"item_id": "relist-00", "title": "TrailRunner 5 running shoe by Acme, blue, size 42",
                 "seller_id": "seller-0", "images": ["images/p0.jpg"], "price": 11.0})
    Image.open(folder / "images" / "p2.jpg").crop((4, 4, 252, 252)).save(folder / "images" / "copy2.jpg", quality=60)
    rows.append({"item_id": "copy-02", "title": "Cobalt X200 smart phone, 128 GB, black", "seller_id": "seller-5",
                 "images": ["images/copy2.jpg"], "price": 5.0})
    items = folder / "items.jsonl"
    items.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return items


@pytest.fixture(scope="session", autouse=True)
def secrets_dir(tmp_path_factory) -> Path:
    """The key store of identifier secrets for the whole suite (its CLI and server subprocesses
    inherit it), so that no test writes keys into the real ~/.config."""
    folder = tmp_path_factory.mktemp("secrets")
    os.environ["SIMGOV_SECRETS_DIR"] = str(folder)
    return folder


def run_simgov(*args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run([SIMGOV, *args], capture_output=True, text=True, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"simgov {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def catalogue(tmp_path_factory) -> Path:
    return write_catalogue(tmp_path_factory.mktemp("catalogue"))


@pytest.fixture(scope="session")
def built_index(catalogue, tmp_path_factory) -> Path:
    """The catalogue built once with the real CLI; tests that write must copy it first."""
    index = tmp_path_factory.mktemp("index") / "idx"
    run_simgov("build", "--items", str(catalogue), "--index", str(index), "--quiet")
    return index


@pytest.fixture
def writable_index(built_index, tmp_path) -> Path:
    copy = tmp_path / "idx"
    shutil.copytree(built_index, copy)
    return copy
