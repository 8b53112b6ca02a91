"""Title meaning: sentence embeddings (all-MiniLM-L6-v2 by default) searched by cosine in FAISS."""
from __future__ import annotations

import hashlib
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IndexMismatch
from ..schema import Item
from ..vectorindex import DenseIndex
from .base import BuildContext, Candidate, Query, Signal, SignalOutput, top_candidates

INDEX_FILE = "title.faiss"
_MODEL_LOCK = threading.Lock()


@lru_cache(maxsize=8)
def _weights_digest(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def model_digest(model_dir: Path) -> str:
    """SHA-256 over the model's weight files: the identity checked when an index is opened."""
    weights = sorted(p for p in model_dir.rglob("*") if p.suffix in (".safetensors", ".bin", ".onnx") and p.is_file())
    if not weights:
        raise IndexMismatch(f"no model weights (.safetensors or .bin) under {model_dir}")
    digest = hashlib.sha256()
    for p in weights:
        st = p.stat()
        digest.update(_weights_digest(str(p), st.st_size, st.st_mtime_ns).encode())
    return digest.hexdigest()


@lru_cache(maxsize=4)
def load_sentence_model(path: str):
    """Load a local sentence-transformers folder once per process, never touching a hub."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    return SentenceTransformer(path, device="cpu", local_files_only=True)


class TitleSignal(Signal):
    name = "title"
    version = 1
    description = "meaning of the title (sentence embedding, cosine)"

    def __init__(self, config):
        super().__init__(config)
        self.model_dir = config.text_model.resolved_path()
        self.index: DenseIndex | None = None

    def _model(self):
        with _MODEL_LOCK:
            return load_sentence_model(str(self.model_dir))

    def identity(self) -> dict[str, Any]:
        return {"version": self.version, "model": self.model_dir.name if self.config.text_model.path else "all-MiniLM-L6-v2",
                "weights_sha256": model_digest(self.model_dir)}

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model().encode(
            texts, batch_size=self.config.text_model.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def compute(self, items: list[Item], ctx: BuildContext) -> list[SignalOutput]:
        outputs = [SignalOutput(None) for _ in items]
        todo = [i for i, item in enumerate(items) if item.title.strip()]
        if todo:
            vectors = self.encode([items[i].title for i in todo])
            for i, vec in zip(todo, vectors):
                outputs[i] = SignalOutput(vec.tobytes())
        return outputs

    def compute_query(self, query: Query) -> bytes | None:
        if not query.text or not query.text.strip():
            return None
        return self.encode([query.text])[0].tobytes()

    # -- index ----------------------------------------------------------------------------
    def reset(self, expected: int) -> None:
        model = self._model()
        dim = (model.get_embedding_dimension if hasattr(model, "get_embedding_dimension")
               else model.get_sentence_embedding_dimension)()
        self.index = DenseIndex.create(dim, expected, self.config.dense_index)

    def add(self, vec_ids, blobs) -> None:
        if blobs:
            self.index.add(vec_ids, np.stack([np.frombuffer(b, dtype=np.float32) for b in blobs]))

    def remove(self, vec_ids, blobs) -> None:
        self.index.remove(vec_ids)

    def save(self, folder: Path) -> list[str]:
        self.index.save(folder / INDEX_FILE)
        return [INDEX_FILE]

    def load(self, folder: Path) -> None:
        self.index = DenseIndex.load(folder / INDEX_FILE, self.config.dense_index.hnsw_ef_search)

    def size(self) -> int:
        return self.index.ntotal if self.index else 0

    def search(self, blobs: list[bytes], k: int) -> list[list[Candidate]]:
        if not blobs or self.size() == 0:
            return [[] for _ in blobs]
        queries = np.stack([np.frombuffer(b, dtype=np.float32) for b in blobs])
        sims, ids = self.index.search(queries, k)
        return [top_candidates(row_ids, np.clip(row_sims, 0.0, 1.0)) for row_ids, row_sims in zip(ids, sims)]

    # -- scoring ----------------------------------------------------------------------------
    def score(self, a: bytes, b: bytes) -> float | None:
        cos = float(np.dot(np.frombuffer(a, dtype=np.float32), np.frombuffer(b, dtype=np.float32)))
        return min(1.0, max(0.0, cos))

    def explain(self, a: bytes, b: bytes) -> list[str]:
        return [f"titles {self.score(a, b):.2f} alike in meaning"]
