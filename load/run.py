"""`make load`: a bounded load test of the production-like stack, with its writes checked afterwards.

    python -m load.run            (or `make load`)

1. starts the stack with scripts/prod_run.sh (PostgreSQL, Redis, gunicorn, Celery worker and beat on
   loopback, DEBUG=0), seeded at county scale (PROD_RUN_SEED_SCALE=county), in var/load/stack;
2. waits for /healthz, then load/prepare.py adds the county's hazards and records, the writers'
   accounts, the pools of hazards for the steps and the export files (built by the worker);
3. runs locust headless (load/locustfile.py) against 127.0.0.1 only: every simulated user logs in
   once, then the statistics are reset and the measured window of LOAD_SECONDS starts (logins hash
   passwords at the production cost: they are reported apart); locust stops itself at the end of
   the window (and at the latest LOAD_SECONDS + 300 s after it started);
4. load/verify.py checks the journal of writes against the database;
5. prints and writes var/load/report.txt (and locust's CSV files var/load/locust_*.csv): throughput,
   p50/p95/p99 per request kind and overall, errors, the verification, and PASS/FAIL against the
   targets; exit status 1 on FAIL;
6. stops the stack (prod_run.sh stops web, worker, beat, Redis and PostgreSQL) and removes its data.

Environment: LOAD_USERS (50), LOAD_SPAWN_RATE (10), LOAD_SECONDS (60), LOAD_WAIT ("1,4": seconds
between a user's requests), LOAD_P95_MS (300: the target for pages), LOAD_OUT (var/load),
LOAD_KEEP=1 (keep the stack's data folder), WEB_CONCURRENCY (gunicorn workers; prod_run.sh's 5).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import signal
import socket
import subprocess  # nosec B404 # starts the stack, locust and the checks (below)
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PAGE_PREFIX = "page "
# Variables of the caller that must not reach the stack or the driver (prod_run.sh sets its own).
NOT_INHERITED = {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_CACHE_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}


@dataclass
class Settings:
    users: int
    spawn_rate: float
    seconds: int
    wait: str
    p95_ms: float
    out: Path
    keep: bool

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Settings:
        return cls(
            users=int(env.get("LOAD_USERS", "50")),
            spawn_rate=float(env.get("LOAD_SPAWN_RATE", "10")),
            seconds=int(env.get("LOAD_SECONDS", "60")),
            wait=env.get("LOAD_WAIT", "1,4"),
            p95_ms=float(env.get("LOAD_P95_MS", "300")),
            out=Path(env.get("LOAD_OUT", str(REPO / "var" / "load"))).resolve(),
            keep=env.get("LOAD_KEEP", "0") == "1",
        )


def say(message: str) -> None:
    print(f"[load] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep:
            values[name] = value
    return values


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - loopback URL we built  # nosec B310 # an http URL on loopback that we built
            return bool(response.status == 200)
    except OSError:
        return False


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


# --- The report -------------------------------------------------------------------------------------


@dataclass
class Row:
    kind: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float


def _number(value: str | None) -> float:
    """locust writes "N/A" for the percentiles of a name that got no response."""
    try:
        return float(value or 0)
    except ValueError:
        return 0.0


def read_stats(path: Path) -> list[Row]:
    """locust's *_stats.csv: one row per request name, then the "Aggregated" row."""
    rows = []
    with path.open(newline="", encoding="utf-8") as handle:
        for record in csv.DictReader(handle):
            name = record["Name"]
            rows.append(
                Row(
                    kind=name if name != "Aggregated" else "all requests",
                    requests=int(record["Request Count"]),
                    failures=int(record["Failure Count"]),
                    rps=_number(record["Requests/s"]),
                    p50=_number(record["50%"]),
                    p95=_number(record["95%"]),
                    p99=_number(record["99%"]),
                )
            )
    return rows


def judge(
    rows: list[Row], verification: dict[str, Any], settings: Settings, *, locust_errors: int = 0
) -> tuple[bool, list[str]]:
    """PASS/FAIL against the targets; the reasons of a FAIL."""
    reasons = []
    total = next((r for r in rows if r.kind == "all requests"), None)
    if total is None or total.requests == 0:
        reasons.append("no request was made")
    if settings.users < 50:
        reasons.append(f"only {settings.users} users (the target is 50)")
    failures = sum(r.failures for r in rows if r.kind != "all requests") + locust_errors
    if failures:
        reasons.append(f"{failures} errors")
    for r in rows:
        if r.kind.startswith(PAGE_PREFIX) and r.p95 >= settings.p95_ms:
            reasons.append(f"{r.kind}: p95 {r.p95:.0f} ms ≥ {settings.p95_ms:.0f} ms")
    if not verification.get("passed"):
        problems = verification.get("problems") or ["the verification did not run"]
        reasons.append(f"writes: {len(problems)} problems, first: {problems[0]}")
    return not reasons, reasons


def format_report(
    rows: list[Row],
    logins: dict[str, Any] | None,
    verification: dict[str, Any],
    settings: Settings,
    loads: dict[str, str],
    reasons: list[str],
    timings: dict[str, float],
) -> str:
    lines = [
        f"Load test of the production-like stack (county scale), {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
        f"users {settings.users}, spawn rate {settings.spawn_rate}/s, {settings.seconds} s, pause {settings.wait} s "
        f"between a user's requests; gunicorn workers: {os.environ.get('WEB_CONCURRENCY', '5')}",
        f"load average (1/5/15 min): before {loads.get('before', '?')}, at the end {loads.get('after', '?')} "
        f"on {os.cpu_count()} CPUs",
        f"Statistics of the {settings.seconds} s after every user had logged in.",
        "",
        f"{'request kind':<24} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}",
    ]
    total = next((r for r in rows if r.kind == "all requests"), None)
    for r in sorted(rows, key=lambda r: (r.kind == "all requests", r.kind)):
        lines.append(
            f"{r.kind:<24} {r.requests:>8} {r.failures:>6} {r.rps:>7.1f} {r.p50:>7.0f} {r.p95:>7.0f} {r.p99:>7.0f}"
        )
    if logins is not None:
        lines.append(
            f"(before the window: {logins['requests']} logins, p50 {logins['p50']:.0f} ms, p95 {logins['p95']:.0f} ms; "
            f"{logins['ramp_up_failures']} errors while logging in)"
        )
    if logins is not None and logins.get("seconds") and total is not None and total.requests:
        server_ms = 1000 * logins["server_cpu_seconds"] / total.requests
        lines.append(
            f"CPU in the window ({logins['seconds']:.0f} s): the stack (gunicorn, worker, beat, Redis, PostgreSQL) "
            f"{logins['server_cpu_seconds']:.1f} s = {server_ms:.0f} ms per request, locust "
            f"{logins['locust_cpu_seconds']:.1f} s; the stack alone could serve at most about "
            f"{(os.cpu_count() or 1) * 1000 / server_ms:.0f} req/s on {os.cpu_count()} CPUs"
        )
    lines += [
        "",
        f"Writes journalled: {verification.get('writes_ok', 0)} succeeded ({verification.get('rows_ok', 0)} ledger "
        f"rows), {verification.get('writes_failed', 0)} refused, {verification.get('writes_unknown', 0)} without "
        "an answer; in the database exactly once / not at all: "
        + ("yes" if verification.get("passed") else f"NO ({len(verification.get('problems', []))} problems)"),
    ]
    lines += [f"  - {problem}" for problem in verification.get("problems", [])[:20]]
    lines.append("Setup: " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items()))
    lines += [
        "",
        f"Targets: {50} users, p95 < {settings.p95_ms:.0f} ms for pages, no errors, no lost or duplicated writes.",
        "PASS" if not reasons else "FAIL: " + "; ".join(reasons),
    ]
    return "\n".join(lines) + "\n"


# --- The run ----------------------------------------------------------------------------------------


class Stack:
    """scripts/prod_run.sh in its own session; stopped with SIGTERM (its cleanup stops every server)."""

    def __init__(self, root: Path, log_path: Path, env: dict[str, str]) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**env, "PROD_RUN_DIR": str(root), "PROD_RUN_SEED_SCALE": "county", "PROD_RUN_PORT": str(self.port)}
        self.log = log_path.open("wb")
        self.process = subprocess.Popen(  # nosec B603, B607 # bash on our own script, fixed arguments
            ["bash", "scripts/prod_run.sh"], cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def wait_healthy(self, timeout: float) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        env_file = self.root / "portal.env"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prod_run.sh exited with status {self.process.returncode} (see {self.log.name})")
            if env_file.exists() and healthy(self.url + "/healthz"):
                return read_env_file(env_file)
            time.sleep(1)
        raise RuntimeError(f"the stack did not answer {self.url}/healthz within {timeout:.0f} s (see {self.log.name})")

    def server_pids(self) -> list[int]:
        """The roots of the server's process trees: prod_run.sh (web, worker, beat, Redis) and the postmaster."""
        pids = [self.process.pid]
        with contextlib.suppress(OSError, ValueError, IndexError):
            pids.append(int((self.root / "pg" / "data" / "postmaster.pid").read_text().split()[0]))
        return pids

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                say("prod_run.sh did not stop within 90 s: killing its process group")
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def run(settings: Settings) -> int:
    out = settings.out
    out.mkdir(parents=True, exist_ok=True)
    root = out / "stack"
    shutil.rmtree(root, ignore_errors=True)
    for old in [
        *out.glob("locust_*.csv"),
        out / "journal.jsonl",
        out / "report.txt",
        out / "fixture.json",
        out / "window.json",
    ]:
        old.unlink(missing_ok=True)
    base_env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    python = str(REPO / ".venv" / "bin" / "python")
    if not Path(python).exists():
        python = sys.executable
    locust = str(Path(python).parent / "locust")
    run_id = uuid.uuid4().hex[:8]
    journal = out / "journal.jsonl"
    fixture = out / "fixture.json"
    window_file = out / "window.json"
    timings: dict[str, float] = {}
    loads: dict[str, str] = {}
    verification: dict[str, Any] = {}
    locust_status = 0

    say(f"starting the stack (scripts/prod_run.sh, county scale; output in {out / 'stack.log'})")
    started = time.monotonic()
    stack = Stack(root, out / "stack.log", base_env)
    try:
        stack_env = stack.wait_healthy(timeout=900)
        timings["stack up (seed included)"] = time.monotonic() - started
        driver_env = {**base_env, **stack_env, "DJANGO_SETTINGS_MODULE": "portal.settings"}

        say("preparing the county's data, accounts and pools (load/prepare.py)")
        started = time.monotonic()
        subprocess.run([python, "-m", "load.prepare", str(fixture)], cwd=REPO, env=driver_env, check=True)  # nosec B603 # our interpreter, fixed arguments
        timings["prepare"] = time.monotonic() - started

        say(f"locust: {settings.users} users for {settings.seconds} s against {stack.url}")
        loads["before"] = load_average()
        locust_env = {
            **base_env, "LOAD_FIXTURE": str(fixture), "LOAD_JOURNAL": str(journal), "LOAD_RUN_ID": run_id,
            "LOAD_WAIT": settings.wait, "LOAD_SECONDS": str(settings.seconds), "LOAD_WINDOW": str(window_file),
            "LOAD_SERVER_PIDS": ",".join(str(pid) for pid in stack.server_pids()), "PYTHONPATH": str(REPO),
        }  # fmt: skip
        command = [
            locust, "-f", str(REPO / "load" / "locustfile.py"), "--headless", "--host", stack.url,
            "-u", str(settings.users), "-r", str(settings.spawn_rate), "-t", f"{settings.seconds + 300}s",
            "--only-summary", "--stop-timeout", "10", "--csv", str(out / "locust"),
            "--loglevel", "WARNING",
        ]  # fmt: skip
        locust_status = subprocess.run(command, cwd=REPO, env=locust_env, check=False).returncode  # nosec B603 # locust with arguments we built
        loads["after"] = load_average()

        say("checking the journal of writes against the database (load/verify.py)")
        checked = subprocess.run(  # nosec B603 # our interpreter, fixed arguments
            [python, "-m", "load.verify", str(journal), run_id], cwd=REPO, env=driver_env, capture_output=True,
            text=True, check=False,
        )  # fmt: skip
        try:
            verification = json.loads(checked.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            verification = {"passed": False, "problems": [f"load.verify failed: {checked.stderr[-2000:]}"]}
    finally:
        say("stopping the stack")
        stack.stop()
        if not settings.keep:
            shutil.rmtree(root, ignore_errors=True)

    stats_file = out / "locust_stats.csv"
    rows = read_stats(stats_file) if stats_file.exists() else []
    logins = json.loads(window_file.read_text()) if window_file.exists() else None
    rows = [r for r in rows if r.kind != "login"]
    locust_errors = 0 if locust_status in (0, 1) else 1  # 1: some requests failed (counted in the rows)
    passed, reasons = judge(rows, verification, settings, locust_errors=locust_errors)
    if logins is None:
        passed = False
        reasons.append("the users never all logged in (no measured window)")
    elif logins["ramp_up_failures"]:
        passed = False
        reasons.append(f"{logins['ramp_up_failures']} errors while the users logged in")
    report = format_report(rows, logins, verification, settings, loads, reasons, timings)
    (out / "report.txt").write_text(report, encoding="utf-8")
    print("\n" + report, flush=True)
    say(f"report in {out / 'report.txt'}, locust's CSV in {out}/locust_*.csv")
    return 0 if passed else 1


def main() -> int:
    return run(Settings.from_env(dict(os.environ)))


if __name__ == "__main__":
    sys.exit(main())
