"""The marketplace model of the main process: brands, products, accounts, listings, picture tasks."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(eq=False)
class _Brand:
    name: str
    prefix: str
    types: tuple[str, ...]
    tier: float
    currency: str
    accent: tuple[int, int, int]
    premium: bool
    logo_shape: str
    brand_text: str
    store: "_Account | None" = None


@dataclass(eq=False)
class _Task:
    kind: str                      # "product" | "avatar"
    spec: dict
    refs: list["_ImgRef"] = field(default_factory=list)


@dataclass(eq=False)
class _ImgRef:
    task: _Task
    edits: list[dict] | None       # None: the picture as drawn; a list: derived from the published original
    quality: int
    owner: Any                     # _Listing or _Account (names the file) or None with a fixed path
    slot: str
    path: str = ""


@dataclass(eq=False)
class _Product:
    pid: str
    brand: _Brand
    ptype: str
    line: str
    number: int
    model: str
    colour: str
    attrs: dict[str, Any]          # attribute kind -> value
    code: str
    price_eur: float
    look: dict
    role: str
    catalog: _Task | None = None


@dataclass(eq=False)
class _Account:
    order: int
    kind: str
    role: str                      # store | reseller | ring | counterfeiter | general
    display_name: str
    handle: str
    bio: str
    address: str
    identifiers: dict[str, str]
    authorized_brands: list[str]
    registered_at: datetime
    country: str
    city: str
    currency: str
    avatar: _ImgRef | None = None
    account_id: str = ""


@dataclass(eq=False)
class _Listing:
    product: _Product
    seller: _Account
    title: str
    description: str
    price: float
    currency: str
    reference: bool
    attributes: dict[str, Any]
    condition: str
    listed_at: datetime
    images: list[_ImgRef] = field(default_factory=list)
