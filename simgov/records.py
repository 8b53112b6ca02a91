"""Output records of CONTRACT.md section 3: one pydantic model each, shared by CLI, files and API."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Relation = Literal["same_seller_duplicate", "cross_seller_copy", "counterfeit_suspect", "similar"]


class Neighbour(BaseModel):
    item_id: str
    seller_id: str
    score: float = Field(ge=0, le=1)
    signals: dict[str, float] = Field(description="per-signal similarity in [0, 1]; a signal an item lacks is absent")
    match: bool = Field(description="simgov's decision at its calibrated threshold")
    relation: Relation
    evidence: list[str]


class Pair(BaseModel):
    item_a: str
    item_b: str
    score: float = Field(ge=0, le=1)
    signals: dict[str, float]
    match: bool
