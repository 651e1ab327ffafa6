"""Real PostgreSQL and Redis servers for the test session, started from the installed binaries.

A pytest plugin (loaded by tests/conftest.py):

- ``--db=postgresql`` starts a throwaway PostgreSQL server before any database connection exists
  and points ``settings.DATABASES["default"]`` at it; pytest-django then creates the test database
  there. The server and its folder are removed at the end of the session.
- the session fixtures ``postgres_server`` and ``redis_server`` yield the URL of a running server
  (``postgres_server`` reuses the ``--db=postgresql`` one, or starts its own on demand).

Each server lives in a temporary folder, listens on a free loopback port and is stopped at the end.
When a binary is missing the tests that need it are skipped with the Debian package to install;
under ``CI=true`` they fail instead, since CI must run them.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

POSTGRES_PACKAGE = "postgresql"
REDIS_PACKAGE = "redis-server"


class ServiceUnavailable(Exception):
    """A binary is missing; the message names the Debian package that provides it."""


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def unavailable(message: str) -> None:
    """Skip the test that needs this service, or fail it under CI (CI must never skip them)."""
    if in_ci():
        pytest.fail(f"{message} (CI=true: service tests must run, not be skipped)", pytrace=False)
    pytest.skip(message)


def find_binary(name: str, package: str) -> str:
    """The path of `name` on PATH or in /usr/lib/postgresql/*/bin (newest version first)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")

    def version(path: str) -> float:
        try:
            return float(Path(path).parent.parent.name)
        except ValueError:
            return 0.0

    for candidate in sorted(candidates, key=version, reverse=True):
        if os.access(candidate, os.X_OK):
            return candidate
    raise ServiceUnavailable(f"`{name}` not found: install it with `apt-get install {package}`")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@dataclass
class PostgresServer:
    """initdb + pg_ctl in a temporary folder; as the `postgres` user when running as root."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="portal-pg-")))
    port: int = 0
    running: bool = False

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if os.geteuid() == 0:
            # initdb and postgres refuse to run as root.
            runuser = shutil.which("runuser") or "/usr/sbin/runuser"
            command = [runuser, "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> PostgresServer:
        initdb = find_binary("initdb", POSTGRES_PACKAGE)
        pg_ctl = find_binary("pg_ctl", POSTGRES_PACKAGE)
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise ServiceUnavailable(
                    f"no `postgres` user to run initdb as: install it with `apt-get install {POSTGRES_PACKAGE}`"
                ) from exc
            os.chown(self.root, user.pw_uid, user.pw_gid)
        data = self.root / "data"
        result = self._run(initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{result.stdout}\n{result.stderr}")
        self.port = free_port()
        # A throwaway server: durability is not wanted, speed is.
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
        )
        result = self._run(pg_ctl, "-D", str(data), "-l", str(self.root / "server.log"), "-o", options, "-w", "start")
        if result.returncode != 0:
            log = (self.root / "server.log").read_text(errors="replace") if (self.root / "server.log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed:\n{result.stdout}\n{result.stderr}\n{log}")
        self.running = True
        return self

    def stop(self) -> None:
        if self.running:
            pg_ctl = find_binary("pg_ctl", POSTGRES_PACKAGE)
            self._run(pg_ctl, "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
            self.running = False
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class RedisServer:
    """redis-server on a free loopback port, no persistence, in a temporary folder."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="portal-redis-")))
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = find_binary("redis-server", REDIS_PACKAGE)
        self.port = free_port()
        log = (self.root / "redis.log").open("wb")
        self.process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.root),
             "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        try:
            wait_for_port(self.port, timeout=15)
        except TimeoutError as exc:
            self.stop()
            raise RuntimeError(f"redis-server did not start: {exc}") from exc
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        shutil.rmtree(self.root, ignore_errors=True)


# --- pytest hooks -----------------------------------------------------------------------------

_session_postgres: PostgresServer | None = None
_postgres_problem: str | None = None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        action="store",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="database for the test session: sqlite (default) or postgresql (a throwaway server is started)",
    )


def _point_django_at(url: str) -> None:
    import dj_database_url
    from django.conf import settings
    from django.db import connections

    database: dict[str, Any] = settings.DATABASES["default"]  # type: ignore[assignment]
    # Connections read this very dict: change it in place, before any connection is made.
    database.clear()
    database.update(dj_database_url.parse(url, conn_max_age=0))
    database["TEST"] = {"NAME": "test_portal"}
    # Let Django fill in its defaults (TIME_ZONE, AUTOCOMMIT, ...) again on the next access, and
    # drop a wrapper object that app loading may have created (it has not connected yet).
    connections.__dict__.pop("settings", None)
    for alias in list(settings.DATABASES):
        if hasattr(connections._connections, alias):  # type: ignore[attr-defined]
            connections[alias].close()
            del connections[alias]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    global _session_postgres, _postgres_problem
    # SIGTERM (a CI time limit, `make test` stopping its background session) ends the session
    # like Ctrl-C: fixtures are torn down and the servers stopped, nothing is left running.
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)
    if config.getoption("--db") != "postgresql":
        return
    server = PostgresServer()
    try:
        server.start()
    except ServiceUnavailable as exc:
        server.stop()
        if in_ci():
            raise pytest.UsageError(f"--db=postgresql: {exc} (CI=true: must not be skipped)") from exc
        _postgres_problem = f"--db=postgresql: {exc}"
        return
    except BaseException:
        server.stop()
        raise
    _session_postgres = server
    atexit.register(server.stop)
    _point_django_at(server.url)


def pytest_report_header(config: pytest.Config) -> str | None:
    if _session_postgres is not None:
        return f"database: PostgreSQL (throwaway server at {_session_postgres.url})"
    if _postgres_problem:
        return f"database: none — {_postgres_problem}"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _postgres_problem:
        skip = pytest.mark.skip(reason=_postgres_problem)
        for item in items:
            item.add_marker(skip)


def pytest_unconfigure(config: pytest.Config) -> None:
    global _session_postgres
    if _session_postgres is not None:
        _session_postgres.stop()
        _session_postgres = None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a running PostgreSQL server (the --db=postgresql one, or a new one)."""
    if _session_postgres is not None:
        yield _session_postgres.url
        return
    server = PostgresServer()
    try:
        server.start()
    except ServiceUnavailable as exc:
        server.stop()
        unavailable(str(exc))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """The URL of a running throwaway Redis server."""
    server = RedisServer()
    try:
        server.start()
    except ServiceUnavailable as exc:
        server.stop()
        unavailable(str(exc))
    try:
        yield server.url
    finally:
        server.stop()


# --- helpers for tests that start the portal's own processes ----------------------------------


def process_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every live (non-zombie) process, from /proc."""
    table: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        # The command name in parentheses may hold spaces: the fields follow the last ')'.
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] == "Z":
            continue
        table[int(entry.name)] = (int(fields[1]), cmdline)
    return table


def descendants(pid: int) -> dict[int, str]:
    """The live descendants of `pid` (children, grandchildren, ...) with their command lines."""
    table = process_table()
    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, cmdline) in table.items():
            if ppid == parent and child not in found:
                found[child] = cmdline
                frontier.append(child)
    return found


def alive(pids: list[int] | set[int] | dict[int, str]) -> list[int]:
    table = process_table()
    return [pid for pid in pids if pid in table]


def wait_until(predicate: Callable[[], Any], timeout: float, message: str, interval: float = 0.2) -> Any:
    """Polls `predicate` until it returns something truthy; fails with `message` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{message} (after {timeout}s)", pytrace=False)
        time.sleep(interval)
