"""Per-key rate limits: one token bucket per API key id.

A bucket holds up to `burst` tokens and refills at `rate` tokens a second; a request takes one.
Buckets are kept only for keys that verified, so their number is bounded by the live keys. One
server process keeps them in memory; several uvicorn workers share them in a small SQLite file
(`shared`, made by `simgov serve --workers N`; simgov/storage/ratelimit.py), so a key gets its
limit once, not once per worker.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

from simgov.storage.ratelimit import SharedBuckets


class RateLimiter:
    def __init__(self, rate: float, burst: int, shared: Path | None = None):
        if rate < 0 or burst < 1:
            raise ValueError("rate must be >= 0 (0 turns limits off) and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.shared = shared
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, when counted)
        self._lock = threading.Lock()
        self._shared = SharedBuckets(shared) if shared is not None else None

    def take(self, key_id: str) -> float:
        """0.0 when the request may go ahead, else the seconds until the key has a token again."""
        if self.rate == 0:
            return 0.0
        now = time.monotonic()  # one clock for every process of the machine
        if self._shared is not None:
            return self._shared.update(key_id, lambda bucket: self._spend(bucket, now))
        with self._lock:
            self._buckets[key_id], wait = self._spend(self._buckets.get(key_id), now)
            return wait

    def _spend(self, bucket: tuple[float, float] | None, now: float) -> tuple[tuple[float, float], float]:
        """The bucket after one request at `now`, and the wait (0.0 when the request may go)."""
        tokens, then = bucket or (float(self.burst), now)
        tokens = min(float(self.burst), tokens + (now - then) * self.rate)
        if tokens >= 1.0:
            return (tokens - 1.0, now), 0.0
        return (tokens, now), (1.0 - tokens) / self.rate
