"""API keys on the command line (`simgov keys`), their storage, and the service's structured logs."""
from __future__ import annotations

import json
import logging
import sqlite3

import httpx
import pytest

from simgov.api.logs import JsonFormatter
from api_support import copy_market, thread_server
from simgov import cli
from simgov.keys import KeyStore
from simgov.storage.items import Store


@pytest.fixture
def index_dir(tmp_path):
    return copy_market(tmp_path / "market")


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_create_list_revoke(index_dir, capsys):
    code, out, err = run(capsys, "keys", "create", "--role", "investigator", "--label", "alice",
                         "--index", str(index_dir))
    assert code == 0 and "shown only now" in err
    key = out.strip()
    assert key.startswith("sgk_") and len(key) > 50 and "\n" not in key
    key_id = key.split("_")[1]

    store = Store(index_dir)
    keys = KeyStore(store)
    assert keys.verify(key).role == "investigator"
    # only the hash is stored: the secret appears nowhere in the database file
    rows = sqlite3.connect(index_dir / "store.sqlite").execute("SELECT * FROM api_keys").fetchall()
    assert key_id in str(rows) and key.split("_", 2)[2] not in str(rows)

    code, out, _ = run(capsys, "keys", "list", "--index", str(index_dir))
    assert code == 0 and key_id in out and "investigator" in out and "alice" in out and key not in out

    assert run(capsys, "keys", "revoke", key_id, "--index", str(index_dir))[0] == 0
    assert keys.verify(key) is None
    code, _, err = run(capsys, "keys", "revoke", key_id, "--index", str(index_dir))
    assert code == 1 and "no live key" in err
    assert "revoked" in run(capsys, "keys", "list", "--index", str(index_dir))[1]
    store.close()


def test_keys_from_environment_and_bad_usage(index_dir, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("SIMGOV_INDEX", str(index_dir))
    code, out, _ = run(capsys, "keys", "create", "--role", "admin")
    assert code == 0 and out.startswith("sgk_")
    with pytest.raises(SystemExit) as bad_role:
        cli.main(["keys", "create", "--role", "superuser"])
    assert bad_role.value.code == 2
    monkeypatch.delenv("SIMGOV_INDEX")
    code, _, err = run(capsys, "keys", "create", "--role", "admin")
    assert code == 1 and "--index" in err
    code, _, err = run(capsys, "keys", "list", "--index", str(tmp_path / "nothing"))
    assert code == 1 and "no simgov index" in err
    code, _, err = run(capsys, "serve", "--index", str(tmp_path / "nothing"))
    assert code == 1 and "no simgov index" in err


def test_malformed_keys_never_verify(index_dir):
    store = Store(index_dir)
    keys = KeyStore(store)
    key, info = keys.create("ingest")
    assert keys.verify(key) == keys.verify(key) and keys.verify(key).key_id == info.key_id
    for bad in (None, "", "sgk_", "sgk_short_x", key + "x", key.replace("sgk_", "sgx_"), key[:-1],
                f"sgk_{info.key_id}_", "sgk_" + "z" * 12 + "_" + key.split("_", 2)[2]):
        assert keys.verify(bad) is None, bad
    store.close()


def test_json_logs(index_dir, caplog):
    record = logging.LogRecord("simgov.api", logging.INFO, __file__, 1, "hello %s", ("there",), None)
    line = JsonFormatter().format(record)
    assert json.loads(line)["message"] == "hello there"
    key = KeyStore(Store(index_dir)).create("investigator")[0]
    with caplog.at_level(logging.INFO, logger="simgov.api.access"), thread_server(index_dir) as url:
        httpx.get(f"{url}/v1/items/shoe-1", headers={"Authorization": f"Bearer {key}", "X-Request-ID": "r-1"})
    (record,) = [r for r in caplog.records if getattr(r, "request_id", None) == "r-1"]
    entry = json.loads(JsonFormatter().format(record))
    assert entry["route"] == "/v1/items/{item_id}" and entry["status"] == 200 and entry["method"] == "GET"
    assert entry["key_id"] == key.split("_")[1] and entry["ms"] > 0 and key not in JsonFormatter().format(record)
