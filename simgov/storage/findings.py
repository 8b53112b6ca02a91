"""What the findings queue and seller risk read from the store: items changed since a sequence
number (deletes included, so that their findings go), and live listings per seller."""
from __future__ import annotations

from .items import Store


def changed_items(store: Store, after_seq: int) -> list[tuple[str, bool]]:
    """(item_id, deleted) of every item written or deleted after sequence number `after_seq`."""
    rows = store.connection().execute(
        "SELECT item_id, deleted FROM items WHERE vec_id>? ORDER BY vec_id", (after_seq,)).fetchall()
    return [(item_id, bool(deleted)) for item_id, deleted in rows]


def listing_counts(store: Store) -> dict[str, int]:
    """Live listings of every seller, by seller id."""
    rows = store.connection().execute(
        "SELECT seller_id, COUNT(*) FROM items WHERE deleted=0 GROUP BY seller_id").fetchall()
    return dict(rows)
