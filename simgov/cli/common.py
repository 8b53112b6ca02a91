"""What several commands share: index arguments, tables, output files (or standard output), ports."""
from __future__ import annotations

import argparse
import csv
import errno
import getpass
import json
import socket
import sys
import time
from pathlib import Path
from typing import Callable, Iterable, TextIO

from ..config import index_folder_from_env
from ..errors import SimgovError
from ..generations import read_manifest
from ..index import SimIndex

#: `--out -`: write to standard output instead of a file.
STDOUT = "-"


def index_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", required=True, type=Path, help="index folder")


def optional_index_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", type=Path, help="index folder (default: $SIMGOV_INDEX)")


def table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def open_index(folder: Path) -> SimIndex:
    return SimIndex.open(folder)


def index_dir(args) -> Path:
    """--index, else $SIMGOV_INDEX; an index must exist there."""
    folder = args.index or index_folder_from_env()
    if folder is None:
        raise SimgovError("no index folder: give --index DIR or set SIMGOV_INDEX")
    if read_manifest(folder) is None:
        raise SimgovError(f"no simgov index in {folder} (build one with: simgov build --items F --index {folder})")
    return folder


def cli_key_id() -> str:
    """Who gives a verdict or changes a bank from the command line (the API records the key id)."""
    return f"cli:{getpass.getuser()}"


def when(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else ""


def is_stdout(path: Path) -> bool:
    return str(path) == STDOUT


def where(path: Path) -> str:
    """How messages name an output: its path, or standard output for `--out -`."""
    return "standard output" if is_stdout(path) else str(path)


def open_output(path: Path) -> TextIO:
    """A text file to write, or standard output (left open on exit) for `--out -`."""
    if is_stdout(path):
        return _Unclosed(sys.stdout)
    return open(path, "w", encoding="utf-8", newline="")


class _Unclosed:
    """Standard output in a `with` block: flushed, never closed (later messages still need it)."""

    def __init__(self, stream: TextIO):
        self.stream = stream

    def __enter__(self) -> TextIO:
        return self.stream

    def __exit__(self, *exc) -> None:
        self.stream.flush()

    def __getattr__(self, name):
        return getattr(self.stream, name)


def writer(path: Path) -> tuple[TextIO, Callable[[dict], None]]:
    """A record sink by file ending: .csv, else JSON Lines (also for `--out -`)."""
    fh = open_output(path)
    if path.suffix.lower() == ".csv":
        csv_writer = None

        def write(record: dict) -> None:
            nonlocal csv_writer
            flat = {k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v)
                    for k, v in record.items()}
            if csv_writer is None:
                csv_writer = csv.DictWriter(fh, fieldnames=list(flat))
                csv_writer.writeheader()
            csv_writer.writerow(flat)
    else:
        def write(record: dict) -> None:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return fh, write


def write_all(path: Path, records: Iterable[dict]) -> None:
    """Every record into `path` (.csv or JSON Lines; `-`: standard output)."""
    fh, write = writer(path)
    with fh:
        for record in records:
            write(record)


def folder_out(path: Path, option: str = "--out") -> Path:
    """An output that is a folder: `-` (standard output) cannot be one."""
    if is_stdout(path):
        raise SimgovError(f"{option} names a folder here; standard output (-) cannot hold one")
    return path


def ensure_port_free(host: str, port: int) -> None:
    """Refuse at once, before any slow work, a port another process already listens on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no obstacle
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise SimgovError(f"port {port} on {host} is already in use (another simgov serve or demo?); "
                                  f"stop it or choose another with --port") from None
            raise SimgovError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
