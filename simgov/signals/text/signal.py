"""The text signal: what a listing's text identifies (model codes, brand, numbers with units,
distinctive words).

Sentence embeddings are nearly blind to `KDL-46V3000` versus `KDL-40V3000`; this signal is not.
Each item's `TitleProfile` (profile.py) is stored as JSON; candidates come from an inverted index
of normalised codes; pairs are compared (compare.py) with IDF weights over the catalogue (idf.py).
"""
from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from ...matching.evidence import MatchPart
from ...schema import Item
from ..base import BuildContext, Candidate, Query, Signal, SignalOutput
from .compare import Comparable, TextComparison, compare_prepared
from .idf import IdfTable
from .profile import TitleProfile, blocking_keys, code_keys, profile

INDEX_FILE = "text_keys.npz"
# A key shared by more listings than this identifies a family, not a product; it gives no candidates.
MAX_POSTINGS = 50
# Profiles made ready for comparison (about 3 KB each) kept across calls and requests: a lookup
# scores the same stored listings in several calls and explains the shown ones again.
PREPARED_CACHE = 16_384
# Comparisons kept for explain/contradictions: the pairs a lookup shows are explained again
# when the same listing is looked up again.
COMPARISON_CACHE = 4_096
# A score_many call this small is a lookup's: its comparisons go through that cache, for the
# explain of the shown pairs that follows; a self-join's chunks are larger and are not kept.
LOOKUP_CALL = 512


@lru_cache(maxsize=200_000)
def _profile(blob: bytes) -> TitleProfile:
    return TitleProfile.from_dict(json.loads(blob))


class TextSignal(Signal):
    name = "text"
    version = 1
    parallel = True
    description = "model codes, brand, measures and distinctive words of the title (lexical)"
    # weight: the Abt-Buy grid of simgov.matching.combine; centre 0.5, the midpoint of the
    # comparison's own logistic
    match_part = MatchPart(weight=6.0, centre=0.5, calibrated=True)

    def __init__(self, config):
        super().__init__(config)
        self.postings: dict[str, list[int]] = defaultdict(list)
        self.doc_freq: Counter = Counter()
        self.docs = 0
        self._idf: IdfTable | None = None
        self._ready: tuple[IdfTable, Callable[[bytes], Comparable],
                           Callable[[bytes, bytes], TextComparison]] | None = None

    # -- computing ----------------------------------------------------------------------------
    @staticmethod
    def _blob(title: str, **fields) -> bytes | None:
        if not title.strip():
            return None
        return json.dumps(profile(title, **fields).to_dict(), sort_keys=True).encode()

    def compute(self, items: list[Item], ctx: BuildContext) -> list[SignalOutput]:
        return [SignalOutput(self._blob(item.title, brand=item.brand, description=item.description,
                                        attributes=item.attributes)) for item in items]

    def compute_query(self, query: Query) -> bytes | None:
        return self._blob(query.text) if query.text else None

    # -- index --------------------------------------------------------------------------------
    def reset(self, expected: int) -> None:
        self.postings = defaultdict(list)
        self.doc_freq = Counter()
        self.docs = 0
        self._idf = None

    def add(self, vec_ids, blobs) -> None:
        # Keys and tokens straight from the stored JSON: a TitleProfile per item (and 200k of
        # them kept in _profile's cache) was most of the postings' time in a bulk build.
        for vec_id, blob in zip(vec_ids.tolist(), blobs):
            d = json.loads(blob)
            for key in code_keys(d.get("codes") or d.get("desc_codes") or ()):
                self.postings[key].append(vec_id)
            self.doc_freq.update(set(d.get("tokens", ())))
            self.docs += 1
        self._idf = None

    def save(self, folder: Path) -> list[str]:
        keys = sorted(self.postings)
        lengths = np.array([len(self.postings[k]) for k in keys], dtype=np.int64)
        ids = (np.concatenate([np.array(self.postings[k], dtype=np.int64) for k in keys]) if keys
               else np.zeros(0, np.int64))
        tokens = sorted(self.doc_freq)
        with open(folder / INDEX_FILE, "wb") as fh:
            np.savez(fh, keys=np.array(keys, dtype=object), lengths=lengths, ids=ids,
                     tokens=np.array(tokens, dtype=object),
                     df=np.array([self.doc_freq[t] for t in tokens], dtype=np.int64), docs=np.array([self.docs]))
            fh.flush()
        return [INDEX_FILE]

    def load(self, folder: Path) -> None:
        data = np.load(folder / INDEX_FILE, allow_pickle=True)
        self.reset(0)
        offsets = np.concatenate([[0], np.cumsum(data["lengths"])])
        ids = data["ids"].tolist()
        for n, key in enumerate(data["keys"].tolist()):
            self.postings[key] = ids[offsets[n]:offsets[n + 1]]
        self.doc_freq = Counter(dict(zip(data["tokens"].tolist(), data["df"].tolist())))
        self.docs = int(data["docs"][0])

    def size(self) -> int:
        return self.docs

    def idf(self) -> IdfTable:
        """IDF over the indexed catalogue, the same formula as idf.build_idf."""
        if self._idf is None:
            n = self.docs
            self._idf = IdfTable({t: math.log((n + 1) / (c + 1)) + 1.0 for t, c in self.doc_freq.items()},
                                              default=math.log(n + 1) + 1.0)
        return self._idf

    def search(self, blobs: list[bytes], k: int) -> list[list[Candidate]]:
        out = []
        for blob in blobs:
            shared: Counter = Counter()
            for key in blocking_keys(_profile(blob)):
                posting = self.postings.get(key, [])
                if len(posting) <= MAX_POSTINGS:
                    shared.update(posting)
            out.append([Candidate(v, 1.0) for v, _ in shared.most_common(k)])
        return out

    # -- scoring ------------------------------------------------------------------------------
    def _prepared(self) -> tuple[Callable[[bytes], Comparable], Callable[[bytes, bytes], TextComparison]]:
        """Bounded caches (lru_cache: safe across the server's threads) of prepared profiles and
        of comparisons, both under the current IDF table; new caches when the table changes."""
        idf = self.idf()
        ready = self._ready
        if ready is None or ready[0] is not idf:
            prepare = lru_cache(maxsize=PREPARED_CACHE)(
                lambda blob: Comparable(TitleProfile.from_dict(json.loads(blob)), idf))
            compare = lru_cache(maxsize=COMPARISON_CACHE)(lambda a, b: compare_prepared(prepare(a), prepare(b)))
            ready = self._ready = (idf, prepare, compare)
        return ready[1], ready[2]

    def compare(self, a: bytes, b: bytes) -> TextComparison:
        return self._prepared()[1](a, b)

    def score(self, a: bytes, b: bytes) -> float | None:
        return self.compare(a, b).score

    def score_many(self, a, b) -> list[float | None]:
        # each distinct profile decoded and weighed once per call, and kept for the next calls in
        # a bounded cache; the call's own dict keeps a self-join chunk larger than the cache from
        # decoding a profile twice
        prepare, compared = self._prepared()
        if len(a) <= LOOKUP_CALL:
            return [compared(x, y).score for x, y in zip(a, b)]
        ready: dict[bytes, Comparable] = {}

        def prepared(blob: bytes) -> Comparable:
            c = ready.get(blob)
            if c is None:
                c = ready[blob] = prepare(blob)
            return c

        compare = compare_prepared
        return [compare(prepared(x), prepared(y)).score for x, y in zip(a, b)]

    def scoring_state(self) -> IdfTable:
        return self.idf()

    def load_scoring_state(self, state: IdfTable) -> None:
        self._idf = state

    def explain(self, a: bytes, b: bytes) -> list[str]:
        return list(self.compare(a, b).evidence)  # a copy: the comparison is cached

    def contradictions(self, a: bytes, b: bytes) -> list[str]:
        # conflicting model codes or brands; a title that names another product for any other
        # reason is said so in general words
        comparison = self.compare(a, b)
        if comparison.parts["code"] >= 0 and comparison.parts["brand"] >= 0:
            return []
        named = [line for line in comparison.evidence if line.startswith(("different model codes", "different brands"))]
        return named or ["the titles name different products"]
