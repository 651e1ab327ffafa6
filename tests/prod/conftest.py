"""One production-like stack (tests/prodstack.py) for the tests under tests/prod: PostgreSQL, Redis,
and web, worker and beat started with `scripts/prod_cmd.sh web|worker|beat`, DEBUG=0, seeded with
`manage.py seed_demo`.

Starting it costs about a minute on this machine (migrations, demo data, gunicorn and Celery
booting), so the smoke journey and the fault drills share one stack (package scope); every drill
leaves it running and healthy again. The stack is stopped at the end and nothing may be left running.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.prodstack import PortalClient, ProdStack, StackError
from tests.services import ServiceUnavailable, unavailable

DEMO_PASSWORD = "Demo-2024-portal"  # the documented demo password (portal.demo)

# A report job whose worker died (kill -9) is queued again once its heartbeat is this old, by beat's sweep
# every SWEEP_SECONDS (reporting/leases.py; production: 90 s and 30 s). Redis keeps its production
# visibility timeout (an hour), so the drills show the jobs coming back through the lease, not Redis.
LEASE_SECONDS = 6
SWEEP_SECONDS = 2


@pytest.fixture(scope="package")
def stack() -> Iterator[ProdStack]:
    prod = ProdStack(
        web_concurrency=5,  # scripts/prod_cmd.sh's default (2 x cores + 1): more than the heavy uploads at once
        worker_concurrency=2,
        extra_env={"REPORT_JOB_LEASE_SECONDS": str(LEASE_SECONDS), "REPORT_JOB_SWEEP_SECONDS": str(SWEEP_SECONDS)},
    )
    try:
        prod.start()
    except ServiceUnavailable as exc:
        prod.remove()
        unavailable(str(exc))
    except StackError:
        prod.remove()
        raise
    print(f"\nprod stack up: {prod.timings} (s)")
    try:
        yield prod
    finally:
        prod.stop()
        left = prod.leftovers()
        prod.remove()
        assert not left, f"left running after the stack stopped: {left}"


@pytest.fixture(scope="package")
def login(stack: ProdStack) -> Callable[[str], PortalClient]:
    """A client logged in through the HTML form as one of the demo accounts (one per name)."""
    clients: dict[str, PortalClient] = {}

    def client_for(username: str, password: str = DEMO_PASSWORD) -> PortalClient:
        if username not in clients:
            client = PortalClient(stack.base_url)
            client.login(username, password)
            clients[username] = client
        return clients[username]

    return client_for


@pytest.fixture
def healthy_again(stack: ProdStack) -> Iterator[ProdStack]:
    """Whatever a drill did, the next test finds PostgreSQL, Redis and the three processes running."""
    yield stack
    if not stack.postgres.running:
        stack.start_postgres()
    if stack.redis.process is None or stack.redis.process.poll() is not None:
        stack.redis.start()
    for name, component in stack.components.items():
        if not component.running():
            stack.start_component(name)
    stack.wait_healthy(60)


def wait_for_job(client: PortalClient, job_id: str, timeout: float = 90) -> dict[str, Any]:
    """Polls /api/v1/report-exports/{id}/ until the job succeeded or failed."""
    deadline = time.monotonic() + timeout
    data: dict[str, Any] = {}
    while time.monotonic() < deadline:
        answer = client.get(f"/api/v1/report-exports/{job_id}/")
        assert answer.status == 200, answer.text
        data = answer.json()
        if data["status"] in ("success", "failed"):
            return data
        time.sleep(0.3)
    pytest.fail(f"export job {job_id} not finished after {timeout}s: {data}", pytrace=False)
