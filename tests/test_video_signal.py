"""The video signal: sampling, fingerprints, edited copies matched, distinct videos and shared
intros not, bad files reported per row, and vPDQ files that round-trip with Meta's vpdq package.

Every video here is made by the test: slow pans over the PDQ reference pictures, written with
PyAV (H.264), then edited frame by frame (mirror, crop, letterbox, banner) or in time (trim,
speed-up)."""
from __future__ import annotations

import io
import json
import shutil
from fractions import Fraction
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from api_support import make_key, thread_server
from benchmarks.video_edits import write_frames
from conftest import SHARED, run_simgov
from simgov import cli
from simgov.config import Config, VideoLimits
from simgov.errors import BadInput
from simgov.signals.base import BuildContext
from simgov.signals.video import MATCH_THRESHOLD, VideoSignal, fingerprint_video
from simgov.signals.video_match import compare, compare_videos, hamming, read_videos
from simgov.signals.video_vpdq import (VPDQ_FILE_PATTERN, VpdqFrame, format_vpdq, parse_vpdq, video_from_vpdq,
                                      vpdq_from_video)
from simgov.videoio import sample_frames

PDQ = SHARED / "pdq"
PICTURES = {"bridge": PDQ / "bridge-mods" / "aaa-orig.jpg", "coaster": PDQ / "reg-test-input" / "pen-and-coaster.png",
            "drawing": PDQ / "misc-images" / "c.png"}
FPS = 10
SIZE = (240, 160)  # width, height of the test videos


def pan(picture: Path, seconds: float, fps: int = FPS, size=SIZE) -> list[np.ndarray]:
    """A camera pan with a slow zoom over a picture: frames (h, w, 3) uint8."""
    src = np.asarray(Image.open(picture).convert("RGB"))
    h, w = src.shape[:2]
    frames = []
    n = int(round(seconds * fps))
    for k in range(n):
        u = k / max(1, n - 1)
        cw, ch = int(w * (0.7 - 0.2 * u)), int(h * (0.7 - 0.2 * u))
        x0, y0 = int((w - cw) * u), int((h - ch) * (0.5 + 0.4 * np.sin(3 * u)) / 1.4)
        frames.append(cv2.resize(np.ascontiguousarray(src[y0:y0 + ch, x0:x0 + cw]), size, interpolation=cv2.INTER_AREA))
    return frames


def write_video(path: Path, frames: list[np.ndarray], fps: int = FPS) -> Path:
    """H.264 in MP4, written as the video-edit benchmark writes its copies."""
    return write_frames(path, frames, Fraction(fps), options={"crf": "26", "preset": "veryfast"})


def letterbox(f: np.ndarray) -> np.ndarray:
    h, w = f.shape[:2]
    bar = np.zeros((h // 4, w, 3), dtype=np.uint8)
    return np.concatenate([bar, f, bar])


def banner(f: np.ndarray) -> np.ndarray:
    out = f.copy()
    h, w = out.shape[:2]
    cv2.rectangle(out, (0, int(h * 0.82)), (w, h), (200, 30, 30), -1)
    cv2.putText(out, "SALE -50% FREE SHIPPING", (4, h - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1)
    return out


EDITS = {
    "mirror": lambda frames: [f[:, ::-1] for f in frames],
    "crop": lambda frames: [cv2.resize(f[int(f.shape[0] * .1):, int(f.shape[1] * .1):], SIZE) for f in frames],
    "letterbox": lambda frames: [letterbox(f) for f in frames],
    "banner": lambda frames: [banner(f) for f in frames],
    "trim": lambda frames: frames[len(frames) // 4: 3 * len(frames) // 4],
    "speed2x": lambda frames: frames[::2],
    "half_size": lambda frames: [cv2.resize(f, (SIZE[0] // 2, SIZE[1] // 2), interpolation=cv2.INTER_AREA)
                                 for f in frames],
}

LIMITS = VideoLimits()


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("videos")
    base = pan(PICTURES["bridge"], 8)
    out = {"original": write_video(folder / "original.mp4", base)}
    for name, edit in EDITS.items():
        out[name] = write_video(folder / f"{name}.mp4", edit(base))
    out["other"] = write_video(folder / "other.mp4", pan(PICTURES["coaster"], 8))
    intro = [np.asarray(Image.open(PICTURES["drawing"]).convert("RGB").resize(SIZE))] * (2 * FPS)
    out["intro_a"] = write_video(folder / "intro_a.mp4", intro + pan(PICTURES["bridge"], 8))
    out["intro_b"] = write_video(folder / "intro_b.mp4", intro + pan(PICTURES["coaster"], 8))
    return out


def blob(path: Path) -> bytes:
    return fingerprint_video(path, 0, LIMITS).to_bytes()


def test_frames_are_sampled_once_a_second_and_scaled(videos):
    info, frames = sample_frames(videos["original"], interval=1.0, longest=120, max_bytes=10**8, max_seconds=60,
                                 max_pixels=10**7)
    frames = list(frames)
    assert (info.width, info.height) == SIZE and info.codec == "h264"
    assert [f.sample for f in frames] == list(range(8))
    assert all(abs(f.time - f.sample) < 0.25 for f in frames)
    assert max(frames[0].rgb.shape[:2]) <= 120 and frames[0].rgb.dtype == np.uint8


def test_fingerprint_round_trips_through_its_blob(videos):
    video = fingerprint_video(videos["original"], 3, LIMITS)
    again = read_videos(video.to_bytes())[0]
    assert again.number == 3 and again.samples == video.samples == 8
    assert [(s.start, s.length) for s in again.segments] == [(s.start, s.length) for s in video.segments]
    assert np.array_equal(again.segments[-1].picture.pdq, video.segments[-1].picture.pdq)
    assert abs(again.duration - 8.0) < 0.2


def test_still_frames_fold_into_one_segment(tmp_path):
    still = np.asarray(Image.open(PICTURES["coaster"]).convert("RGB").resize(SIZE))
    path = write_video(tmp_path / "still.mp4", [still] * (5 * FPS) + pan(PICTURES["bridge"], 3))
    video = fingerprint_video(path, 0, LIMITS)
    assert video.segments[0].start == 0 and video.segments[0].length == 5
    assert sum(s.length for s in video.segments) == video.samples == 8


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_edited_copies_match_the_original(videos, edit):
    found = compare(blob(videos["original"]), blob(videos[edit]))
    assert found is not None and found.score >= MATCH_THRESHOLD, (edit, found)
    if edit == "speed2x":
        assert found.speed == pytest.approx(0.5)
    if edit == "trim":
        assert found.span_a[0] >= 1.0 and found.span_a[1] <= 7.0  # the middle of the original
    if edit == "mirror":
        assert found.mirrored


def test_different_videos_and_a_shared_intro_do_not_match(videos):
    assert (compare(blob(videos["original"]), blob(videos["other"])) or _no_match()).score < 0.2
    shared = compare(blob(videos["intro_a"]), blob(videos["intro_b"]))
    assert shared is not None, "the shared intro itself does match"
    assert shared.seconds_a <= 3 and shared.score < MATCH_THRESHOLD


def _no_match():
    class Nothing:
        score = 0.0
    return Nothing()


def test_explanation_tells_seconds_edit_and_time_span(videos):
    signal = VideoSignal(Config())
    lines = signal.explain(blob(videos["mirror"]), blob(videos["original"]))
    assert len(lines) == 1 and lines[0].startswith("video: same video: ")
    assert "sampled seconds match, mirrored, from 0:00 to 0:08 of the other" in lines[0]
    trim = signal.explain(blob(videos["trim"]), blob(videos["original"]))[0]
    assert "of its 4 sampled seconds match" in trim
    details = signal.match_details(blob(videos["speed2x"]), blob(videos["original"]))
    assert details["match"] and details["speed"] == 2.0
    assert [k["clock_b"] for k in details["keyframes"]][:2] == ["0:00", "0:02"]


def test_bad_videos_are_row_problems(tmp_path, videos):
    (tmp_path / "text.mp4").write_text("not a video", encoding="utf-8")
    (tmp_path / "empty.mp4").write_bytes(b"")
    data = videos["original"].read_bytes()
    (tmp_path / "truncated.mp4").write_bytes(data[: len(data) // 3])
    (tmp_path / "good.mp4").write_bytes(data)
    Image.new("RGB", (64, 64), "red").save(tmp_path / "picture.png")
    signal = VideoSignal(Config(videos=VideoLimits(max_seconds=5)))
    ctx = BuildContext(data_roots=[tmp_path])
    for name, reason in [("text.mp4", "not a video FFmpeg can read"), ("empty.mp4", "video file is empty"),
                         ("../outside.mp4", "leaves the data folder"), ("missing.mp4", "video file not found"),
                         ("good.mp4", "over the limit of 5 s")]:
        out = signal.fingerprint_paths([name], ctx)
        assert out.blob is None and len(out.problems) == 1 and reason in out.problems[0], (name, out.problems)
    out = signal.fingerprint_paths(["truncated.mp4"], ctx)  # whatever decodes of a cut file is kept, or refused
    assert out.blob is not None or "video truncated.mp4" in out.problems[0]
    small = VideoSignal(Config(videos=VideoLimits(max_pixels=10_000)))
    assert "over the limit of 10000" in small.fingerprint_paths(["good.mp4"], ctx).problems[0]
    mixed = VideoSignal(Config()).fingerprint_paths(["text.mp4", "good.mp4"], ctx)
    assert mixed.blob is not None and len(read_videos(mixed.blob)) == 1 and len(mixed.problems) == 1


def test_index_search_finds_copies_first(videos, tmp_path):
    signal = VideoSignal(Config())
    signal.reset(16)
    names = ["original", "other", "intro_b", "crop", "mirror", "trim"]
    blobs = [blob(videos[n]) for n in names]
    signal.add(np.arange(len(names)), blobs)
    signal.save(tmp_path)
    loaded = VideoSignal(Config())
    loaded.load(tmp_path)
    assert loaded.size() == len(names)
    found = [c.vec_id for c in loaded.search([blob(videos["banner"])], 4)[0]]
    assert set(found[:4]) >= {0, 3, 4}, found  # the original, its crop and its mirror image
    assert 1 not in found[:3]
    loaded.remove(np.array([0]), [blobs[0]])
    assert 0 not in [c.vec_id for c in loaded.search([blob(videos["banner"])], 4)[0]]


@pytest.fixture(scope="module")
def video_index(videos, tmp_path_factory) -> Path:
    """Four listings built with the CLI: an original video, its mirror image under an unrelated
    title and seller, a different video, and a broken file."""
    tmp_path = tmp_path_factory.mktemp("video-index")
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("original", "mirror", "other"):
        (folder / f"{name}.mp4").write_bytes(videos[name].read_bytes())
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    rows = [
        {"item_id": "a", "title": "Handmade walnut cutting board", "seller_id": "s1", "videos": ["original.mp4"]},
        {"item_id": "b", "title": "Stainless steel chef knife 8 inch", "seller_id": "s2", "videos": ["mirror.mp4"]},
        {"item_id": "c", "title": "Ceramic pour-over coffee dripper", "seller_id": "s3", "videos": ["other.mp4"]},
        {"item_id": "d", "title": "Bamboo utensil set of five", "seller_id": "s4", "videos": ["broken.mp4"]},
    ]
    items = folder / "items.jsonl"
    items.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    index = tmp_path / "idx"
    run_simgov("build", "--items", str(items), "--index", str(index), "--quiet")
    return index


def test_build_and_pairs_find_a_video_copy_across_sellers(video_index, tmp_path):
    """Through the CLI: two listings with unrelated titles and the same (mirrored) video are a
    cross-seller match on the video alone; a broken video is a reported row problem, the row kept."""
    index = video_index
    report = json.loads((index / "build_report.json").read_text(encoding="utf-8"))
    problems = [p for p in report["skipped"] if p.get("item_id") == "d"]
    assert len(problems) == 1 and problems[0]["signal"] == "video", report
    assert "video broken.mp4" in problems[0]["reason"]
    out = tmp_path / "pairs.jsonl"
    run_simgov("pairs", "--index", str(index), "--cross-seller-only", "--out", str(out))
    pairs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    matched = {(p["item_a"], p["item_b"]) for p in pairs if p["match"]}
    assert matched == {("a", "b")}, pairs
    similar = json.loads(run_simgov("similar", "b", "--index", str(index), "--json").stdout)
    top = similar[0] if isinstance(similar, list) else similar["neighbours"][0]
    assert top["item_id"] == "a" and top["match"] and top["signals"]["video"] >= MATCH_THRESHOLD
    assert any("sampled seconds match, mirrored" in e for e in top["evidence"])


def test_vpdq_file_format_is_read_whole_or_not_at_all():
    frames = [VpdqFrame(0, 100, "ab" * 32, 0.0), VpdqFrame(25, 87, "0f" * 32, 1.0)]
    text = format_vpdq(frames)
    assert text.splitlines()[1] == f"25,87,{'0f' * 32},1.000"
    assert parse_vpdq(text) == frames
    with pytest.raises(BadInput, match=r"2 malformed vPDQ line\(s\): line 2: .*; line 3: quality 101"):
        parse_vpdq(text.splitlines()[0] + "\n25,87,abc,1.0\n3,101," + "0" * 64 + ",2.0\n")
    with pytest.raises(BadInput, match="no frame hash"):
        parse_vpdq("# nothing\n\n")
    # A timestamp that overflows to infinity made the sampling interval NaN when the bank was matched.
    with pytest.raises(BadInput, match="line 2: timestamp 99999999999999999999 is not under 100000 seconds"):
        parse_vpdq(text.splitlines()[0] + f"\n1,90,{'ab' * 32},{'9' * 400}\n")


@settings(max_examples=200, deadline=None)
@given(st.from_regex(VPDQ_FILE_PATTERN))
def test_every_file_the_api_description_allows_is_read(text):
    """The pattern POST /v1/banks/{name}/videos publishes (schemathesis sends files made from it)
    describes files the parser takes whole, and whose video the bank matcher can build."""
    frames = parse_vpdq(text)
    assert len(frames) == len([line for line in text.splitlines() if line])
    assert video_from_vpdq(frames).samples >= 1


def test_vpdq_files_round_trip_with_the_vpdq_package(videos):
    """Meta's vpdq package hashes a video; its hashes, written in its file format, read back
    exactly; they match our own fingerprint of the same video and of its mirror image; and our
    fingerprint exported as a vPDQ file matches vpdq's hashes frame by frame within PDQ's
    near-copy distance."""
    vpdq = pytest.importorskip("vpdq")

    theirs = [VpdqFrame(f.frame_number, f.quality, vpdq.hash_to_hex(f.hash), round(f.timestamp, 3))
              for f in vpdq.computeHash(str(videos["original"]))]
    assert [f.frame_number for f in theirs] == [k * FPS for k in range(8)]
    text = format_vpdq(theirs)
    assert parse_vpdq(text) == theirs and format_vpdq(parse_vpdq(text)) == text
    bank = video_from_vpdq(parse_vpdq(text))
    assert bank.hash_only and bank.interval == 1.0 and bank.samples == 8
    for name in ("original", "mirror", "letterbox"):
        found = compare_videos(fingerprint_video(videos[name], 0, LIMITS), bank)
        assert found is not None and found.score >= MATCH_THRESHOLD, name
    ours = vpdq_from_video(fingerprint_video(videos["original"], 0, LIMITS))
    assert [f.frame_number for f in ours] == [f.frame_number for f in theirs]
    distances = [int(hamming(np.frombuffer(bytes.fromhex(a.hash), np.uint8), np.frombuffer(bytes.fromhex(b.hash),
                 np.uint8)[None, :])[0]) for a, b in zip(ours, theirs)]
    assert max(distances) <= 31, distances
    exported = video_from_vpdq(parse_vpdq(format_vpdq(ours)))
    assert compare_videos(exported, bank).score == 1.0


def test_vpdq_bank_entries_find_edited_copies_only(videos):
    signal = VideoSignal(Config())
    entries = [(7, format_vpdq(vpdq_from_video(fingerprint_video(videos["original"], 0, LIMITS)))),
               (9, format_vpdq(vpdq_from_video(fingerprint_video(videos["intro_b"], 0, LIMITS))))]
    bank = signal.bank_index(entries)
    found = bank.search(blob(videos["mirror"]))
    assert [f.entry_id for f in found] == [7] and found[0].score >= MATCH_THRESHOLD
    assert "matches vPDQ entry 7" in found[0].detail and "mirrored" in found[0].detail
    assert [f.entry_id for f in bank.search(blob(videos["other"]))] == [9]  # entry 9 holds it after an intro
    # intro_a holds entry 7's video after the intro it shares with entry 9: the intro alone is no match
    assert [f.entry_id for f in bank.search(blob(videos["intro_a"]))] == [7]
    assert signal.bank_index([]) is None


def test_console_routes_and_vpdq_banks_over_http(video_index, videos, tmp_path):
    """The API: a video match's keyframe pairs with time codes, a keyframe as JPEG, and a vPDQ file
    loaded into a bank (whole or not at all) that flags the listings whose videos it matches."""
    index = tmp_path / "idx"
    shutil.copytree(video_index, index)
    admin = {"Authorization": f"Bearer {make_key(index, 'admin')}"}
    with thread_server(index) as base, httpx.Client(base_url=base, timeout=60) as client:
        match = client.get("/v1/items/b/videos/match/a", headers=admin)
        assert match.status_code == 200, match.text
        body = match.json()
        assert body["match"] and body["keyframes"] and "mirrored" in body["summary"]
        first = body["keyframes"][0]
        assert first["clock_a"] == "0:00" and first["how"] in ("pdq", "features")
        assert client.get("/v1/items/d/videos/match/a", headers=admin).status_code == 404  # d's video is broken
        frame = client.get("/v1/items/a/videos/0/frame", params={"t": 3, "size": 64}, headers=admin)
        assert frame.status_code == 200 and frame.headers["content-type"] == "image/jpeg"
        assert max(Image.open(io.BytesIO(frame.content)).size) <= 64
        assert client.get("/v1/items/a/videos/1/frame", headers=admin).status_code == 404
        assert client.get("/v1/items/d/videos/0/frame", headers=admin).json()["error"]["code"] == "video_unavailable"

        client.post("/v1/banks", json={"name": "known-videos"}, headers=admin)
        text = format_vpdq(vpdq_from_video(fingerprint_video(videos["original"], 0, LIMITS)))
        bad = client.post("/v1/banks/known-videos/videos", content=text + "12,100,zz,3.0\n", headers=admin)
        assert bad.status_code == 422 and "line 9" in bad.json()["error"]["message"]
        added = client.post("/v1/banks/known-videos/videos", params={"label": "stolen clip"}, content=text,
                            headers=admin)
        assert added.status_code == 200 and added.json()["added"] == 1
        entry = client.get("/v1/banks/known-videos/entries", params={"kind": "vpdq"}, headers=admin).json()
        entry_id = entry["entries"][0]["entry_id"]
        exported = client.get(f"/v1/banks/known-videos/videos/{entry_id}", headers=admin)
        assert exported.text == text
        client.post("/v1/bank-hits/scan", headers=admin)
        hits = client.get("/v1/bank-hits", params={"bank": "known-videos"}, headers=admin).json()["hits"]
        assert sorted(h["item_id"] for h in hits) == ["a", "b"] and all(h["kind"] == "vpdq" for h in hits)
        assert any("stolen clip" in h["detail"] for h in hits)

        # a listing written through the API is fingerprinted and flagged at once; a bad video is its problem
        # (relative paths resolve in the build's data folder, which the copied index still names)
        (video_index.parent / "data" / "upload.mp4").write_bytes(videos["letterbox"].read_bytes())
        rows = [{"item_id": "e", "title": "Walnut board, letterboxed", "seller_id": "s5", "videos": ["upload.mp4"]},
                {"item_id": "f", "title": "Oak board", "seller_id": "s6", "videos": ["../../etc/passwd"]}]
        written = client.put("/v1/items", json={"items": rows}, headers=admin)
        assert written.status_code == 200, written.text
        results = {r["item_id"]: r for r in written.json()["items"]}
        assert "video" in results["e"]["signals"] and results["e"]["bank_hits"] == 1
        assert "video" not in results["f"]["signals"]
        assert "leaves the data folder" in results["f"]["problems"][0]["problem"]
        similar = client.get("/v1/items/e/similar", headers=admin).json()["neighbours"]
        assert {n["item_id"] for n in similar if n["match"]} >= {"a", "b"}


def test_vpdq_files_in_and_out_of_banks_with_the_cli(video_index, videos, tmp_path, capsys):
    """A vPDQ file of a trimmed clip, imported into a bank and exported again unchanged, flags the
    listings whose videos hold the clip (the original and its mirror image), not the others."""
    index = tmp_path / "idx"
    shutil.copytree(video_index, index)
    clip = tmp_path / "clip.vpdq"
    clip.write_text(format_vpdq(vpdq_from_video(fingerprint_video(videos["trim"], 0, LIMITS))), encoding="utf-8")
    assert cli.main(["banks", "import", "clips", str(clip), "--vpdq", "--create", "--index", str(index)]) == 0
    out = tmp_path / "exported"
    assert cli.main(["banks", "export", "clips", "--vpdq", "--out", str(out), "--index", str(index)]) == 0
    assert [p.read_text(encoding="utf-8") for p in out.iterdir()] == [clip.read_text(encoding="utf-8")]
    bad = tmp_path / "bad.vpdq"
    bad.write_text("0,100,nothex,0.0\n", encoding="utf-8")
    assert cli.main(["banks", "import", "clips", str(bad), "--vpdq", "--index", str(index)]) == 1
    assert cli.main(["banks", "scan", "--index", str(index)]) == 0
    capsys.readouterr()
    assert cli.main(["banks", "hits", "--bank", "clips", "--json", "--index", str(index)]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert sorted(h["item_id"] for h in hits) == ["a", "b"]
    assert all(h["detail"].endswith("(clip.vpdq)") for h in hits)


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium")
def test_console_shows_matching_keyframes_side_by_side(video_index, tmp_path):
    from playwright.sync_api import sync_playwright  # lazy: a browser driver, for this test alone

    index = tmp_path / "idx"
    shutil.copytree(video_index, index)
    key = make_key(index, "investigator")
    with thread_server(index) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(f"{url}/ui")
            page.fill("#key-input", key)
            page.click("#key-form button")
            page.goto(f"{url}/ui#/item/b")
            card = page.locator("#neighbours article.neighbour[data-item='a']")
            card.wait_for(timeout=60_000)
            card.locator(".keyframes .keyframe").first.wait_for(timeout=60_000)
            page.wait_for_function(
                "() => { const imgs = document.querySelectorAll(\"article[data-item='a'] .keyframe .pic.loaded img\");"
                " return imgs.length >= 4 && [...imgs].every(i => i.complete && i.naturalWidth > 0); }",
                timeout=60_000)
            captions = card.locator(".keyframe figcaption").all_inner_texts()
            assert captions[0].startswith("0:00 ↔ 0:00") and len(captions) >= 2
            assert "mirrored" in card.locator(".keyframes .muted").first.inner_text()
        finally:
            browser.close()


def test_creators_posting_the_same_video_are_linked_by_it(videos, tmp_path):
    """Account profiles carry `videos` too: the same (mirrored) video on two creators' accounts is
    link evidence between them, a different video is none; a bad video is that account's problem."""
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("original", "mirror", "other"):
        (folder / f"{name}.mp4").write_bytes(videos[name].read_bytes())
    accounts = [
        {"account_id": "creator-1", "kind": "creator", "display_name": "Kitchen Tips", "videos": ["original.mp4"]},
        {"account_id": "creator-2", "kind": "creator", "display_name": "Best Deals Hub", "videos": ["mirror.mp4"]},
        {"account_id": "creator-3", "kind": "creator", "display_name": "Garden Corner", "videos": ["other.mp4"]},
        {"account_id": "creator-4", "kind": "creator", "display_name": "Lost Files", "videos": ["missing.mp4"]},
    ]
    (folder / "accounts.jsonl").write_text("".join(json.dumps(a) + "\n" for a in accounts), encoding="utf-8")
    items = folder / "items.jsonl"
    items.write_text(json.dumps({"item_id": "i1", "title": "Chef knife", "seller_id": "creator-1"}) + "\n",
                     encoding="utf-8")
    index = tmp_path / "idx"
    run_simgov("build", "--items", str(items), "--accounts", str(folder / "accounts.jsonl"), "--index", str(index),
               "--quiet")
    report = json.loads((index / "build_report.json").read_text(encoding="utf-8"))
    assert any(p.get("account_id") == "creator-4" and "video missing.mp4" in p["reason"] for p in report["skipped"])
    linked = json.loads(run_simgov("linked", "creator-1", "--index", str(index), "--json").stdout)
    links = linked if isinstance(linked, list) else linked["linked"]
    by_id = {link["account_id"]: link for link in links}
    assert all(e["kind"] != "video" for e in by_id.get("creator-3", {"evidence": []})["evidence"])
    evidence = [e for e in by_id["creator-2"]["evidence"] if e["kind"] == "video"]
    assert evidence and "sampled seconds match, mirrored" in evidence[0]["detail"]
    assert by_id["creator-2"]["score"] > by_id.get("creator-3", {"score": 0.0})["score"]
