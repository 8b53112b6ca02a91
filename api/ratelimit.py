"""Per-key rate limits: one token bucket per API key id, in each server process.

A bucket holds up to `burst` tokens and refills at `rate` tokens a second; a request takes one.
Buckets are kept only for keys that verified, so their number is bounded by the live keys. With
several uvicorn workers each has its own buckets: the limit a key sees is per worker.
"""
from __future__ import annotations

import threading
import time


class RateLimiter:
    def __init__(self, rate: float, burst: int):
        if rate < 0 or burst < 1:
            raise ValueError("rate must be >= 0 (0 turns limits off) and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, when counted)
        self._lock = threading.Lock()

    def take(self, key_id: str) -> float:
        """0.0 when the request may go ahead, else the seconds until the key has a token again."""
        if self.rate == 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            tokens, then = self._buckets.get(key_id, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.rate)
            if tokens >= 1.0:
                self._buckets[key_id] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key_id] = (tokens, now)
            return (1.0 - tokens) / self.rate
