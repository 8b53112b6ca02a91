"""A built index of `n` synthetic items (static title engine), made once per size and reused."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from _common import PYTHON, write_items


def built_index(work: Path, n: int, engine: str = "static") -> Path:
    index = work / f"index-{engine}-{n}"
    if (index / "manifest.json").exists():
        return index
    items = write_items(work / f"items-{n}.jsonl", n)
    config = work / f"config-{engine}.json"
    config.write_text(json.dumps({"text_model": {"engine": engine}}))
    subprocess.run([PYTHON, "-c", "import sys; from simgov.cli import main; sys.exit(main())", "build", "--items",
                    str(items), "--index", str(index), "--config", str(config), "--quiet"], check=True)
    return index
