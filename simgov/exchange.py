"""PDQ hash lists in the plain-text form Meta's ThreatExchange tools and Hasher-Matcher-Actioner read.

One hash per line: 64 hex digits (256 bits), optionally preceded by the signal type `pdq` (as
`threatexchange hash` prints and python-threatexchange's local-file exchange reads and writes:
`pdq <hash>`), optionally followed by a label after a space or a comma. Blank lines and lines
starting with `#` are skipped. A file is taken whole or not at all: every bad line is reported
with its number, so a partner's list never half-loads.
"""
from __future__ import annotations

import re

from .banks import HEX64_RE, MAX_LABEL
from .hashlines import BadLine, read_lines

SIGNAL_TYPE = "pdq"
_LINE = re.compile(r"^(?:(?P<type>[A-Za-z][A-Za-z0-9_]*)\s+)?(?P<hash>[0-9A-Fa-f]+)(?:\s*[,\s]\s*(?P<label>.*))?$")


def parse_hash_list(text: str) -> list[tuple[str, str | None]]:
    """(hash as lower-case hex, label or None) for every hash line; BadInput naming the bad lines."""
    return read_lines(text, _hash_line, "hash")


def _hash_line(line: str) -> tuple[str, str | None]:
    m = _LINE.match(line)
    if m is None:
        raise BadLine("not a PDQ hash line")
    if m["type"] and m["type"].lower() != SIGNAL_TYPE:
        raise BadLine(f"signal type {m['type']!r}, only {SIGNAL_TYPE} is read")
    value = m["hash"].lower()
    if not HEX64_RE.match(value):
        raise BadLine(f"a PDQ hash is 64 hex digits, this one has {len(value)}")
    label = (m["label"] or "").strip() or None
    if label is not None and len(label) > MAX_LABEL:
        raise BadLine(f"label longer than {MAX_LABEL} characters")
    return value, label


def format_hash_list(entries: list[tuple[str, str | None]], *, labels: bool = False) -> str:
    """`pdq <hash>` lines (what ThreatExchange's file exchange reads), with ` <label>` when asked."""
    lines = []
    for value, label in entries:
        tail = f" {' '.join(label.split())}" if labels and label else ""
        lines.append(f"{SIGNAL_TYPE} {value}{tail}")
    return "".join(line + "\n" for line in lines)
