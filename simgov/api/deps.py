"""Dependencies shared by the routers: the open index, the caller's key and role, the audit trail."""
from __future__ import annotations

import math
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from simgov.index import SimIndex
from simgov.keys import ADMIN_ROLES, READ_ROLES, WRITE_ROLES, KeyStore, Principal

from .errors import ApiError

KEY_SCOPE = "simgov.key_id"  # where the caller's key id is left for the access log

bearer = HTTPBearer(auto_error=False, scheme_name="apiKey",
                    description="an API key made by `simgov keys create --role investigator|ingest|admin`")


def get_index(request: Request) -> SimIndex:
    return request.app.state.index


def get_keys(request: Request) -> KeyStore:
    return request.app.state.keys


Index = Annotated[SimIndex, Depends(get_index)]
Keys = Annotated[KeyStore, Depends(get_keys)]


def authenticate(request: Request, keys: Keys,
                 credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    """The caller's live key (else 401) within its rate limit (else 429)."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise ApiError(401, "unauthorized", "missing API key: send 'Authorization: Bearer <key>'", challenge)
    principal = keys.verify(credentials.credentials)
    if principal is None:
        raise ApiError(401, "unauthorized", "invalid or revoked API key", challenge)
    request.scope[KEY_SCOPE] = principal.key_id
    wait = request.app.state.limiter.take(principal.key_id)
    if wait:
        raise ApiError(429, "rate_limited", f"too many requests with key {principal.key_id}; retry after "
                                            f"{math.ceil(wait)} s", {"Retry-After": str(math.ceil(wait))})
    return principal


def _role(allowed: frozenset[str], action: str):
    def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if principal.role not in allowed:
            raise ApiError(403, "forbidden", f"a key with the {principal.role} role cannot {action} "
                                             f"(needs {' or '.join(sorted(allowed))})")
        return principal
    return check


Reader = Annotated[Principal, Depends(_role(READ_ROLES, "look items up"))]
Writer = Annotated[Principal, Depends(_role(WRITE_ROLES, "write items"))]
Admin = Annotated[Principal, Depends(_role(ADMIN_ROLES, "read the audit trail or metrics"))]
Investigator = Annotated[Principal, Depends(_role(READ_ROLES, "give or read verdicts"))]
BankAdmin = Annotated[Principal, Depends(_role(ADMIN_ROLES, "manage known-bad banks"))]


def endpoint_name(request: Request) -> str:
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"


#: What one audit entry keeps of a request: ids and parameter values cut to this many characters,
#: parameter names to AUDIT_NAME_CHARS, at most AUDIT_PARAMS query parameters (a 65 kB id in a path
#: once added 65 kB to the trail per request).
AUDIT_VALUE_CHARS, AUDIT_NAME_CHARS, AUDIT_PARAMS = 256, 64, 10


def audited_lookup(request: Request, principal: Reader, keys: Keys) -> Principal:
    """A reader's lookup, recorded (key id, endpoint, ids asked for, time) before it is answered."""
    cut = AUDIT_VALUE_CHARS
    ids = [str(v)[:cut] for name, v in request.path_params.items() if name.endswith("_id")]
    detail = {name: str(v)[:cut] for name, v in request.path_params.items() if not name.endswith("_id")}
    detail.update({name[:AUDIT_NAME_CHARS]: value[:cut]
                   for name, value in list(request.query_params.items())[:AUDIT_PARAMS]})
    keys.record(principal, endpoint_name(request), ids, detail or None)
    return principal


Lookup = Annotated[Principal, Depends(audited_lookup)]
