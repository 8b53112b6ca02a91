"""A short run of `python -m scripts.soak`: mixed concurrent load on a real `simgov serve`, no 5xx, no lost write."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from api_support import REPO
from scripts import kill_build


@pytest.mark.slow
def test_short_soak_holds(tmp_path):
    from simgov.build.local import build
    from simgov.config import Config

    items = kill_build.make_catalogue(tmp_path / "data", 120)
    config = Config.model_validate({"text_model": {
        "engine": "static", "static_path": str(kill_build.make_static_model(tmp_path / "model"))}})
    build(items, tmp_path / "index", config)
    proc = subprocess.run([sys.executable, "-m", "scripts.soak", "--index", str(tmp_path / "index"), "--seconds", "12",
                           "--clients", "6"], cwd=REPO, capture_output=True, text=True, timeout=300)
    summary = json.loads(proc.stdout)
    assert proc.returncode == 0 and summary["ok"], (summary, proc.stderr[-3000:])
    assert summary["server_errors_or_dropped"] == 0 and summary["acknowledged_missing"] == 0
    assert summary["requests"] >= 100 and summary["acknowledged_items"] >= 10
    assert set(summary["latency"]) == {"lookup", "similar", "search_text", "search_image", "upsert"}
    assert all(v["p50_ms"] <= v["p95_ms"] <= v["p99_ms"] <= v["max_ms"] for v in summary["latency"].values())
