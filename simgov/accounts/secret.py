"""The key of the keyed hashes of account identifiers, kept outside the index folder.

Where it comes from, first match wins: the environment variable ``SIMGOV_IDENTIFIER_SECRET``
(at least 16 characters); the file named by ``Config.identifier_secret_file``; the index's file in
the per-user key store (``config.secrets_folder()``: one ``<index id>.key`` per index, mode 0600,
folder 0700), made on the first account build, its random index id recorded in the store's meta;
or, for an index built before the key store, ``secret.key`` in the index folder, read with a
warning naming `simgov secret move-out`. So a copy of the index folder alone never carries the key.

Only a check value (an HMAC of a constant under the key) is stored in the index, so a build with
another key is refused instead of silently producing hashes that never match the stored ones, and
an index whose key is missing (copied without it) is refused instead of getting a new one.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from ..config import IDENTIFIER_SECRET_ENV, SECRETS_DIR_ENV, Config, env, secrets_folder
from ..errors import IndexMismatch, SimgovError

log = logging.getLogger(__name__)

ENV = IDENTIFIER_SECRET_ENV
SECRET_FILE = "secret.key"  # inside the index folder: indexes built before the key store
META_KEY = "identifier_secret_check"
ID_META_KEY = "identifier_secret_id"
MIN_BYTES = 16


@dataclass(frozen=True)
class SecretSource:
    """Where an index's key is found: `kind` is env, config_file, key_store, index_folder or
    missing; `path` the file, when the key is one."""

    kind: str
    path: Path | None


def key_store_file(index_id: str) -> Path:
    return secrets_folder() / f"{index_id}.key"


def secret_source(config: Config, index_folder: Path, store) -> SecretSource:
    """Where the key of this index is, without reading or making it."""
    if env(ENV):
        return SecretSource("env", None)
    if config.identifier_secret_file:
        return SecretSource("config_file", Path(config.identifier_secret_file))
    index_id = store.get_meta(ID_META_KEY)
    if index_id and key_store_file(index_id).exists():
        return SecretSource("key_store", key_store_file(index_id))
    legacy = Path(index_folder) / SECRET_FILE
    if legacy.exists():
        return SecretSource("index_folder", legacy)
    return SecretSource("missing", key_store_file(index_id) if index_id else None)


def identifier_secret(config: Config, index_folder: Path, store, *, create: bool = True) -> bytes:
    """The index's key, checked against the check value its identifiers were hashed with (recorded
    on first use). With `create`, an index that never had a key gets one in the key store."""
    source = secret_source(config, index_folder, store)
    if source.kind == "env":
        key = env(ENV).encode("utf-8")
        if len(key) < MIN_BYTES:
            raise SimgovError(f"{ENV} must be at least {MIN_BYTES} characters")
    elif source.kind == "missing":
        if store.get_meta(META_KEY) is not None or store.get_meta(ID_META_KEY) is not None:
            raise SimgovError(missing_message(index_folder, source))
        if not create:
            raise SimgovError(f"the index {index_folder} has no identifier secret yet (no account was built)")
        key = _make_key_store_file(store)
    else:
        if source.kind == "config_file" and not source.path.exists():
            raise SimgovError(f"identifier secret file not found: {source.path}")
        if source.kind == "index_folder":
            log.warning("the identifier secret of %s is inside the index folder, where every copy of the folder "
                        "carries it; move it to the key store with: simgov secret move-out --index %s",
                        index_folder, index_folder)
        key = _read_key(source.path)
    _verify_or_record(store, key)
    return key


def missing_message(index_folder: Path, source: SecretSource) -> str:
    where = (f"its key store file {source.path} does not exist" if source.path else
             "it was hashed with a key from the environment or identifier_secret_file")
    return (f"the identifier secret of the index {index_folder} is not available: {where}. "
            "A copy of an index folder never carries the key: copy the key file from the machine that built "
            f"the index into the key store (${SECRETS_DIR_ENV}, else ~/.config/simgov/secrets; mode 0600), or set "
            f"{ENV} or identifier_secret_file to the key it was built with")


def move_out(config: Config, index_folder: Path, store) -> Path:
    """Move INDEX/secret.key into the key store (fsynced) and remove it from the folder; returns
    the key store file. Run again after an interruption, it finishes the move."""
    legacy = Path(index_folder) / SECRET_FILE
    if not legacy.exists():
        raise SimgovError(f"{index_folder} holds no {SECRET_FILE}: nothing to move")
    key = _read_key(legacy)
    stored = store.get_meta(META_KEY)
    if stored is not None and not hmac.compare_digest(stored, check_value(key)):
        raise IndexMismatch(f"{legacy} is not the key this index's identifiers were hashed with; left in place")
    index_id = store.get_meta(ID_META_KEY)
    if index_id is None:
        index_id = secrets.token_hex(16)
        store.set_meta(ID_META_KEY, index_id)
    target = key_store_file(index_id)
    if target.exists():
        if not hmac.compare_digest(_read_key(target), key):
            raise IndexMismatch(f"the key store already holds another key for this index ({target}); "
                                f"{legacy} left in place")
    else:
        _write_new(target, key)
    if stored is None:
        store.set_meta(META_KEY, check_value(key))
    legacy.unlink()
    _fsync_folder(legacy.parent)
    return target


def check_value(key: bytes) -> str:
    """A value that identifies the key without revealing it."""
    return hmac.new(key, b"simgov identifier secret check v1", hashlib.sha256).hexdigest()[:32]


def _verify_or_record(store, key: bytes) -> None:
    """Refuse a key other than the one the index's identifiers were hashed with; remember the
    key's check value on first use."""
    value = check_value(key)
    stored = store.get_meta(META_KEY)
    if stored is None:
        store.set_meta(META_KEY, value)
    elif not hmac.compare_digest(stored, value):
        raise IndexMismatch(
            "the identifier secret differs from the one this index's account identifiers were hashed "
            f"with; configure that one ({ENV} or identifier_secret_file) or build into a new folder")


def _make_key_store_file(store) -> bytes:
    """A new random key in the key store, under a new index id recorded in the store's meta."""
    index_id = secrets.token_hex(16)
    key = secrets.token_bytes(32)
    _write_new(key_store_file(index_id), key)
    store.set_meta(ID_META_KEY, index_id)
    return key


def _write_new(path: Path, key: bytes) -> None:
    """Write a key file that must not exist yet (mode 0600, its folder 0700), fsynced."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
        fh.flush()
        os.fsync(fh.fileno())
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_key(path: Path) -> bytes:
    try:
        key = path.read_bytes()
    except OSError as exc:
        raise SimgovError(f"cannot read the identifier secret file {path}: {exc.strerror}") from None
    if len(key) < MIN_BYTES:
        raise SimgovError(f"identifier secret file {path} holds fewer than {MIN_BYTES} bytes")
    return key
