"""Title encoders: the exact sentence-transformers model, and a static model distilled from it.

``exact``  runs the transformer (all-MiniLM-L6-v2 by default) through sentence-transformers:
           about 400 short titles/s on 2 CPU cores.
``static`` looks each sub-word token up in a table distilled offline from that same model and
           averages the rows (the model2vec recipe): no attention, no matrix products beyond a
           gather, about 100x faster on the same cores, at some loss of nuance
           (docs/performance.md has the measured trade-off on Abt-Buy).

Distillation (:func:`distill_static`) never downloads anything: it runs the local
sentence-transformers folder over every token of its own vocabulary (``[CLS] token [SEP]``,
mean-pooled last hidden state, exactly what the model's pooling does), reduces the table by PCA
and weights the rows by a Zipf estimate of token frequency (SIF). The result is written in the
model2vec folder layout (``model.safetensors`` with an ``embeddings`` tensor, ``tokenizer.json``,
``config.json``), so ``model2vec.StaticModel.from_pretrained`` can load it too, but loading and
encoding here need only ``tokenizers``, ``safetensors`` and numpy.

Where the distilled model lives: ``text_model.static_path`` when set (a folder made by
``simgov models distill --out``), else a cache folder named after the source model's weight
digest and the distillation settings under ``$SIMGOV_CACHE`` (default ``~/.cache/simgov``),
made at first use. Its weight digest goes into the index manifest, so an index built with one
engine or one distillation is never opened with another.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .config import CACHE_ENV, env_path
from .errors import IndexMismatch, SimgovError

# Bump when the distillation recipe changes: it is part of the cache folder's name.
STATIC_RECIPE = 1
STATIC_WEIGHTS = "model.safetensors"
STATIC_CONFIG = "config.json"
STATIC_TOKENIZER = "tokenizer.json"
# Tokens never seen in text; their rows are zeroed and left out of the PCA fit.
_UNUSED_TOKEN = re.compile(r"^\[unused\d+\]$")
# Same limit as all-MiniLM-L6-v2's max_seq_length: longer titles are cut as the exact model cuts them.
MAX_TOKENS = 256

_LOCK = threading.Lock()


# -- identities -------------------------------------------------------------------------------
@lru_cache(maxsize=16)
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def weights_digest(model_dir: Path, suffixes: tuple[str, ...] = (".safetensors", ".bin", ".onnx")) -> str:
    """SHA-256 over a model folder's weight files (cached per file size and mtime)."""
    weights = sorted(p for p in Path(model_dir).rglob("*") if p.suffix in suffixes and p.is_file())
    if not weights:
        raise IndexMismatch(f"no model weights (.safetensors or .bin) under {model_dir}")
    digest = hashlib.sha256()
    for p in weights:
        st = p.stat()
        digest.update(_file_digest(str(p), st.st_size, st.st_mtime_ns).encode())
    return digest.hexdigest()


def cache_root() -> Path:
    """Where distilled models are kept: $SIMGOV_CACHE, else $XDG_CACHE_HOME/simgov, else ~/.cache/simgov."""
    if env_path(CACHE_ENV):
        return env_path(CACHE_ENV)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "simgov"


def default_static_dir(source_dir: Path, dims: int) -> Path:
    """The cache folder of the static model distilled from `source_dir` with `dims` dimensions."""
    return cache_root() / "static" / f"{weights_digest(source_dir)[:16]}-d{dims}-r{STATIC_RECIPE}"


# -- the exact model --------------------------------------------------------------------------
@lru_cache(maxsize=4)
def load_sentence_model(path: str):
    """Load a local sentence-transformers folder once per process, never touching a hub."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    return SentenceTransformer(path, device="cpu", local_files_only=True)


class ExactEncoder:
    """The sentence-transformers model itself: unit vectors, as the model was trained to give."""

    engine = "exact"

    def __init__(self, model_dir: Path, batch_size: int = 128):
        self.model_dir = Path(model_dir)
        self.batch_size = batch_size

    def _model(self):
        with _LOCK:
            return load_sentence_model(str(self.model_dir))

    @property
    def dim(self) -> int:
        model = self._model()
        return int((model.get_embedding_dimension if hasattr(model, "get_embedding_dimension")
                    else model.get_sentence_embedding_dimension)())

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model().encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                       convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def identity(self) -> dict[str, Any]:
        # Nothing added: indexes built before engines existed record no "engine", and they are
        # exact ones. A static index records engine "static", so the two never open each other.
        return {}


class ExactVectorCache:
    """The exact model's vectors of texts, each text encoded once (the static engine's re-scoring of
    the pairs near a decision asks for few texts, often the same ones again). Emptied when it holds
    `max_texts`, so memory stays bounded; `encoded` counts the texts the exact model encoded."""

    def __init__(self, encoder: ExactEncoder, max_texts: int = 200_000):
        self.encoder = encoder
        self.max_texts = max_texts
        self.vectors: dict[str, np.ndarray] = {}
        self.encoded = 0
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self.vectors))
            if len(self.vectors) + len(missing) > self.max_texts:
                self.vectors = {t: self.vectors[t] for t in texts if t in self.vectors}
            if missing:
                self.vectors.update(zip(missing, self.encoder.encode(missing)))
                self.encoded += len(missing)
            if not texts:
                return np.zeros((0, self.encoder.dim), dtype=np.float32)
            return np.stack([self.vectors[t] for t in texts])


# -- the static model -------------------------------------------------------------------------
class StaticModel:
    """A distilled static model: a tokenizer and one unit-weighted row per token.

    ``encode`` tokenises a whole batch in Rust (`tokenizers`), then sums the rows of every
    title's tokens with one sparse-matrix product and normalises: no Python work per token.
    """

    def __init__(self, folder: Path):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        missing = [n for n in (STATIC_WEIGHTS, STATIC_TOKENIZER, STATIC_CONFIG) if not (self.folder / n).is_file()]
        if missing:
            raise SimgovError(f"not a static model folder: {self.folder} lacks {', '.join(missing)}")
        self.config = json.loads((self.folder / STATIC_CONFIG).read_text(encoding="utf-8"))
        self.embeddings = np.ascontiguousarray(load_file(str(self.folder / STATIC_WEIGHTS))["embeddings"],
                                               dtype=np.float32)
        self.tokenizer = Tokenizer.from_file(str(self.folder / STATIC_TOKENIZER))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()  # cut below, per title, as cheap numpy slicing
        self.max_tokens = int(self.config.get("max_tokens", MAX_TOKENS))
        unk = self.config.get("unk_token", "[UNK]")
        self.unk_id = self.tokenizer.token_to_id(unk) if unk else None
        self._chunks = _ChunkCache(self.tokenizer)
        self._lock = threading.Lock()
        if self.embeddings.ndim != 2 or self.embeddings.shape[0] < self.tokenizer.get_vocab_size():
            raise SimgovError(f"static model {self.folder}: {self.embeddings.shape} rows for a vocabulary of "
                              f"{self.tokenizer.get_vocab_size()} tokens")

    @property
    def dim(self) -> int:
        return int(self.embeddings.shape[1])

    def token_ids(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(flat token ids, row offsets of each text) without special tokens, unknowns dropped.

        The same ids as ``tokenizer.encode_batch(texts, add_special_tokens=False)`` cut to
        `max_tokens`, but each whitespace-separated chunk is tokenised once per process and then
        looked up (see :class:`_ChunkCache`): catalogue titles repeat their words, and a dict
        lookup is far cheaper than normalising and word-piecing the text again.
        """
        with self._lock:
            flat, lengths = self._chunks.tokens(texts)
        if flat.size and (lengths > self.max_tokens).any():
            pos = np.arange(flat.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            row = np.repeat(np.arange(len(texts)), lengths)
            keep = pos < self.max_tokens
            flat, lengths = flat[keep], np.bincount(row[keep], minlength=len(texts)).astype(np.int64)
        if self.unk_id is not None and flat.size:
            keep = flat != self.unk_id
            if not keep.all():
                row = np.repeat(np.arange(len(texts)), lengths)
                flat, lengths = flat[keep], np.bincount(row[keep], minlength=len(texts)).astype(np.int64)
        offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return flat, offsets

    def encode(self, texts: list[str], chunk: int = 8192) -> np.ndarray:
        """Unit vectors (n, dim); a text with no known token gets the zero vector."""
        from scipy.sparse import csr_matrix

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        vocab = self.embeddings.shape[0]
        for start in range(0, len(texts), chunk):
            part = texts[start:start + chunk]
            flat, offsets = self.token_ids(part)
            if not flat.size:
                continue
            # mean of the token rows: a (texts x vocab) matrix of 1/len times the table
            counts = np.diff(offsets)
            weights = np.repeat(1.0 / np.maximum(counts, 1), counts).astype(np.float32)
            bag = csr_matrix((weights, flat, offsets), shape=(len(part), vocab))
            vectors = np.asarray(bag @ self.embeddings, dtype=np.float32)
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            np.divide(vectors, norms, out=vectors, where=norms > 0)
            out[start:start + len(part)] = vectors
        return out

# Characters Python's str.split() treats as whitespace but BERT's normaliser deletes as control
# characters; removed first so that splitting on whitespace never splits where BERT would not.
_PY_ONLY_SPACE = dict.fromkeys(range(0x1C, 0x20))


class _ChunkCache:
    """Word pieces of whitespace-separated chunks, tokenised once and then looked up.

    A BERT-style tokenizer (normaliser, whitespace/punctuation pre-tokenizer, WordPiece) never
    lets one whitespace-separated chunk affect another, so a text's ids are the concatenation of
    its chunks' ids. Chunks live in numpy buffers (a CSR of pieces); the cache is emptied when
    it holds `max_chunks`, so memory stays bounded on an endless stream of new words.
    """

    def __init__(self, tokenizer, max_chunks: int = 2_000_000):
        self.tokenizer = tokenizer
        self.max_chunks = max_chunks
        self.clear()

    def clear(self) -> None:
        self.index: dict[str, int] = {}
        self.starts = np.zeros(1024, dtype=np.int64)
        self.lengths = np.zeros(1024, dtype=np.int64)
        self.pieces = np.zeros(8192, dtype=np.int64)
        self.used = 0  # pieces used

    def _add(self, chunks: list[str]) -> None:
        encode = getattr(self.tokenizer, "encode_batch_fast", self.tokenizer.encode_batch)
        ids = [e.ids for e in encode(chunks, add_special_tokens=False)]
        lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        flat = np.fromiter((t for x in ids for t in x), dtype=np.int64, count=int(lengths.sum()))
        first, n = len(self.index), len(chunks)
        if first + n > len(self.starts):
            size = max(2 * len(self.starts), first + n)
            self.starts = np.resize(self.starts, size)
            self.lengths = np.resize(self.lengths, size)
        if self.used + flat.size > len(self.pieces):
            self.pieces = np.resize(self.pieces, max(2 * len(self.pieces), self.used + flat.size))
        self.lengths[first:first + n] = lengths
        self.starts[first:first + n] = self.used + np.cumsum(lengths) - lengths
        self.pieces[self.used:self.used + flat.size] = flat
        self.used += flat.size
        self.index.update(zip(chunks, range(first, first + n)))

    def tokens(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(all texts' piece ids concatenated, pieces per text)."""
        split = [t.translate(_PY_ONLY_SPACE).split() for t in texts]
        words_per_text = np.fromiter(map(len, split), dtype=np.int64, count=len(split))
        words = [w for chunks in split for w in chunks]
        if len(self.index) + len(words) > self.max_chunks:
            self.clear()
        wids = np.fromiter(map(self.index.get, words, itertools.repeat(-1)), dtype=np.int64, count=len(words))
        missing = np.flatnonzero(wids < 0)
        if missing.size:
            self._add(list(dict.fromkeys(words[i] for i in missing)))
            wids[missing] = [self.index[words[i]] for i in missing]
        lengths, starts = self.lengths[wids], self.starts[wids]
        total = int(lengths.sum())
        pos = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(total)
        per_text = np.bincount(np.repeat(np.arange(len(texts)), words_per_text), weights=lengths,
                               minlength=len(texts)).astype(np.int64)
        return self.pieces[pos], per_text


@lru_cache(maxsize=4)
def _load_static(folder: str, digest: str) -> StaticModel:
    return StaticModel(Path(folder))


class StaticEncoder:
    """A static model distilled from the exact one (see the module docstring)."""

    engine = "static"

    def __init__(self, source_dir: Path, dims: int = 256, path: Path | None = None, *, distil: bool = True):
        self.source_dir = Path(source_dir)
        self.dims = dims
        self.explicit = path is not None
        self.folder = Path(path) if path is not None else default_static_dir(self.source_dir, dims)
        self.distil = distil

    def ensure(self) -> Path:
        """The model folder, distilled now when it is the default cache folder and not made yet."""
        with _LOCK:
            if not (self.folder / STATIC_WEIGHTS).is_file():
                if self.explicit or not self.distil:
                    raise SimgovError(f"no static model in {self.folder} (make one with: simgov models distill)")
                distill_static(self.source_dir, self.folder, dims=self.dims)
        return self.folder

    def model(self) -> StaticModel:
        folder = self.ensure()
        return _load_static(str(folder), weights_digest(folder, (".safetensors",)))

    @property
    def dim(self) -> int:
        return self.model().dim

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.model().encode(list(texts))

    def identity(self) -> dict[str, Any]:
        folder = self.ensure()
        return {"engine": self.engine, "static_sha256": weights_digest(folder, (".safetensors",)),
                "static_dims": self.model().dim}


def create_encoder(text_model) -> ExactEncoder | StaticEncoder:
    """The encoder a `TextModelConfig` asks for."""
    source = text_model.resolved_path()
    engine = getattr(text_model, "engine", "exact")
    if engine == "static":
        return StaticEncoder(source, text_model.static_dims,
                             Path(text_model.static_path) if text_model.static_path else None)
    if engine == "exact":
        return ExactEncoder(source, text_model.batch_size)
    raise SimgovError(f"unknown text_model.engine {engine!r} (exact or static)")


# -- distillation -----------------------------------------------------------------------------
def _pca(table: np.ndarray, dims: int) -> np.ndarray:
    """Project centred rows on their `dims` main axes (eigendecomposition of the covariance),
    signs fixed so that the result is deterministic."""
    centred = table - table.mean(axis=0)
    cov = (centred.T @ centred) / max(len(table) - 1, 1)
    vals, vecs = np.linalg.eigh(cov.astype(np.float64))
    order = np.argsort(vals)[::-1][:dims]
    scores = centred @ vecs[:, order].astype(np.float32)
    signs = np.sign(scores[np.argmax(np.abs(scores), axis=0), np.arange(scores.shape[1])])
    signs[signs == 0] = 1
    return scores * signs


def token_table(source_dir: Path, *, batch_size: int = 512, progress=None) -> tuple[np.ndarray, np.ndarray, Any]:
    """(one row per vocabulary id, which ids are usable, the model's Hugging Face tokenizer).

    Every usable token goes through the transformer as ``[CLS] token [SEP]``; the mean of its last
    hidden states is its row (exactly what the model's pooling does to a one-token text). Special
    and ``[unusedN]`` tokens keep a zero row.
    """
    import torch

    st_model = load_sentence_model(str(source_dir))
    transformer = st_model[0]
    bert = transformer.auto_model.eval()
    hf_tokenizer = transformer.tokenizer
    vocab = hf_tokenizer.get_vocab()
    size = max(vocab.values()) + 1
    cls_id, sep_id = hf_tokenizer.cls_token_id, hf_tokenizer.sep_token_id
    specials = set(hf_tokenizer.all_special_ids)
    names = {i: t for t, i in vocab.items()}
    usable = np.array([i in names and i not in specials and not _UNUSED_TOKEN.match(names[i]) for i in range(size)])

    table = np.zeros((size, int(bert.config.hidden_size)), dtype=np.float32)
    ids = np.flatnonzero(usable)
    with torch.inference_mode():
        for start in range(0, len(ids), batch_size):
            part = torch.as_tensor(ids[start:start + batch_size], dtype=torch.long)[:, None]
            pieces = [part]
            if cls_id is not None:
                pieces.insert(0, torch.full_like(part, cls_id))
            if sep_id is not None:
                pieces.append(torch.full_like(part, sep_id))
            input_ids = torch.cat(pieces, dim=1)
            hidden = bert(input_ids=input_ids, attention_mask=torch.ones_like(input_ids)).last_hidden_state
            table[ids[start:start + batch_size]] = hidden.mean(dim=1).float().numpy()
            if progress:
                progress(min(start + batch_size, len(ids)), len(ids))
    return table, usable, hf_tokenizer


def sif_weights(size: int, sif_coefficient: float) -> np.ndarray:
    """``a / (a + p(rank))`` per vocabulary id, p a Zipf estimate of the token's frequency from its
    id (WordPiece vocabularies list frequent pieces first): frequent pieces weigh less in a mean."""
    inv = 1.0 / (np.arange(size, dtype=np.float64) + 2)
    return (sif_coefficient / (sif_coefficient + inv / inv.sum())).astype(np.float32)


def distill_static(source_dir: Path, out_dir: Path, *, dims: int = 256, sif_coefficient: float = 1e-4,
                   batch_size: int = 512, progress=None) -> Path:
    """Distil a static model from a local sentence-transformers folder into `out_dir` (offline).

    Every vocabulary token goes through the transformer as ``[CLS] token [SEP]``; the mean of its
    last hidden states is that token's row. The table is reduced to `dims` by PCA (kept whole when
    `dims` is at least the model width) and each row is scaled by ``a / (a + p(rank))``, the SIF
    weight of a Zipf estimate of its frequency, so that frequent pieces weigh less in the mean.
    Written atomically (a temporary folder renamed into place).
    """
    import shutil
    import tempfile

    from safetensors.numpy import save_file

    source_dir, out_dir = Path(source_dir), Path(out_dir)
    table, usable, hf_tokenizer = token_table(source_dir, batch_size=batch_size, progress=progress)
    size, width = table.shape
    reduced = np.zeros((size, min(dims, width)), dtype=np.float32)
    reduced[usable] = _pca(table[usable], min(dims, width))
    reduced *= sif_weights(size, sif_coefficient)[:, None]

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        save_file({"embeddings": np.ascontiguousarray(reduced)}, str(tmp / STATIC_WEIGHTS))
        tok = source_dir / "tokenizer.json"
        if tok.is_file():
            shutil.copyfile(tok, tmp / STATIC_TOKENIZER)
        else:  # a folder with only vocab.txt: let transformers write the fast tokenizer
            hf_tokenizer.backend_tokenizer.save(str(tmp / STATIC_TOKENIZER))
        config = {
            "model_type": "model2vec", "architectures": ["StaticModel"], "hidden_dim": int(reduced.shape[1]),
            "apply_pca": int(dims), "sif_coefficient": sif_coefficient, "normalize": True, "pooling": "mean",
            "seq_length": MAX_TOKENS, "max_tokens": MAX_TOKENS, "unk_token": hf_tokenizer.unk_token,
            "tokenizer_name": source_dir.name, "simgov_recipe": STATIC_RECIPE,
            "source_weights_sha256": weights_digest(source_dir),
        }
        (tmp / STATIC_CONFIG).write_text(json.dumps(config, indent=2, sort_keys=True), encoding="utf-8")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir
