"""End-to-end: the real `simgov` CLI on a small generated catalogue."""
import importlib.metadata
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import run_simgov, write_catalogue

FAULT_CHILD = Path(__file__).resolve().parent / "fault_child.py"


def test_similar_json_finds_relisting_and_copy(built_index):
    out = json.loads(run_simgov("similar", "item-00", "--index", str(built_index), "--json").stdout)
    top = out[0]
    assert top["item_id"] == "relist-00"
    assert set(top) == {"item_id", "seller_id", "score", "signals", "match", "relation", "evidence"}
    assert top["relation"] == "same_seller_duplicate" and top["match"] is True
    assert set(top["signals"]) == {"title", "text", "image"}
    assert all(0 <= v <= 1 for v in top["signals"].values()) and 0 <= top["score"] <= 1
    assert any("PDQ 0 of 256 bits apart" in e for e in top["evidence"])
    assert [n["score"] for n in out] == sorted((n["score"] for n in out), reverse=True)

    copy = json.loads(run_simgov("similar", "copy-02", "--index", str(built_index), "--json", "-k", "3").stdout)
    assert copy[0]["item_id"] == "item-02"
    assert copy[0]["relation"] == "cross_seller_copy" and len(copy) == 3


def test_similar_table_and_unknown_id(built_index):
    table = run_simgov("similar", "item-00", "--index", str(built_index), "-k", "2").stdout
    assert "relist-00" in table and "evidence" in table.splitlines()[1]
    proc = run_simgov("similar", "no-such-item", "--index", str(built_index), check=False)
    assert proc.returncode == 1 and proc.stderr.strip() == "unknown item: no-such-item"
    assert run_simgov("similar", "item-00", "--index", str(built_index), "-k", "0", check=False).returncode == 2


def test_pairs_csv_and_jsonl(built_index, tmp_path):
    jsonl, csv_out = tmp_path / "p.jsonl", tmp_path / "p.csv"
    run_simgov("pairs", "--index", str(built_index), "--out", str(jsonl))
    pairs = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert all(p["item_a"] < p["item_b"] for p in pairs)
    assert len({(p["item_a"], p["item_b"]) for p in pairs}) == len(pairs)
    matched = {(p["item_a"], p["item_b"]) for p in pairs if p["match"]}
    assert ("item-00", "relist-00") in matched and ("copy-02", "item-02") in matched
    run_simgov("pairs", "--index", str(built_index), "--cross-seller-only", "--min-score", "0.5", "--out", str(csv_out))
    lines = csv_out.read_text().splitlines()
    assert lines[0] == "item_a,item_b,score,signals,match"
    assert all("relist-00" not in line or "item-00" not in line for line in lines[1:])


def test_rerun_does_no_work_and_changed_item_is_reencoded(catalogue, writable_index):
    proc = run_simgov("build", "--items", str(catalogue), "--index", str(writable_index), "--quiet")
    assert "0 encoded, 14 unchanged" in proc.stderr
    rows = [json.loads(x) for x in catalogue.read_text().splitlines()]
    rows[3]["title"] = "Dunmore leather messenger bag, black"
    changed = catalogue.parent / "changed.jsonl"
    changed.write_text("".join(json.dumps(r) + "\n" for r in rows))
    proc = run_simgov("build", "--items", str(changed), "--index", str(writable_index), "--quiet")
    assert "1 encoded, 13 unchanged" in proc.stderr
    got = json.loads(run_simgov("similar", "item-04", "--index", str(writable_index), "--json", "-k", "20").stdout)
    assert "item-03" in {n["item_id"] for n in got}


def test_bad_paths_and_images_are_reported_and_item_keeps_other_signals(tmp_path):
    items = write_catalogue(tmp_path / "data")
    (tmp_path / "data" / "images" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (tmp_path / "outside.jpg").write_bytes((tmp_path / "data" / "images" / "p1.jpg").read_bytes())
    os.symlink(tmp_path / "outside.jpg", tmp_path / "data" / "images" / "link.jpg")
    extra = [
        {"item_id": "esc", "title": "escaping path", "seller_id": "s", "images": ["../outside.jpg"]},
        {"item_id": "abs", "title": "absolute path", "seller_id": "s", "images": [str(tmp_path / "outside.jpg")]},
        {"item_id": "lnk", "title": "symlink out", "seller_id": "s", "images": ["images/link.jpg"]},
        {"item_id": "cor", "title": "corrupt picture", "seller_id": "s", "images": ["images/broken.jpg"]},
    ]
    with items.open("a") as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in extra))
        fh.write('{"item_id": "x"\n')
    index = tmp_path / "idx"
    run_simgov("build", "--items", str(items), "--index", str(index), "--quiet")
    report = json.loads((index / "build_report.json").read_text())
    by_item = {p.get("item_id"): p for p in report["skipped"]}
    for item_id in ("esc", "abs", "lnk"):
        assert "leaves the data folder" in by_item[item_id]["reason"] and by_item[item_id]["signal"] == "image"
    assert "corrupt" in by_item["cor"]["reason"]
    assert any(p["line"] == 19 and "not JSON" in p["reason"] for p in report["skipped"])
    got = json.loads(run_simgov("similar", "cor", "--index", str(index), "--json").stdout)
    assert got and all("image" not in n["signals"] for n in got)


def _neighbour_lists(index, ids):
    return {i: [(n["item_id"], n["score"]) for n in json.loads(
        run_simgov("similar", i, "--index", str(index), "--json", "-k", "5").stdout)] for i in ids}


def test_build_killed_halfway_resumes_to_a_clean_build(tmp_path):
    items = write_catalogue(tmp_path / "data")
    rows = [json.loads(x) for x in items.read_text().splitlines()]
    for n in range(150):  # enough rows for many small batches
        rows.append({"item_id": f"bulk-{n:03d}", "title": f"bulk listing {n} of assorted goods model B{n * 7}",
                     "seller_id": f"bulk-{n % 9}"})
    items.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"build_batch_size": 4}))
    killed = tmp_path / "killed"
    # the child kills itself once 40 rows are committed: polling the store from here missed a fast
    # machine's build, which committed all 164 rows between two looks (CI, stop 25)
    child = subprocess.run([sys.executable, str(FAULT_CHILD), "crash-after-rows", "40", str(items), str(killed),
                            str(config)], capture_output=True, text=True, timeout=300)
    assert child.returncode == -signal.SIGKILL, child.stderr
    with sqlite3.connect(killed / "store.sqlite") as db:
        committed = db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    assert 40 <= committed < len(rows), "the build was not caught halfway"
    assert not (killed / "manifest.json").exists()
    resumed = run_simgov("build", "--items", str(items), "--index", str(killed), "--config", str(config), "--quiet")
    encoded = int(resumed.stderr.split(" encoded")[0].split()[-1])
    assert encoded < len(rows)
    clean = tmp_path / "clean"
    run_simgov("build", "--items", str(items), "--index", str(clean), "--config", str(config), "--quiet")
    ids = ["item-00", "copy-02", "bulk-010", "bulk-149"]
    assert _neighbour_lists(killed, ids) == _neighbour_lists(clean, ids)


def test_index_built_with_another_model_is_refused(writable_index):
    manifest_path = writable_index / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["signals"]["title"]["weights_sha256"] = "0" * 64
    manifest_path.write_text(json.dumps(manifest))
    proc = run_simgov("similar", "item-00", "--index", str(writable_index), check=False)
    assert proc.returncode == 1
    assert "different title signal" in proc.stderr and "weights_sha256" in proc.stderr


def test_missing_index_and_items_file(tmp_path):
    proc = run_simgov("similar", "a", "--index", str(tmp_path / "none"), check=False)
    assert proc.returncode == 1 and "no simgov index" in proc.stderr
    proc = run_simgov("build", "--items", str(tmp_path / "none.jsonl"), "--index", str(tmp_path / "i"), check=False)
    assert proc.returncode == 1 and "items file not found" in proc.stderr


def test_worker_pool_builds_the_same_index_as_one_process(tmp_path):
    """Lexical profiles and image fingerprints computed in a process pool: same store (vec_ids,
    blobs, problems), same report order, same neighbours as computing everything in-process."""
    items = write_catalogue(tmp_path / "data")
    rows = items.read_text().splitlines()
    for n in range(40):
        rows.append(json.dumps({"item_id": f"bulk-{n:03d}", "title": f"bulk listing {n} model B{n * 7}",
                                "seller_id": f"bulk-{n % 5}", "images": ["images/missing.jpg"] if n % 9 == 0 else []}))
        if n % 13 == 0:
            rows.append('{"item_id": "broken"')  # bad rows between batches keep their place in the report
    items.write_text("\n".join(rows) + "\n")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"build_batch_size": 4}))
    built = {}
    for workers in ("1", "2"):
        index = tmp_path / f"idx-{workers}"
        run_simgov("build", "--items", str(items), "--index", str(index), "--config", str(config), "--quiet",
                   "--workers", workers)
        with sqlite3.connect(index / "store.sqlite") as db:
            store = [db.execute("SELECT item_id, vec_id, seller_id, content_hash, record FROM items "
                                "ORDER BY vec_id").fetchall(),
                     db.execute("SELECT * FROM features ORDER BY vec_id, signal").fetchall(),
                     db.execute("SELECT * FROM signal_problems ORDER BY vec_id, signal, problem").fetchall()]
        report = json.loads((index / "build_report.json").read_text())
        built[workers] = (store, report["skipped"], _neighbour_lists(index, ["item-00", "copy-02", "bulk-013"]))
    assert built["1"] == built["2"]
    assert any("missing.jpg" in p["reason"] for p in built["2"][1])


def test_version_is_the_installed_package_version():
    proc = run_simgov("--version")
    assert proc.stdout.strip() == f"simgov {importlib.metadata.version('simgov')}"


def test_out_dash_writes_to_standard_output(built_index, tmp_path):
    to_file = tmp_path / "pairs.jsonl"
    run_simgov("pairs", "--index", str(built_index), "--out", str(to_file))
    proc = run_simgov("pairs", "--index", str(built_index), "--out", "-", cwd=tmp_path)
    assert proc.stdout == to_file.read_text() and proc.stdout.count("\n") > 1
    assert "written to standard output" in proc.stderr
    groups = run_simgov("duplicates", "--index", str(built_index), "--out", "-", cwd=tmp_path).stdout
    assert any(json.loads(line)["kind"] == "same_seller_relisting" for line in groups.splitlines())
    assert not (tmp_path / "-").exists()
    proc = run_simgov("demo", "--out", "-", "--no-serve", check=False, cwd=tmp_path)
    assert proc.returncode == 1 and "standard output (-) cannot hold" in proc.stderr


def test_build_fails_when_most_rows_are_rejected(tmp_path):
    items = tmp_path / "items.jsonl"
    good = {"item_id": "ok-1", "title": "Acme TrailRunner 5 running shoe, blue", "seller_id": "s1"}
    items.write_text(json.dumps(good) + "\n" + "not json\n" * 2 + '{"title": "no id"}\n', encoding="utf-8")
    index = tmp_path / "idx"
    proc = run_simgov("build", "--items", str(items), "--index", str(index), "--quiet", check=False)
    assert proc.returncode == 1
    assert "3 of 4 items rows" in proc.stderr and "--max-bad-rows 0.5" in proc.stderr
    got = json.loads(run_simgov("similar", "ok-1", "--index", str(index), "--json").stdout)
    assert got == []  # the good row was stored and published all the same
    run_simgov("build", "--items", str(items), "--index", str(index), "--quiet", "--max-bad-rows", "0.8")
    proc = run_simgov("build", "--items", str(items), "--index", str(index), "--max-bad-rows", "2", check=False)
    assert proc.returncode == 2 and "between 0 and 1" in proc.stderr


def test_serve_and_demo_refuse_a_busy_port_before_any_work(built_index, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        proc = run_simgov("serve", "--index", str(built_index), "--port", port, check=False)
        assert proc.returncode == 1 and f"port {port} on 127.0.0.1 is already in use" in proc.stderr
        proc = run_simgov("demo", "--out", str(tmp_path / "demo"), "--port", port, check=False)
        assert proc.returncode == 1 and "already in use" in proc.stderr
        assert not (tmp_path / "demo").exists()
