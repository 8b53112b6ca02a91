"""The `simgov` command line (CONTRACT.md section 2). Only the CLI and the API print or log.

One module per command group, each with its argparse sub-parser next to its handler: a module's
`register(sub)` adds its parsers and sets `handler` on each; `main` calls the handler it parsed.
A new command is a new module and one line in COMMANDS.
"""
from __future__ import annotations

import argparse
import os
import sys
from importlib.metadata import PackageNotFoundError, version

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from ..errors import SimgovError  # noqa: E402
from ..storage.errors import StorageError  # noqa: E402
from .banks import register as banks  # noqa: E402
from .build import register as build  # noqa: E402
from .calibrate import register as calibrate  # noqa: E402
from .compare import register as compare  # noqa: E402
from .demo import register as demo  # noqa: E402
from .detectors import register as detectors  # noqa: E402
from .evaluate import register as evaluate  # noqa: E402
from .findings import register as findings  # noqa: E402
from .keys import register as keys  # noqa: E402
from .lookups import register as lookups  # noqa: E402
from .models import register as models  # noqa: E402
from .secret import register as secret  # noqa: E402
from .serve import register as serve  # noqa: E402
from .verdicts import register as verdicts  # noqa: E402

#: Every command group, in the order `simgov --help` lists them.
COMMANDS = (build, lookups, compare, detectors, findings, evaluate, serve, keys, secret, models, verdicts, banks,
            calibrate, demo)


def package_version() -> str:
    try:
        return version("simgov")
    except PackageNotFoundError:  # a source tree that was never installed
        return "unknown"


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="simgov",
                                 description="similarity and duplicate detection for marketplace governance")
    ap.add_argument("--version", action="version", version=f"simgov {package_version()}")
    sub = ap.add_subparsers(dest="command", required=True)
    for register in COMMANDS:
        register(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = parser()
    args = ap.parse_args(argv)
    if getattr(args, "k", None) is not None and not 1 <= args.k <= 1000:
        ap.error("-k must be between 1 and 1000")
    try:
        return args.handler(args)
    except SimgovError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"simgov: {exc}", file=sys.stderr)
        return 1
    except StorageError as exc:  # the store on a full disk or in a read-only folder
        print(f"simgov: the index store cannot be used: {exc}", file=sys.stderr)
        return 1
