"""An index folder's files: the manifest that names the published generation, and writing files
so that a crash leaves the old one or the new one, never half (simgov/index.py publishes)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .errors import SimgovError

MANIFEST = "manifest.json"
INDEX_FORMAT = 1
GENERATIONS = "indexes"


def fsync_path(path: Path) -> None:
    """Flush a file's or a folder's entries to disk (a folder must be synced too for a new or
    renamed file in it to survive a crash). `publish` syncs every file of a generation."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write, fsync, rename, fsync the folder: a reader sees the old file or the new one, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_path(path.parent)


def read_manifest(folder: Path) -> dict | None:
    path = folder / MANIFEST
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SimgovError(f"cannot read {path}: {exc}") from None
