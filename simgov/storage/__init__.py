"""The storage layer: the only modules that run SQL. One SQLite file per index folder (and one for
the rate-limit buckets that `simgov serve --workers N` shares).

items.py (the Store: connection, schema, items, signal blobs, build runs), accounts.py, verdicts.py,
banks.py, keys.py (API keys and the audit log), ratelimit.py (the shared rate-limit buckets) and
errors.py (the store's errors without sqlite3). Modules here import only the record types they
store (schema, records, accounts.profiling) and simgov.errors, never a layer that uses them.
"""
