"""Audit trail: concurrent lookups sharing synced commits vs one synced commit per lookup.

    .venv/bin/python -m benchmarks.audit_log [--threads 8] [-n 200] [--rounds 5]

Every lookup writes an audit entry that must be durable before the lookup is answered. `threads`
threads (a server's request threads) each record `n` entries into a fresh store; the baseline commits
each entry on its own (what `KeyStore.record` did before), the figure through `KeyStore.record` as it
is (entries queued behind a commit share the next one). The two alternate for `--rounds` rounds in
one run; the median of each is reported.
"""
from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.common import load_info, parser, report

from simgov.keys import KeyStore, Principal
from simgov.storage.items import Store
from simgov.storage.keys import _GroupCommit

READER = Principal("k0000000000a", "investigator")


def entries_per_second(threads: int, n: int, shared: bool) -> float:
    store = Store(Path(tempfile.mkdtemp(prefix="simgov-audit-")))
    keys = KeyStore(store)

    def one_commit_each(row: tuple) -> None:
        with store.transaction() as db:
            db.execute(_GroupCommit.SQL, row)

    write = keys.tables._audit.write if shared else one_commit_each

    def lookups(worker: int) -> None:
        for i in range(n):
            write((time.time(), READER.key_id, READER.role, "GET /v1/items/{item_id}",
                   json.dumps([f"item-{worker}-{i}"]), None))

    pool = [threading.Thread(target=lookups, args=(w,)) for w in range(threads)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return threads * n / (time.perf_counter() - started)


def main() -> int:
    ap = parser(__doc__.splitlines()[0], reduced=200, full=1000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    n = args.n or (1000 if args.full else 200)
    print(load_info(), flush=True)
    shared, alone = [], []
    for _ in range(args.rounds):
        alone.append(entries_per_second(args.threads, n, shared=False))
        shared.append(entries_per_second(args.threads, n, shared=True))
    report(args, f"audit entries, {args.threads} threads x {n}, shared commits", statistics.median(shared),
           "entries/s", statistics.median(alone), "one synced commit per entry",
           note=f"rounds: shared {', '.join(f'{v:,.0f}' for v in shared)}; "
                f"alone {', '.join(f'{v:,.0f}' for v in alone)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
