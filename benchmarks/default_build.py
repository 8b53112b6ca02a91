"""`simgov build` of title-only listings with the DEFAULT settings vs a plain sentence-transformers encode.

    .venv/bin/python -m benchmarks.default_build [-n 20000] [--baseline-sample N] [--config FILE]

What a new user gets: `simgov build --items F --index I` with no settings file (whatever engine
the default `text_model.engine` is), timed as a fresh process on a fresh index, against a plain
`SentenceTransformer(model).encode(titles)` of the same titles in the same run (the floor of any
build that runs the transformer over every title). Goal (issue 16): the build at least 10x faster.
`--baseline-sample N` encodes only N of the titles and projects the time to all of them (for a busy
machine; the record says so). Whether the static model already existed before the build (made by
`make install`) is printed: a first build without it distils it first, and that time is in the build.
`--config FILE` builds with a settings file instead (what another default would give; the figure says so).
"""
from __future__ import annotations

import json
import resource
import shutil
import subprocess
import time
from pathlib import Path

from benchmarks.common import PYTHON, load_info, parser, report, size, write_items
from simgov.config import Config
from simgov.encoders import StaticEncoder, load_sentence_model


def model_ready(config: Config) -> str:
    """Whether the engine's model is ready before the build (only a static one can be missing)."""
    text_model = config.text_model
    if text_model.engine != "static":
        return f"engine {text_model.engine}"
    folder = Path(text_model.static_path) if text_model.static_path else \
        StaticEncoder(text_model.resolved_path(), text_model.static_dims).folder
    return f"engine static, model {'present' if (folder / 'model.safetensors').is_file() else 'MISSING'}"


def plain_encode_seconds(titles: list[str]) -> float:
    """Seconds of a plain sentence-transformers encode of `titles` (model loaded and warmed first)."""
    model = load_sentence_model(str(Config().text_model.resolved_path()))
    model.encode(titles[:32], batch_size=32, show_progress_bar=False)
    started = time.perf_counter()
    model.encode(titles, batch_size=32, show_progress_bar=False, convert_to_numpy=True)
    return time.perf_counter() - started


def main() -> int:
    ap = parser(__doc__.splitlines()[0], reduced=20_000, full=20_000)
    ap.add_argument("--baseline-sample", type=int, default=0,
                    help="encode only this many titles in the baseline and project (0 = all)")
    ap.add_argument("--config", type=Path, help="build with this settings file instead of the defaults")
    args = ap.parse_args()
    n = size(args)
    items = write_items(args.work / f"items-{n}.jsonl", n)
    titles = [json.loads(line)["title"] for line in items.read_text(encoding="utf-8").splitlines()]
    settings = f"settings {args.config}" if args.config else "default settings"
    print(f"{n} title-only listings; {settings}, {model_ready(Config.load(args.config))}; {load_info()}", flush=True)

    index = args.work / f"index-default-{n}"
    shutil.rmtree(index, ignore_errors=True)
    started, children = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([str(Path(PYTHON).with_name("simgov")), "build", "--items", str(items), "--index", str(index),
                    "--quiet", *(["--config", str(args.config)] if args.config else [])], check=True)
    build_s = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the build and any pool it started
    build_cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime

    sample = titles[:args.baseline_sample] if 0 < args.baseline_sample < len(titles) else titles
    encode_s = plain_encode_seconds(sample) * len(titles) / len(sample)
    projected = f", projected from {len(sample):,} titles" if len(sample) < len(titles) else ""
    report(args, f"`simgov build`, {n:,} title-only listings, {settings}", build_s, "s", encode_s,
           f"plain SentenceTransformer.encode of the same titles{projected}", higher_is_better=False,
           note=f"{n / build_s:,.0f} listings/s; build CPU {build_cpu:.1f} s (with any pool); goal: 10x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
