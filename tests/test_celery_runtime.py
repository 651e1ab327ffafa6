"""Celery for real: a worker and a beat as separate processes, never eager mode.

(a) on kombu's filesystem broker (what `make run` uses), in temporary folders;
(b) on a real Redis server (what production uses);
and the health endpoint, which checks the database and the broker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.redis import RedisCache

from portal.tasks import HEARTBEAT_KEY, PING_KEY
from tests.services import alive, descendants, free_port, wait_until

REPO = Path(__file__).resolve().parent.parent
# The commands scripts/run.sh starts (with one pool process instead of two, to spare the machine).
WORKER = ["-m", "celery", "-A", "portal", "worker", "--loglevel=INFO", "--concurrency=1"]
BEAT = ["-m", "celery", "-A", "portal", "beat", "--loglevel=INFO"]
STARTUP = 90.0  # seconds; generous, the machine has two cores and other tests may run
SHUTDOWN = 30.0


@dataclass
class Portal:
    """The environment of a set of portal processes, and the processes started in it."""

    root: Path
    env: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = (self.root / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, *args], cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        self.processes[name] = process
        return process

    def log(self, name: str) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self) -> str:
        return "\n".join(f"--- {name} ---\n{self.log(name)[-3000:]}" for name in self.processes)

    def send_ping(self, token: str) -> None:
        """Sends portal.tasks.ping the way the web process would: Django settings, the app's broker."""
        code = f"from portal.tasks import ping; ping.delay(token={token!r})"
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
            cwd=REPO, env=self.env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr

    def terminate(self, name: str) -> int:
        """SIGTERM, as a supervisor sends it; returns the exit status (fails after SHUTDOWN seconds)."""
        process = self.processes[name]
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=SHUTDOWN)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{name} did not stop within {SHUTDOWN}s of SIGTERM\n{self.logs()}", pytrace=False)

    def kill_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[Portal]:
    unwanted = {"CELERY_BROKER_URL", "REDIS_CACHE_URL", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in unwanted}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        PORTAL_VAR_DIR=str(tmp_path / "var"),
        CELERY_FILESYSTEM_DIR=str(tmp_path / "celery"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        HEARTBEAT_INTERVAL_SECONDS="1",
        PYTHONUNBUFFERED="1",
    )
    running = Portal(root=tmp_path, env=env)
    yield running
    running.kill_all()


def _stops_cleanly(portal: Portal, name: str) -> None:
    process = portal.processes[name]
    children = descendants(process.pid)
    status = portal.terminate(name)
    assert status == 0, f"{name} exited with {status}\n{portal.logs()}"
    assert not alive(children), f"{name} left processes behind: {children}"


@pytest.mark.processes
@pytest.mark.slow
def test_worker_and_beat_run_as_separate_processes_on_the_filesystem_broker(portal: Portal) -> None:
    cache = FileBasedCache(str(portal.root / "var" / "cache"), {})
    portal.start("worker", WORKER)
    portal.start("beat", BEAT)

    # A task sent from another process is picked up by the worker through the broker's folders.
    token = uuid.uuid4().hex
    portal.send_ping(token)
    assert list((portal.root / "celery").iterdir()), "the filesystem broker's folders were not used"
    wait_until(
        lambda: cache.get(PING_KEY.format(token=token)), STARTUP, f"the worker did not run ping\n{portal.logs()}"
    )

    # Beat schedules the heartbeat (every second here) and the worker runs it, again and again.
    first = wait_until(lambda: cache.get(HEARTBEAT_KEY), STARTUP, f"no heartbeat\n{portal.logs()}")
    later = wait_until(
        lambda: (stamp := cache.get(HEARTBEAT_KEY)) != first and stamp, 30, f"heartbeat not renewed\n{portal.logs()}"
    )
    assert later > first
    assert "Sending due task heartbeat (portal.tasks.record_heartbeat)" in portal.log("beat")
    assert "portal.tasks.record_heartbeat" in portal.log("worker")
    assert list((portal.root / "var").glob("celerybeat-schedule*")), "beat kept no schedule in PORTAL_VAR_DIR"

    _stops_cleanly(portal, "beat")
    _stops_cleanly(portal, "worker")
    assert "Warm shutdown" in portal.log("worker")


@pytest.mark.processes
@pytest.mark.slow
@pytest.mark.redis
def test_worker_round_trip_on_redis(portal: Portal, redis_server: str) -> None:
    portal.env["CELERY_BROKER_URL"] = redis_server  # the settings then use the same Redis as cache
    cache = RedisCache(redis_server, {})
    portal.start("worker", WORKER)

    token = uuid.uuid4().hex
    portal.send_ping(token)
    wait_until(
        lambda: cache.get(PING_KEY.format(token=token)), STARTUP, f"the worker did not run ping\n{portal.logs()}"
    )
    assert "redis://" in portal.log("worker")
    assert not (portal.root / "celery" / "queue").exists() or not list((portal.root / "celery" / "queue").iterdir())

    _stops_cleanly(portal, "worker")


# --- /healthz -----------------------------------------------------------------------------------


@pytest.fixture
def broker() -> Iterator[Any]:
    """Points the portal's Celery app at another broker for one test."""
    from portal.celery import app

    saved = {key: app.conf[key] for key in ("broker_url", "broker_transport_options")}

    def use(url: str) -> None:
        app.conf.update(broker_url=url, broker_transport_options={})

    yield use
    app.conf.update(saved)


@pytest.mark.redis
def test_healthz_checks_the_database_and_the_redis_broker(
    client: Any, db: None, redis_server: str, broker: Any
) -> None:
    broker(redis_server)
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"] == {"ok": True, "ms": body["checks"]["broker"]["ms"], "transport": "redis"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_answers_503_when_the_broker_is_unreachable(client: Any, db: None, broker: Any) -> None:
    broker(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is False
    assert "Connection refused" in body["checks"]["broker"]["error"]
