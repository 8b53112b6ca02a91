"""Process pools for bulk work (the build's parallel signals, the self-join's pair scoring).

Workers are spawned children that exit when their parent dies: a parent killed with SIGKILL
cannot stop its workers, and they would otherwise wait on the task queue for ever.
"""
from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable

from .config import Config


def pool_workers(config: Config, workers: int | None = None) -> int:
    """Processes for bulk work: `workers`, else config.image_workers; 0 = one per core."""
    n = config.image_workers if workers is None else workers
    return n if n > 0 else (os.cpu_count() or 1)


def _exit_with_parent(parent_pid: int, poll_seconds: float = 1.0) -> None:
    """Leave when the parent process is gone. (The parent may die while a worker still starts,
    hence its pid is passed in rather than read here.)"""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(poll_seconds)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _init_worker(parent_pid: int, initializer: Callable[..., None] | None, initargs: tuple) -> None:
    _exit_with_parent(parent_pid)
    if initializer is not None:
        initializer(*initargs)


def start_pool(workers: int, initializer: Callable[..., None] | None = None,
               initargs: tuple[Any, ...] = ()) -> ProcessPoolExecutor:
    """A pool of `workers` processes; `initializer(*initargs)` runs once in each (state that every
    task needs, sent once per worker instead of with every task)."""
    import multiprocessing

    # spawn: workers start from a clean interpreter as children of this process, never a fork of it
    # (it holds FAISS's OpenMP and the tokenizer's threads), and never of a forkserver, which a
    # killed parent would leave behind with its workers.
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(os.getpid(), initializer, initargs))
