"""Response and request bodies that only the HTTP API has.

Records of CONTRACT.md section 3 (`Neighbour`, `LinkedAccount`, `CounterfeitAssessment`) come from
`simgov.records` unchanged; the models here wrap them (so a response can grow fields without
breaking clients) or describe API-only things: errors, upsert reports, the audit trail.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import UploadFile
from pydantic import BaseModel, ConfigDict, Field, model_validator

from simgov.records import Bank, BankEntry, BankHit, Group, LinkedAccount, Neighbour, Verdict
from simgov.compare import Listing
from simgov.schema import ID_PATTERN, MAX_ID_CHARS, MAX_TEXT_CHARS, MAX_TITLE_CHARS, Item, json_shape_problem

MAX_BATCH = 1000
# At least one character that Python's str.strip() keeps: JSON Schema's and pydantic's \S accept the
# information separators \x1c-\x1f and \x85, which Python counts as whitespace.
NOT_BLANK = r"[^\s\x1c-\x1f\x85]"


class ErrorBody(BaseModel):
    code: str = Field(description="machine-readable error code, e.g. not_found, validation_error, unauthorized")
    message: str = Field(description="one line for a person")
    details: list[dict[str, Any]] | None = Field(None, description="per-field problems of a validation error")


class ErrorResponse(BaseModel):
    error: ErrorBody


class Health(BaseModel):
    status: Literal["ok"]


class SignalProblem(BaseModel):
    signal: str
    problem: str


class ItemDetail(BaseModel):
    item: Item = Field(description="the item as ingested")
    signals: dict[str, dict[str, Any]] = Field(
        description="the signals this item has, each with a small description (e.g. picture hashes); "
                    "a signal the item lacks is absent")
    problems: list[SignalProblem] = Field(description="why a signal is missing or partial (unusable picture, …)")
    bank_hits: list["BankHit"] = Field(default_factory=list, description="known-bad bank entries this item matched")


class SimilarResponse(BaseModel):
    item_id: str
    neighbours: list[Neighbour]
    verdicts: dict[str, Verdict] = Field(
        default_factory=dict, description="investigator verdicts on (this item, neighbour) pairs, by neighbour id")


class GroupMember(BaseModel):
    item_id: str
    seller_id: str
    title: str
    images: int = Field(ge=0, description="how many pictures it has: GET /v1/items/{item_id}/images/{n}, n below this")
    score: float | None = Field(ge=0, le=1, description="its pair score with the item looked up; null for that item")


class ItemGroupResponse(BaseModel):
    item_id: str
    group: Group | None = Field(
        description="the duplicate group holding this item, grown live from its matches and grouped as `simgov "
                    "duplicates` groups (its `group_id` is a digest of its members), with the investigator's "
                    "verdict on it, if any; null when the item is in no group")
    match: bool = Field(description="false when there is no group, or an investigator rejected this group and no "
                                    "signal agrees now that did not then")
    members: list[GroupMember] = Field(description="the group's members, the item looked up first, then by score")
    truncated: bool = Field(description="true when the group reached `max_members` listings and linked listings "
                                        "were left out")
    max_members: int


class SearchQueryInfo(BaseModel):
    text: str | None
    image: dict[str, int] | None = Field(None, description="width and height of the uploaded picture")


class SearchResponse(BaseModel):
    query: SearchQueryInfo
    neighbours: list[Neighbour]


# An id as `Item`'s validators accept it: 1 to 256 characters, not only spaces, no `/`, not `.` or `..`,
# no control, format (bidi) or separator characters.
_ID = {"minLength": 1, "maxLength": MAX_ID_CHARS, "pattern": ID_PATTERN}


class ItemIn(Item):
    """An item to ingest (CONTRACT.md section 1). The same model as `Item`, with the limits its
    validators enforce written into the JSON schema, so that clients and fuzzers see them."""

    item_id: str = Field(json_schema_extra=_ID)
    seller_id: str = Field(json_schema_extra=_ID)
    title: str = Field(json_schema_extra={"maxLength": MAX_TITLE_CHARS})
    description: str | None = Field(None, json_schema_extra={"maxLength": MAX_TEXT_CHARS})
    brand: str | None = Field(None, json_schema_extra={"maxLength": MAX_TEXT_CHARS})
    category: str | None = Field(None, json_schema_extra={"maxLength": MAX_TEXT_CHARS})
    images: list[str] = Field(default_factory=list, json_schema_extra={"maxItems": 255})
    videos: list[str] = Field(default_factory=list, json_schema_extra={"maxItems": 255})

    @model_validator(mode="before")
    @classmethod
    def _bounded(cls, data: Any) -> Any:
        """Too deep or too wide to store and read back: refused here, as the build refuses it."""
        problem = json_shape_problem(data) if isinstance(data, dict) else None
        if problem:
            raise ValueError(problem)
        return data


class ListingIn(ItemIn, Listing):
    """A listing to compare (`POST /v1/compare`): an item record whose id and seller may be left out."""

    item_id: str | None = Field(None, json_schema_extra=_ID)  # type: ignore[assignment]
    seller_id: str | None = Field(None, json_schema_extra=_ID)  # type: ignore[assignment]


class UpsertRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[ItemIn] = Field(min_length=1, max_length=MAX_BATCH)


class SearchForm(BaseModel):
    """The multipart/form-data body of a search: a text, a picture, or both."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [{"required": ["text"]}, {"required": ["image"]}]})
    text: str = Field(None, max_length=2000, pattern=NOT_BLANK, description="query text (compared with titles)")
    image: UploadFile = Field(None, description="query picture (JPEG, PNG, WebP, GIF, …)")

    @model_validator(mode="after")
    def _something(self) -> "SearchForm":
        if self.image is None and not (self.text and self.text.strip()):
            raise ValueError("give a query text, an image, or both")
        return self


class UpsertResult(BaseModel):
    item_id: str
    signals: list[str] = Field(description="signals computed for this item")
    problems: list[SignalProblem] = Field(description="signals that could not use (part of) the item, and why")
    bank_hits: int = Field(0, ge=0, description="how many known-bad bank entries this item matched as it was "
                                                "written; which ones (bank, entry, label) only investigators and "
                                                "admins see: GET /v1/items/{item_id}")


class UpsertResponse(BaseModel):
    upserted: int
    items: list[UpsertResult]


class DeleteResponse(BaseModel):
    item_id: str
    deleted: Literal[True]


class AccountItems(BaseModel):
    account_id: str
    items: list[Item]
    truncated: bool = Field(description="true when the account has more items than `limit`")


class LinkedAccounts(BaseModel):
    account_id: str
    linked: list[LinkedAccount]
    verdicts: dict[str, Verdict] = Field(default_factory=dict,
                                         description="investigator verdicts on (this account, linked account) pairs")


class AuditEntry(BaseModel):
    entry_id: int
    at: float = Field(description="Unix time")
    key_id: str
    role: str
    endpoint: str = Field(description="method and route template, e.g. 'GET /v1/items/{item_id}/similar'")
    ids: list[str] = Field(description="the item or account ids asked for")
    detail: dict[str, Any] | None


class AuditPage(BaseModel):
    entries: list[AuditEntry]


# -- verdicts and known-bad banks ---------------------------------------------------------------------
Id = Annotated[str, Field(json_schema_extra=_ID)]


class _VerdictBase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["confirmed", "rejected"]
    reason: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)
    note: str | None = Field(None, max_length=2000)


class PairVerdictRequest(_VerdictBase):
    """A verdict on two ids: an item pair, a linked account pair, or [item_id, reference_item_id]."""

    kind: Literal["pair", "counterfeit", "link"]
    ids: list[Id] = Field(min_length=2, max_length=2, json_schema_extra={"uniqueItems": True})


class GroupVerdictRequest(_VerdictBase):
    """A verdict on a duplicate group: its members."""

    kind: Literal["group"]
    ids: list[Id] = Field(min_length=2, max_length=50, json_schema_extra={"uniqueItems": True})


VerdictRequest = Annotated[PairVerdictRequest | GroupVerdictRequest, Field(discriminator="kind")]


class VerdictList(BaseModel):
    verdicts: list[Verdict]


class BankHits(BaseModel):
    hits: list[BankHit]


class BankList(BaseModel):
    banks: list[Bank]


class BankCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w][\w .:@+\-]*$")
    description: str | None = Field(None, max_length=500)


class PdqEntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["pdq"]
    value: str = Field(pattern=r"^[0-9A-Fa-f]{64}$", description="a PDQ hash: 64 hex digits")
    label: str | None = Field(None, max_length=500)


class TitleEntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["title"]
    value: str = Field(min_length=1, max_length=2000, pattern=NOT_BLANK, description="a known-bad title")
    label: str | None = Field(None, max_length=500)


class IdentifierEntryIn(BaseModel):
    """An account identifier: hashed with the index's identifier key at once; the value is never stored."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["identifier"]
    name: str = Field(min_length=1, max_length=100, pattern=NOT_BLANK, description="email, phone, payout_account …")
    value: str = Field(min_length=1, max_length=2000, pattern=NOT_BLANK)
    label: str | None = Field(None, max_length=500)


BankEntryIn = Annotated[PdqEntryIn | TitleEntryIn | IdentifierEntryIn, Field(discriminator="kind")]


class BankEntriesAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entries: list[BankEntryIn] = Field(min_length=1, max_length=MAX_BATCH)


class BankEntries(BaseModel):
    bank: str
    entries: list[BankEntry]


class BankAddResult(BaseModel):
    bank: str
    added: int
    already_there: int


class Enabled(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool


class BankScan(BaseModel):
    items_flagged: int
    hits: list[BankHit]
