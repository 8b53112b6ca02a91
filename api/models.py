"""Response and request bodies that only the HTTP API has.

Records of CONTRACT.md section 3 (`Neighbour`, `LinkedAccount`, `CounterfeitAssessment`) come from
`simgov.records` unchanged; the models here wrap them (so a response can grow fields without
breaking clients) or describe API-only things: errors, upsert reports, the audit trail.
"""
from __future__ import annotations

from typing import Any, Literal

from fastapi import UploadFile
from pydantic import BaseModel, ConfigDict, Field, model_validator

from simgov.records import LinkedAccount, Neighbour
from simgov.schema import MAX_ID_CHARS, MAX_TEXT_CHARS, MAX_TITLE_CHARS, Item

MAX_BATCH = 1000


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


class SimilarResponse(BaseModel):
    item_id: str
    neighbours: list[Neighbour]


class SearchQueryInfo(BaseModel):
    text: str | None
    image: dict[str, int] | None = Field(None, description="width and height of the uploaded picture")


class SearchResponse(BaseModel):
    query: SearchQueryInfo
    neighbours: list[Neighbour]


# An id: 1 to 256 characters, not only spaces, no control characters (what `Item`'s validators accept).
_ID = {"minLength": 1, "maxLength": MAX_ID_CHARS, "pattern": r"^[^\x00-\x1f]*[^\s\x00-\x1f][^\x00-\x1f]*$"}


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


class UpsertRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[ItemIn] = Field(min_length=1, max_length=MAX_BATCH)


class SearchForm(BaseModel):
    """The multipart/form-data body of a search: a text, a picture, or both."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [{"required": ["text"]}, {"required": ["image"]}]})
    text: str = Field(None, max_length=2000, pattern=r"\S", description="query text (compared with titles)")
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
