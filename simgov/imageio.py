"""Safe image access: paths that cannot leave the data folder, and decoding that survives any input.

Every picture simgov fingerprints or serves passes through here, so the rules live in one place:
relative paths are resolved inside the items file's folder (or an allowed root), symlinks that
escape are refused, oversized files and decompression bombs are refused before decoding, JPEGs
decode reduced and other formats only up to a pixel budget (MAX_UNREDUCED_PIXELS), EXIF
orientation is honoured, animated images give their first frame, and every Pillow mode comes out
as 8-bit RGB with transparency flattened on white.
"""
from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from .errors import ImageRejected, ImageTooLarge

ImageFile.LOAD_TRUNCATED_IMAGES = False
#: Pixels a picture may have when it cannot decode reduced (every format but JPEG): 4096 x 4096,
#: about 50 MB as RGB. That is over ten times the longest side any use needs (fingerprints 384 px,
#: thumbnails at most 1,024 px), where a 40-megapixel PNG cost some 345 MB per decode.
MAX_UNREDUCED_PIXELS = 4096 * 4096
#: JPEGs decode reduced to no less than this on each side unless a caller asks otherwise: the
#: largest thumbnail, and more than the fingerprints use.
DEFAULT_DRAFT_SIZE = 1024


def resolve_inside(path_text: str, roots: list[Path]) -> Path:
    """The real path of `path_text`, which must stay inside one of `roots` (symlinks resolved)."""
    if not path_text or "\x00" in path_text:
        raise ImageRejected("empty or invalid image path")
    candidate = Path(path_text)
    real_roots = [r.resolve() for r in roots]
    if not candidate.is_absolute():
        candidate = real_roots[0] / candidate
    try:
        real = candidate.resolve()
        if not any(real == r or r in real.parents for r in real_roots):
            raise ImageRejected(f"image path leaves the data folder: {path_text[:200]}")
        if not real.is_file():
            raise ImageRejected(f"image file not found: {path_text[:200]}")
    except OSError as exc:  # a name over the file system's limit, a folder it may not read, ...
        raise ImageRejected(f"image path cannot be used ({exc.strerror or exc}): {path_text[:200]}") from None
    return real


def read_image_bytes(path: Path, max_bytes: int) -> bytes:
    size = path.stat().st_size
    if size == 0:
        raise ImageRejected("image file is empty")
    if size > max_bytes:
        raise ImageTooLarge(f"image file is {size} bytes, over the limit of {max_bytes}")
    return path.read_bytes()


def decode_image(data: bytes, *, max_pixels: int, draft_size: int | None = DEFAULT_DRAFT_SIZE) -> Image.Image:
    """Decode to RGB, refusing bombs and corrupt data. JPEGs decode reduced to no less than
    `draft_size` on each side (None: full size); a picture that cannot (every other format, or a
    JPEG asked for in full) is refused past MAX_UNREDUCED_PIXELS, so that no picture under
    `max_pixels` costs more memory than that."""
    if not data:
        raise ImageRejected("image data is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            width, height = img.size
            if width * height > max_pixels:
                raise ImageTooLarge(f"image is {width}x{height} pixels, over the limit of {max_pixels}")
            if getattr(img, "is_animated", False):
                img.seek(0)
            if draft_size and img.format == "JPEG":
                img.draft("RGB", (draft_size, draft_size))
            if img.width * img.height > MAX_UNREDUCED_PIXELS:
                raise ImageTooLarge(f"image is {width}x{height} pixels; a {img.format or 'picture of this'} "
                                    f"picture cannot be decoded reduced, and the limit for those is "
                                    f"{MAX_UNREDUCED_PIXELS} pixels")
            img.load()
            img = ImageOps.exif_transpose(img) or img
            return to_rgb(img)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(f"decompression bomb refused: {exc}") from None
    except UnidentifiedImageError:
        raise ImageRejected("not an image in a supported format") from None
    except ImageRejected:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRejected(f"corrupt or truncated image: {exc}") from None


def to_rgb(img: Image.Image) -> Image.Image:
    """8-bit RGB from any mode: palette, 1-bit, 16-bit, CMYK, and alpha flattened on white."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        import numpy as np

        arr = np.asarray(img, dtype=np.float64)
        peak = arr.max() if arr.size else 0
        scale = 255.0 / peak if peak > 255 else 1.0
        img = Image.fromarray(np.clip(arr * scale, 0, 255).astype("uint8"), mode="L")
    elif img.mode == "F":
        import numpy as np

        arr = np.asarray(img, dtype=np.float64)
        lo, hi = (arr.min(), arr.max()) if arr.size else (0, 1)
        img = Image.fromarray(((arr - lo) / ((hi - lo) or 1) * 255).astype("uint8"), mode="L")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode == "La":  # premultiplied: Pillow converts it only to LA
        img = img.convert("LA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return img.convert("RGB")


def load_image(path: Path, *, max_bytes: int, max_pixels: int, draft_size: int | None = DEFAULT_DRAFT_SIZE
               ) -> Image.Image:
    return decode_image(read_image_bytes(path, max_bytes), max_pixels=max_pixels, draft_size=draft_size)


def file_signature(path: Path) -> str:
    """Size and modification time: a changed picture makes its item re-encode."""
    st = os.stat(path)
    return f"{st.st_size}:{st.st_mtime_ns}"
