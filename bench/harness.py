"""What every bench shares: the bench database, the seeded scales, timing and query counting, tables.

Server time is measured around Django's test `Client` (the whole request through the middleware,
view, template and session save, in-process, no network); the query count is taken on a separate
request with `CaptureQueriesContext`, so that capturing does not slow the timed requests.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

_seeded: dict[str, float] = {}


def bench_dir() -> Path:
    path = Path(getattr(settings, "BENCH_DIR", "bench-out"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_label() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"SQLite {db['NAME']}"
    return f"PostgreSQL {db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db['NAME']}"


def prepare_database(*, fresh: bool) -> None:
    """Migrate the bench database; a SQLite bench file is deleted first unless `fresh` is False."""
    db = settings.DATABASES["default"]
    if fresh and db["ENGINE"].endswith("sqlite3"):
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db['NAME']}{suffix}").unlink(missing_ok=True)
    call_command("migrate", verbosity=0, interactive=False)


def ensure_scale(scale: str) -> float:
    """Seed a scale once per run (idempotent anyway); returns the seconds it took."""
    if scale not in _seeded:
        from portal import demo

        started = time.perf_counter()
        demo.build(scale, log=lambda message: None)
        _seeded[scale] = time.perf_counter() - started
    return _seeded[scale]


@dataclass
class Measurement:
    label: str
    url: str
    status: int
    queries: int
    median_ms: float
    p90_ms: float
    reps: int
    rows: int | None = None  # rows shown on the page, when the check could count them
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Case:
    """One URL fetched by one logged-in client; `count_rows` reads how many rows the response shows."""

    label: str
    client: Client
    url: str
    count_rows: Callable[[Any], int] | None = None


def measure(cases: Sequence[Case], *, reps: int, warmup: int = 2) -> list[Measurement]:
    """Query count and server time of each case; the timed requests of the cases are interleaved
    (round robin, rotating who goes first) so that they share the machine's load alike."""
    counted: list[tuple[int, int, int | None]] = []
    for case in cases:
        with CaptureQueriesContext(connection) as captured:
            response = case.client.get(case.url)
        # captured_queries reads the connection's log lazily: take it before the next request resets it.
        queries = len(captured.captured_queries)
        rows = case.count_rows(response) if case.count_rows is not None and response.status_code == 200 else None
        counted.append((response.status_code, queries, rows))
    for _ in range(warmup):
        for case in cases:
            case.client.get(case.url)
    times: list[list[float]] = [[] for _ in cases]
    cpu: list[list[float]] = [[] for _ in cases]
    for rep in range(reps):
        for offset in range(len(cases)):
            index = (rep + offset) % len(cases)
            started, cpu_started = time.perf_counter(), time.process_time()
            cases[index].client.get(cases[index].url)
            times[index].append((time.perf_counter() - started) * 1000)
            # This process's CPU: on SQLite the database's work too, so the figure a busy machine does not
            # stretch (the wall time waits for a CPU when other processes hold both).
            cpu[index].append((time.process_time() - cpu_started) * 1000)
    results = []
    for case, (status, queries, rows), samples, cpu_samples in zip(cases, counted, times, cpu, strict=True):
        samples.sort()
        results.append(
            Measurement(
                label=case.label,
                url=case.url,
                status=status,
                queries=queries,
                median_ms=statistics.median(samples),
                p90_ms=samples[min(len(samples) - 1, int(len(samples) * 0.9))],
                reps=reps,
                rows=rows,
                extra={"cpu_median_ms": statistics.median(cpu_samples)},
            )
        )
    return results


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def logged_in_verified(user: Any) -> Client:
    """A client whose session passed two-step verification, as the Django admin requires: without it the
    admin answers 302 to the code page and a baseline would time a redirect. The bench user gets a
    confirmed TOTP device (bench database only), as `tests.otp_helpers.force_login_verified` does."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="基准测试设备", confirmed=True)
    client = logged_in(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def admin_rows(response: Any) -> int:
    """Rows of a Django admin changelist: the body rows of its result table (a read-only admin has no
    action checkboxes to count)."""
    content = response.content.decode()
    start = content.find('id="result_list"')
    if start < 0:
        return 0
    table = content[start : content.find("</table>", start)]
    body = table[table.find("<tbody>") :] if "<tbody>" in table else ""
    return body.count("<tr")


class BaselineError(AssertionError):
    """A baseline that did not answer 200 with the rows of the figure it is compared with."""


def check_baseline(
    baseline: Measurement, *, expected_rows: int | None, log: Callable[[str], None] = print, what: str = ""
) -> str:
    """Assert that a baseline measured something: HTTP 200 and, when given, the expected number of rows
    (counted in its response). Prints the verdict and raises BaselineError otherwise, so that no figure is
    ever compared with a redirect or an error page."""
    label = f"{what or baseline.label} {baseline.url}"
    if baseline.status != 200:
        log(f"  ✗ baseline {label}: HTTP {baseline.status}, not 200")
        raise BaselineError(f"baseline {label} answered HTTP {baseline.status}")
    if expected_rows is not None and baseline.rows != expected_rows:
        log(f"  ✗ baseline {label}: {baseline.rows} rows, expected {expected_rows}")
        raise BaselineError(f"baseline {label} showed {baseline.rows} rows, expected {expected_rows}")
    verdict = f"  ✓ baseline {label}: HTTP 200, {baseline.rows if baseline.rows is not None else '—'} rows"
    log(verdict)
    return verdict


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain text table; CJK characters count as two columns."""

    def width(text: str) -> int:
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    cells = [[str(c) for c in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(width(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c + " " * (widths[i] - width(c)) for i, c in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def save_json(name: str, payload: Any) -> Path:
    path = bench_dir() / f"{name}.json"

    def default(value: Any) -> Any:
        if isinstance(value, Measurement):
            return asdict(value)
        raise TypeError(type(value).__name__)

    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=default), encoding="utf-8")
    return path
