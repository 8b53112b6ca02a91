"""Run by test_faults.py in a fresh interpreter (no threads or OpenMP pools inherited from pytest).

    python tests/fault_child.py crash-publish POINT ITEMS INDEX CONFIG
        a build that SIGKILLs itself at POINT of publishing: `files` (every file of the new
        generation written and fsynced, before its folder is named), `generation` (named, before
        the manifest is written), `manifest` (the new manifest written under its temporary name,
        before the rename that switches readers to it)
    python tests/fault_child.py crash-after-rows ROWS ITEMS INDEX CONFIG
        a build that SIGKILLs itself as soon as the batches it has committed hold ROWS items or more
        (at a batch boundary, whatever the machine's speed: polling the store from outside can miss
        a build that commits every batch between two looks)
    python tests/fault_child.py publish-loop INDEX SECONDS
        writes one item and publishes a new generation, again and again
"""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path


def die(*_args, **_kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


def crash_publish(point: str, items: str, index: str, config: str) -> None:
    import simgov.index
    from simgov.build.local import build
    from simgov.config import Config

    rename = os.replace
    if point == "files":  # written and synced, the generation folder not named yet
        os.replace = lambda src, dst: die() if Path(dst).parent.name == simgov.index.GENERATIONS else rename(src, dst)
    elif point == "generation":
        simgov.index.write_json_atomic = die
    elif point == "manifest":
        os.replace = lambda src, dst: die() if Path(dst).name == "manifest.json" else rename(src, dst)
    else:
        raise SystemExit(f"unknown point {point}")
    build(Path(items), Path(index), Config.load(config))
    raise SystemExit("the build finished without reaching the crash point")


def crash_after_rows(rows: str, items: str, index: str, config: str) -> None:
    from simgov.build.local import build
    from simgov.config import Config
    from simgov.index import SimIndex

    write = SimIndex.write
    written = 0

    def write_then_die(self, writes, **kwargs):
        nonlocal written
        done = write(self, writes, **kwargs)
        written += len(writes)
        if written >= int(rows):
            die()
        return done

    SimIndex.write = write_then_die
    build(Path(items), Path(index), Config.load(config))
    raise SystemExit("the build finished before committing that many rows")


def publish_loop(index: str, seconds: str) -> None:
    import faiss

    from simgov.index import SimIndex
    from simgov.schema import Item
    from simgov.signals import BuildContext

    faiss.omp_set_num_threads(1)
    ix = SimIndex.open(Path(index))
    end, n = time.monotonic() + float(seconds), 0
    while time.monotonic() < end:
        n += 1
        item = Item(item_id=f"loop-{n}", seller_id="loop", title=f"published in a loop, round {n}")
        ix.write(ix.compute([item], BuildContext(data_roots=[Path(index)])))
        ix.publish()
    ix.close()
    print(n)


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    {"crash-publish": crash_publish, "crash-after-rows": crash_after_rows, "publish-loop": publish_loop}[mode](*args)
