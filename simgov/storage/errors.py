"""The store's errors under names of their own, so that callers outside the storage layer catch
them without importing sqlite3."""
from __future__ import annotations

import sqlite3

#: Any failure of the store (a full disk, a read-only folder, a locked or damaged file).
StorageError = sqlite3.Error
#: The store cannot be used right now or at all (locked past the busy timeout, disk full, read-only).
StorageUnavailable = sqlite3.OperationalError
