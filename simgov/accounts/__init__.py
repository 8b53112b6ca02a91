"""Linked accounts (sock puppets): account signals, the account index, ingest and queries.

The registry: adding an account signal means one new module with an
:class:`~simgov.accounts.base.AccountSignal` subclass and one line here.
"""
from __future__ import annotations

from ..config import Config
from .avatar import AvatarSignal
from .base import AccountRecord, AccountSignal
from .identifiers import IdentifierSignal
from .listings import ListingOverlapSignal
from .profile import ProfileSignal
from .videos import CreatorVideoSignal

REGISTRY: dict[str, type[AccountSignal]] = {
    cls.name: cls for cls in (ProfileSignal, IdentifierSignal, AvatarSignal, ListingOverlapSignal, CreatorVideoSignal)
}


def create_account_signals(config: Config, names: list[str] | None = None) -> dict[str, AccountSignal]:
    wanted = list(REGISTRY) if names is None else names
    unknown = [n for n in wanted if n not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown account signal(s): {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    return {name: REGISTRY[name](config) for name in wanted}


__all__ = ["REGISTRY", "create_account_signals", "AccountSignal", "AccountRecord"]
