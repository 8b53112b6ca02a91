"""Title meaning: sentence embeddings (all-MiniLM-L6-v2 by default) searched by cosine in FAISS."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import faiss
import numpy as np

from ..encoders import ExactEncoder, ExactVectorCache, create_encoder, load_sentence_model, weights_digest
from ..matching.evidence import MatchPart
from ..matching import levels as match_levels  # a module: simgov.matching.levels imports simgov.signals
from ..schema import Item
from ..vectors import (DenseStore, create_dense_store, discard_dense_store, open_dense_store,
                       release_dense_store)
from .base import BankIndex, BankMatch, BuildContext, Candidate, Query, Signal, SignalOutput, top_candidates
from .text.levels import head
from .text.profile import in_english

INDEX_FILE = "title.faiss"


def model_digest(model_dir: Path) -> str:
    """SHA-256 over the model's weight files: the identity checked when an index is opened."""
    return weights_digest(model_dir)


__all__ = ["TitleSignal", "load_sentence_model", "model_digest"]


class TitleBankIndex(BankIndex):
    """Title entries of the banks by the meaning of their text (exact cosine, FAISS flat): the
    nearest entries of a listing's title, best first; whether one matches is the item matcher's
    decision on every signal of the entry's text (`simgov.banks`)."""

    judged_by_matcher = True
    NEIGHBOURS = 5  # nearest entries judged per listing

    def __init__(self, entries: list[tuple[int, bytes]]):
        self.entry_ids = [entry_id for entry_id, _ in entries]
        vectors = np.stack([np.frombuffer(blob, dtype=np.float32) for _, blob in entries])
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(vectors)

    def search(self, blob: bytes) -> list[BankMatch]:
        query = np.frombuffer(blob, dtype=np.float32)[None, :]
        sims, rows = self.index.search(query, min(self.NEIGHBOURS, len(self.entry_ids)))
        return [BankMatch(self.entry_ids[row], float(sim), "") for sim, row in zip(sims[0].tolist(), rows[0].tolist())
                if row >= 0]


class TitleSignal(Signal):
    name = "title"
    # 2: a scraped title's product name is encoded without the shop's boilerplate after it (`head`);
    # 3: a quoted name without a language tag is that name too, and words of other languages that the text
    # profile translates are encoded in English (`in_english`)
    version = 3
    description = "meaning of the product's name (sentence embedding of the title, cosine)"
    # weight: the Abt-Buy grid of simgov.matching.combine; centre 0.6, about the mean cosine of
    # candidate pairs
    match_part = MatchPart(weight=2.0, centre=0.6, calibrated=True)
    bank_kind = "title"

    def __init__(self, config):
        super().__init__(config)
        self.model_dir = config.text_model.resolved_path()
        self.encoder = create_encoder(config.text_model)  # exact or static (simgov/encoders.py)
        self.index: DenseStore | None = None  # FAISS in-process or Milvus (config.dense_backend)
        # the static engine re-scores the pairs near a decision with the exact model (`near_decision`)
        self.rescore_bands = config.text_model.rescore_bands if self.encoder.engine == "static" else 0
        self._exact: ExactVectorCache | None = None

    def identity(self) -> dict[str, Any]:
        # the static engine adds engine, static_sha256 and static_dims (vectors of one engine are
        # meaningless in an index built with the other); exact adds nothing, as before engines
        model = self.model_dir.name if self.config.text_model.path else "all-MiniLM-L6-v2"
        return {"version": self.version, "model": model,
                "weights_sha256": model_digest(self.model_dir), **self.encoder.identity()}

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of product names, their words of other languages read in English (`in_english`)."""
        return self.encoder.encode([in_english(t) for t in texts])

    # -- exact re-scoring near a decision (static engine) -------------------------------------
    def near_decision(self, band: int, decides: Callable[[int], bool]) -> bool:
        """Whether a pair whose title cosine fell in title `band` (`matching.levels.title_level`; 0: a
        side has no title) would be decided otherwise in a band up to `rescore_bands` away. The static
        engine's cosine is not the exact model's, so such a pair is re-scored with `exact_vectors`."""
        if not self.rescore_bands or band == 0:
            return False
        here = decides(band)
        top = len(match_levels.LEVELS["title"]) - 1
        return any(decides(other) != here
                   for other in range(max(1, band - self.rescore_bands), min(top, band + self.rescore_bands) + 1))

    def exact_vectors(self, texts: list[str]) -> np.ndarray:
        """The exact model's unit vectors of `texts` (as `encode` reads them), each text encoded once per signal."""
        if self._exact is None:
            self._exact = ExactVectorCache(ExactEncoder(self.model_dir, self.config.text_model.batch_size))
        return self._exact.encode([in_english(t) for t in texts])

    @property
    def exact_encoded(self) -> int:
        """How many texts the exact model encoded for re-scoring (its cost)."""
        return self._exact.encoded if self._exact is not None else 0

    def compute(self, items: list[Item], ctx: BuildContext) -> list[SignalOutput]:
        """Each title's product name encoded: a scraped title's first language-tagged literal
        ("..."@en) without the shop's name and categories that follow it, as `simgov compare`
        reads it (the level model's title bands were fitted on the names' cosines); else the title."""
        outputs = [SignalOutput(None) for _ in items]
        names = [head(item.title) for item in items]
        todo = [i for i, name in enumerate(names) if name]
        if todo:
            vectors = self.encode([names[i] for i in todo])
            for i, vec in zip(todo, vectors):
                outputs[i] = SignalOutput(vec.tobytes())
        return outputs

    def compute_query(self, query: Query) -> bytes | None:
        name = head(query.text or "")
        return self.encode([name])[0].tobytes() if name else None

    def bank_index(self, entries: list[tuple[int, str]]) -> TitleBankIndex | None:
        usable = [(entry_id, blob) for entry_id, text in entries
                  if (blob := self.compute_query(Query(text=text))) is not None]
        return TitleBankIndex(usable) if usable else None

    # -- index ----------------------------------------------------------------------------
    def reset(self, expected: int) -> None:
        previous, self.index = self.index, create_dense_store(self.encoder.dim, expected, self.config, self.name)
        release_dense_store(previous)  # a Milvus collection no generation points to

    def add(self, vec_ids, blobs) -> None:
        if blobs:
            self.index.add(vec_ids, np.stack([np.frombuffer(b, dtype=np.float32) for b in blobs]))

    def remove(self, vec_ids, blobs) -> None:
        self.index.remove(vec_ids)

    def save(self, folder: Path) -> list[str]:
        return self.index.write(folder, self.name)  # INDEX_FILE with FAISS, a collection pointer with Milvus

    def load(self, folder: Path) -> None:
        self.index = open_dense_store(folder, self.name, self.config)

    def discard(self, folder: Path) -> None:
        discard_dense_store(folder, self.name, self.config, keep=self.index)

    def size(self) -> int:
        return self.index.ntotal if self.index else 0

    def search(self, blobs: list[bytes], k: int) -> list[list[Candidate]]:
        if not blobs or self.size() == 0:
            return [[] for _ in blobs]
        queries = np.stack([np.frombuffer(b, dtype=np.float32) for b in blobs])
        # compressed codes (IVF-PQ) rank roughly: fetch more, the exact rescoring from the store ranks them
        sims, ids = self.index.search(queries, k * getattr(self.index, "oversample", 1))
        return [top_candidates(row_ids, np.clip(row_sims, 0.0, 1.0)) for row_ids, row_sims in zip(ids, sims)]

    # -- scoring ----------------------------------------------------------------------------
    def score(self, a: bytes, b: bytes) -> float | None:
        cos = float(np.dot(np.frombuffer(a, dtype=np.float32), np.frombuffer(b, dtype=np.float32)))
        return min(1.0, max(0.0, cos))

    def score_many(self, a, b) -> list[float | None]:
        # each distinct vector once, then one batched product of row pairs; vector @ vector
        # products go through the same BLAS dot as `score`, so the values are the same
        if not a:
            return []
        rows: dict[bytes, int] = {}
        ia = [rows.setdefault(x, len(rows)) for x in a]
        ib = [rows.setdefault(y, len(rows)) for y in b]
        vectors = np.frombuffer(b"".join(rows), dtype=np.float32).reshape(len(rows), -1)
        cos = (vectors[ia][:, None, :] @ vectors[ib][:, :, None]).ravel().astype(np.float64)
        # as min(1, max(0, cos)): NaN and -0.0 give 0.0
        return np.where(cos > 0.0, np.minimum(cos, 1.0), 0.0).tolist()

    def explain(self, a: bytes, b: bytes) -> list[str]:
        return [f"titles {self.score(a, b):.2f} alike in meaning"]
