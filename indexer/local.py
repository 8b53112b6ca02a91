"""The local bulk build: stream the items file, encode changed rows in batches, publish atomically.

Resumable by construction: every batch is committed to the store with the content hash of its
items (including the size and time of their picture files), so a re-run skips what is already
there, re-encodes what changed, and an interrupted run loses at most the batch in flight. The
search structures are published as a new generation only at the end.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from simgov.config import Config
from simgov.errors import ImageRejected
from simgov.imageio import file_signature, resolve_inside
from simgov.index import MAX_DEAD_SHARE, SimIndex, write_json_atomic
from simgov.schema import Item, RowProblem, parse_items
from simgov.signals import BuildContext
from simgov.store import problems_for_items

REPORT = "build_report.json"
Progress = Callable[[int, int], None]


@dataclass
class BuildResult:
    rows: int = 0
    encoded: int = 0
    unchanged: int = 0
    skipped_rows: int = 0
    signal_problems: int = 0
    seconds: float = 0.0
    published: bool = False
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.encoded / self.seconds if self.seconds else 0.0


def count_lines(path: Path) -> int:
    total = 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            total += chunk.count(b"\n")
    return total


def _images_signature(item: Item, ctx: BuildContext) -> str:
    parts = []
    for path_text in item.images:
        try:
            parts.append(file_signature(resolve_inside(path_text, ctx.data_roots)))
        except (ImageRejected, OSError):
            parts.append("unusable")
    return "|".join(parts)


def build(items_file: Path, index_dir: Path, config: Config | None = None, progress: Progress | None = None) -> BuildResult:
    """Build or update the index in `index_dir` from `items_file`; see the module docstring."""
    started = time.monotonic()
    items_file = Path(items_file)
    if not items_file.is_file():
        from simgov.errors import SimgovError

        raise SimgovError(f"items file not found: {items_file}")
    index = SimIndex.open(index_dir, create_with=config or Config())
    store = index.store
    ctx = BuildContext(data_roots=[items_file.resolve().parent])
    run_id = store.start_run(str(items_file))
    result = BuildResult()
    total = count_lines(items_file)
    batch: list[tuple[int, Item]] = []
    status = "failed"

    def flush() -> None:
        lines = {item.item_id: line for line, item in batch}
        items = [item for _, item in batch]
        hashes = {item.item_id: item.content_hash(_images_signature(item, ctx)) for item in items}
        known = store.content_hashes(list(hashes))
        changed = [item for item in items if known.get(item.item_id) != hashes[item.item_id]]
        unchanged = [item.item_id for item in items if known.get(item.item_id) == hashes[item.item_id]]
        found = []
        if changed:
            writes = index.compute(changed, ctx)
            for w in writes:
                w.content_hash = hashes[w.item.item_id]
                found += [RowProblem(str(items_file), lines[w.item.item_id], p, w.item.item_id, s) for s, p in w.problems]
            index.write(writes, live=False)
        for item_id, probs in problems_for_items(store, unchanged).items():
            found += [RowProblem(str(items_file), lines[item_id], p, item_id, s) for s, p in probs]
        store.record_skips(run_id, found)
        result.problems.extend(found)
        result.signal_problems += len(found)
        result.encoded += len(changed)
        result.unchanged += len(unchanged)
        batch.clear()

    try:
        for entry in parse_items(items_file):
            if isinstance(entry, RowProblem):
                store.record_skips(run_id, [entry])
                result.problems.append(entry)
                result.skipped_rows += 1
            else:
                batch.append(entry)
                result.rows += 1
                if len(batch) >= index.config.build_batch_size:
                    flush()
            if progress:
                progress(result.rows + result.skipped_rows, total)
        if batch:
            flush()
        if index.manifest.get("generation") is None or index.dead_share() > MAX_DEAD_SHARE or result.encoded:
            if index.manifest.get("generation") is None or index.dead_share() > MAX_DEAD_SHARE:
                index.rebuild_structures()
            else:
                index.refresh()
            roots = list(dict.fromkeys([*index.manifest.get("data_roots", []), *map(str, ctx.data_roots)]))
            index.publish(extra={"data_roots": roots})
            result.published = True
        status = "complete"
    finally:
        result.seconds = time.monotonic() - started
        counts = {"rows": result.rows, "encoded": result.encoded, "unchanged": result.unchanged,
                  "skipped_rows": result.skipped_rows, "signal_problems": result.signal_problems,
                  "seconds": round(result.seconds, 3), "items_per_second": round(result.rate, 1)}
        store.finish_run(run_id, status, counts)
        write_json_atomic(Path(index_dir) / REPORT, {
            "run_id": run_id, "status": status, "items_file": str(items_file), **counts,
            "skipped": [p.to_dict() for p in result.problems],
        })
        index.close()
    return result
