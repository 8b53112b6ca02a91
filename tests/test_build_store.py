"""The store's write path as a bulk build uses it: page size and what a stored title vector costs."""
import sqlite3

import numpy as np

from simgov.schema import Item
from simgov.storage.items import PAGE_SIZE, ItemWrite, Store


def _writes(n: int, start: int = 0) -> list[ItemWrite]:
    rng = np.random.default_rng(start)
    items = [Item(item_id=f"it-{i:05d}", title=f"listing {i}", seller_id=f"s-{i % 7}") for i in range(start, start + n)]
    return [ItemWrite(item, f"{i:064d}", {"title": rng.random(256, dtype=np.float32).tobytes()}, [])
            for i, item in enumerate(items, start)]


def _checkpointed_size(store: Store) -> int:
    store.connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return store.path.stat().st_size


def test_a_new_store_keeps_a_1024_byte_title_vector_in_its_row(tmp_path):
    """With 4 KiB pages each 1,024-byte vector took an overflow page of its own (over 4 KiB a listing)."""
    store = Store(tmp_path)
    for start in range(0, 2000, 250):
        store.write_items(_writes(250, start))
    assert store.connection().execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
    assert _checkpointed_size(store) < 2000 * 2000
    blobs = store.blobs("title", range(1, 2001))
    assert len(blobs) == 2000 and all(len(b) == 1024 for b in blobs.values())
    store.close()


def test_a_store_made_with_4k_pages_is_used_as_it_is(tmp_path):
    with sqlite3.connect(tmp_path / Store.FILE) as db:  # what earlier versions made
        db.execute("PRAGMA page_size=4096")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    store = Store(tmp_path)
    written = store.write_items(_writes(10))
    assert [vec_id for vec_id, _ in written] == list(range(1, 11))
    assert store.connection().execute("PRAGMA page_size").fetchone()[0] == 4096
    assert store.get_item("it-00003").item.title == "listing 3"
    store.close()


def test_bulk_writes_commit_without_syncing_then_sync_once_and_restore_full(tmp_path):
    store = Store(tmp_path)
    db = store.connection()
    with store.bulk_writes():
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        store.write_items(_writes(10))
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL again for every later write
    assert store.get_meta("bulk_synced_at") is not None and store.current_seq() == 10
    try:
        with store.bulk_writes():
            store.write_items(_writes(5, 10))
            raise OSError("disk full")
    except OSError:
        pass
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2
    assert store.current_seq() == 15  # what was committed stays committed
    store.close()
