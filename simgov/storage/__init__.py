"""The storage layer: the only modules that run SQL. One SQLite file per index folder.

items.py (the Store: connection, schema, items, signal blobs, build runs), accounts.py, verdicts.py,
banks.py, keys.py (API keys and the audit log), ratelimit.py (the shared rate-limit buckets) and
errors.py (the store's errors without sqlite3). Nothing here imports a layer above.
"""
