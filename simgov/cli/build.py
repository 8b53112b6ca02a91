"""`simgov build`: build or update an index from an items file and/or an accounts file."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tqdm import tqdm

from ..build.local import REPORT, build
from ..build.ray_engine import build as ray_build
from ..config import Config
from ..storage.banks import BankTables
from ..storage.items import Store

#: --max-bad-rows default: the build fails when more than half of the rows of a file were rejected.
MAX_BAD_ROWS = 0.5


def share(text: str) -> float:
    """A number in [0, 1] (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a share between 0 and 1, not {text}")
    return value


def register(sub) -> None:
    p = sub.add_parser("build", help="build or update an index from an items file and/or an accounts file (resumable)")
    p.add_argument("--items", type=Path, help="items as JSON Lines or CSV")
    p.add_argument("--accounts", type=Path,
                   help="accounts as JSON Lines or CSV (identifiers are stored only as keyed hashes)")
    p.add_argument("--index", required=True, type=Path, help="index folder")
    p.add_argument("--config", type=Path, help="settings file (JSON or TOML); default: built-in settings")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="local: one streaming process (default); ray: encode on a Ray cluster (simgov[ray])")
    p.add_argument("--workers", type=int, choices=range(1, 65), metavar="N",
                   help="local engine: processes for the lexical profiles and image fingerprints "
                        "(default: up to the config's image_workers, 0 there = one per core, started only "
                        "when the file holds enough such work, e.g. pictures; 1 = none)")
    p.add_argument("--max-bad-rows", type=share, default=MAX_BAD_ROWS, metavar="SHARE",
                   help="exit 1 when more than this share of the rows read from the items file (or from the "
                        "accounts file) were rejected; the good rows are stored and published all the same "
                        f"(default {MAX_BAD_ROWS}; 1 never fails, 0 fails on any rejected row)")
    p.add_argument("--ray-address", help="ray engine: the cluster (ray://host:10001 or host:6379); "
                                         "default: a local Ray instance on this machine")
    p.add_argument("--ray-actors", type=int, help="ray engine: encoding actors (default: one per CPU of the cluster)")
    p.add_argument("--ray-shards", type=Path, help="ray engine: folder for the Parquet shards of blobs, which every "
                                                   "node and this machine can reach (default: INDEX/ray-shards)")
    p.add_argument("--keep-shards", action="store_true", help="ray engine: keep the Parquet shards of blobs")
    p.set_defaults(handler=cmd_build)


def cmd_build(args) -> int:
    accounts_file = args.accounts
    if args.items is None and accounts_file is None:
        print("simgov build: give --items F, --accounts F or both", file=sys.stderr)
        return 2
    config = Config.load(args.config) if args.config else None
    started_at = time.time()
    bar = tqdm(total=0, unit="row" if accounts_file else "item", desc="build", file=sys.stderr, disable=args.quiet,
               dynamic_ncols=True)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        if args.engine == "ray":  # simgov/build/ray_engine.py; pip install 'simgov[ray]'
            bar.unit = "chunk"
            result = ray_build(args.items, args.index, config, progress, accounts_file=accounts_file,
                               ray_address=args.ray_address, actors=args.ray_actors, shards_dir=args.ray_shards,
                               keep_shards=args.keep_shards, quiet=args.quiet)
        else:
            result = build(args.items, args.index, config, progress, accounts_file=accounts_file, workers=args.workers)
    finally:
        bar.close()
    failed = []
    if args.items is not None:
        print(f"{result.rows} items read: {result.encoded} encoded, {result.unchanged} unchanged; "
              f"{result.skipped_rows} rows skipped, {result.signal_problems} signal problems "
              f"({result.seconds:.1f} s, {result.rate:.0f} items/s encoded)", file=sys.stderr)
        failed += _too_many_bad("items", args.items, result.rows, result.skipped_rows, args.max_bad_rows)
    problems = result.skipped_rows or result.signal_problems
    if result.accounts is not None:
        a = result.accounts
        print(f"{a.rows} accounts read: {a.encoded} encoded, {a.unchanged} unchanged; "
              f"{a.skipped_rows} rows skipped, {a.signal_problems} signal problems", file=sys.stderr)
        problems = problems or a.skipped_rows or a.signal_problems
        failed += _too_many_bad("accounts", accounts_file, a.rows, a.skipped_rows, args.max_bad_rows)
    if problems:
        print(f"details: {args.index / REPORT}", file=sys.stderr)
    report_bank_hits(args.index, started_at)
    for line in failed:
        print(line, file=sys.stderr)
    return 1 if failed else 0


def _too_many_bad(kind: str, path: Path, stored: int, skipped: int, limit: float) -> list[str]:
    """The failure line when more than `limit` of a file's rows were rejected, else nothing."""
    read = stored + skipped
    if not read or skipped <= limit * read:
        return []
    return [f"simgov build: {skipped} of {read} {kind} rows of {path} were rejected ({skipped / read:.0%}, more "
            f"than --max-bad-rows {limit:g}); is it the right file and format?"]


def report_bank_hits(folder: Path, since: float) -> None:
    """Listings this build wrote that match a known-bad bank, flagged at once (simgov/banks.py)."""
    store = Store(folder)
    try:
        rows = BankTables(store).hits_since(since)
    finally:
        store.close()
    if rows:
        print(f"{len({r[0] for r in rows})} listings match a known-bad bank ({len(rows)} hits; "
              f"simgov banks hits --index {folder}):", file=sys.stderr)
        for item_id, bank, detail in rows[:20]:
            print(f"  {item_id}  [{bank}] {detail}", file=sys.stderr)
