"""Output records of CONTRACT.md section 3: one pydantic model each, shared by CLI, files and API."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Relation = Literal["same_seller_duplicate", "cross_seller_copy", "picture_reuse", "same_product", "counterfeit_suspect",
                   "similar"]


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


class Verdict(BaseModel):
    """An investigator's verdict on a finding (`POST /v1/verdicts`, `simgov verdicts export`)."""

    verdict_id: int
    kind: Literal["pair", "group", "counterfeit", "link"]
    ids: list[str] = Field(description="pair and link: the two ids, sorted; group: the members, sorted; "
                                       "counterfeit: [item_id, reference_item_id]")
    decision: Literal["confirmed", "rejected"]
    reason: str
    note: str | None
    key_id: str = Field(description="the API key that gave the verdict")
    at: float = Field(description="Unix time")
    score: float | None = Field(description="the finding's score when the verdict was given")
    signals: dict[str, float] = Field(description="each signal's score then (accounts: each compared part)")
    agreeing: list[str] = Field(description="the signals that agreed then; a rejection holds until another one does")
    holder: str | None = Field(None, description="the person behind the key (the key's holder name, else its label)")
    undone_at: float | None = Field(None, description="Unix time it was undone (kept; it no longer counts)")
    undone_by: str | None = Field(None, description="the API key that undid it")


class Group(BaseModel):
    """A group of duplicated merchandise (`duplicates`) or of linked accounts (`rings`)."""

    group_id: str
    members: list[str]
    score: float = Field(ge=0, le=1, description="mean pair score inside the group")
    evidence: list[str]
    kind: str | None = Field(None, description="duplicates: same_seller_relisting or cross_seller_copy")
    sellers: list[str] | None = Field(None, description="duplicates: the sellers of the members")
    verdict: Verdict | None = Field(None, description="duplicates: the investigator's verdict on this group, if any")


class CounterfeitSuspect(BaseModel):
    item_id: str
    seller_id: str
    reference_item_id: str
    brand: str | None
    score: float = Field(ge=0, le=1)
    price_ratio: float | None = Field(description="suspect price / reference price (same currency); None if unknown")
    evidence: list[str]


class CounterfeitAssessment(BaseModel):
    """One item checked against the reference catalogue (`GET /v1/items/{id}/counterfeit`)."""

    item_id: str
    suspect: bool
    suspects: list[CounterfeitSuspect] = Field(description="references this item is a suspected counterfeit of")
    checked_references: list[str] = Field(description="reference listings that resemble the item and were checked")
    notes: list[str] = Field(description="conditions that held or failed, in plain words")
    verdicts: dict[str, Verdict] = Field(
        default_factory=dict, description="investigator verdicts on this item as a counterfeit, by reference id")


class LinkEvidence(BaseModel):
    kind: str = Field(description="shared_identifier, identifier_mismatch, profile, address, avatar, listing_overlap")
    detail: str = Field(description="plain words; names identifiers, never their values")
    score: float = Field(ge=0, le=1, description="the similarity behind this piece of evidence")


class LinkedAccount(BaseModel):
    """An account linked to the one asked about (`linked`, `GET /v1/accounts/{id}/linked`)."""

    account_id: str
    score: float = Field(ge=0, le=1, description="probability-like link score")
    match: bool = Field(description="simgov's decision at its link threshold")
    evidence: list[LinkEvidence] = Field(description="most in favour of a link first")


class AccountPair(BaseModel):
    """A scored account pair (`rings --pairs-out`); `match`: both accounts are in one ring."""

    account_a: str
    account_b: str
    score: float = Field(ge=0, le=1)
    match: bool


class Bank(BaseModel):
    """A known-bad bank (`/v1/banks`, `simgov banks list`)."""

    name: str
    description: str | None
    enabled: bool
    created_at: float
    created_by: str | None
    entries: int
    enabled_entries: int


class BankEntry(BaseModel):
    entry_id: int
    bank: str
    kind: Literal["pdq", "title", "identifier", "vpdq"]
    value: str = Field(description="the PDQ hash, the title, the identifier's keyed hash, or a video's vPDQ file")
    label: str | None
    source: str | None = Field(description="cli, api, import:FILE or verdict:ID")
    enabled: bool
    added_at: float
    added_by: str | None


class BankHit(BaseModel):
    """A listing that matched a bank entry when it was written or scanned."""

    item_id: str
    bank: str
    entry_id: int
    kind: Literal["pdq", "title", "identifier", "vpdq"]
    detail: str = Field(description="what matched, in plain words (never an identifier's value)")
    score: float
    at: float = Field(description="Unix time the listing was checked")
