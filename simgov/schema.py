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
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generator, Iterator

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import UnreadableRecord

MAX_LINE_BYTES = 1_000_000
MAX_TITLE_CHARS = 2_000
MAX_TEXT_CHARS = 50_000
MAX_ID_CHARS = 256
#: Containers nested in one row (the row itself is level 1, `attributes` level 2). Deeper rows are
#: refused as they are read: pydantic's JSON parser reads stored records back only to depth 200,
#: and serialising stops at 255, so a deeper row would be stored but never read again.
MAX_JSON_DEPTH = 32
#: JSON values (objects, arrays, strings, numbers ...) in one row: a wide row costs as much to
#: hash, store and read back as a deep one.
MAX_JSON_VALUES = 10_000
# A JSON escape of a UTF-16 surrogate; json.loads turns a lone one into a str no UTF-8 store can hold.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
#: Characters an id may not hold, the Unicode (14.0) categories Cc (controls), Cf (format
#: characters: the bidi overrides that make `seller-\u202enimda` display as "seller-admin",
#: zero-width joiners, ...), Zl and Zp (line and paragraph separators), as a regex class.
_REFUSED_ID_CLASS = (
    "\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f")
#: What `_clean_id` accepts, as a regular expression for the JSON schema (clients and fuzzers see
#: it): no refused character, no `/`, not only spaces, not `.` or `..`.
ID_PATTERN = rf"^(?!\s*\.{{1,2}}\s*$)[^/{_REFUSED_ID_CLASS}]*[^\s/{_REFUSED_ID_CLASS}][^/{_REFUSED_ID_CLASS}]*$"
_REFUSED_ID_CHAR = re.compile(f"[{_REFUSED_ID_CLASS}]")


def _clean_text(value: str, limit: int, field: str) -> str:
    if len(value) > limit:
        raise ValueError(f"{field} longer than {limit} characters ({len(value)})")
    return value.replace("\x00", "")


def _clean_id(value: str) -> str:
    """An id every route can name and every screen shows as it is: `/` would split the URL path,
    `.` and `..` are path steps, and control or format characters (bidi overrides) change how the
    id reads."""
    value = value.strip()
    if not value:
        raise ValueError("must not be empty")
    if len(value) > MAX_ID_CHARS:
        raise ValueError(f"longer than {MAX_ID_CHARS} characters")
    bad = _REFUSED_ID_CHAR.search(value)
    if bad:
        kind = "control characters" if ord(bad.group()) < 32 else \
            f"invisible or direction-changing characters (U+{ord(bad.group()):04X})"
        raise ValueError(f"contains {kind}")
    if "/" in value:
        raise ValueError("contains '/', which no URL path can carry")
    if value in (".", ".."):
        raise ValueError(f"is {value!r}, a path step that no URL path can carry")
    return value


def json_shape_problem(data: Any) -> str | None:
    """Why a decoded row is too deeply nested or too wide to store, or None (walked without
    recursion, so any depth json.loads produced is safe to look at)."""
    stack = [(data, 1)]
    values = 0
    while stack:
        value, depth = stack.pop()
        values += 1
        if values > MAX_JSON_VALUES:
            return f"more than {MAX_JSON_VALUES} JSON values in one row"
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            return f"JSON nested too deeply (more than {MAX_JSON_DEPTH} levels)"
        stack.extend((child, depth + 1) for child in children)
    return None


class Item(BaseModel):
    """A listing as ingested. Unknown extra fields are kept, so nothing a caller sent is lost."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=False)

    item_id: str
    title: str
    seller_id: str
    description: str | None = None
    images: list[str] = Field(default_factory=list)
    videos: list[str] = Field(default_factory=list)
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

    @field_validator("videos")
    @classmethod
    def _videos(cls, v: list[str]) -> list[str]:
        if len(v) > 255:
            raise ValueError("more than 255 videos")
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


def read_stored_item(item_id: str, record: str) -> Item:
    """An item as the store keeps it. pydantic's JSON parser stops at depth 200, where rows stored
    before MAX_JSON_DEPTH (up to 255 deep) still read with json.loads; a record that reads in
    neither way raises UnreadableRecord."""
    try:
        return Item.model_validate_json(record)
    except ValidationError:
        pass
    try:
        return Item.model_validate(json.loads(record))
    except (ValueError, RecursionError, TypeError):  # ValidationError and JSONDecodeError are ValueErrors
        raise UnreadableRecord(item_id) from None


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


def json_line_bytes(path: Path, display: str | None = None, *, start: int = 0, stop: int | None = None
                    ) -> Generator[tuple[int, bytes] | RowProblem, None, int]:
    """(line number, raw line) of every non-blank line starting in bytes [start, stop) of the file
    (the whole file by default; line numbers count from `start`); an oversized line is a problem,
    named after `display` (default: the path). Returns the number of lines read, blank ones included."""
    with path.open("rb") as fh:
        fh.seek(start)
        line_no = 0
        while stop is None or fh.tell() < stop:
            raw = fh.readline(MAX_LINE_BYTES + 1)
            if not raw:
                break
            line_no += 1
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):  # skip the rest of the oversized line
                    raw = fh.readline(MAX_LINE_BYTES)
                yield RowProblem(display or str(path), line_no, f"line longer than {MAX_LINE_BYTES} bytes")
                continue
            if raw.strip():
                yield line_no, raw
        return line_no


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


def json_rows(path: Path, display: str | None = None, *, start: int = 0, stop: int | None = None
              ) -> Generator[Row | RowProblem, None, int]:
    """Decoded rows of a JSON Lines file, or of the lines starting in bytes [start, stop) (a build
    chunk), problems named after `display` (default: the path). Returns the number of lines read."""
    file = str(path) if display is None else display
    entries = json_line_bytes(path, display=file, start=start, stop=stop)
    while True:
        try:
            entry = next(entries)
        except StopIteration as end:
            return end.value
        yield entry if isinstance(entry, RowProblem) else json_row(file, *entry)


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
                    if key in ("images", "videos", "attributes", "identifiers", "authorized_brands"):
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
    return json_rows(path)


def read_raw_rows(path: Path) -> Iterator[Row | tuple[int, bytes] | RowProblem]:
    """Like read_rows, but JSON Lines rows stay undecoded `(line, bytes)` for `json_row` to decode
    elsewhere (a bulk build's workers); CSV rows, which may span lines, come decoded."""
    if path.suffix.lower() == ".csv":
        return _csv_rows(path)
    return json_line_bytes(path)


def describe_validation_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"]) or "row"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def _given_id(data: dict, name: str) -> str | None:
    value = data.get(name)
    return value[:MAX_ID_CHARS] if isinstance(value, str) else None


def item_from_row(file: str, row: Row) -> Item | RowProblem:
    """The validated item of a row, or why it cannot be used (every build engine and format)."""
    shape = json_shape_problem(row.data)
    if shape:
        return RowProblem(file, row.line, shape, item_id=_given_id(row.data, "item_id"))
    try:
        return Item.model_validate(row.data)
    except ValidationError as exc:
        return RowProblem(file, row.line, describe_validation_error(exc), item_id=_given_id(row.data, "item_id"))


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


#: Account fields stored as they are and shown to investigators: the contract's, and `country`, a
#: profile field. Every other field of an account row is an identifier (hashed, never stored) or
#: withheld (its name kept in `withheld_fields`, its value dropped).
PUBLIC_ACCOUNT_FIELDS = frozenset({"account_id", "kind", "display_name", "handle", "bio", "avatar", "address",
                                   "authorized_brands", "registered_at", "country", "videos"})
#: A word in a field's name that makes it this identifier, so that `EMAIL`, `e-mail`, `contact.email`
#: and `mobile` are hashed and compared with the other accounts' emails and phones.
_IDENTIFIER_KINDS = {"email": "email", "mail": "email", "phone": "phone", "mobile": "phone", "tel": "phone",
                     "telephone": "phone", "cell": "phone", "cellphone": "phone", "whatsapp": "phone", "fax": "phone",
                     "msisdn": "phone"}
#: Other words that make a field an identifier, kept under its own name (`paypal`, `bank`, `payout`,
#: `tax_id`, `device_id`, `date_of_birth` ...).
_IDENTIFIER_WORDS = frozenset({
    "id", "iban", "bic", "swift", "bank", "payout", "paypal", "venmo", "wallet", "card", "routing", "sortcode",
    "ssn", "passport", "tax", "vat", "national", "license", "licence", "dob", "birth", "birthday", "device", "imei",
    "ip", "ipv4", "ipv6", "telegram", "wechat", "skype", "instagram", "facebook", "twitter", "tiktok"})
MAX_IDENTIFIERS = 64
MAX_IDENTIFIER_CHARS = 1000


def _name_words(name: str) -> list[str]:
    """`contactEmail`, `Contact-E-Mail`, `contact.email` -> ["contact", "email"] / ["contact", "e", "mail"]."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", unicodedata.normalize("NFKC", name))
    return [w for w in re.split(r"[^0-9a-z]+", spaced.lower()) if w]


def identifier_name(field: str) -> str | None:
    """The identifier a field holds, by its name (`mobile` -> `phone`), or None if it holds none."""
    words = _name_words(field)
    for word in words:
        if word in _IDENTIFIER_KINDS:
            return _IDENTIFIER_KINDS[word]
    return "_".join(words) if any(w in _IDENTIFIER_WORDS for w in words) else None


def _leaves(path: str, value: Any, depth: int = 1) -> Iterator[tuple[str, Any]]:
    """(dotted path, scalar or list) of every leaf of a nested field."""
    if isinstance(value, dict) and depth < MAX_JSON_DEPTH:
        for key, inner in value.items():
            yield from _leaves(f"{path}.{key}", inner, depth + 1)
    else:
        yield path, value


def _add_identifier(ids: dict[str, str], name: str, value: Any) -> None:
    """One more value of an identifier. A second, different value of a name is kept beside the first
    (`email_2`), never in its place: no field, however spelt, can replace another's value."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        value = str(value)
    if not isinstance(value, str):  # messages name the identifier, never its value (build_report.json)
        raise ValueError(f"identifier {name}: value must be a string or a number")
    if len(value) > MAX_IDENTIFIER_CHARS:
        raise ValueError(f"identifier {name}: value longer than {MAX_IDENTIFIER_CHARS} characters")
    if not value.strip():
        return
    same_name = [n for n in ids if n == name or (n.startswith(name + "_") and n[len(name) + 1:].isdigit())]
    if any(ids[n] == value for n in same_name):
        return
    if len(ids) >= MAX_IDENTIFIERS:
        raise ValueError(f"more than {MAX_IDENTIFIERS} identifiers")
    ids[f"{name}_{len(same_name) + 1}" if same_name else name] = value


class Account(BaseModel):
    """An account (merchant or creator) as received. Identifier values live only in this object:
    what is stored is :meth:`safe_record` (public fields, identifier names, no values) and keyed
    hashes."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)

    account_id: str
    kind: str | None = None
    display_name: str | None = None
    handle: str | None = None
    bio: str | None = None
    avatar: str | None = None
    videos: list[str] = Field(default_factory=list, max_length=255, description="creators' videos, as items' videos")
    address: str | None = None
    country: str | None = None
    identifiers: dict[str, str] = Field(default_factory=dict)
    authorized_brands: list[str] = Field(default_factory=list)
    registered_at: str | None = None
    withheld_fields: list[str] = Field(default_factory=list, description="fields that were neither public nor "
                                                                         "identifiers: their values were dropped")

    @model_validator(mode="before")
    @classmethod
    def _sort_fields(cls, data: Any) -> Any:
        """Public fields stay; `identifiers`, then every field whose name says it holds one (at any
        depth: `contact.email`), become identifiers; the rest is withheld."""
        if not isinstance(data, dict):
            return data
        given = data.get("identifiers")
        if given is not None and not isinstance(given, dict):
            raise ValueError("identifiers: must be an object of name -> value")
        ids: dict[str, str] = {}
        for key, value in (given or {}).items():
            raw = str(key).strip()
            if not raw or len(raw) > 64 or any(ord(c) < 32 for c in raw):
                raise ValueError("identifier names must be 1-64 printable characters")
            _add_identifier(ids, identifier_name(raw) or "_".join(_name_words(raw)) or raw.lower(), value)
        out: dict[str, Any] = {}
        withheld: set[str] = set()
        for key, value in data.items():
            if key == "identifiers" or key == "withheld_fields":
                continue
            if key in PUBLIC_ACCOUNT_FIELDS:
                out[key] = value
                continue
            for path, leaf in _leaves(str(key), value):
                name = identifier_name(path)
                if name is None:
                    withheld.add(path[:200])
                    continue
                for one in leaf if isinstance(leaf, list) else [leaf]:
                    if isinstance(one, (dict, list)):
                        withheld.add(path[:200])
                    else:
                        _add_identifier(ids, name, one)
        out["identifiers"] = ids
        out["withheld_fields"] = sorted(withheld)[:MAX_IDENTIFIERS]
        return out

    @field_validator("account_id")
    @classmethod
    def _id(cls, v: str) -> str:
        return _clean_id(v)

    @field_validator("kind", "display_name", "handle", "avatar", "registered_at", "country")
    @classmethod
    def _short(cls, v: str | None) -> str | None:
        return None if v is None else _clean_text(v, MAX_TITLE_CHARS, "text field")

    @field_validator("bio", "address")
    @classmethod
    def _long(cls, v: str | None) -> str | None:
        return None if v is None else _clean_text(v, MAX_TEXT_CHARS, "text field")

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
        """The record as stored and shown: the public fields, the names of the identifiers
        (`identifier_names`) and of the withheld fields, no value of either."""
        record = self.model_dump(mode="json", exclude_none=True, exclude={"identifiers", "withheld_fields"})
        record["identifier_names"] = sorted(self.identifiers)
        if self.withheld_fields:
            record["withheld_fields"] = self.withheld_fields
        return record


def parse_accounts(path: Path) -> Iterator[tuple[int, Account] | RowProblem]:
    """Validated accounts with their line numbers; duplicate ids after the first are problems.

    Problems carry the account id in `item_id`'s place as `account_id` (see RowProblem.to_dict)."""
    seen: set[str] = set()
    for row in read_rows(path):
        if isinstance(row, RowProblem):
            yield row
            continue
        raw_id = _given_id(row.data, "account_id")
        shape = json_shape_problem(row.data)
        if shape:
            yield RowProblem(str(path), row.line, shape, account_id=raw_id)
            continue
        try:
            account = Account.model_validate(row.data)
        except ValidationError as exc:
            yield RowProblem(str(path), row.line, describe_validation_error(exc), account_id=raw_id)
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
           "json_row", "json_rows", "json_line_bytes", "json_shape_problem", "item_from_row", "duplicate_item",
           "canonical_json", "ID_PATTERN"]
