"""SQL helpers shared by the stores."""
from __future__ import annotations

from typing import Iterator

# SQLite allows 999 bound parameters a statement in older builds: `IN (...)` lists stay below it
IN_LIST_SIZE = 900


def sql_chunks(values: list, size: int = IN_LIST_SIZE) -> Iterator[list]:
    """`values` in slices small enough for one `IN (...)` list."""
    for start in range(0, len(values), size):
        yield values[start:start + size]
