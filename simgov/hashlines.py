"""Line-based hash files (PDQ hash lists, vPDQ files) read whole or not at all: blank lines and
lines starting with `#` are skipped, and every bad line is reported with its number, so a
partner's file never half-loads."""
from __future__ import annotations

from typing import Callable, TypeVar

from .errors import BadInput

MAX_REPORTED = 20
Row = TypeVar("Row")


class BadLine(ValueError):
    """What is wrong with one line; `read_lines` adds its number."""


def read_lines(text: str, read_line: Callable[[str], Row], what: str) -> list[Row]:
    """`read_line` of every line that is not blank or a comment (spaces and a byte order mark
    stripped); BadInput naming the bad lines (the first MAX_REPORTED) when it refused any."""
    rows: list[Row] = []
    bad: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        try:
            rows.append(read_line(line))
        except BadLine as exc:
            bad.append(f"line {number}: {exc}")
    if bad:
        more = f" (and {len(bad) - MAX_REPORTED} more)" if len(bad) > MAX_REPORTED else ""
        raise BadInput(f"{len(bad)} malformed {what} line(s): " + "; ".join(bad[:MAX_REPORTED]) + more)
    return rows
