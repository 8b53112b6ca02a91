"""The input records (CONTRACT.md section 1) and a streaming reader that never fails on a bad row.

Rows come from JSON Lines (or CSV with the same columns); each is validated by a pydantic model.
A row that cannot be used becomes a `RowProblem` with its file, line and reason, and the reader
goes on: a bad row is never fatal to a build.
"""
from __future__ import annotations

import csv
import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

MAX_LINE_BYTES = 1_000_000
MAX_TITLE_CHARS = 2_000
MAX_TEXT_CHARS = 50_000
MAX_ID_CHARS = 256
# A JSON escape of a UTF-16 surrogate; json.loads turns a lone one into a str no UTF-8 store can hold.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _clean_text(value: str, limit: int, field: str) -> str:
    if len(value) > limit:
        raise ValueError(f"{field} longer than {limit} characters ({len(value)})")
    return value.replace("\x00", "")


def _clean_id(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be empty")
    if len(value) > MAX_ID_CHARS:
        raise ValueError(f"longer than {MAX_ID_CHARS} characters")
    if any(ord(c) < 32 for c in value):
        raise ValueError("contains control characters")
    return value


class Item(BaseModel):
    """A listing as ingested. Unknown extra fields are kept, so nothing a caller sent is lost."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=False)

    item_id: str
    title: str
    seller_id: str
    description: str | None = None
    images: list[str] = Field(default_factory=list)
    brand: str | None = None
    price: float | None = Field(None, ge=0)
    currency: str | None = Field(None, max_length=8)
    category: str | None = None
    reference: bool = False
    attributes: dict[str, Any] = Field(default_factory=dict)

    @field_validator("item_id", "seller_id")
    @classmethod
    def _ids(cls, v: str) -> str:
        return _clean_id(v)

    @field_validator("title")
    @classmethod
    def _title(cls, v: str) -> str:
        return _clean_text(v, MAX_TITLE_CHARS, "title")

    @field_validator("description", "brand", "category")
    @classmethod
    def _text(cls, v: str | None) -> str | None:
        return None if v is None else _clean_text(v, MAX_TEXT_CHARS, "text field")

    @field_validator("price")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError("must be a finite number")
        return v

    @field_validator("images")
    @classmethod
    def _images(cls, v: list[str]) -> list[str]:
        if len(v) > 255:
            raise ValueError("more than 255 images")
        return v

    def content_hash(self, extra: str = "") -> str:
        """Fingerprint of everything a signal may read; a changed item is re-encoded."""
        return _digest(self.model_dump(mode="json"), extra)

    def stored_record(self) -> str:
        """The record as the store keeps it: canonical JSON without the fields that are None."""
        return canonical_json(self.model_dump(mode="json", exclude_none=True))

    def hash_and_record(self, extra: str = "") -> tuple[str, str]:
        """`content_hash(extra)` and `stored_record()` from one model_dump (exclude_none drops
        top-level None fields only, extra fields included), for a bulk build's every row."""
        data = self.model_dump(mode="json")
        return _digest(data, extra), canonical_json({k: v for k, v in data.items() if v is not None})


def _digest(data: dict, extra: str) -> str:
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False) + extra
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RowProblem:
    """A row (or one signal of a row) that could not be used, reported in build_report.json."""

    file: str
    line: int
    reason: str
    item_id: str | None = None
    signal: str | None = None
    account_id: str | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Row:
    line: int
    data: dict


def _valid_unicode(data: dict) -> bool:
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _json_line_bytes(path: Path) -> Iterator[tuple[int, bytes] | RowProblem]:
    """(line number, raw line) of every non-blank line; an oversized line is a problem."""
    with path.open("rb") as fh:
        line_no = 0
        while True:
            raw = fh.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            line_no += 1
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):  # skip the rest of the oversized line
                    raw = fh.readline(MAX_LINE_BYTES)
                yield RowProblem(str(path), line_no, f"line longer than {MAX_LINE_BYTES} bytes")
                continue
            if raw.strip():
                yield line_no, raw


def json_row(file: str, line_no: int, raw: bytes) -> Row | RowProblem:
    """One JSON Lines row decoded, or the problem with it (a bulk build calls this in its workers)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return RowProblem(file, line_no, f"not valid UTF-8 ({exc.reason} at byte {exc.start})")
    try:
        data = json.loads(text)
    except RecursionError:
        return RowProblem(file, line_no, "JSON nested too deeply")
    except json.JSONDecodeError as exc:
        return RowProblem(file, line_no, f"not JSON: {exc.msg} at column {exc.colno}")
    if not isinstance(data, dict):
        return RowProblem(file, line_no, f"expected a JSON object, got {type(data).__name__}")
    if _SURROGATE_ESCAPE.search(text) and not _valid_unicode(data):
        return RowProblem(file, line_no, "text that is not valid Unicode (a lone surrogate escape)")
    return Row(line_no, data)


def _json_lines(path: Path) -> Iterator[Row | RowProblem]:
    for entry in _json_line_bytes(path):
        yield entry if isinstance(entry, RowProblem) else json_row(str(path), *entry)


def _csv_rows(path: Path) -> Iterator[Row | RowProblem]:
    """CSV with the contract's columns; list and object columns hold JSON text."""
    with path.open("r", encoding="utf-8", errors="strict", newline="") as fh:
        try:
            reader = csv.DictReader(fh)
            for row in reader:
                line_no = reader.line_num
                data: dict[str, Any] = {}
                for key, value in row.items():
                    if key is None or value in (None, ""):
                        continue
                    if key in ("images", "attributes", "identifiers", "authorized_brands"):
                        try:
                            value = json.loads(value) if value.lstrip().startswith(("[", "{")) else (
                                [v for v in value.split(";") if v] if key != "attributes" else value
                            )
                        except json.JSONDecodeError:
                            yield RowProblem(str(path), line_no, f"column {key} is not valid JSON")
                            break
                    elif key == "reference":
                        value = value.strip().lower() in ("1", "true", "yes")
                    data[key] = value
                else:
                    yield Row(line_no, data)
        except (UnicodeDecodeError, csv.Error) as exc:
            yield RowProblem(str(path), 0, f"unreadable CSV: {exc}")


def read_rows(path: Path) -> Iterator[Row | RowProblem]:
    """Stream raw rows of a JSON Lines or CSV file, one problem record per unusable line."""
    if path.suffix.lower() == ".csv":
        return _csv_rows(path)
    return _json_lines(path)


def read_raw_rows(path: Path) -> Iterator[Row | tuple[int, bytes] | RowProblem]:
    """Like read_rows, but JSON Lines rows stay undecoded `(line, bytes)` for `json_row` to decode
    elsewhere (a bulk build's workers); CSV rows, which may span lines, come decoded."""
    if path.suffix.lower() == ".csv":
        return _csv_rows(path)
    return _json_line_bytes(path)


def describe_validation_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"]) or "row"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def item_from_row(file: str, row: Row) -> Item | RowProblem:
    """The validated item of a row, or why it cannot be used."""
    try:
        return Item.model_validate(row.data)
    except ValidationError as exc:
        return RowProblem(file, row.line, describe_validation_error(exc),
                          item_id=row.data.get("item_id") if isinstance(row.data.get("item_id"), str) else None)


def duplicate_item(file: str, line: int, item_id: str) -> RowProblem:
    return RowProblem(file, line, "duplicate item_id (first occurrence kept)", item_id=item_id)


def parse_items(path: Path) -> Iterator[tuple[int, Item] | RowProblem]:
    """Validated items with their line numbers; duplicate ids after the first are problems."""
    seen: set[str] = set()
    for row in read_rows(path):
        item = row if isinstance(row, RowProblem) else item_from_row(str(path), row)
        if isinstance(item, RowProblem):
            yield item
        elif item.item_id in seen:
            yield duplicate_item(str(path), row.line, item.item_id)
        else:
            seen.add(item.item_id)
            yield row.line, item


#: Identifier names that are also taken from the top level of an account row, so that a raw
#: email or phone sent outside `identifiers` is hashed like the others and never stored as text.
IDENTIFIER_FIELDS = frozenset({
    "email", "phone", "device_id", "payout_account", "ip", "id_number", "iban", "tax_id", "ssn",
    "date_of_birth", "bank_account",
})
MAX_IDENTIFIERS = 64


class Account(BaseModel):
    """An account (merchant or creator) as received. Identifier values live only in this object:
    what is stored is :meth:`safe_record` (identifier names, no values) and keyed hashes."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=False)

    account_id: str
    kind: str | None = None
    display_name: str | None = None
    handle: str | None = None
    bio: str | None = None
    avatar: str | None = None
    address: str | None = None
    identifiers: dict[str, str] = Field(default_factory=dict)
    authorized_brands: list[str] = Field(default_factory=list)
    registered_at: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _lift_identifiers(cls, data: Any) -> Any:
        """Top-level identifier fields (`"email": …`) join `identifiers` (never kept as text)."""
        if not isinstance(data, dict):
            return data
        loose = [k for k in data if isinstance(k, str) and k.strip().lower() in IDENTIFIER_FIELDS]
        if not loose:
            return data
        data = dict(data)
        ids = data.get("identifiers")
        ids = dict(ids) if isinstance(ids, dict) else ({} if ids is None else ids)
        for k in loose:
            value = data.pop(k)
            if isinstance(ids, dict):
                ids.setdefault(k.strip().lower(), value)
        data["identifiers"] = ids
        return data

    @field_validator("account_id")
    @classmethod
    def _id(cls, v: str) -> str:
        return _clean_id(v)

    @field_validator("kind", "display_name", "handle", "avatar", "registered_at")
    @classmethod
    def _short(cls, v: str | None) -> str | None:
        return None if v is None else _clean_text(v, MAX_TITLE_CHARS, "text field")

    @field_validator("bio", "address")
    @classmethod
    def _long(cls, v: str | None) -> str | None:
        return None if v is None else _clean_text(v, MAX_TEXT_CHARS, "text field")

    @field_validator("identifiers", mode="before")
    @classmethod
    def _identifiers(cls, v: Any) -> dict[str, str]:
        # Messages name the identifier, never its value: they end up in build_report.json.
        if v is None:
            return {}
        if not isinstance(v, dict):
            raise ValueError("must be an object of name -> value")
        if len(v) > MAX_IDENTIFIERS:
            raise ValueError(f"more than {MAX_IDENTIFIERS} identifiers")
        out: dict[str, str] = {}
        for key, value in v.items():
            name = str(key).strip().lower()
            if not name or len(name) > 64 or any(ord(c) < 32 for c in name):
                raise ValueError("identifier names must be 1-64 printable characters")
            if value is None or isinstance(value, bool):
                continue
            if isinstance(value, (int, float)):
                value = str(value)
            if not isinstance(value, str):
                raise ValueError(f"identifier {name}: value must be a string or a number")
            if len(value) > 1000:
                raise ValueError(f"identifier {name}: value longer than 1000 characters")
            if value.strip():
                out[name] = value
        return out

    @field_validator("authorized_brands", mode="before")
    @classmethod
    def _brands(cls, v: Any) -> list[str]:
        if v is None:
            return []
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list) or not all(isinstance(b, str) for b in v):
            raise ValueError("must be a list of strings")
        return v

    def safe_record(self) -> dict:
        """The record as ingested for storage and display: identifier values dropped, their
        names kept (`identifier_names`), extra fields kept."""
        record = self.model_dump(mode="json", exclude_none=True, exclude={"identifiers"})
        record["identifier_names"] = sorted(self.identifiers)
        return record


def parse_accounts(path: Path) -> Iterator[tuple[int, Account] | RowProblem]:
    """Validated accounts with their line numbers; duplicate ids after the first are problems.

    Problems carry the account id in `item_id`'s place as `account_id` (see RowProblem.to_dict)."""
    seen: set[str] = set()
    for row in read_rows(path):
        if isinstance(row, RowProblem):
            yield row
            continue
        raw_id = row.data.get("account_id")
        try:
            account = Account.model_validate(row.data)
        except ValidationError as exc:
            yield RowProblem(str(path), row.line, describe_validation_error(exc),
                             account_id=raw_id if isinstance(raw_id, str) else None)
            continue
        if account.account_id in seen:
            yield RowProblem(str(path), row.line, "duplicate account_id (first occurrence kept)",
                             account_id=account.account_id)
            continue
        seen.add(account.account_id)
        yield row.line, account


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


__all__ = ["Item", "Account", "Row", "RowProblem", "parse_items", "parse_accounts", "read_rows", "read_raw_rows",
           "json_row", "item_from_row", "duplicate_item", "canonical_json"]
