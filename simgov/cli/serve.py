"""`simgov serve`: the HTTP API and the investigator console, with uvicorn."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import uvicorn

from ..api.logs import log_config
from ..api.server import uvicorn_options
from ..config import INDEX_ENV, RATE_SHARED_ENV
from ..errors import SimgovError
from .common import ensure_port_free, index_dir
from .lookups import backend_args, dense_backend

MAX_WORKERS = 64


def register(sub) -> None:
    p = sub.add_parser("serve", help="the HTTP API and the investigator console")
    p.add_argument("--index", type=Path, help="index folder (default: $SIMGOV_INDEX)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    backend_args(p)
    p.set_defaults(handler=cmd_serve)


def cmd_serve(args) -> int:
    dense_backend(args)
    folder = index_dir(args)
    if not 1 <= args.workers <= MAX_WORKERS:
        raise SimgovError(f"--workers must be between 1 and {MAX_WORKERS}")
    ensure_port_free(args.host, args.port)
    serve(folder, args.host, args.port, args.workers, args.log_level)
    return 0


def serve(index_dir: Path, host: str, port: int, workers: int = 1, log_level: str = "info") -> None:
    """Run the API and console with uvicorn until interrupted (workers share the index folder)."""
    os.environ[INDEX_ENV] = str(Path(index_dir).resolve())
    shared_dir = None
    if workers > 1:  # what the workers must count together: metrics, and each key's rate limit
        shared_dir = Path(tempfile.mkdtemp(prefix="simgov-serve-"))
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            (shared_dir / "metrics").mkdir()
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(shared_dir / "metrics")
        os.environ[RATE_SHARED_ENV] = str(shared_dir / "ratelimit.sqlite")
    try:
        uvicorn.run("simgov.api.app:create_app_from_env", factory=True, host=host, port=port, workers=workers,
                    log_config=log_config(log_level), access_log=False, server_header=False, **uvicorn_options())
    except SystemExit as exc:  # uvicorn exits 3 when the app cannot start (the log says why)
        if exc.code not in (0, None):
            raise SimgovError(f"the server could not start on {host}:{port}; the log above says why") from None
    finally:
        if shared_dir:
            shutil.rmtree(shared_dir, ignore_errors=True)
