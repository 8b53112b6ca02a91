"""Known-bad banks (admin role): create, enable or disable banks and entries, add entries, load and
write PDQ hash lists in the ThreatExchange / HMA text format, re-check listings, read the hits."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import PlainTextResponse, Response

from simgov.errors import BadInput
from simgov.exchange import format_hash_list, parse_hash_list

from ..deps import BankAdmin, Index
from ..errors import ApiError, responses
from ..models import (Bank, BankAddResult, BankCreate, BankEntries, BankEntriesAdd, BankEntry, BankHits,
                      BankList, BankScan, Enabled)

router = APIRouter(tags=["banks"], responses=responses(400, 401, 403, 422))

HASH_LIST = {200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                   "description": "one `pdq <64 hex digits>` line per enabled PDQ entry (ThreatExchange / HMA)"}}


@router.get("/v1/banks", response_model=BankList)
def list_banks(index: Index, _: BankAdmin) -> BankList:
    """Every bank with its entry counts."""
    return BankList(banks=index.banks.list())


@router.post("/v1/banks", response_model=Bank, status_code=201, responses=responses(409))
def create_bank(body: BankCreate, index: Index, principal: BankAdmin) -> Bank:
    """An empty, enabled bank."""
    if body.name in {b.name for b in index.banks.list()}:
        raise ApiError(409, "conflict", f"bank {body.name} already exists")
    return index.banks.create(body.name, body.description, principal.key_id)


@router.get("/v1/bank-hits", response_model=BankHits)
def bank_hits(index: Index, _: BankAdmin, bank: Annotated[str | None, Query(max_length=100)] = None,
              limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> BankHits:
    """Live listings that matched a bank entry when they were last written or scanned, newest first."""
    return BankHits(hits=index.banks.hits(bank=bank, limit=limit))


@router.post("/v1/bank-hits/scan", response_model=BankScan)
def scan(index: Index, _: BankAdmin) -> BankScan:
    """Check every live listing against the enabled banks again (after loading a hash list, say)."""
    hits = index.banks.scan()
    return BankScan(items_flagged=len({h.item_id for h in hits}), hits=hits)


@router.get("/v1/banks/{name}", response_model=Bank, responses=responses(404))
def get_bank(name: str, index: Index, _: BankAdmin) -> Bank:
    return index.banks.get(name)


@router.patch("/v1/banks/{name}", response_model=Bank, responses=responses(404))
def enable_bank(name: str, body: Enabled, index: Index, _: BankAdmin) -> Bank:
    """Enable or disable a whole bank (a disabled bank flags nothing)."""
    return index.banks.set_enabled(name, body.enabled)


@router.get("/v1/banks/{name}/entries", response_model=BankEntries, responses=responses(404))
def entries(name: str, index: Index, _: BankAdmin,
            kind: Annotated[Literal["pdq", "title", "identifier", "vpdq"] | None, Query()] = None) -> BankEntries:
    return BankEntries(bank=name, entries=index.banks.entries(name, kind))


@router.post("/v1/banks/{name}/entries", response_model=BankAddResult, responses=responses(404))
def add_entries(name: str, body: BankEntriesAdd, index: Index, principal: BankAdmin) -> BankAddResult:
    """Add entries; an entry already in the bank is left as it is. Identifier values given with
    their `name` are hashed with the index's identifier key and never stored."""
    rows = [("identifier", index.banks.identifier_hash(e.name, e.value), e.label or e.name.strip().lower())
            if e.kind == "identifier" else (e.kind, e.value, e.label) for e in body.entries]
    added, already = index.banks.add(name, rows, source="api", by=principal.key_id)
    return BankAddResult(bank=name, added=added, already_there=already)


@router.patch("/v1/banks/{name}/entries/{entry_id}", response_model=BankEntry, responses=responses(404))
def enable_entry(name: str, entry_id: Annotated[int, Path(ge=1, le=2**62)], body: Enabled, index: Index,
                 _: BankAdmin) -> BankEntry:
    """Enable or disable one entry."""
    return index.banks.set_entry_enabled(name, entry_id, body.enabled)


@router.post("/v1/banks/{name}/hashes", response_model=BankAddResult, responses=responses(404, 413),
             openapi_extra={"requestBody": {"required": True,
                                            "content": {"text/plain": {"schema": {"type": "string"}}}}})
async def import_hashes(name: str, request: Request, index: Index, principal: BankAdmin) -> BankAddResult:
    """Load a PDQ hash list (text/plain: `[pdq ]<64 hex>[ label]` per line, as ThreatExchange and
    HMA write them). Nothing is loaded when a line is malformed; the error names every bad line."""
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("the hash list is not UTF-8 text") from None
    hashes = parse_hash_list(text)
    index.banks.get(name)
    added, already = index.banks.add(name, [("pdq", h, label) for h, label in hashes], source="import:api",
                                     by=principal.key_id)
    return BankAddResult(bank=name, added=added, already_there=already)


@router.get("/v1/banks/{name}/hashes", response_class=Response, responses={**HASH_LIST, **responses(404)})
def export_hashes(name: str, index: Index, _: BankAdmin,
                  labels: Annotated[bool, Query(description="append each entry's label after its hash")] = False
                  ) -> Response:
    """The bank's enabled PDQ hashes as a hash list to share (ThreatExchange / HMA text format)."""
    entries = [(e.value, e.label) for e in index.banks.entries(name, "pdq") if e.enabled]
    return PlainTextResponse(format_hash_list(entries, labels=labels))
