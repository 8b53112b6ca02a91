"""The lookup audit trail: every entry is committed before `record` returns, also when many lookups
share a commit, and a failed commit is reported to every lookup whose entry it held."""
from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import contextmanager

import pytest

from simgov.keys import KeyStore, Principal
from simgov.storage.items import Store

READER = Principal("k0000000000a", "investigator")


def _wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def _entries(path) -> list[str]:
    """Asked-for ids of the committed entries, read through a connection of its own."""
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT ids FROM audit_log ORDER BY entry_id")]


def test_concurrent_lookups_each_return_after_their_entry_is_committed(tmp_path):
    store = Store(tmp_path)
    keys = KeyStore(store)
    missing = []

    def lookups(worker: int) -> None:
        for n in range(25):
            item = f"item-{worker}-{n}"
            keys.record(READER, "GET /v1/items/{item_id}", [item])
            if f'["{item}"]' not in _entries(store.path):
                missing.append(item)

    threads = [threading.Thread(target=lookups, args=(w,)) for w in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert missing == []
    assert len(_entries(store.path)) == 16 * 25
    assert len(set(_entries(store.path))) == 16 * 25


def test_lookups_queued_behind_a_commit_share_the_next_one(tmp_path):
    store = Store(tmp_path)
    keys = KeyStore(store)
    real = store.transaction
    gate = threading.Event()
    commits: list[int] = []

    @contextmanager
    def slow_disk():
        with real() as db:
            before = db.total_changes
            gate.wait(30)
            yield db
            commits.append(db.total_changes - before)

    store.transaction = slow_disk
    first = threading.Thread(target=keys.record, args=(READER, "GET /v1/items/{item_id}", ["first"]))
    first.start()
    _wait_until(lambda: keys.tables._audit._writing)
    queued = [threading.Thread(target=keys.record, args=(READER, "GET /v1/items/{item_id}", [f"q{n}"]))
              for n in range(5)]
    for t in queued:
        t.start()
    _wait_until(lambda: len(keys.tables._audit._queue) == 5)
    gate.set()
    for t in [first, *queued]:
        t.join()
    assert commits == [1, 5]
    assert len(_entries(store.path)) == 6


def test_a_failed_commit_fails_the_lookups_it_held_and_the_next_one_succeeds(tmp_path):
    store = Store(tmp_path)
    keys = KeyStore(store)
    real = store.transaction

    @contextmanager
    def full_disk():
        raise sqlite3.OperationalError("database or disk is full")
        yield  # pragma: no cover

    store.transaction = full_disk
    with pytest.raises(sqlite3.OperationalError, match="disk is full"):
        keys.record(READER, "GET /v1/items/{item_id}", ["lost"])
    store.transaction = real
    keys.record(READER, "GET /v1/items/{item_id}", ["kept"])
    assert _entries(store.path) == ['["kept"]']
