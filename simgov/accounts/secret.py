"""The key of the keyed hashes of account identifiers.

Where it comes from, first match wins: the environment variable ``SIMGOV_IDENTIFIER_SECRET``
(at least 16 characters), the file named by ``Config.identifier_secret_file``, or ``secret.key``
in the index folder, made on the first account build (32 random bytes, mode 0600). Only a check
value (an HMAC of a constant under the key) is stored in the index, so a build with another key
is refused instead of silently producing hashes that never match the stored ones.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from ..config import IDENTIFIER_SECRET_ENV, Config, env
from ..errors import IndexMismatch, SimgovError

ENV = IDENTIFIER_SECRET_ENV
SECRET_FILE = "secret.key"
META_KEY = "identifier_secret_check"
MIN_BYTES = 16


def secret_path(config: Config, index_folder: Path) -> Path:
    return Path(config.identifier_secret_file) if config.identifier_secret_file else Path(index_folder) / SECRET_FILE


def identifier_secret(config: Config, index_folder: Path, *, create: bool = True) -> bytes:
    """The key, made in the index folder when no other is configured and `create` is set."""
    from_env = env(ENV)
    if from_env:
        if len(from_env.encode("utf-8")) < MIN_BYTES:
            raise SimgovError(f"{ENV} must be at least {MIN_BYTES} characters")
        return from_env.encode("utf-8")
    path = secret_path(config, index_folder)
    if not path.exists():
        if config.identifier_secret_file or not create:
            raise SimgovError(f"identifier secret file not found: {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # made by a concurrent build a moment ago
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(32))
                fh.flush()
                os.fsync(fh.fileno())
    try:
        key = path.read_bytes()
    except OSError as exc:
        raise SimgovError(f"cannot read the identifier secret file {path}: {exc.strerror}") from None
    if len(key) < MIN_BYTES:
        raise SimgovError(f"identifier secret file {path} holds fewer than {MIN_BYTES} bytes")
    return key


def check_value(key: bytes) -> str:
    """A value that identifies the key without revealing it."""
    return hmac.new(key, b"simgov identifier secret check v1", hashlib.sha256).hexdigest()[:32]


def verify_or_record(store, key: bytes) -> None:
    """Refuse a key other than the one the index's identifiers were hashed with; remember the
    key's check value on the first account build."""
    value = check_value(key)
    stored = store.get_meta(META_KEY)
    if stored is None:
        store.set_meta(META_KEY, value)
    elif not hmac.compare_digest(stored, value):
        raise IndexMismatch(
            "the identifier secret differs from the one this index's account identifiers were hashed "
            f"with; configure that one ({ENV} or identifier_secret_file) or build into a new folder")
