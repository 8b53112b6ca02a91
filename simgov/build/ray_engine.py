"""The bulk build on Ray Data (`simgov build --engine ray [--ray-address ADDR]`, `pip install 'simgov[ray]'`).

For catalogues whose encoding outgrows one machine. The result is an ordinary simgov index
folder: the same store.sqlite (content hashes included, so the local engine resumes and updates
it), manifest and generation, opened unchanged by `simgov similar/pairs/serve`.

1. Plan: the items file (JSON Lines or Parquet) is cut into chunks on the driver: newline-aligned
   byte ranges of a JSON Lines file, groups of row groups of a Parquet file. Only offsets are
   read here; the rows never pass through the driver.
2. Encode: a Ray Dataset of chunks is mapped with `map_batches` over a pool of stateful actors.
   Each actor creates the signals once (`simgov.signals.create_signals`: the text model is loaded
   once per actor) and, per chunk, parses and validates its rows (bad rows become problems with
   their line numbers, as in the local engine), computes each item's content hash, runs every
   signal's `compute` (title embeddings, lexical profiles, picture fingerprints) and writes the
   blobs to a Parquet shard. Finished shards are kept, so a re-run after a failure only encodes
   the chunks that are missing.
3. Fill: the driver reads the shards in file order into the store (same rows, hashes, problems
   and `vec_id` order as the local engine; items whose content hash is unchanged are not
   rewritten).
4. Index: dense title vectors above `dense_index.flat_max` (or with `kind = "ivfpq"`) go into an
   IVF-PQ index: quantisers trained on a sample on the driver, every shard added by a Ray task
   with that shared trained quantiser, the shard indexes merged (`IndexIVF.merge_from`). Below
   the threshold the title index is exact (`IndexFlatIP`), exactly like the local engine's auto
   choice, so both engines give the same neighbours. The other signals' structures (binary PDQ
   and ORB indexes, lexical postings) are filled from the store on the driver. Then the
   generation is published atomically like any other.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Generator

import numpy as np

from simgov.config import Config
from simgov.errors import SimgovError
from simgov.schema import Item, Row, RowProblem, duplicate_item, item_from_row, json_rows
from simgov.generations import write_json_atomic
from simgov.index import SimIndex
from simgov.signals import BuildContext, create_signals
from simgov.storage.items import ItemWrite, problems_for_items
from simgov.vectors import DenseIndex, dense_backend

from .local import REPORT, AccountBuildResult, BuildResult, images_signature, ingest_accounts

SHARDS = "ray-shards"
MIN_CHUNK_BYTES, MAX_CHUNK_BYTES = 64 << 10, 64 << 20
CHUNKS_PER_ACTOR = 4
Progress = Callable[[int, int], None]


def _require_ray():
    try:
        import pyarrow  # noqa: F401
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise SimgovError("the ray engine needs Ray Data and pyarrow: pip install 'simgov[ray]'") from None
    return ray


@dataclass
class RayBuildResult(BuildResult):
    """The local engine's result, plus how the Ray run was cut up and where its time went."""

    chunks: int = 0
    chunks_reused: int = 0
    actors: int = 0
    dense_kind: str = ""
    timings: dict[str, float] = field(default_factory=dict)


# -- 1. planning ----------------------------------------------------------------------------------
def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".pq")


def _next_line_start(fh, pos: int, size: int) -> int:
    """The first line start at or after byte `pos`."""
    if pos <= 0:
        return 0
    fh.seek(pos - 1)
    if fh.read(1) == b"\n":
        return pos
    while True:
        part = fh.readline(1 << 20)
        if not part or part.endswith(b"\n"):
            return min(fh.tell(), size)


def plan_chunks(items_file: Path, chunk_bytes: int, chunk_rows: int) -> list[dict]:
    """Chunks of the items file: {"number", "kind", "start", "stop"} (bytes or Parquet row groups)."""
    if _is_parquet(items_file):
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(items_file).metadata
        chunks, groups, rows = [], [], 0
        for g in range(meta.num_row_groups):
            groups.append(g)
            rows += meta.row_group(g).num_rows
            if rows >= chunk_rows:
                chunks.append({"kind": "parquet", "start": groups[0], "stop": groups[-1] + 1})
                groups, rows = [], 0
        if groups:
            chunks.append({"kind": "parquet", "start": groups[0], "stop": groups[-1] + 1})
    else:
        size = items_file.stat().st_size
        bounds = [0]
        with items_file.open("rb") as fh:
            pos = chunk_bytes
            while pos < size:
                start = _next_line_start(fh, pos, size)
                if start >= size:
                    break
                if start > bounds[-1]:
                    bounds.append(start)
                pos = max(start, pos) + chunk_bytes
        bounds.append(size)
        chunks = [{"kind": "jsonl", "start": a, "stop": b} for a, b in zip(bounds, bounds[1:]) if b > a]
    for n, chunk in enumerate(chunks):
        chunk["number"] = n
    return chunks


# -- 2. encoding (runs in the Ray actors) ---------------------------------------------------------
def _parquet_value(key: str, value: Any) -> Any:
    if isinstance(value, list) and value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
        return dict(value)  # a Parquet map column
    if key in ("images", "videos", "attributes") and isinstance(value, str) and value.lstrip().startswith(("[", "{")):
        try:
            return json.loads(value)
        except (json.JSONDecodeError, RecursionError):  # left as text: the row is then refused with a reason
            return value
    return value


def _parquet_rows(path: Path, start: int, stop: int) -> Generator[Row, None, int]:
    """Rows of row groups [start, stop), numbered from 1; null columns are left out."""
    import pyarrow.parquet as pq

    table = pq.ParquetFile(path).read_row_groups(list(range(start, stop)))
    n = 0
    for n, row in enumerate(table.to_pylist(), start=1):
        yield Row(n, {k: _parquet_value(k, v) for k, v in row.items() if v is not None})
    return n


def parse_chunk(path: Path, display: str, chunk: dict) -> tuple[list[tuple[int, Item]], list[RowProblem], int]:
    """Validated items with relative line numbers, the chunk's problems, and its line count: the
    local engine's reader and rules (`simgov.schema`), line numbers counted from the chunk's start."""
    rows = (_parquet_rows(path, chunk["start"], chunk["stop"]) if chunk["kind"] == "parquet"
            else json_rows(path, display, start=chunk["start"], stop=chunk["stop"]))
    items, problems, seen = [], [], set()
    while True:
        try:
            row = next(rows)
        except StopIteration as end:
            lines = end.value or 0
            break
        item = row if isinstance(row, RowProblem) else item_from_row(display, row)
        if isinstance(item, RowProblem):
            problems.append(item)
        elif item.item_id in seen:
            problems.append(duplicate_item(display, row.line, item.item_id))
        else:
            seen.add(item.item_id)
            items.append((row.line, item))
    return items, problems, lines


def _shard_paths(shard_dir: Path, number: int) -> tuple[Path, Path]:
    return shard_dir / f"shard-{number:06d}.parquet", shard_dir / f"shard-{number:06d}.json"


def _write_atomic(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(tmp)
    os.replace(tmp, path)


class ChunkEncoder:
    """The stateful actor: signals (and so the text model) made once, then chunk after chunk."""

    def __init__(self, config_json: str, items_file: str, display: str, shard_dir: str, data_roots: list[str]):
        try:
            import torch

            torch.set_num_threads(max(1, int(os.environ.get("OMP_NUM_THREADS", "1"))))
        except ImportError:
            pass
        self.config = Config.model_validate_json(config_json)
        self.signals = create_signals(self.config)
        self.path, self.display = Path(items_file), display
        self.shard_dir = Path(shard_dir)
        self.ctx = BuildContext(data_roots=[Path(r) for r in data_roots])
        warm = Item(item_id="warm-up", title="warm up", seller_id="warm-up")
        for signal in self.signals.values():
            signal.compute([warm], self.ctx)  # load the model now, once per actor

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list]:
        out: dict[str, list] = {"number": [], "summary": []}
        for chunk_json in batch["chunk"]:
            chunk = json.loads(chunk_json)
            out["number"].append(chunk["number"])
            out["summary"].append(json.dumps(self.encode(chunk)))
        return out

    def encode(self, chunk: dict) -> dict:
        import pyarrow as pa
        import pyarrow.parquet as pq

        started = time.monotonic()
        items, problems, lines = parse_chunk(self.path, self.display, chunk)
        columns: dict[str, list] = {"line": [], "item_id": [], "content_hash": [], "item": [], "problems": []}
        blobs: dict[str, list] = {name: [] for name in self.signals}
        step = self.config.build_batch_size
        for start in range(0, len(items), step):
            part = [item for _, item in items[start:start + step]]
            outputs = {name: signal.compute(part, self.ctx) for name, signal in self.signals.items()}
            for i, (line, item) in enumerate(items[start:start + step]):
                columns["line"].append(line)
                columns["item_id"].append(item.item_id)
                columns["content_hash"].append(item.content_hash(images_signature(item, self.ctx)))
                columns["item"].append(item.model_dump_json())
                columns["problems"].append(json.dumps([[n, p] for n, o in outputs.items() for p in o[i].problems]))
                for name in self.signals:
                    blobs[name].append(outputs[name][i].blob)
        table = pa.table({
            "line": pa.array(columns["line"], pa.int64()), "item_id": pa.array(columns["item_id"], pa.string()),
            "content_hash": pa.array(columns["content_hash"], pa.string()),
            "item": pa.array(columns["item"], pa.string()),
            "problems": pa.array(columns["problems"], pa.string()),
            **{f"blob_{name}": pa.array(values, pa.binary()) for name, values in blobs.items()},
        })
        shard, summary_path = _shard_paths(self.shard_dir, chunk["number"])
        _write_atomic(shard, lambda tmp: pq.write_table(table, tmp, compression="zstd"))
        summary = {"number": chunk["number"], "lines": lines, "rows": len(items),
                   "problems": [p.to_dict() for p in problems], "seconds": round(time.monotonic() - started, 3)}
        _write_atomic(summary_path, lambda tmp: tmp.write_text(json.dumps(summary), encoding="utf-8"))
        return summary


# -- 4. IVF-PQ in pieces --------------------------------------------------------------------------
def _add_shard(trained: bytes, shard: str, vec_ids: np.ndarray, out: str) -> tuple[str, int]:
    """A Ray task: one shard's title vectors added to a copy of the shared trained quantiser."""
    import faiss
    import pyarrow.parquet as pq

    index = faiss.deserialize_index(np.frombuffer(trained, dtype=np.uint8))
    column = pq.read_table(shard, columns=["blob_title"]).column("blob_title").to_pylist()
    keep = [i for i, blob in enumerate(column) if blob is not None and vec_ids[i] >= 0]
    if keep:
        vectors = np.stack([np.frombuffer(column[i], dtype=np.float32) for i in keep])
        index.add_with_ids(vectors, vec_ids[keep].astype(np.int64))
    faiss.write_index(index, out)
    return out, len(keep)


def _training_sample(shards: list[Path], want: int, seed: int = 0) -> np.ndarray:
    import pyarrow.parquet as pq

    rng = random.Random(seed)
    order = list(shards)
    rng.shuffle(order)
    picked: list[bytes] = []
    for shard in order:
        titles = pq.read_table(shard, columns=["blob_title"]).column("blob_title").to_pylist()
        column = [b for b in titles if b is not None]
        picked += column
        if len(picked) >= 4 * want:
            break
    if len(picked) > want:
        picked = rng.sample(picked, want)
    return np.stack([np.frombuffer(b, dtype=np.float32) for b in picked]) if picked else np.zeros((0, 0), np.float32)


def build_ivfpq(ray, shards: list[Path], vec_ids: list[np.ndarray], covered: int, config: Config, work: Path):
    """Train on a sample, add every shard with the shared quantiser in Ray tasks, merge."""
    import faiss

    sample = _training_sample(shards, config.dense_index.ivf_train_size)
    if not len(sample):
        return None
    trained = DenseIndex.train_ivfpq(sample, covered, config.dense_index)
    empty = trained.empty_copy()
    blob = ray.put(faiss.serialize_index(empty.index).tobytes())
    task = ray.remote(num_cpus=1)(_add_shard)
    refs = [task.remote(blob, str(shard), ids, str(work / f"ivf-{n:06d}.faiss"))
            for n, (shard, ids) in enumerate(zip(shards, vec_ids))]
    merged = empty
    for path, _ in ray.get(refs):
        merged.merge_from(DenseIndex(faiss.read_index(path), "ivfpq"))
        os.unlink(path)
    merged.index.nprobe = config.dense_index.ivf_nprobe
    return merged


# -- the driver -----------------------------------------------------------------------------------
def _shard_key(items_file: Path, chunking: tuple, config: Config, identities: dict) -> str:
    st = items_file.stat()
    key = json.dumps([str(items_file.resolve()), st.st_size, st.st_mtime_ns, chunking,
                      config.model_dump(mode="json", include={"text_model", "images", "videos", "build_batch_size"}),
                      identities], sort_keys=True, default=str)
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _start_ray(ray, address: str | None, num_cpus: int | None) -> bool:
    """Connect (or start a local instance); True when this call started it."""
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_DEDUP_LOGS", "1")
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        # address="local": a new instance on this machine, never someone else's running cluster
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    return True


def build(items_file: Path | None, index_dir: Path, config: Config | None = None, progress: Progress | None = None,
          *, accounts_file: Path | None = None, ray_address: str | None = None, actors: int | None = None,
          num_cpus: int | None = None, chunk_bytes: int | None = None, chunk_rows: int = 20_000,
          shards_dir: Path | None = None, keep_shards: bool = False, quiet: bool = True) -> RayBuildResult:
    """Build or update the index in `index_dir` on Ray; see the module docstring."""

    started = time.monotonic()
    if items_file is None:
        raise SimgovError("the ray engine builds items: give --items F (accounts alone: the local engine)")
    items_file = Path(items_file)
    if not items_file.is_file():
        raise SimgovError(f"items file not found: {items_file}")
    if items_file.suffix.lower() == ".csv":
        raise SimgovError("the ray engine reads JSON Lines or Parquet items; build a CSV file with the local engine")
    ray = _require_ray()
    started_ray = _start_ray(ray, ray_address, num_cpus)
    try:
        index = SimIndex.open(index_dir, create_with=config or Config())
    except BaseException:
        if started_ray:
            ray.shutdown()
        raise
    config = index.config
    store = index.store
    display = str(items_file)
    data_roots = [str(items_file.resolve().parent)]
    run_id = store.start_run(display)
    result = RayBuildResult()
    status = "failed"
    timings = result.timings
    try:
        # 1. plan
        cpus = int(ray.cluster_resources().get("CPU", 1))
        pool = max(1, actors or cpus)
        if chunk_bytes is None:
            size = items_file.stat().st_size
            chunk_bytes = min(MAX_CHUNK_BYTES, max(MIN_CHUNK_BYTES, size // (pool * CHUNKS_PER_ACTOR) + 1))
        chunks = plan_chunks(items_file, chunk_bytes, chunk_rows)
        identities = {n: s.identity() for n, s in index.signals.items()}
        shard_dir = Path(shards_dir or Path(index_dir) / SHARDS) / _shard_key(
            items_file, (chunk_bytes, chunk_rows), config, identities)
        shard_dir.mkdir(parents=True, exist_ok=True)
        summaries: dict[int, dict] = {}
        for chunk in chunks:
            shard, summary = _shard_paths(shard_dir, chunk["number"])
            if shard.exists() and summary.exists():
                summaries[chunk["number"]] = json.loads(summary.read_text(encoding="utf-8"))
        todo = [c for c in chunks if c["number"] not in summaries]
        result.chunks, result.chunks_reused = len(chunks), len(summaries)
        result.actors = min(pool, len(todo)) if todo else 0
        timings["plan"] = round(time.monotonic() - started, 3)

        # 2. encode: a Dataset of chunks, map_batches over a pool of stateful actors
        t = time.monotonic()
        if todo:
            import ray.data

            ctx = ray.data.DataContext.get_current()
            ctx.enable_progress_bars = not quiet
            ds = ray.data.from_items([{"chunk": json.dumps(c)} for c in todo], override_num_blocks=len(todo))
            pool_strategy = ray.data.ActorPoolStrategy(size=result.actors, max_tasks_in_flight_per_actor=1)
            ds = ds.map_batches(
                ChunkEncoder, batch_size=1, num_cpus=1, compute=pool_strategy,
                fn_constructor_kwargs={"config_json": config.model_dump_json(), "items_file": str(items_file.resolve()),
                                       "display": display, "shard_dir": str(shard_dir.resolve()),
                                       "data_roots": data_roots})
            for row in ds.iter_rows():
                summary = json.loads(row["summary"])
                summaries[summary["number"]] = summary
                if progress:
                    progress(len(summaries), len(chunks))
        timings["encode"] = round(time.monotonic() - t, 3)

        # 3. fill the store in file order, exactly as the local engine would have
        t = time.monotonic()
        offset, seen = 0, set()
        shards, shard_ids = [], []
        covered = 0
        for chunk in chunks:
            summary = summaries[chunk["number"]]
            for p in summary["problems"]:
                problem = RowProblem(**{**p, "line": p["line"] + offset})
                store.record_skips(run_id, [problem])
                result.problems.append(problem)
                result.skipped_rows += 1
            shard = _shard_paths(shard_dir, chunk["number"])[0]
            ids = _fill_shard(index, shard, offset, seen, display, run_id, result, ItemWrite, problems_for_items)
            shards.append(shard)
            shard_ids.append(ids)
            covered += int((ids >= 0).sum())
            offset += summary["lines"]
        timings["fill"] = round(time.monotonic() - t, 3)

        # 4. index: IVF-PQ from the shards, or exact like the local engine; then publish
        t = time.monotonic()
        if accounts_file is not None:
            result.accounts = AccountBuildResult()
            ingest_accounts(index, Path(accounts_file), run_id, result.accounts)
            data_roots.append(str(Path(accounts_file).resolve().parent))
        live = store.count_items()
        cfg = config.dense_index
        kind = cfg.kind if cfg.kind != "auto" else ("flat" if live <= cfg.flat_max else "ivfpq")
        skip: frozenset[str] = frozenset()
        if kind == "ivfpq" and "title" in index.signals and dense_backend(config)[0] == "faiss":
            merged = build_ivfpq(ray, shards, shard_ids, covered, config, shard_dir)
            if merged is not None:
                _add_uncovered(index, merged, shard_ids)
                index.signals["title"].index = merged
                skip = frozenset({"title"})
        index.rebuild_structures(skip)
        title_store = getattr(index.signals.get("title"), "index", None)
        result.dense_kind = getattr(title_store, "kind", "")
        roots = list(dict.fromkeys([*index.manifest.get("data_roots", []), *data_roots]))
        index.publish(extra={"data_roots": roots, "ray_build": {
            "run_id": run_id, "chunks": result.chunks, "actors": result.actors, "dense_index": result.dense_kind}})
        result.published = True
        timings["index"] = round(time.monotonic() - t, 3)
        if not keep_shards:
            shutil.rmtree(shard_dir, ignore_errors=True)
            try:
                shard_dir.parent.rmdir()  # the shards folder, when no other run's shards are left
            except OSError:
                pass
        status = "complete"
    finally:
        result.seconds = time.monotonic() - started
        counts = {"rows": result.rows, "encoded": result.encoded, "unchanged": result.unchanged,
                  "skipped_rows": result.skipped_rows, "signal_problems": result.signal_problems,
                  "seconds": round(result.seconds, 3), "items_per_second": round(result.rate, 1)}
        store.finish_run(run_id, status, counts)
        report = {"run_id": run_id, "status": status, "items_file": display, **counts, "engine": "ray",
                  "ray": {"chunks": result.chunks, "chunks_reused": result.chunks_reused, "actors": result.actors,
                          "dense_index": result.dense_kind, "seconds": timings},
                  "skipped": [p.to_dict() for p in result.problems]}
        if accounts_file is not None and result.accounts is not None:
            report["accounts_file"] = str(accounts_file)
            report["accounts"] = result.accounts.counts()
            report["skipped"] += [p.to_dict() for p in result.accounts.problems]
        write_json_atomic(Path(index_dir) / REPORT, report)
        index.close()
        if started_ray:
            ray.shutdown()
    return result


def _fill_shard(index, shard: Path, offset: int, seen: set, display: str, run_id: int, result: RayBuildResult,
                ItemWrite, problems_for_items) -> np.ndarray:
    """One shard into the store; returns the vec_id of each shard row (-1: a duplicate)."""
    import pyarrow.parquet as pq

    store = index.store
    table = pq.read_table(shard)
    names = [c[len("blob_"):] for c in table.column_names if c.startswith("blob_")]
    rows = table.to_pydict()
    n = table.num_rows
    vec_ids = np.full(n, -1, dtype=np.int64)
    keep: list[int] = []
    for i in range(n):
        item_id, line = rows["item_id"][i], rows["line"][i] + offset
        if item_id in seen:
            problem = duplicate_item(display, line, item_id)
            store.record_skips(run_id, [problem])
            result.problems.append(problem)
            result.skipped_rows += 1
            continue
        seen.add(item_id)
        keep.append(i)
    result.rows += len(keep)
    step = index.config.build_batch_size
    for start in range(0, len(keep), step):
        part = keep[start:start + step]
        ids = [rows["item_id"][i] for i in part]
        known = store.content_hashes(ids)
        changed = [i for i in part if known.get(rows["item_id"][i]) != rows["content_hash"][i]]
        unchanged = [i for i in part if known.get(rows["item_id"][i]) == rows["content_hash"][i]]
        found = []
        writes = []
        for i in changed:
            problems = [(s, p) for s, p in json.loads(rows["problems"][i])]
            blobs = {name: rows[f"blob_{name}"][i] for name in names if rows[f"blob_{name}"][i] is not None}
            item = Item.model_validate_json(rows["item"][i])
            writes.append(ItemWrite(item, rows["content_hash"][i], blobs, problems))
            found += [RowProblem(display, rows["line"][i] + offset, p, rows["item_id"][i], s) for s, p in problems]
        if writes:
            for i, (vec_id, _) in zip(changed, store.write_items(writes)):
                vec_ids[i] = vec_id
        if unchanged:
            lines = {rows["item_id"][i]: rows["line"][i] + offset for i in unchanged}
            for item_id, probs in problems_for_items(store, list(lines)).items():
                found += [RowProblem(display, lines[item_id], p, item_id, s) for s, p in probs]
            current = store.live_vec_ids(list(lines))
            for i in unchanged:
                vec_ids[i] = current.get(rows["item_id"][i], -1)
        store.record_skips(run_id, found)
        result.problems.extend(found)
        result.signal_problems += len(found)
        result.encoded += len(changed)
        result.unchanged += len(unchanged)
    return vec_ids


def _add_uncovered(index, merged, shard_ids: list[np.ndarray]) -> None:
    """Live items the shards did not bring (an update run over an existing index) join from the store."""
    covered = np.unique(np.concatenate(shard_ids + [np.zeros(0, np.int64)]))
    for batch in index.store.iter_live():
        vec_ids = np.array([r[0] for r in batch], dtype=np.int64)
        missing = vec_ids[~np.isin(vec_ids, covered)]
        if len(missing):
            blobs = index.store.blobs("title", missing.tolist())
            have = [v for v in missing.tolist() if v in blobs]
            if have:
                vectors = np.stack([np.frombuffer(blobs[v], np.float32) for v in have])
                merged.add(np.array(have, dtype=np.int64), vectors)
