"""Faults: SIGKILL during builds and publishes, readers racing publishes, a full disk and read-only folders,
SIGKILL of the API server. Every case must leave an index equal to a clean build, or the previous one.

Small catalogues and the static title model made by scripts/kill_build.py keep each build well under
a second; faults are real (SIGKILL, RLIMIT_FSIZE, file modes or the immutable attribute), and where a
point inside publishing has to be hit exactly, tests/fault_child.py kills itself there.
"""
from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from api_support import ACCOUNTS, REPO, make_key, make_marketplace, server_process
from conftest import SIMGOV

from scripts import kill_build

CHILD = Path(__file__).resolve().parent / "fault_child.py"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """Items (40 rows, and 60 rows starting with the same 40), a fast config, and clean builds of each."""
    work = tmp_path_factory.mktemp("faults")
    items60 = kill_build.make_catalogue(work / "data", 60, "items60.jsonl")
    items40 = kill_build.make_catalogue(work / "data", 40, "items40.jsonl")
    config = work / "config.json"
    config.write_text(json.dumps({"build_batch_size": 4, "text_model": {
        "engine": "static", "static_path": str(kill_build.make_static_model(work / "model"))}}))
    for name, items in (("clean40", items40), ("clean60", items60)):
        build(items, work / name, config)
    return {"work": work, "items40": items40, "items60": items60, "config": config,
            "clean40": kill_build.snapshot(work / "clean40"), "clean60": kill_build.snapshot(work / "clean60")}


def build(items: Path, index: Path, config: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([SIMGOV, "build", "--items", str(items), "--index", str(index), "--config", str(config),
                           "--quiet"], capture_output=True, text=True, timeout=120, **kw)


def copy_of(small, name: str, dest: Path) -> Path:
    shutil.copytree(small["work"] / name, dest)
    return dest


def published(index: Path) -> dict[str, bytes]:
    """The manifest and every file of its generation, byte for byte."""
    manifest = json.loads((index / "manifest.json").read_text())
    files = {"manifest.json": (index / "manifest.json").read_bytes()}
    for path in (index / "indexes" / manifest["generation"]).iterdir():
        files[path.name] = path.read_bytes()
    return files


def one_clear_line(proc: subprocess.CompletedProcess, start: str) -> None:
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.strip().splitlines()[-1].startswith(start), proc.stderr


# -- SIGKILL during a build -------------------------------------------------------------------------
@pytest.mark.slow
def test_sigkill_at_random_points_always_resumes_to_a_clean_build():
    seed = random.randrange(1 << 30)
    proc = subprocess.run([sys.executable, "-m", "scripts.kill_build", "--trials", "20", "--seed", str(seed)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    summary = json.loads(proc.stdout)
    differing = [r for r in summary["results"] if not r["equal_to_clean"]]
    assert proc.returncode == 0 and summary["all_equal"] and not differing, (seed, differing)
    assert summary["trials"] == 20 and summary["killed_mid_build"] >= 8, (seed, summary)


# -- publishing ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("point", ["files", "generation", "manifest"])
def test_a_crash_mid_publish_leaves_the_previous_index_usable(small, point, tmp_path):
    index = copy_of(small, "clean40", tmp_path / "idx")
    before = published(index)
    child = subprocess.run([sys.executable, str(CHILD), "crash-publish", point, str(small["items60"]), str(index),
                            str(small["config"])], capture_output=True, text=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert published(index) == before  # readers still get the previous generation, whole
    # ... and, with the 20 rows committed before the crash replayed from the store, equal a clean build
    assert kill_build.snapshot(index) == small["clean60"]
    resumed = build(small["items60"], index, small["config"])
    assert resumed.returncode == 0 and "0 encoded, 60 unchanged" in resumed.stderr, resumed.stderr
    assert published(index) != before and kill_build.snapshot(index) == small["clean60"]
    assert [p.name for p in (index / "indexes").iterdir()] == [json.loads((index / "manifest.json").read_text())[
        "generation"]]  # the dead half-published folders are gone


def test_readers_never_see_a_half_written_index(small, tmp_path):
    index = copy_of(small, "clean40", tmp_path / "idx")
    from simgov.index import SimIndex

    writer = subprocess.Popen([sys.executable, str(CHILD), "publish-loop", str(index), "3"], stdout=subprocess.PIPE,
                              text=True)
    long_lived = SimIndex.open(index)
    opened, failures = 0, []
    try:
        while writer.poll() is None:
            try:
                fresh = SimIndex.open(index)
                assert fresh.similar("item-003", k=3)
                fresh.close()
                long_lived.refresh()  # what every API request does
                assert long_lived.similar("item-003", k=3)
                opened += 1
            except Exception as exc:  # noqa: BLE001 - every failure is collected and reported
                failures.append(repr(exc)[:200])
    finally:
        long_lived.close()
    published_rounds = int(writer.stdout.read())
    assert writer.wait() == 0 and failures == [] and opened >= 10 and published_rounds >= 5, (opened, failures)


# -- a full disk and read-only folders --------------------------------------------------------------
def test_a_full_disk_gives_a_clear_error_and_keeps_the_previous_index(small, tmp_path):
    index = copy_of(small, "clean40", tmp_path / "idx")
    before = published(index)
    size = (index / "store.sqlite").stat().st_size

    def small_disk():  # every file of the build may grow to half the store: its writes then fail
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size // 2, size // 2))

    proc = build(small["items60"], index, small["config"], preexec_fn=small_disk)
    one_clear_line(proc, "cannot write the index in")
    assert "the index published before is unchanged" in proc.stderr
    assert published(index) == before
    assert kill_build.snapshot(index)["items"][:40] == small["clean40"]["items"]
    assert build(small["items60"], index, small["config"]).returncode == 0  # space again: it resumes
    assert kill_build.snapshot(index) == small["clean60"]


@contextmanager
def read_only(path: Path):
    """`path` and everything under it made unwritable: by file modes for a normal user; as root, who
    ignores modes, by the immutable attribute (chattr +i); skipped where neither is possible."""
    paths = [path, *path.rglob("*")]
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in paths}
        for p, mode in modes.items():
            p.chmod(mode & ~0o222)
        try:
            yield
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr (e2fsprogs) to make the folder immutable")
    if subprocess.run(["chattr", "-R", "+i", str(path)], capture_output=True).returncode != 0:
        subprocess.run(["chattr", "-R", "-i", str(path)], capture_output=True)
        pytest.skip("running as root on a file system without the immutable attribute")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-R", "-i", str(path)], check=True)


def test_an_unwritable_index_folder_gives_a_clear_error_and_keeps_the_index(small, tmp_path):
    index = copy_of(small, "clean40", tmp_path / "idx")
    before = published(index)
    with read_only(index):
        one_clear_line(build(small["items60"], index, small["config"]), "cannot open the store")
    assert published(index) == before and kill_build.snapshot(index) == small["clean40"]
    # only the generations folder read-only: the rows are stored, publishing fails, the old generation serves
    with read_only(index / "indexes"):
        proc = build(small["items60"], index, small["config"])
        one_clear_line(proc, "cannot publish a new index generation")
        assert "the index published before stays in use" in proc.stderr
        assert published(index) == before and kill_build.snapshot(index) == small["clean60"]
    assert build(small["items60"], index, small["config"]).returncode == 0
    assert published(index) != before and kill_build.snapshot(index) == small["clean60"]


# -- the API server -----------------------------------------------------------------------------------
def raw_forms(value: str) -> set[str]:
    digits = "".join(c for c in value if c.isdigit())
    return {value, value.lower()} | ({digits} if len(digits) >= 9 and "@" not in value else set())


@pytest.mark.slow
def test_acknowledged_writes_survive_sigkill_of_the_server_and_nothing_secret_is_logged(tmp_path, small):
    folder = tmp_path / "market"
    items = make_marketplace(folder)
    index = folder / "index"
    built = subprocess.run([SIMGOV, "build", "--items", str(items), "--accounts", str(folder / "accounts.jsonl"),
                            "--index", str(index), "--config", str(small["config"])], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    keys = {role: make_key(index, role) for role in ("ingest", "investigator", "admin")}
    acked: dict[str, str] = {}
    with server_process(index, log_level="debug") as (proc, url, log_path):
        with httpx.Client(base_url=url, timeout=60) as client:
            for batch in range(5):
                rows = [{"item_id": f"acked-{batch}-{n}", "seller_id": "seller-k", "title": f"kill test {batch} {n}",
                         "images": ["images/lamp-1.jpg"] if n == 0 else []} for n in range(4)]
                response = client.put("/v1/items", json={"items": rows},
                                      headers={"Authorization": f"Bearer {keys['ingest']}"})
                assert response.status_code == 200, response.text
                acked.update({r["item_id"]: r["title"] for r in rows})
            deleted = client.delete("/v1/items/shoe-2", headers={"Authorization": f"Bearer {keys['ingest']}"})
            assert deleted.status_code == 200
            # the disk fills up under the running server (its files may not grow past 64 kB): a clear 503,
            # nothing of the batch stored, and writes work again once there is room
            resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (65536, resource.RLIM_INFINITY))  # soft limit
            big = [{"item_id": f"full-{n}", "seller_id": "s", "title": f"{n} " + "long title " * 150}
                   for n in range(200)]
            ingest = {"Authorization": f"Bearer {keys['ingest']}"}
            refused = client.put("/v1/items", json={"items": big}, headers=ingest)
            assert refused.status_code == 503 and refused.json()["error"]["code"] == "storage_unavailable", refused.text
            resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            again = client.put("/v1/items", json={"items": big[:1]}, headers=ingest)
            assert again.status_code == 200
            acked["full-0"] = big[0]["title"]
            reader = {"Authorization": f"Bearer {keys['investigator']}"}
            assert client.get("/v1/accounts/seller-b/linked", headers=reader).status_code == 200
            assert client.get("/v1/items/acked-4-3", headers=reader).status_code == 200
            wrong_key = {"Authorization": "Bearer sgk_wrongwrong_secret"}
            assert client.get("/v1/items/shoe-1", headers=wrong_key).status_code == 401
        proc.send_signal(signal.SIGKILL)  # no shutdown, no flush: only what was acknowledged
        proc.wait()
        killed_log = log_path.read_text()
    assert proc.returncode == -signal.SIGKILL
    with server_process(index, log_level="debug") as (_, url, log_path):
        with httpx.Client(base_url=url, timeout=60, headers=reader) as client:
            for item_id, title in acked.items():
                response = client.get(f"/v1/items/{item_id}")
                assert response.status_code == 200 and response.json()["item"]["title"] == title, item_id
            assert client.get("/v1/items/shoe-2").status_code == 404
            assert client.get("/v1/items/full-1").status_code == 404  # the refused batch left nothing behind
            near = [n["item_id"] for n in client.get("/v1/items/lamp-1/similar", params={"k": 20}).json()["neighbours"]
                    if n["signals"].get("image") == 1.0]
            assert {f"acked-{b}-0" for b in range(5)} <= set(near)
        restarted_log = log_path.read_text()
    logs = built.stderr + killed_log + restarted_log
    assert logs.count('"logger": "simgov.api.access"') >= 10 and '"key_id"' in logs  # the logs were captured
    secrets = [k for k in keys.values()] + [k.split("_", 2)[2] for k in keys.values()] + ["sgk_wrongwrong_secret"]
    assert [s for s in secrets if s in logs] == []
    identifiers = {v for a in ACCOUNTS for k, v in a.items() if k in ("email", "phone", "payout_account")}
    leaks = [form for value in identifiers for form in raw_forms(value) if form.lower() in logs.lower()]
    assert leaks == []
    stored = [p for p in index.rglob("*") if p.is_file() and p.name != "secret.key"]
    assert any(p.name.startswith("store.sqlite") for p in stored)
    leaks = [(p.name, form) for p in stored for value in identifiers for form in raw_forms(value)
             if form.lower().encode() in p.read_bytes().lower()]
    assert leaks == []

