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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

MAX_LINE_BYTES = 1_000_000
MAX_TITLE_CHARS = 2_000
MAX_TEXT_CHARS = 50_000
MAX_ID_CHARS = 256


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
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False) + extra
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RowProblem:
    """A row (or one signal of a row) that could not be used, reported in build_report.json."""

    file: str
    line: int
    reason: str
    item_id: str | None = None
    signal: str | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Row:
    line: int
    data: dict


def _json_lines(path: Path) -> Iterator[Row | RowProblem]:
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
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield RowProblem(str(path), line_no, f"not valid UTF-8 ({exc.reason} at byte {exc.start})")
                continue
            try:
                data = json.loads(text)
            except RecursionError:
                yield RowProblem(str(path), line_no, "JSON nested too deeply")
                continue
            except json.JSONDecodeError as exc:
                yield RowProblem(str(path), line_no, f"not JSON: {exc.msg} at column {exc.colno}")
                continue
            if not isinstance(data, dict):
                yield RowProblem(str(path), line_no, f"expected a JSON object, got {type(data).__name__}")
                continue
            yield Row(line_no, data)


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


def describe_validation_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"]) or "row"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def parse_items(path: Path) -> Iterator[tuple[int, Item] | RowProblem]:
    """Validated items with their line numbers; duplicate ids after the first are problems."""
    seen: set[str] = set()
    for row in read_rows(path):
        if isinstance(row, RowProblem):
            yield row
            continue
        try:
            item = Item.model_validate(row.data)
        except ValidationError as exc:
            yield RowProblem(str(path), row.line, describe_validation_error(exc),
                             item_id=row.data.get("item_id") if isinstance(row.data.get("item_id"), str) else None)
            continue
        if item.item_id in seen:
            yield RowProblem(str(path), row.line, "duplicate item_id (first occurrence kept)", item_id=item.item_id)
            continue
        seen.add(item.item_id)
        yield row.line, item


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


__all__ = ["Item", "Row", "RowProblem", "parse_items", "read_rows", "canonical_json"]
