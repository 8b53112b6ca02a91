"""What the kept neighbour lists (simgov.neighbours) read from the store: the items written or
deleted between two sequence numbers, with their current vec_id."""
from __future__ import annotations

from .items import Store


def changed_since(store: Store, after_seq: int, upto_seq: int) -> list[tuple[str, int, bool]]:
    """(item_id, vec_id, deleted) of every item written or deleted after `after_seq`, up to `upto_seq`
    (a deleted item's vec_id is the sequence number of its delete)."""
    rows = store.connection().execute(
        "SELECT item_id, vec_id, deleted FROM items WHERE vec_id>? AND vec_id<=? ORDER BY vec_id",
        (after_seq, upto_seq)).fetchall()
    return [(item_id, vec_id, bool(deleted)) for item_id, vec_id, deleted in rows]
