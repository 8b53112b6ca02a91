"""The finding record: one shape for every kind of trouble the detectors find (CONTRACT.md section 4).

A finding's id is a digest of its kind and its sorted members, so the same counterfeit, group, ring
or bank hit keeps its id across restarts and rebuilds; its verdict and status are read from the
verdicts each time a finding is shown, never stored with it.
"""
from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, Field

from ..records import Verdict

Kind = Literal["counterfeit", "cross_seller_copy", "relisting", "picture_reuse", "ring", "bank_hit"]
KINDS: tuple[str, ...] = ("counterfeit", "cross_seller_copy", "relisting", "picture_reuse", "ring", "bank_hit")
Severity = Literal["high", "medium", "low"]
#: Order of severities, most severe first.
SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}
Status = Literal["open", "confirmed", "rejected"]
_SEP = "\x1f"  # ids hold no control characters (simgov.schema)


def finding_id(kind: str, members: list[str]) -> str:
    """The stable id of a finding: the same kind and members give the same id, anywhere."""
    digest = hashlib.sha256(_SEP.join([kind, *sorted(members)]).encode("utf-8")).hexdigest()
    return f"{kind}-{digest[:16]}"


class Review(BaseModel):
    """What a verdict on this finding is recorded as (`POST /v1/verdicts`): its kind and ids.
    A ring is reviewed as the links of its first member to each other member."""

    kind: Literal["counterfeit", "group", "pair", "link"]
    ids: list[str]


class Finding(BaseModel):
    finding_id: str = Field(description="digest of kind and members: stable across restarts and rebuilds")
    kind: Kind
    severity: Severity
    score: float = Field(ge=0, le=1)
    items: list[str] = Field(description="listings involved (a counterfeit: the suspect, then its reference)")
    accounts: list[str] = Field(description="accounts involved (a ring: its members)")
    sellers: list[str] = Field(description="the sellers the finding blames")
    brand: str | None = None
    summary: str
    evidence: list[str]
    verdict: Verdict | None = Field(None, description="the latest verdict on this finding, if any")
    status: Status = "open"
    decided_by: str | None = Field(None, description="who gave the verdict: the key's holder (`simgov keys create "
                                                     "--holder`), else its label, if it has one")
    found_at: float = Field(description="Unix time the finding was first found")
    review: Review | None = Field(None, description="how a verdict on it is recorded; none for bank hits "
                                                    "(their entries are managed in the bank)")


class FindingPage(BaseModel):
    """`GET /v1/findings`: a page of findings, and the cursor of the next one (None: the last page)."""

    findings: list[Finding]
    next_cursor: str | None
    total: int = Field(description="findings that pass the filters, on every page together")
    computed_at: float | None = Field(None, description="Unix time of the last full scan of the index")


class FindingVerdictRequest(BaseModel):
    decision: Literal["confirmed", "rejected"]
    reason: str = Field(min_length=1, max_length=500)
    note: str | None = Field(None, max_length=2000)


class RiskReason(BaseModel):
    finding_id: str | None = Field(None, description="the finding behind this reason, if one")
    kind: str = Field(description="a finding kind, or linked_account")
    detail: str
    weight: float = Field(ge=0, le=1, description="this reason's share in the risk, before combination")


class SellerRisk(BaseModel):
    seller_id: str
    risk: float = Field(ge=0, le=1, description="chance-like score: 1 - the product of (1 - weight) of the reasons")
    reasons: list[RiskReason]
    counts: dict[str, int] = Field(description="listings, flagged listings, and findings by kind and status")
    linked_accounts: list[str] = Field(default_factory=list, description="accounts in a ring with this one")
    authorized_brands: list[str] = Field(default_factory=list)


class SellerList(BaseModel):
    sellers: list[SellerRisk]
