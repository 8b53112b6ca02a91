"""`simgov models distill`: distil the static title model offline."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from ..config import Config
from ..encoders import STATIC_CONFIG, STATIC_RECIPE, STATIC_WEIGHTS, StaticEncoder, distill_static, weights_digest
from .common import folder_out


def register(sub) -> None:
    p = sub.add_parser("models", help="title models: distil the static model offline")
    models_sub = p.add_subparsers(dest="models_command", required=True)
    mp = models_sub.add_parser("distill",
                               help="distil the static title model from the local sentence model (no download)")
    mp.add_argument("--config", type=Path,
                    help="settings file: its text_model section (model path, static_dims, static_path)")
    mp.add_argument("--model", type=Path, help="sentence-transformers folder to distil (default: the configured model)")
    mp.add_argument("--dims", type=int, help="dimensions to keep (default: text_model.static_dims, 256)")
    mp.add_argument("--out", type=Path, help="folder to write (default: text_model.static_path, else the cache folder)")
    mp.add_argument("--force", action="store_true",
                    help="distil again even when the folder already holds this model's distillation")
    mp.set_defaults(handler=cmd_models_distill)


def cmd_models_distill(args) -> int:
    """Distil the static title model now (offline), instead of at the first build that needs it."""
    text_model = (Config.load(args.config) if args.config else Config()).text_model
    source = Path(args.model) if args.model else text_model.resolved_path()
    dims = args.dims or text_model.static_dims
    out = folder_out(args.out) if args.out else (
        Path(text_model.static_path) if text_model.static_path else StaticEncoder(source, dims).folder)
    if not args.force and distilled(out, source, dims):  # `make install` runs this on every install
        print(out)
        print(f"static model in {out} is already distilled from {source} ({dims} dimensions)", file=sys.stderr)
        return 0
    started = time.monotonic()
    distill_static(source, out, dims=dims)
    print(out)
    print(f"static model distilled from {source} in {time.monotonic() - started:.1f} s "
          f"({dims} dimensions, weights sha256 {weights_digest(out, ('.safetensors',))[:16]}...)", file=sys.stderr)
    return 0


def distilled(folder: Path, source: Path, dims: int) -> bool:
    """Whether `folder` holds a static model distilled from `source`'s weights with `dims` dimensions
    by this recipe (its config.json says so), so that distilling again would write the same table."""
    try:
        config = json.loads((folder / STATIC_CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return ((folder / STATIC_WEIGHTS).is_file() and config.get("apply_pca") == dims
            and config.get("simgov_recipe") == STATIC_RECIPE
            and config.get("source_weights_sha256") == weights_digest(source))
