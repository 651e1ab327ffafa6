"""The reverse proxy of the production-like stack (nginx, deploy/nginx.conf.template, in front of
gunicorn), through real sockets:

a. 50 clients sending their headers a byte at a time do not starve anyone: /healthz through the proxy
   answers within 1 s all along (gunicorn alone, with the same clients, is printed for comparison: it
   does not answer at all);
b. three big ledger uploads parsed at once leave /healthz answering throughout (95 % within 1 s, all
   within 3 s on this shared machine; the outliers are mostly the broker check's Redis connect);
c. nginx's own errors are Chinese pages (413 for a body over the upload limit, 502 with gunicorn down),
   static files come from the collected folder (even with gunicorn down), uploaded files never do;
d. the forwarded headers reaching gunicorn are nginx's, not what the client claims.

Figures are printed (pytest -s shows them).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import secrets
import socket
import statistics
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import pytest

from portal import limits
from tests.hazards import ledger_xlsx
from tests.prod.conftest import DEMO_PASSWORD
from tests.prodstack import PortalClient, ProdStack, Response

pytestmark = [pytest.mark.processes, pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LIMIT_S = 1.0


def report(label: str, **figures: object) -> None:
    print(f"\n[proxy] {label}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))


LAST_BODIES: dict[float, bytes] = {}


def probe(url: str, timeout: float = 5) -> tuple[int, float]:
    """GET url: (status, seconds); status 0 when nothing answered within `timeout`."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 - loopback
            body = answer.read()
            status = answer.status
            if time.monotonic() - started > 0.5:  # what /healthz says it spent on each check
                LAST_BODIES[time.monotonic() - started] = body
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError:
        status = 0
    return status, time.monotonic() - started


@contextlib.contextmanager
def slow_header_clients(port: int, count: int) -> Iterator[list[socket.socket]]:
    """`count` connections that send a request line and then one header line a second, never finishing."""
    sockets: list[socket.socket] = []
    stop = threading.Event()
    for n in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(f"GET /healthz?slow={n} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode())
        sockets.append(sock)

    def trickle() -> None:
        line = 0
        while not stop.wait(1.0):
            line += 1
            for sock in sockets:
                with contextlib.suppress(OSError):
                    sock.sendall(f"X-Slow-{line}: a\r\n".encode())

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        yield sockets
    finally:
        stop.set()
        thread.join(timeout=5)
        for sock in sockets:
            sock.close()


# --- a. slow clients ----------------------------------------------------------------------------------


def warm_up(stack: ProdStack) -> float:
    """A few probes first, so that every gunicorn worker has its database and Redis connections (the
    first request of a worker opens them): the figures below are the slow clients' effect, not that."""
    from concurrent.futures import ThreadPoolExecutor

    parallel = stack.web_concurrency
    with ThreadPoolExecutor(parallel) as pool:
        return max(pool.map(lambda _: probe(stack.url("/healthz"))[1], range(3 * parallel)))


def test_fifty_slow_header_clients_do_not_starve_healthz(stack: ProdStack) -> None:
    baseline = warm_up(stack)
    with slow_header_clients(stack.proxy_port, 50):
        time.sleep(1.5)  # every connection open and trickling
        probes = []
        deadline = time.monotonic() + 12  # past nginx's client_header_timeout (10 s)
        while time.monotonic() < deadline:
            probes.append(probe(stack.url("/healthz")))
            time.sleep(0.3)
        # The same clients against gunicorn directly: each sync worker blocks on one of them.
    with slow_header_clients(stack.web_port, 50):
        time.sleep(1.5)
        direct = probe(stack.web_url + "/healthz", timeout=3)
    seconds = [s for _, s in probes]
    report(
        "50 slow-header sockets",
        warm_up_max_s=round(baseline, 3),
        probes=len(probes),
        healthz_max_s=round(max(seconds), 3),
        healthz_median_s=round(statistics.median(seconds), 3),
        gunicorn_directly=f"{direct[0] or 'no answer'} in {direct[1]:.1f} s",
    )
    assert [status for status, _ in probes] == [200] * len(probes), probes
    assert max(seconds) < LIMIT_S, probes
    assert stack.health()[0] == 200


# --- b. three big uploads at once ------------------------------------------------------------------------


def big_ledger(rows: int, prefix: str) -> bytes:
    found = dt.date(2025, 3, 1)
    return ledger_xlsx.build(
        [
            ledger_xlsx.row(f"{prefix}-{n:05d}", f"并发上传演练隐患第{n}条，边坡浮石未清理", found_on=found,
                            deadline=dt.date(2026, 12, 31))
            for n in range(1, rows + 1)
        ]
    )  # fmt: skip


# Big enough that three previews keep the workers busy for seconds (the ledger reader is now calamine with
# cached cell parsers: 20,000 rows were read in under 3 s), within the 50,000-row and 10 MB upload bounds.
UPLOAD_ROWS = 40000


def test_three_big_uploads_at_once_leave_healthz_answering(stack: ProdStack) -> None:
    files = [big_ledger(UPLOAD_ROWS, f"UP{n}") for n in range(3)]
    warm_up(stack)
    LAST_BODIES.clear()
    clients = []
    for _ in files:
        client = PortalClient(stack.base_url, timeout=180)
        client.login("clerk", DEMO_PASSWORD)
        clients.append(client)
    answers: list[tuple[Response, float]] = []
    barrier = threading.Barrier(len(files) + 1)

    def upload(client: PortalClient, content: bytes, n: int) -> None:
        barrier.wait()
        started = time.monotonic()
        answer = client.post("/api/v1/ledger-uploads/", files={"file": (f"大台账{n}.xlsx", content, XLSX)})
        answers.append((answer, time.monotonic() - started))

    threads = [
        threading.Thread(target=upload, args=(client, content, n))
        for n, (client, content) in enumerate(zip(clients, files, strict=True))
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.monotonic()
    probes: list[tuple[int, float]] = []
    offsets: list[float] = []
    while any(thread.is_alive() for thread in threads):
        offsets.append(round(time.monotonic() - started, 1))
        probes.append(probe(stack.url("/healthz")))
        time.sleep(0.25)
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    seconds = [s for _, s in probes]
    report(
        f"3 uploads of {UPLOAD_ROWS} rows ({len(files[0]) // 1024} KB each) at once",
        upload_s=[round(s, 1) for _, s in answers],
        statuses=[a.status for a, _ in answers],
        probes=len(probes),
        healthz_max_s=round(max(seconds), 3),
        healthz_median_s=round(statistics.median(seconds), 3),
        slowest=sorted(((round(s, 2), at) for s, at in zip(seconds, offsets, strict=True)), reverse=True)[:3],
    )
    for slow, body in sorted(LAST_BODIES.items(), reverse=True)[:3]:
        print(f"  slow /healthz {slow:.2f} s: {body.decode()[:300]}")
    # The uploads were really being parsed while /healthz was probed.
    assert elapsed > 3 and len(probes) >= 5, (elapsed, probes)
    for answer, _ in answers:
        assert answer.status == 201, answer.text[:1000]
        assert "Internal Server Error" not in answer.text
    assert [status for status, _ in probes] == [200] * len(probes), probes
    # Every probe answered (before the proxy and the sync workers: none did while the uploads ran), 95 %
    # within 1 s. The few slower ones (1.3-2 s on this shared 2-core machine) are mostly the broker check's
    # connect to Redis, which /healthz reports (checks.broker.ms), not a request waiting for a worker.
    assert statistics.quantiles(seconds, n=20)[-1] < LIMIT_S, sorted(seconds)[-10:]
    assert max(seconds) < 3 * LIMIT_S, probes


# --- c. nginx's errors, static and media ----------------------------------------------------------------


def static_path(stack: ProdStack, name: str) -> str:
    manifest = json.loads((stack.static_root / "staticfiles.json").read_text())
    return "/static/" + manifest["paths"][name]


def test_body_over_the_upload_limit_gets_the_chinese_413_page(stack: ProdStack) -> None:
    too_big = limits.request_body_max_bytes(limits.upload_max_bytes({})) + 1
    connection = http.client.HTTPConnection("127.0.0.1", stack.proxy_port, timeout=10)
    try:
        connection.putrequest("POST", "/api/v1/ledger-uploads/")
        connection.putheader("Content-Type", "multipart/form-data; boundary=x")
        connection.putheader("Content-Length", str(too_big))
        connection.endheaders()
        with contextlib.suppress(OSError):
            connection.send(b"--x\r\n" + b"0" * 65536)
        answer = connection.getresponse()
        body = answer.read().decode()
    finally:
        connection.close()
    assert answer.status == 413
    assert "上传的文件过大" in body and "nginx" not in body.lower()
    # Just under the limit reaches the portal (which answers for itself: here, not logged in).
    allowed = PortalClient(stack.base_url).post(
        "/api/v1/ledger-uploads/", files={"file": ("台账.xlsx", b"0" * (too_big - 4096), XLSX)}
    )
    assert allowed.status in (401, 403), allowed.status


def test_gunicorn_down_gives_the_chinese_502_page_and_static_files_still_come(
    stack: ProdStack, healthy_again: ProdStack
) -> None:
    css = static_path(stack, "vendor/bootstrap/bootstrap.min.css")
    up = PortalClient(stack.base_url).get(css)
    assert up.status == 200 and up.headers.get("Content-Type", "").startswith("text/css")
    secret = secrets.token_hex(8)
    (stack.media_root / "probe").mkdir(parents=True, exist_ok=True)
    (stack.media_root / "probe" / f"{secret}.txt").write_text(secret)
    media = PortalClient(stack.base_url).get(f"/media/probe/{secret}.txt")
    assert media.status == 404 and secret not in media.text

    stack.stop_component("web")
    page = PortalClient(stack.base_url).get("/login/")
    static = PortalClient(stack.base_url).get(css)
    report("gunicorn stopped", page=page.status, static=static.status, body=page.text[:80].replace("\n", " "))
    assert page.status == 502
    assert "系统暂时无法响应" in page.text and "nginx" not in page.text.lower()
    assert page.headers.get("Content-Type", "").startswith("text/html")
    assert static.status == 200 and static.body == up.body


# --- d. forwarded headers ---------------------------------------------------------------------------------


def test_gunicorn_sees_the_address_nginx_saw_not_what_the_client_claims(stack: ProdStack) -> None:
    marker = secrets.token_hex(6)
    answer = PortalClient(stack.base_url).get(
        f"/healthz?marker={marker}", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    )
    assert answer.status == 200

    def logged() -> str:
        return next((line for line in stack.components["web"].log().splitlines() if marker in line), "")

    line = wait_for(logged, 10)
    assert "xff=127.0.0.1 " in line and "proto=http " in line, line
    assert "203.0.113.9" not in line


def wait_for(predicate: Callable[[], str], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail("no access-log line for the request", pytrace=False)
