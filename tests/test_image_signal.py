"""The image signal and safe picture loading: PDQ conformance, every Pillow mode, EXIF orientation,
animated pictures, decompression bombs, and near-copies found through the edits sellers make."""
from __future__ import annotations

import csv
import io
import random
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from benchmarks import image_edits  # the benchmark's edits: one definition of what a seller does to a photo
from benchmarks.image_listings import EDITS12, photo_path
from simgov.config import Config
from simgov.errors import ImageRejected, ImageTooLarge
from simgov.imageio import decode_image, load_image, to_rgb
from simgov.matching.decision import Matcher
from simgov.schema import Item
from simgov.signals.base import BuildContext, Query
from simgov.signals.image import (DRAFT_SIZE, MATCH_THRESHOLD, MIN_PDQ_QUALITY, SHOT_AGREE_HIGH, SHOT_AGREE_LOW,
                                  SHOT_COLOUR_SHIFT, SHOT_RESIDUAL, SHOT_SOME_SHIFT, ImageSignal, compare,
                                  fingerprint, picture_features, read_pictures, trim_box, verify_features)

ROOT = Path(__file__).resolve().parents[1]
PDQ = ROOT.parent / "shared" / "testdata" / "pdq"
LIMITS = Config().images


def load(path: Path) -> Image.Image:
    return load_image(path, max_bytes=LIMITS.max_bytes, max_pixels=LIMITS.max_pixels, draft_size=DRAFT_SIZE)


def bits_apart(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.unpackbits(np.bitwise_xor(a, b)).sum())


def reference_hashes() -> dict[str, np.ndarray]:
    with open(PDQ / "expected_pdq.csv", newline="") as fh:
        return {row["FilePath"]: np.frombuffer(bytes.fromhex(row["Hash"]), dtype=np.uint8)
                for row in csv.DictReader(fh)}


def jpeg_bytes(img: Image.Image, quality: int = 90, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, **kw)
    return buf.getvalue()


def textured(seed: int, size=(320, 240)) -> Image.Image:
    """A busy synthetic picture (many corners), different for every seed."""
    rng = random.Random(seed)
    img = Image.new("RGB", size, tuple(rng.randint(0, 255) for _ in range(3)))
    d = ImageDraw.Draw(img)
    for _ in range(60):
        x, y = rng.randint(0, size[0]), rng.randint(0, size[1])
        w, h = rng.randint(5, 60), rng.randint(5, 60)
        colour = tuple(rng.randint(0, 255) for _ in range(3))
        (d.ellipse if rng.random() < 0.4 else d.rectangle)([x, y, x + w, y + h], fill=colour)
    return img


# -- PDQ conformance -------------------------------------------------------------------------------
@pytest.mark.parametrize("rel", sorted(reference_hashes()))
def test_pdq_conforms_to_the_reference(rel):
    """Within 10 bits of the reference wherever quality >= 80, both for the plain whole-picture
    fingerprint and for the signal's own picture hash; low quality is reported as low."""
    ref = reference_hashes()[rel]
    img = load(PDQ / rel)
    plain = fingerprint(img)
    pic = picture_features(img)
    if rel.endswith("small.jpg"):
        assert plain.quality < MIN_PDQ_QUALITY and pic.quality < MIN_PDQ_QUALITY
        return
    assert plain.quality >= 80 and pic.quality >= 80
    assert bits_apart(plain.pdq, ref) <= 10
    assert not pic.trimmed
    assert bits_apart(pic.pdq[0], ref) <= 10


def test_low_quality_picture_is_reported(tmp_path):
    signal = ImageSignal(Config())
    out = signal.fingerprint_paths(["misc-images/small.jpg"], BuildContext(data_roots=[PDQ]))
    assert out.blob is not None
    assert any("PDQ quality 0 below" in p and "not used" in p for p in out.problems)
    pic = read_pictures(out.blob)[0]
    assert not pic.pdq_usable


def test_rotated_and_flipped_bridge_found_by_dihedral_hashes():
    signal = ImageSignal(Config())
    ctx = BuildContext(data_roots=[PDQ])
    blob = {rel: signal.fingerprint_paths([rel], ctx).blob for rel in (
        "bridge-mods/aaa-orig.jpg", "reg-test-input/dih/bridge-2-rotate-90.jpg",
        "reg-test-input/dih/bridge-3-rotate-180.jpg", "reg-test-input/dih/bridge-5-flipx.jpg",
        "reg-test-input/pen-and-coaster.png")}
    orig = blob["bridge-mods/aaa-orig.jpg"]
    plain = fingerprint(load(PDQ / "reg-test-input/dih/bridge-2-rotate-90.jpg")).pdq
    assert bits_apart(plain, fingerprint(load(PDQ / "bridge-mods/aaa-orig.jpg")).pdq) > 80  # plain PDQ misses it
    for rel, words in (("reg-test-input/dih/bridge-2-rotate-90.jpg", "rotated"),
                       ("reg-test-input/dih/bridge-3-rotate-180.jpg", "rotated 180 degrees"),
                       ("reg-test-input/dih/bridge-5-flipx.jpg", "flipped upside down")):  # flipped about the x axis
        score = signal.score(blob[rel], orig)
        assert ImageSignal.is_match(score), (rel, score)
        assert score == signal.score(orig, blob[rel])
        evidence = " ".join(signal.explain(blob[rel], orig))
        assert words in evidence and "bits apart after" in evidence, evidence
    assert not ImageSignal.is_match(signal.score(blob["reg-test-input/pen-and-coaster.png"], orig))


# -- loading any picture ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["P.png", "L.png", "CMYK.jpg", "1.png"])
def test_shipped_mode_samples_load(name):
    img = load(PDQ / "misc-images" / "modes" / name)
    assert img.mode == "RGB" and min(img.size) > 0
    assert picture_features(img).quality >= 0


def encode(img: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


@pytest.mark.parametrize("mode,fmt", [
    ("1", "PNG"), ("L", "PNG"), ("LA", "PNG"), ("P", "PNG"), ("RGB", "PNG"), ("RGBA", "PNG"), ("I;16", "PNG"),
    ("I", "TIFF"), ("F", "TIFF"), ("CMYK", "JPEG"), ("CMYK", "TIFF"), ("YCbCr", "JPEG"), ("LAB", "TIFF"),
    ("PA", None), ("La", None), ("RGBa", None), ("RGBX", None), ("HSV", None), ("I;16B", None),
])
def test_every_pillow_mode_becomes_rgb(mode, fmt):
    base = textured(3, (64, 48))
    if mode in ("I;16", "I;16B", "I", "F"):
        values = np.asarray(base.convert("L"), dtype=np.uint16) * 200  # 16-bit range
        dtype = {"I;16": "<u2", "I;16B": ">u2", "I": "<i4", "F": "<f4"}[mode]
        img = Image.frombytes(mode, base.size, values.astype(dtype).tobytes(),
                              "raw", {"I": "I;32", "F": "F;32F"}.get(mode, mode))
    elif mode == "PA":
        img = base.convert("P").convert("PA")
    elif mode == "La":
        img = base.convert("LA").convert("La")
    else:
        img = base.convert(mode)
    out = decode_image(encode(img, fmt), max_pixels=LIMITS.max_pixels) if fmt else to_rgb(img)
    assert out.mode == "RGB" and out.size == (64, 48)
    assert np.asarray(out).std() > 5  # the picture survived, not a blank
    picture_features(out)


def test_transparency_is_flattened_on_white():
    rgba = Image.new("RGBA", (40, 30), (0, 0, 0, 0))
    ImageDraw.Draw(rgba).rectangle([10, 10, 20, 20], fill=(255, 0, 0, 255))
    out = np.asarray(decode_image(encode(rgba, "PNG"), max_pixels=LIMITS.max_pixels))
    assert tuple(out[0, 0]) == (255, 255, 255) and tuple(out[15, 15]) == (255, 0, 0)
    pal = Image.new("P", (40, 30), 0)
    pal.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    ImageDraw.Draw(pal).rectangle([10, 10, 20, 20], fill=1)
    buf = io.BytesIO()
    pal.save(buf, "PNG", transparency=0)
    out = np.asarray(decode_image(buf.getvalue(), max_pixels=LIMITS.max_pixels))
    assert tuple(out[0, 0]) == (255, 255, 255) and tuple(out[15, 15]) == (0, 0, 255)
    la = Image.new("LA", (40, 30), (0, 0))
    out = np.asarray(decode_image(encode(la, "PNG"), max_pixels=LIMITS.max_pixels))
    assert tuple(out[0, 0]) == (255, 255, 255)


def test_exif_orientation_is_honoured():
    img = Image.new("RGB", (60, 40), (0, 0, 255))
    ImageDraw.Draw(img).rectangle([0, 0, 29, 39], fill=(255, 0, 0))  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display turned 90 degrees clockwise
    out = decode_image(jpeg_bytes(img, 95, exif=exif.tobytes()), max_pixels=LIMITS.max_pixels, draft_size=DRAFT_SIZE)
    assert out.size == (40, 60)
    arr = np.asarray(out).astype(int)
    assert arr[5, 20, 0] > 200 and arr[5, 20, 2] < 60  # the red half is on top now
    assert arr[55, 20, 2] > 200 and arr[55, 20, 0] < 60


def test_animated_pictures_give_their_first_frame():
    frames = [Image.new("RGB", (32, 32), c) for c in ((255, 0, 0), (0, 0, 255), (0, 255, 0))]
    for fmt in ("GIF", "PNG", "WEBP"):
        buf = io.BytesIO()
        frames[0].save(buf, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
        with Image.open(io.BytesIO(buf.getvalue())) as check:
            assert getattr(check, "n_frames", 1) == 3, fmt
        out = np.asarray(decode_image(buf.getvalue(), max_pixels=LIMITS.max_pixels)).astype(int)
        assert out[16, 16, 0] > 200 and out[16, 16, 2] < 60, fmt


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that declares a huge picture (a decompression bomb's header)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + idat + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [8000, 30000])  # over simgov's limit; over Pillow's own bomb limit too
def test_decompression_bombs_are_refused(tmp_path, side):
    with pytest.raises(ImageTooLarge):
        decode_image(png_header_only(side, side), max_pixels=LIMITS.max_pixels)
    (tmp_path / "bomb.png").write_bytes(png_header_only(side, side))
    out = ImageSignal(Config()).fingerprint_paths(["bomb.png"], BuildContext(data_roots=[tmp_path]))
    assert out.blob is None and any("pixels" in p or "bomb" in p for p in out.problems)


def test_corrupt_and_truncated_pictures_are_refused():
    good = jpeg_bytes(textured(1))
    for bad in (b"GIF89a not really", good[: len(good) // 2], b"\x00" * 100):
        with pytest.raises(ImageRejected):
            decode_image(bad, max_pixels=LIMITS.max_pixels)


# -- trimming --------------------------------------------------------------------------------------
def test_flat_border_is_trimmed_but_natural_background_is_not():
    photo = textured(5, (200, 150))
    padded = Image.new("RGB", (300, 300), (255, 255, 255))
    padded.paste(photo, (50, 75))
    box = trim_box(np.asarray(padded))
    assert box is not None and abs(box[0] - 50) <= 1 and abs(box[1] - 75) <= 1 and abs(box[2] - 250) <= 1
    assert trim_box(np.asarray(photo)) is None
    noisy = np.clip(np.random.default_rng(0).normal(128, 6, (200, 200, 3)), 0, 255).astype(np.uint8)
    noisy[80:120, 80:120] = 20
    assert trim_box(noisy) is None  # grey with sensor noise is a background, not padding


# -- near-copies through the signal's whole path ------------------------------------------------------
def originals() -> dict[str, Image.Image]:
    import matplotlib

    out = {"bridge": load(PDQ / "bridge-mods/aaa-orig.jpg"), "coaster": load(PDQ / "misc-images/c.png")}
    hopper = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    if hopper.exists():
        out["hopper"] = load(hopper)
    return out


EDITS = [("jpeg30",), ("half",), ("crop5",), ("crop10",), ("pad20",), ("rot4",), ("banner15",), ("mirror",),
         ("rot90",), ("crop10", "banner15"), ("mirror", "jpeg30"), ("mirror", "crop10"), ("pad20", "banner15")]


@pytest.fixture(scope="module")
def gallery(tmp_path_factory):
    """Originals and distinct pictures as files, indexed through compute/reset/add."""
    folder = tmp_path_factory.mktemp("gallery")
    pictures = originals()
    pictures["pen-and-coaster"] = load(PDQ / "reg-test-input/pen-and-coaster.png")  # same coaster, other photo
    for n in range(12):
        pictures[f"distractor-{n}"] = (textured(100 + n) if n % 2
                                       else image_edits.draw_product(random.Random(n), 320, 320))
    names = sorted(pictures)
    for name in names:
        pictures[name].save(folder / f"{name}.jpg", "JPEG", quality=92)
    signal = ImageSignal(Config())
    ctx = BuildContext(data_roots=[folder])
    items = [Item(item_id=name, title="picture", seller_id="s", images=[f"{name}.jpg"]) for name in names]
    blobs = [out.blob for out in signal.compute(items, ctx)]
    assert all(b is not None for b in blobs)
    signal.reset(len(blobs))
    signal.add(np.arange(len(blobs), dtype=np.int64), blobs)
    return signal, ctx, folder, names, blobs


@pytest.mark.parametrize("combo", EDITS, ids=["+".join(c) for c in EDITS])
def test_edited_copies_are_matched_and_distinct_pictures_are_not(gallery, combo):
    signal, ctx, folder, names, blobs = gallery
    rng = random.Random(7)
    for original in originals():
        img = load(folder / f"{original}.jpg")
        for step in combo:
            img = image_edits.edit(step, img, rng)
        path = folder / f"q-{'+'.join(combo)}-{original}.jpg"
        img.save(path, "JPEG", quality=30 if "jpeg30" in combo else 90)
        query = signal.fingerprint_paths([path.name], ctx).blob
        candidates = signal.search([query], 10)[0]
        truth = names.index(original)
        assert truth in [c.vec_id for c in candidates], (combo, original)
        for cand in candidates:
            score = signal.score(query, blobs[cand.vec_id])
            assert 0.0 <= score <= 1.0
            assert ImageSignal.is_match(score) == (cand.vec_id == truth), (combo, original, names[cand.vec_id], score)


def test_evidence_says_what_matched(gallery):
    signal, ctx, folder, names, blobs = gallery
    bridge = blobs[names.index("bridge")]
    img = load(folder / "bridge.jpg")
    mirror = picture_features(img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)).to_bytes()
    text = signal.explain(mirror, bridge)[0]
    assert text.startswith("image: mirror image: PDQ") and "bits apart after flipping" in text
    w, h = img.size
    crop = picture_features(img.crop((int(w * 0.08), int(h * 0.02), int(w * 0.97), int(h * 0.9)))).to_bytes()
    text = signal.explain(crop, bridge)[0]
    assert "crop" in text and "matching local features, geometric check passed" in text, text
    other = blobs[names.index("pen-and-coaster")]
    assert not ImageSignal.is_match(signal.score(blobs[names.index("coaster")], other))
    assert signal.explain(bridge, other)[0].startswith("image: no near-copy")


def test_blob_round_trip_and_query(gallery):
    signal, ctx, folder, names, blobs = gallery
    img = load(folder / "hopper.jpg") if "hopper" in names else load(folder / "bridge.jpg")
    pic = picture_features(img, 3)
    again = read_pictures(pic.to_bytes())[0]
    assert again.image == 3 and again.quality == pic.quality and (again.desc == pic.desc).all()
    assert np.abs(again.xy - pic.xy).max() < 0.02 and (again.pdq == pic.pdq).all()
    assert len(pic.xy) > 50
    query = signal.compute_query(Query(image=img))
    best = signal.search([query], 5)[0][0]
    assert names[best.vec_id] in ("hopper", "bridge") and signal.score(query, blobs[best.vec_id]) > 0.95
    assert signal.compute_query(Query(text="x")) is None
    desc = signal.describe(blobs[0])["pictures"][0]
    assert {"pdq", "pdq_quality", "keypoints", "border_trimmed"} <= set(desc)


def test_several_pictures_per_item_and_identical_copy(tmp_path):
    for n in range(3):
        textured(n).save(tmp_path / f"p{n}.jpg", quality=90)
    signal = ImageSignal(Config())
    ctx = BuildContext(data_roots=[tmp_path])
    a = signal.fingerprint_paths(["p0.jpg", "p1.jpg"], ctx).blob
    b = signal.fingerprint_paths(["p2.jpg", "p1.jpg"], ctx).blob
    c = signal.fingerprint_paths(["p2.jpg"], ctx).blob
    assert signal.score(a, b) == 1.0  # picture 2 of both is the same file
    assert "picture 2 vs picture 2" in signal.explain(a, b)[0]
    assert not ImageSignal.is_match(signal.score(a, c))
    assert compare(a, c) is compare(a, c)  # cached: score then explain costs one comparison


def test_index_saves_loads_and_counts_pictures(gallery, tmp_path):
    signal, ctx, folder, names, blobs = gallery
    files = signal.save(tmp_path)
    assert all((tmp_path / f).exists() for f in files)
    again = ImageSignal(Config())
    again.load(tmp_path)
    assert again.size() == signal.size() == len(blobs)
    assert again.search([blobs[0]], 3)[0][0].vec_id == 0
    assert again.identity() == signal.identity() and again.identity()["version"] == 3


@pytest.mark.parametrize("size", [(1, 1), (2, 100), (3000, 3), (7, 7), (17, 900)])
def test_tiny_and_extreme_pictures_do_not_break_anything(size):
    img = Image.fromarray(np.random.default_rng(1).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))
    blob = picture_features(img).to_bytes()
    score = ImageSignal(Config()).score(blob, blob)
    assert 0.0 <= score <= 1.0


# -- real photographs through the product's decision (issue 15, part 4) ---------------------------------
REAL_PHOTOS = ("skimage/astronaut.png", "skimage/coffee.png", "pdq/bridge-mods/aaa-orig.jpg")


@pytest.fixture(scope="module")
def real_photo_blobs(tmp_path_factory):
    """Each real photo as listed, and its copy under each of the 12 edits, as the signal stores them."""
    folder = tmp_path_factory.mktemp("real")
    signal, rng = ImageSignal(Config()), random.Random(4)
    names, listed = [], []
    for i, name in enumerate(REAL_PHOTOS):
        path = photo_path(name)
        if path is None or not path.exists():
            continue
        original = image_edits._open(path)
        image_edits.save_jpeg(original, folder / f"o{i}.jpg", 92)
        names.append(f"o{i}.jpg")
        listed.append((name, None))
        for combo in EDITS12:
            copy = image_edits._open(folder / f"o{i}.jpg")
            for step in combo:
                copy = image_edits.edit(step, copy, rng)
            image_edits.save_jpeg(copy, folder / f"c{i}-{'+'.join(combo)}.jpg", 30 if "jpeg30" in combo else 90)
            names.append(f"c{i}-{'+'.join(combo)}.jpg")
            listed.append((name, "+".join(combo)))
    items = [Item(item_id=f"i{n}", title="", seller_id="s", images=[rel]) for n, rel in enumerate(names)]
    blobs = [o.blob for o in signal.compute(items, BuildContext(data_roots=[folder]))]
    return signal, listed, blobs


def test_copies_of_real_photos_match_on_the_picture_alone(real_photo_blobs):
    """Empty titles (no other signal) and titles that say nothing of each other (title cosine 0.1,
    text 0): the copy of a real photo is a match under every edit; copies of different photos are not."""
    signal, listed, blobs = real_photo_blobs
    matcher = Matcher()
    originals = {name: blob for (name, edit), blob in zip(listed, blobs) if edit is None}
    assert len(originals) >= 2
    for (name, edit), blob in zip(listed, blobs):
        if edit is None:
            continue
        for other, original in originals.items():
            image = signal.score(original, blob)
            for signals in ({"image": image}, {"image": image, "title": 0.1, "text": 0.0}):
                decision = matcher.decide(signals)
                assert decision.match == (other == name), (name, edit, other, image)


def test_a_local_feature_match_in_other_colours_is_another_shot():
    """Two shots of one thing line up locally; a copy also keeps its colours. The same real photo,
    cropped, matches its original; under another white balance (another camera and light) the
    keypoints still line up, but the colours say it is another shot: no same-picture score."""
    path = photo_path("skimage/astronaut.png")
    if path is None or not path.exists():
        pytest.skip("scikit-image's sample photos are not installed")
    original = image_edits._open(path)
    crop = image_edits.edit("crop10", original, random.Random(2))
    warm = Image.fromarray(np.clip(np.asarray(crop, dtype=np.float64) * (1.12, 1.0, 0.88), 0, 255).astype(np.uint8))
    pa, pc, pw = picture_features(original), picture_features(crop), picture_features(warm)
    shot = (SHOT_AGREE_LOW, SHOT_AGREE_HIGH)
    copy = verify_features(pa, pc, shot, SHOT_COLOUR_SHIFT)
    assert copy.score >= MATCH_THRESHOLD and copy.colour_shift < SHOT_COLOUR_SHIFT / 2
    lined_up = verify_features(pa, pw, shot)
    assert lined_up.score >= MATCH_THRESHOLD  # without the colour check: the geometry alone passes
    other = verify_features(pa, pw, shot, SHOT_COLOUR_SHIFT)
    assert other.colour_shift > SHOT_COLOUR_SHIFT and other.score == 0.0


def _seen_turned(img: Image.Image, k: float) -> Image.Image:
    """The picture as a camera turned about its vertical axis sees it: the left side recedes by k."""
    a = np.asarray(img)
    h, w = a.shape[:2]
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    seen = np.float32([[k * w, k * h], [w, 0], [w, h], [k * w, h - k * h]])
    return Image.fromarray(cv2.warpPerspective(a, cv2.getPerspectiveTransform(corners, seen), (w, h),
                                               borderMode=cv2.BORDER_REPLICATE))


def test_another_perspective_in_shifted_colours_is_another_shot():
    """Another shot shows three signs at once: another perspective (no similarity transform fits
    the keypoints closely), colours shifted by another white balance, less agreement. Any one alone
    is no proof (a copy recompressed hard blurs keypoints and colours too), all three are."""
    path = photo_path("skimage/astronaut.png")
    if path is None or not path.exists():
        pytest.skip("scikit-image's sample photos are not installed")
    original = image_edits._open(path)
    crop = image_edits.edit("crop10", original, random.Random(2))
    shot = (SHOT_AGREE_LOW, SHOT_AGREE_HIGH)
    pa = picture_features(original)

    def features(img: Image.Image):
        return verify_features(pa, picture_features(img), shot, SHOT_COLOUR_SHIFT)

    def warmer(img: Image.Image) -> Image.Image:
        return Image.fromarray(np.clip(np.asarray(img, dtype=np.float64) * (1.05, 1.0, 0.95), 0, 255).astype(np.uint8))

    copy = features(crop)
    assert copy.score >= MATCH_THRESHOLD and copy.residual < SHOT_RESIDUAL
    warm = features(warmer(crop))  # colours alone
    assert SHOT_SOME_SHIFT <= warm.colour_shift < SHOT_COLOUR_SHIFT and warm.score >= MATCH_THRESHOLD
    turned = features(_seen_turned(original, 0.06))  # perspective alone
    assert turned.residual >= SHOT_RESIDUAL and turned.score >= MATCH_THRESHOLD
    other = features(warmer(_seen_turned(original, 0.06)))
    assert other.residual >= SHOT_RESIDUAL and SHOT_SOME_SHIFT <= other.colour_shift < SHOT_COLOUR_SHIFT
    assert other.agreement < SHOT_AGREE_HIGH and other.score == 0.0
