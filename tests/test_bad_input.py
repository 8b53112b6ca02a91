"""The bad-input corpus (tests/data/bad, see make_corpus.py) through both doors: `simgov build` reports
every bad row and keeps every good one; the API answers each bad row or picture with a 4xx JSON error
(or, for a picture the item can do without, a per-item problem), never a 5xx."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest

from api_support import make_key, thread_server
from conftest import run_simgov

from scripts import kill_build
from tests.data.bad import make_corpus

CORPUS = Path(__file__).resolve().parent / "data" / "bad"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, list[dict], Path]:
    """(data folder, cases, index) with the corpus and its runtime cases built by the real CLI."""
    folder = tmp_path_factory.mktemp("bad") / "data"
    shutil.copytree(CORPUS, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    cases = json.loads((folder / "cases.json").read_text()) + make_corpus.add_runtime_cases(folder)
    index = folder.parent / "index"
    config = folder.parent / "config.json"  # the fast title model: these rows test the reader, not the model
    config.write_text(json.dumps({"text_model": {
        "engine": "static", "static_path": str(kill_build.make_static_model(folder.parent / "model"))}}))
    # the corpus is mostly bad rows on purpose: --max-bad-rows 1 lets the build finish and report them
    run_simgov("build", "--items", str(folder / "items.jsonl"), "--index", str(index), "--config", str(config),
               "--max-bad-rows", "1", "--quiet")
    return folder, cases, index


def test_the_corpus_covers_every_kind_and_matches_its_generator(corpus, tmp_path):
    _, cases, _ = corpus
    assert len({c["kind"] for c in cases}) >= 20 and len(cases) == len({c["kind"] for c in cases})
    make_corpus.write(tmp_path)  # the committed rows are what the script makes (pictures vary with Pillow)
    for name in ("items.jsonl", "cases.json"):
        assert (tmp_path / name).read_bytes() == (CORPUS / name).read_bytes(), name
    assert {p.name for p in (tmp_path / "images").iterdir()} == {p.name for p in (CORPUS / "images").iterdir()}


def test_build_reports_every_bad_row_and_keeps_every_good_one(corpus):
    folder, cases, index = corpus
    report = json.loads((index / "build_report.json").read_text())
    assert report["status"] == "complete"
    by_line: dict[int, list[dict]] = {}
    for problem in report["skipped"]:
        assert problem["file"] == str(folder / "items.jsonl") and problem["reason"]
        by_line.setdefault(problem["line"], []).append(problem)
    from simgov.index import SimIndex

    ix = SimIndex.open(index)
    try:
        stored = {r[0] for r in ix.store.connection().execute("SELECT item_id FROM items WHERE deleted=0")}
        for case in cases:
            problems = by_line.get(case["line"], [])
            if case["expect"] == "ingested":
                assert problems == [], case
                continue
            assert len(problems) == 1 and case["reason"] in problems[0]["reason"], (case, problems)
            if case["expect"] == "skipped":
                assert "signal" not in problems[0], case
            else:  # stored without its picture: the title still finds it
                item_id = problems[0]["item_id"]
                assert problems[0]["signal"] == "image" and item_id in stored, case
                assert "image" not in ix.item_blobs([ix.item(item_id).vec_id])[ix.item(item_id).vec_id]
        good = {"good-1", "good-2", "good-3", "nul-title", "cmyk", "gray16", "palette", "animated"}
        assert good <= stored
        for item_id in good - {"good-3", "nul-title"}:  # unusual picture modes are decoded and fingerprinted
            assert "image" in ix.item_blobs([ix.item(item_id).vec_id])[ix.item(item_id).vec_id], item_id
        assert ix.item("nul-title").item.title == "mug with a NUL"
        assert ix.item("good-1").item.title == "listing good-1"  # the duplicate id kept its first row
        assert len(stored) == sum(c["expect"] != "skipped" for c in cases)
    finally:
        ix.close()
    assert report["rows"] == len(stored) and report["skipped_rows"] == sum(c["expect"] == "skipped" for c in cases)


@pytest.fixture(scope="module")
def api(corpus):
    _, _, index = corpus
    keys = {role: make_key(index, role) for role in ("ingest", "investigator")}
    with thread_server(index) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client, keys


def _json_error(response: httpx.Response) -> dict:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    assert "Traceback" not in response.text
    error = response.json()["error"]
    assert error["code"] and error["message"]
    return error


def test_put_answers_every_corpus_row_without_a_5xx(corpus, api):
    folder, cases, _ = corpus
    client, keys = api
    headers = {"Authorization": f"Bearer {keys['ingest']}", "content-type": "application/json"}
    lines = (folder / "items.jsonl").read_bytes().split(b"\n")
    for case in cases:
        raw = lines[case["line"] - 1]
        response = client.put("/v1/items", content=b'{"items": [' + raw + b"]}", headers=headers)
        if case["expect"] == "skipped" and case.get("api") != "update":
            _json_error(response)
            continue
        assert response.status_code == 200, (case, response.text[:300])
        (result,) = response.json()["items"]
        problems = [p["problem"] for p in result["problems"]]
        if case["expect"] == "image_problem":
            assert "image" not in result["signals"] and len(problems) == 1 and case["reason"] in problems[0], case
        elif case["expect"] == "ingested" and case["image"]:
            assert "image" in result["signals"] and problems == [], case


def test_search_uploads_of_every_corpus_picture(corpus, api):
    folder, cases, _ = corpus
    client, keys = api
    headers = {"Authorization": f"Bearer {keys['investigator']}"}
    tried = 0
    for case in cases:
        if "upload" not in case:
            continue
        tried += 1
        data = (folder / case["image"]).read_bytes()
        response = client.post("/v1/search", files={"image": (Path(case["image"]).name, data)}, headers=headers)
        if case["upload"] == "ok":
            assert response.status_code == 200 and response.json()["neighbours"], (case, response.text[:300])
        else:
            assert response.status_code == case["upload"], (case, response.text[:300])
            _json_error(response)
    assert tried >= 12
    # a raw body that is no form at all, and one whose declared boundary never comes
    for body, kind in ((b"\xff\xfe\x00garbage", "application/octet-stream"),
                       (b"--x\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\n\x00",
                        "multipart/form-data; boundary=x")):
        _json_error(client.post("/v1/search", content=body, headers={**headers, "content-type": kind}))
