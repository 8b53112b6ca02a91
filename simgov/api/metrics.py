"""Prometheus metrics: request counts by route and status, latency histograms, index sizes.

With several uvicorn workers, `simgov serve` points PROMETHEUS_MULTIPROC_DIR at a fresh folder
before the workers start, and a scrape then sums every worker's counters. Index sizes are read at
scrape time: the item count from the store (shared by all workers), the search-structure entries
from the worker that answers.
"""
from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from simgov.index import SimIndex

REQUESTS = Counter("simgov_http_requests", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram("simgov_http_request_duration_seconds", "time to answer an HTTP request", ["method", "route"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
CONTENT_TYPE = CONTENT_TYPE_LATEST


class IndexCollector:
    def __init__(self, index: SimIndex):
        self.index = index

    def collect(self):
        items = GaugeMetricFamily("simgov_index_items", "live items in the store")
        items.add_metric([], self.index.store.count_items())
        yield items
        entries = GaugeMetricFamily("simgov_index_entries", "entries in a signal's search structure "
                                    "(in the answering worker, including not yet compacted ones)", labels=["signal"])
        for name, signal in self.index.signals.items():
            entries.add_metric([name], signal.size())
        yield entries
        seq = GaugeMetricFamily("simgov_index_applied_seq", "last store write replayed into the answering worker")
        seq.add_metric([], self.index.applied_seq)
        yield seq


def render(index: SimIndex) -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        base = generate_latest(registry)
    else:
        base = generate_latest(REGISTRY)
    sizes = CollectorRegistry(auto_describe=False)
    sizes.register(IndexCollector(index))
    return base + generate_latest(sizes)
