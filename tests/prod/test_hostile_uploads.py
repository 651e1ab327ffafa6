"""The hostile spreadsheets of the incident against the production-like stack, through nginx, three at once:

a .xlsx of 1,000,000 rows each with one value in column XFD, one with 2,000,000 shared strings, one with
1,000,000 trailing 合计 rows (tests/hostile_xlsx.py). Uploaded at the same moment by three logged-in
enterprise clerks through the ledger upload API while /healthz is probed through the proxy every ~100 ms:
every probe answers 200 within 1 s, each upload is refused within 3 s with its Chinese message (never
gunicorn's English "Internal Server Error"), nothing is written to PostgreSQL, and the gunicorn
processes are the same ones afterwards (none was killed at its timeout or by the out-of-memory killer).

Figures are printed (pytest -s shows them).
"""

from __future__ import annotations

import json
import re
import statistics
import threading
import time

import pytest

from tests import hostile_xlsx
from tests.prod.conftest import DEMO_PASSWORD
from tests.prod.test_proxy import XLSX, probe, warm_up
from tests.prodstack import PortalClient, ProdStack, Response
from tests.services import descendants

pytestmark = [pytest.mark.processes, pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

FILES = ("far-column-rows", "shared-strings", "footer-rows")
PROBE_LIMIT_S = 1.0
REFUSAL_LIMIT_S = 3.0


def counts(stack: ProdStack) -> dict[str, int]:
    return {
        "hazards": stack.scalar("SELECT count(*) FROM hazards_hazard"),
        "uploads": stack.scalar("SELECT count(*) FROM hazards_ledgerupload"),
        "confirmed": stack.scalar("SELECT count(*) FROM hazards_ledgerupload WHERE status = 'committed'"),
    }


def test_three_hostile_spreadsheets_at_once_are_refused_quickly_and_healthz_keeps_answering(
    stack: ProdStack,
) -> None:
    started = time.monotonic()
    files = {name: hostile_xlsx.HOSTILE[name][0]() for name in FILES}
    built_s = time.monotonic() - started
    clients = []
    for _ in FILES:
        client = PortalClient(stack.base_url, timeout=60)
        client.login("clerk", DEMO_PASSWORD)
        clients.append(client)
    warm_up(stack)
    before = counts(stack)
    web = stack.components["web"]
    processes_before = descendants(web.pid)
    log_from = len(web.log())
    assert len(processes_before) >= stack.web_concurrency, processes_before

    answers: dict[str, tuple[Response, float]] = {}
    barrier = threading.Barrier(len(FILES) + 1)

    def upload(client: PortalClient, name: str) -> None:
        barrier.wait()
        began = time.monotonic()
        answer = client.post("/api/v1/ledger-uploads/", files={"file": (f"{name}.xlsx", files[name], XLSX)})
        answers[name] = (answer, time.monotonic() - began)

    threads = [
        threading.Thread(target=upload, args=(client, name)) for client, name in zip(clients, FILES, strict=True)
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.monotonic()
    probes: list[tuple[int, float]] = []
    # Probe while the uploads run and one second beyond (a worker dying after answering would show there).
    while any(thread.is_alive() for thread in threads) or time.monotonic() - began < 4:
        probes.append(probe(stack.url("/healthz")))
        time.sleep(0.1)
    for thread in threads:
        thread.join()
    seconds = [s for _, s in probes]
    print(
        f"\n[hostile] built in {built_s:.1f} s, sizes (KB) "
        + str({name: len(data) // 1024 for name, data in files.items()})
        + f"; refused in { ({name: round(s, 2) for name, (_, s) in answers.items()}) } s"
        + f"; {len(probes)} probes, max {max(seconds):.3f} s, median {statistics.median(seconds):.3f} s"
    )

    for name in FILES:
        answer, took = answers[name]
        assert answer.status == 400, (name, answer.status, answer.text[:500])
        assert "Internal Server Error" not in answer.text
        message = json.dumps(answer.json(), ensure_ascii=False)
        assert re.search(hostile_xlsx.HOSTILE[name][1], message), (name, message[:500])
        assert answer.json()["upload"] is None
        assert took < REFUSAL_LIMIT_S, (name, took)
    assert [status for status, _ in probes] == [200] * len(probes), probes
    assert max(seconds) < PROBE_LIMIT_S, sorted(seconds)[-5:]
    assert counts(stack) == before
    # The same gunicorn processes: none timed out or was killed (one recycled at --max-requests is no fault).
    web_log = web.log()[log_from:]
    assert "WORKER TIMEOUT" not in web_log and "SIGKILL" not in web_log, web_log[-3000:]
    gone = set(processes_before) - set(descendants(web.pid))
    assert all(f"[{pid}] [INFO] Autorestarting worker" in web_log for pid in gone), (gone, web_log[-3000:])
    assert stack.health()[0] == 200
