"""The production stack on loopback, for tests and by hand: PostgreSQL, Redis, and the portal's web,
worker and beat, each started with exactly the command docker-compose.yml uses
(`scripts/prod_cmd.sh web|worker|beat`) and the environment scripts/prod_run.sh sets (DEBUG=0, ...),
behind nginx (`scripts/prod_cmd.sh proxy`, deploy/nginx.conf.template): `base_url` is the proxy's.

Each portal process runs in its own process group, so one component can be killed (-9) and
started again, PostgreSQL stopped and started, Redis restarted on the same port (with an
append-only file, as compose runs it: queued messages survive), and everything stopped with
nothing left behind (`leftovers()`).

    from tests.prodstack import ProdStack
    with ProdStack() as stack:            # web (it migrates first, as in compose), seed_demo, worker, beat
        print(stack.url("/healthz"))
        stack.kill("worker"); stack.start_component("worker")
        stack.stop_postgres(); stack.start_postgres()
        stack.restart_redis()

By hand: `.venv/bin/python -m tests.prodstack` starts a stack, prints its addresses, and stops it on Ctrl-C.

Static files: with DEBUG=0 every page needs the collected manifest. WhiteNoise's collectstatic
(hashing, gzip and brotli of ~1,300 files) takes about 70 s on a cold folder on this 2-core
machine, so the stack shares the folder `make prod-run` uses (var/prod-static), collected again
only when static/ or requirements.txt is newer than its `.collected` stamp — the very rule of
scripts/prod_run.sh — under a lock, so concurrent sessions do not collect into it at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.services import (
    REDIS_PACKAGE,
    PostgresServer,
    descendants,
    find_binary,
    free_port,
    process_table,
    wait_for_port,
)

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(os.environ.get("VENV", REPO / ".venv")).resolve() / "bin"
COMPONENTS = ("web", "proxy", "worker", "beat")
DEFAULT_STATIC_ROOT = REPO / "var" / "prod-static"

# Variables of the calling process that must not reach the production-like processes (pytest-django
# sets DJANGO_SETTINGS_MODULE to the test settings; the portal's commands must use portal.settings).
NOT_INHERITED = {
    "DATABASE_URL", "CELERY_BROKER_URL", "REDIS_CACHE_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "ALLOWED_HOSTS", "STATIC_ROOT", "MEDIA_ROOT", "PORTAL_VAR_DIR",
    "BIND", "PROXY_BIND", "TRUSTED_PROXY", "WEB_CONCURRENCY", "WORKER_CONCURRENCY", "MIGRATE_ON_START",
    "CELERY_FILESYSTEM_DIR",
}  # fmt: skip


class StackError(RuntimeError):
    pass


# --- servers ---------------------------------------------------------------------------------------


@dataclass
class StackPostgres(PostgresServer):
    """tests.services.PostgresServer that can also be stopped and started again on the same port,
    keeping its data (`halt`/`resume`); `stop()` stops it for good and removes the folder."""

    def _pg_ctl(self) -> str:
        return find_binary("pg_ctl", "postgresql")

    def halt(self, mode: str = "fast") -> None:
        """pg_ctl stop -m fast (backends are terminated, clients get an error) or -m immediate."""
        result = self._run(self._pg_ctl(), "-D", str(self.root / "data"), "-m", mode, "-w", "stop")
        if result.returncode != 0:
            raise StackError(f"pg_ctl stop failed:\n{result.stdout}\n{result.stderr}")
        self.running = False

    def resume(self) -> None:
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
        )
        result = self._run(
            self._pg_ctl(), "-D", str(self.root / "data"), "-l", str(self.root / "server.log"), "-o", options,
            "-w", "start",
        )  # fmt: skip
        if result.returncode != 0:
            raise StackError(f"pg_ctl start failed:\n{result.stdout}\n{result.stderr}")
        self.running = True

    def createdb(self, name: str) -> None:
        createdb = find_binary("createdb", "postgresql")
        result = self._run(createdb, "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        if result.returncode != 0:
            raise StackError(f"createdb failed:\n{result.stdout}\n{result.stderr}")


@dataclass
class StackRedis:
    """redis-server on a fixed loopback port with an append-only file (`--appendonly yes`, as in
    docker-compose.yml), so a restart keeps the queued messages. `restart()` reuses port and folder."""

    root: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> StackRedis:
        binary = find_binary("redis-server", REDIS_PACKAGE)
        self.root.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()
        with (self.root / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.root),
                 "--save", "", "--appendonly", "yes", "--daemonize", "no", "--protected-mode", "yes"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        wait_for_port(self.port, timeout=15)
        return self

    def shutdown(self) -> None:
        """SIGTERM: Redis writes its append-only file and exits (what `docker compose restart redis` does)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.shutdown()
        self.start()


# --- the portal's processes ------------------------------------------------------------------------


@dataclass
class Component:
    """One of web, proxy, worker, beat: `scripts/prod_cmd.sh NAME` in its own process group."""

    name: str
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    groups: set[int] = field(default_factory=set)

    @property
    def argv(self) -> list[str]:
        return ["scripts/prod_cmd.sh", self.name]

    @property
    def pid(self) -> int:
        if self.process is None:
            raise StackError(f"{self.name} is not running")
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        if self.running():
            raise StackError(f"{self.name} already runs (pid {self.pid})")
        with self.log_path.open("ab") as log:
            log.write(f"\n==== {time.strftime('%H:%M:%S')} start {' '.join(self.argv)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.argv, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.groups.add(self.process.pid)  # a new session: its process group id is its pid

    def kill(self) -> None:
        """kill -9 the whole process group (the main process and its pool/workers), as a crash would."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None
        _wait_group_gone(self.groups, 10)

    def stop(self, grace: float = 20) -> None:
        """SIGTERM to the leader (it stops its own children: a warm shutdown), SIGKILL what is left."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=grace)
        with contextlib.suppress(ProcessLookupError):
            if _group_members(self.groups):
                os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self.process = None
        _wait_group_gone(self.groups, 10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _group_members(groups: set[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for pid, (_, cmdline) in process_table().items():
        try:
            if os.getpgid(pid) in groups:
                found[pid] = cmdline
        except ProcessLookupError:
            continue
    return found


def _wait_group_gone(groups: set[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _group_members(groups) and time.monotonic() < deadline:
        time.sleep(0.1)


# --- static files ----------------------------------------------------------------------------------


def ensure_static(static_root: Path, env: dict[str, str], log_path: Path) -> float:
    """Collect static files into `static_root` unless its `.collected` stamp is newer than static/ and
    requirements.txt (scripts/prod_run.sh's rule). Returns the seconds spent collecting (0 when cached)."""
    static_root.mkdir(parents=True, exist_ok=True)
    stamp = static_root / ".collected"
    with (static_root.parent / f".{static_root.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists():
            newest = max(
                [p.stat().st_mtime for p in (REPO / "static").rglob("*")]
                + [(REPO / "static").stat().st_mtime, (REPO / "requirements.txt").stat().st_mtime]
            )
            if newest <= stamp.stat().st_mtime:
                return 0.0
        stamp.unlink(missing_ok=True)
        started = time.monotonic()
        with log_path.open("ab") as log:
            result = subprocess.run(
                ["scripts/prod_cmd.sh", "collectstatic"], cwd=REPO, env={**env, "STATIC_ROOT": str(static_root)},
                stdout=log, stderr=subprocess.STDOUT, timeout=600, check=False,
            )  # fmt: skip
        if result.returncode != 0:
            raise StackError(f"collectstatic failed, see {log_path}:\n{log_path.read_text(errors='replace')[-3000:]}")
        stamp.touch()
        return time.monotonic() - started


# --- the stack -------------------------------------------------------------------------------------


class ProdStack:
    """PostgreSQL + Redis + web + worker + beat on loopback, DEBUG=0, as docker-compose.yml runs them."""

    def __init__(
        self,
        *,
        root: Path | None = None,
        static_root: Path | None = None,
        web_concurrency: int = 2,
        worker_concurrency: int = 2,
        seed: bool = True,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.root = root or Path(tempfile.mkdtemp(prefix="portal-prodstack-"))
        self.root.chmod(0o755)
        self.static_root = static_root or Path(os.environ.get("PROD_STACK_STATIC_ROOT", DEFAULT_STATIC_ROOT))
        self.logs = self.root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.web_concurrency = web_concurrency
        self.worker_concurrency = worker_concurrency
        self.seed = seed
        self.extra_env = extra_env or {}
        (self.root / "pg").mkdir()
        self.postgres = StackPostgres(root=self.root / "pg")
        self.redis = StackRedis(root=self.root / "redis")
        self.web_port = 0  # gunicorn's; clients talk to nginx on proxy_port (base_url)
        self.proxy_port = 0
        self.components: dict[str, Component] = {}
        self.timings: dict[str, float] = {}
        self.env: dict[str, str] = {}

    # -- addresses --------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """nginx, the only address a client uses (as compose publishes only the proxy's port)."""
        return f"http://127.0.0.1:{self.proxy_port}"

    @property
    def web_url(self) -> str:
        """gunicorn directly, behind the proxy's back (for comparisons only)."""
        return f"http://127.0.0.1:{self.web_port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def database_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.postgres.port}/portal"

    @property
    def media_root(self) -> Path:
        return self.root / "var" / "media"

    def connect(self) -> Any:
        """A psycopg2 connection to the stack's database (autocommit)."""
        import psycopg2

        connection = psycopg2.connect(
            host="127.0.0.1", port=self.postgres.port, user="postgres", dbname="portal", connect_timeout=5
        )
        connection.autocommit = True
        return connection

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return list(cursor.fetchall())
        finally:
            connection.close()

    def scalar(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self.query(sql, params)[0][0]

    # -- life cycle --------------------------------------------------------------------------------

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
        var = self.root / "var"
        env.update(
            PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            PYTHONUNBUFFERED="1",
            DEBUG="0",
            SECRET_KEY=secrets.token_urlsafe(50),
            ALLOWED_HOSTS="127.0.0.1,localhost",
            DATABASE_URL=self.database_url,
            CELERY_BROKER_URL=self.redis.url,
            PORTAL_VAR_DIR=str(var),
            MEDIA_ROOT=str(var / "media"),
            STATIC_ROOT=str(self.static_root.resolve()),
            BIND=f"127.0.0.1:{self.web_port}",
            PROXY_BIND=f"127.0.0.1:{self.proxy_port}",
            WEB_CONCURRENCY=str(self.web_concurrency),
            WORKER_CONCURRENCY=str(self.worker_concurrency),
            # nginx in front appends the client address to X-Forwarded-For (as compose and prod_run.sh).
            TRUSTED_PROXY_COUNT="1",
            SECURE_SSL_REDIRECT="0",
            SESSION_COOKIE_SECURE="0",
            CSRF_COOKIE_SECURE="0",
        )
        env.update(self.extra_env)
        return env

    def _timed(self, label: str, started: float) -> None:
        self.timings[label] = round(time.monotonic() - started, 1)

    def start(self) -> ProdStack:
        try:
            started = time.monotonic()
            self.postgres.start()
            self.postgres.createdb("portal")
            self.redis.start()
            self.web_port = free_port()
            self.proxy_port = free_port()
            self.env = self._environment()
            (self.root / "var" / "media").mkdir(parents=True, exist_ok=True)
            self._timed("servers", started)

            started = time.monotonic()
            self.timings["collectstatic"] = round(
                ensure_static(self.static_root, self.env, self.logs / "collectstatic.log"), 1
            )
            for name in COMPONENTS:
                self.components[name] = Component(name, self.env, self.logs / f"{name}.log")
            # web migrates before gunicorn starts (MIGRATE_ON_START=1, as in compose); the demo data
            # is loaded while the worker and beat boot. nginx answers 502 until gunicorn is up.
            started = time.monotonic()
            self.components["proxy"].start()
            self.components["web"].start()
            self.wait_healthy(300)
            self._timed("web (migrate + gunicorn)", started)
            started = time.monotonic()
            self.components["worker"].start()
            self.components["beat"].start()
            if self.seed:
                self.manage("seed_demo")
                self._timed("seed_demo", started)
            self.wait_worker_ready(120)
            self._timed("worker", started)
        except BaseException:
            self.stop()
            raise
        return self

    def manage(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess[str]:
        """`python manage.py ARGS` with the stack's production environment."""
        result = subprocess.run(
            ["python", "manage.py", *args], cwd=REPO, env=self.env, capture_output=True, text=True,
            timeout=timeout, check=False,
        )  # fmt: skip
        if check and result.returncode != 0:
            raise StackError(f"manage.py {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result

    def health(self) -> tuple[int, dict[str, Any]]:
        try:
            with urllib.request.urlopen(self.url("/healthz"), timeout=5) as response:  # noqa: S310 - loopback
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                return exc.code, json.loads(exc.read() or b"{}")
            except ValueError:
                return exc.code, {}
        except (OSError, ValueError):
            return 0, {}

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.health()[0] == 200:
                return
            web = self.components.get("web")
            if web is not None and not web.running():
                raise StackError(f"web exited:\n{web.log()[-5000:]}")
            proxy = self.components.get("proxy")
            if proxy is not None and not proxy.running():
                raise StackError(f"proxy exited:\n{proxy.log()[-5000:]}")
            time.sleep(0.3)
        raise StackError(f"/healthz not 200 after {timeout}s:\n{self.components['web'].log()[-5000:]}")

    def wait_worker_ready(self, timeout: float, since: int = 0) -> None:
        """Until the worker's log (after byte `since`) says it is ready to take tasks."""
        worker = self.components["worker"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in worker.log()[since:]:
                return
            if not worker.running():
                raise StackError(f"worker exited:\n{worker.log()[-5000:]}")
            time.sleep(0.2)
        raise StackError(f"worker not ready after {timeout}s:\n{worker.log()[-5000:]}")

    # -- faults ------------------------------------------------------------------------------------

    def kill(self, name: str) -> None:
        """kill -9 one component's whole process group."""
        self.components[name].kill()

    def stop_component(self, name: str) -> None:
        self.components[name].stop()

    def start_component(self, name: str, wait: bool = True) -> None:
        component = self.components[name]
        since = len(component.log())
        component.start()
        if wait and name in ("web", "proxy"):
            self.wait_healthy(120)
        elif wait and name == "worker":
            self.wait_worker_ready(120, since=since)

    def restart(self, name: str) -> None:
        self.kill(name)
        self.start_component(name)

    def stop_postgres(self, mode: str = "fast") -> None:
        self.postgres.halt(mode)

    def start_postgres(self) -> None:
        self.postgres.resume()

    def restart_redis(self) -> None:
        self.redis.restart()

    # -- the end -----------------------------------------------------------------------------------

    def process_groups(self) -> set[int]:
        groups: set[int] = set()
        for component in self.components.values():
            groups |= component.groups
        if self.redis.process is not None:
            groups.add(self.redis.process.pid)
        return groups

    def leftovers(self) -> dict[int, str]:
        """Processes of the stack still alive: in a component's process group, under this process,
        or running in the stack's folder (PostgreSQL, Redis)."""
        found = _group_members(self.process_groups())
        root = str(self.root)
        for pid, (_, cmdline) in process_table().items():
            if root in cmdline or (f":{self.web_port}" in cmdline and "gunicorn" in cmdline):
                found[pid] = cmdline
        # Only this stack's Redis: the session's own `redis_server` fixture (tests/services.py) may be
        # running under this process too, and is not a leftover of the stack.
        ours_redis = f":{self.redis.port}" if self.redis.port else root
        for pid, cmdline in descendants(os.getpid()).items():
            if "redis-server" in cmdline:
                if ours_redis in cmdline or root in cmdline:
                    found[pid] = cmdline
            elif any(word in cmdline for word in ("prod_cmd.sh", "gunicorn", "celery", "nginx", root)):
                found[pid] = cmdline
        return found

    def stop(self) -> None:
        # SIGTERM to the three leaders at once (each shuts down warmly), then wait for each in turn.
        for component in self.components.values():
            if component.running():
                component.process.terminate()  # type: ignore[union-attr]
        for name in reversed(COMPONENTS):
            if name in self.components:
                self.components[name].stop()
        self.redis.shutdown()
        if self.postgres.running:
            with contextlib.suppress(Exception):
                self.postgres.halt("fast")
        self.postgres.running = False

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ProdStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.remove()


# --- an HTTP client, as a browser or an API client talks to the stack -------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    url: str

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


class PortalClient:
    """urllib with a cookie jar: logs in through the HTML form at /login/ (CSRF token and all), then
    sends the CSRF header on unsafe API requests, as the portal's own pages do."""

    def __init__(self, base_url: str, timeout: float = 60) -> None:
        import http.cookiejar

        self.base_url = base_url
        self.timeout = timeout
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        self.username = ""

    def cookie(self, name: str) -> str:
        return next((c.value or "" for c in self.cookies if c.name == name), "")

    def request(
        self,
        method: str,
        path: str,
        *,
        data: dict[str, Any] | None = None,
        json_body: Any = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        headers = {"Accept-Language": "zh-hans", **(headers or {})}
        body: bytes | None = None
        if files is not None:
            boundary = f"----prodstack{secrets.token_hex(12)}"
            parts: list[bytes] = []
            for name, value in (data or {}).items():
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
                )
            for name, (filename, content, content_type) in files.items():
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                    f"Content-Type: {content_type}\r\n\r\n".encode()
                    + content
                    + b"\r\n"
                )
            parts.append(f"--{boundary}--\r\n".encode())
            body = b"".join(parts)
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif data is not None:
            body = urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if method not in ("GET", "HEAD", "OPTIONS") and self.cookie("csrftoken"):
            headers.setdefault("X-CSRFToken", self.cookie("csrftoken"))
            headers.setdefault("Referer", self.base_url + "/")
        request = urllib.request.Request(  # noqa: S310 - the stack's loopback http URL
            self.base_url + path, data=body, headers=headers, method=method
        )
        try:
            with self.opener.open(request, timeout=self.timeout) as answer:
                return Response(answer.status, dict(answer.headers.items()), answer.read(), answer.url)
        except urllib.error.HTTPError as exc:
            return Response(exc.code, dict(exc.headers.items()), exc.read(), exc.url)

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Response:
        return self.request("POST", path, **kwargs)

    def login(self, username: str, password: str) -> Response:
        """The HTML login form: GET it (CSRF cookie and hidden token), POST it, follow the redirect."""
        import re

        form = self.get("/login/")
        if form.status != 200:
            raise StackError(f"GET /login/ answered {form.status}")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        if token is None:
            raise StackError("no CSRF token in the login form")
        answer = self.post(
            "/login/", data={"csrfmiddlewaretoken": token.group(1), "username": username, "password": password}
        )
        if answer.status != 200 or answer.url.rstrip("/").endswith("/login"):
            raise StackError(f"login of {username} failed: {answer.status} {answer.url}\n{answer.text[:2000]}")
        self.username = username
        return answer


@contextlib.contextmanager
def running_stack(**kwargs: Any) -> Iterator[ProdStack]:
    stack = ProdStack(**kwargs)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
        stack.remove()


def main() -> None:  # pragma: no cover - by hand
    with running_stack() as stack:
        print(f"web {stack.base_url}  database {stack.database_url}  redis {stack.redis.url}")
        print(f"logs {stack.logs}  timings {stack.timings}")
        print("Ctrl-C stops everything.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
