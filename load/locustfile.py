"""The simulated users of `make load` (locust; started by load/run.py, which prepares the data).

Five kinds of users, each logging in once through the login form and then working with pauses of
LOAD_WAIT seconds (default "1,4": between 1 and 4 s):

- 县局股室 (county_staff): work queue, hazard list with filters, hazard detail, the monthly tables, the
  export file the worker built, the API's list; 县确认 of a pooled hazard (API);
- 分管负责人 (county_leader): the same pages, no writes;
- 镇应急管理中心 (town_bagong / town_gaodu, alternately): their town's pages; 镇确认 (API);
- 企业填报员 (load-clerk-N, one enterprise each): work queue, own hazards; a small ledger upload (three
  rows: upload with preview, preview again, confirm) through the API;
- 企业主要负责人 (load-principal-N): work queue, own hazards; 签字上报 of a pooled hazard (API).

Every write carries a unique marker (the ledger rows' 编号, or the step's comment) and is written to
the journal (LOAD_JOURNAL, JSON lines) with its outcome, for load/verify.py to check against the
database. Pooled hazards are taken once (a shared list, popped), so simulated users never race for
the same hazard; the ledger uploads of two users never share an enterprise unless there are more
clerks than prepared enterprises.

Request names group the statistics: "page …" (held to the p95 target), "api …", "download …", "login".
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import os
import random
import time
from typing import Any

import gevent
from locust import HttpUser, between, events, task
from openpyxl import Workbook

from load.cpu import tree_cpu_seconds

FIXTURE: dict[str, Any] = json.loads(open(os.environ["LOAD_FIXTURE"], encoding="utf-8").read())  # noqa: SIM115
RUN_ID = os.environ.get("LOAD_RUN_ID", "run")
_WAIT = [float(x) for x in os.environ.get("LOAD_WAIT", "1,4").split(",")]
_journal = open(os.environ["LOAD_JOURNAL"], "a", encoding="utf-8")  # noqa: SIM115 - kept open for the run
_serial = itertools.count(1)
_rng = random.Random()  # noqa: S311 - which page to ask for, not a secret  # nosec B311 # which page to ask for, not a secret
# The measured window: LOAD_SECONDS from the moment the last user has logged in (logins hash passwords
# and are measured apart); the statistics are reset then. LOAD_WINDOW (a JSON file) receives the
# logins' figures and the CPU seconds the server's processes (LOAD_SERVER_PIDS: the roots of their
# trees) and locust itself used during the window.
WINDOW_SECONDS = float(os.environ.get("LOAD_SECONDS", "60"))
SERVER_PIDS = [int(pid) for pid in os.environ.get("LOAD_SERVER_PIDS", "").split(",") if pid]
_logged_in = itertools.count(1)
_window: dict[str, Any] = {}

LEDGER_HEADER = [
    "隐患编号", "隐患内容", "隐患部位", "发现日期", "隐患级别", "隐患类别", "隐患来源", "发现人", "判定依据",
    "整改措施", "责任单位", "责任人", "整改资金（万元）", "整改时限", "应急预案/临时管控措施", "整改情况",
]  # fmt: skip
LEDGER_ROWS = 3
SEARCH_WORDS = ["边坡", "爆破", "配电", "消防", "道路"]

# The pools of hazards waiting for a step, shared by the users (gevent: list.pop is not interrupted).
COUNTY_POOL: list[int] = list(FIXTURE["county"]["pool"])
TOWN_POOLS: dict[str, list[int]] = {t["username"]: list(t["pool"]) for t in FIXTURE["towns"]}
SIGN_POOLS: dict[int, list[int]] = {e["enterprise"]: list(e["pool"]) for e in FIXTURE["enterprises"]}


def journal(**entry: Any) -> None:
    _journal.write(json.dumps(entry, ensure_ascii=False) + "\n")
    _journal.flush()


def marker() -> str:
    return f"LT-{RUN_ID}-{next(_serial):06d}"


def ledger_file(numbers: list[str]) -> bytes:
    today = dt.date.today()
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "隐患台账"
    sheet.append(LEDGER_HEADER)
    for k, number in enumerate(numbers):
        sheet.append(
            [
                number, f"负载测试{number}：+{300 + 10 * k}平台边坡有浮石未清理", f"+{300 + 10 * k}平台",
                today - dt.timedelta(days=1), "一般", "边坡", "企业自查", "安全员", "", "清理浮石", "采矿车间",
                "李四", 1.5, today + dt.timedelta(days=30), "设置警戒线", "",
            ]
        )  # fmt: skip
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def _write_window() -> None:
    path = os.environ.get("LOAD_WINDOW")
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(_window, handle)


def start_window(environment: Any) -> None:
    """Every user has logged in: keep the logins' figures, reset the statistics, stop in WINDOW_SECONDS."""
    stats = environment.runner.stats
    logins = stats.get("login", "POST")
    _window.update(
        requests=logins.num_requests,
        failures=logins.num_failures,
        p50=logins.get_response_time_percentile(0.5) if logins.num_requests else 0,
        p95=logins.get_response_time_percentile(0.95) if logins.num_requests else 0,
        ramp_up_failures=stats.total.num_failures,
        started=time.monotonic(),
        server_cpu=tree_cpu_seconds(SERVER_PIDS),
        locust_cpu=_own_cpu(),
    )
    _write_window()
    stats.reset_all()
    gevent.spawn_later(WINDOW_SECONDS, environment.runner.quit)


@events.test_stop.add_listener
def end_window(environment: Any, **kwargs: Any) -> None:
    """The window's CPU: server processes and locust, in seconds, next to its length."""
    if "started" in _window and "seconds" not in _window:
        _window.update(
            seconds=time.monotonic() - _window["started"],
            server_cpu_seconds=tree_cpu_seconds(SERVER_PIDS) - _window["server_cpu"],
            locust_cpu_seconds=_own_cpu() - _window["locust_cpu"],
        )
        _write_window()


class PortalUser(HttpUser):
    abstract = True
    wait_time = between(_WAIT[0], _WAIT[-1])
    username = ""
    town_ids: list[int] = []
    detail_ids: list[int] = []

    def on_start(self) -> None:
        self.choose_account()
        self.login()

    def choose_account(self) -> None:
        raise NotImplementedError

    def login(self) -> None:
        self.client.get("/login/", name="login")
        token = self.client.cookies.get("csrftoken", "")
        with self.client.post(
            "/login/",
            data={"username": self.username, "password": FIXTURE["password"], "csrfmiddlewaretoken": token},
            name="login",
            catch_response=True,
        ) as response:
            if response.status_code != 200 or "/login/" in response.url:
                response.failure(f"login of {self.username} failed ({response.status_code})")
        if next(_logged_in) == self.environment.runner.target_user_count:
            start_window(self.environment)

    def headers(self) -> dict[str, str]:
        return {"X-CSRFToken": self.client.cookies.get("csrftoken") or "", "Referer": f"{self.host or ''}/"}

    def page(self, url: str, name: str) -> None:
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
            elif "/login/" in response.url:
                response.failure("redirected to the login page")

    # --- reads shared by the roles ----------------------------------------------------------------

    def work_queue(self) -> None:
        self.page("/hazards/queue/", "page work-queue")

    def hazard_list(self) -> None:
        params: list[str] = []
        if _rng.random() < 0.5:
            params.append(f"level={_rng.choice(['major', 'general'])}")
        if _rng.random() < 0.4:
            params.append(f"status={_rng.choice(['rectifying', 'pending_town', 'pending_county', 'confirmed'])}")
        if self.town_ids and _rng.random() < 0.4:
            params.append(f"town={_rng.choice(self.town_ids)}")
        if _rng.random() < 0.3:
            params.append("overdue=true")
        if _rng.random() < 0.25:
            params.append(f"q={_rng.choice(SEARCH_WORDS)}")
        if _rng.random() < 0.2:
            params.append("page=2")
        self.page("/hazards/" + ("?" + "&".join(params) if params else ""), "page hazard-list")

    def hazard_detail(self) -> None:
        if self.detail_ids:
            self.page(f"/hazards/{_rng.choice(self.detail_ids)}/", "page hazard-detail")

    def api_list(self) -> None:
        self.page("/api/v1/hazards/?level=major&open=true", "api hazard-list")

    def step(self, pool: list[int], path: str, expected: str) -> None:
        """One workflow step on a pooled hazard, journalled with its outcome."""
        if not pool:
            return
        hazard = pool.pop()
        note = marker()
        entry = {"kind": "step", "action": path, "hazard": hazard, "marker": note, "user": self.username}
        body = {"comment": note, "expected_status": expected}
        if path == "sign-report":  # a signature posts the fingerprint of the hazard as the signer read it
            with self.client.get(
                f"/api/v1/hazards/{hazard}/", headers=self.headers(), name="api hazard-detail", catch_response=True
            ) as shown:
                if shown.status_code != 200:
                    shown.failure(f"{shown.status_code}: {shown.text[:200]}")
                    journal(**entry, ok=False, status=shown.status_code)
                    return
                body["fingerprint"] = shown.json()["fingerprint"]
                body["password"] = FIXTURE["password"]  # and the password again (hazards.signing)
        with self.client.post(
            f"/api/v1/hazards/{hazard}/{path}/",
            json=body,
            headers=self.headers(),
            name=f"api {path}",
            catch_response=True,
        ) as response:
            ok = response.status_code == 200
            if not ok:
                response.failure(f"{response.status_code}: {response.text[:200]}")
            journal(**entry, ok=ok, status=response.status_code)


class ReportReader(PortalUser):
    abstract = True
    region_code = ""

    def report_table(self) -> None:
        pages = [p["url"] for p in FIXTURE["reports"] if p["region"] == self.region_code]
        if pages:
            self.page(_rng.choice(pages), "page report-table")

    def export_file(self) -> None:
        url = FIXTURE["exports"].get(self.region_code)
        if url:
            with self.client.get(url, name="download export-file", catch_response=True) as response:
                if response.status_code != 200 or not response.content.startswith(b"PK"):
                    response.failure(f"{response.status_code}, not an xlsx")


class CountyStaff(ReportReader):
    """县局股室."""

    weight = 10

    def choose_account(self) -> None:
        self.username = FIXTURE["county"]["users"][0]
        self.region_code = FIXTURE["county"]["code"]
        self.town_ids = [t["town"] for t in FIXTURE["towns"]]
        self.detail_ids = FIXTURE["county"]["detail"]

    @task(3)
    def queue(self) -> None:
        self.work_queue()

    @task(5)
    def hazards(self) -> None:
        self.hazard_list()

    @task(4)
    def detail(self) -> None:
        self.hazard_detail()

    @task(2)
    def confirm(self) -> None:
        self.step(COUNTY_POOL, "confirm-county", "pending_county")

    @task(1)
    def table(self) -> None:
        self.report_table()

    @task(1)
    def download(self) -> None:
        self.export_file()

    @task(1)
    def api(self) -> None:
        self.api_list()


class CountyLeader(ReportReader):
    """分管负责人: reads only."""

    weight = 4

    def choose_account(self) -> None:
        self.username = FIXTURE["county"]["leaders"][0]
        self.region_code = FIXTURE["county"]["code"]
        self.town_ids = [t["town"] for t in FIXTURE["towns"]]
        self.detail_ids = FIXTURE["county"]["detail"]

    @task(3)
    def queue(self) -> None:
        self.work_queue()

    @task(4)
    def hazards(self) -> None:
        self.hazard_list()

    @task(3)
    def detail(self) -> None:
        self.hazard_detail()

    @task(2)
    def table(self) -> None:
        self.report_table()

    @task(1)
    def download(self) -> None:
        self.export_file()


class TownStaff(ReportReader):
    """镇应急管理中心 of 巴公镇 or 高都镇 (alternately)."""

    weight = 14
    _next = itertools.count()

    def choose_account(self) -> None:
        town = FIXTURE["towns"][next(self._next) % len(FIXTURE["towns"])]
        self.username = town["username"]
        self.region_code = FIXTURE["town_codes"][self.username]
        self.detail_ids = town["detail"]

    @task(3)
    def queue(self) -> None:
        self.work_queue()

    @task(5)
    def hazards(self) -> None:
        self.hazard_list()

    @task(4)
    def detail(self) -> None:
        self.hazard_detail()

    @task(2)
    def confirm(self) -> None:
        self.step(TOWN_POOLS[self.username], "confirm-town", "pending_town")

    @task(1)
    def table(self) -> None:
        self.report_table()

    @task(1)
    def download(self) -> None:
        self.export_file()


class EnterpriseUser(PortalUser):
    abstract = True
    enterprise = 0
    _next = itertools.count()

    def choose_account(self) -> None:
        account = FIXTURE["enterprises"][next(self._next) % len(FIXTURE["enterprises"])]
        self.username = account[self.account_key]
        self.enterprise = account["enterprise"]
        self.detail_ids = account["detail"]

    account_key = ""


class EnterpriseClerk(EnterpriseUser):
    """企业填报员: small ledger uploads for their own enterprise."""

    weight = 14
    account_key = "clerk"
    _next = itertools.count()

    @task(3)
    def queue(self) -> None:
        self.work_queue()

    @task(3)
    def hazards(self) -> None:
        self.hazard_list()

    @task(2)
    def detail(self) -> None:
        self.hazard_detail()

    @task(2)
    def ledger(self) -> None:
        numbers = [marker() for _ in range(LEDGER_ROWS)]
        entry: dict[str, Any] = {
            "kind": "ledger", "enterprise": self.enterprise, "numbers": numbers, "user": self.username, "upload": None,
        }  # fmt: skip
        with self.client.post(
            "/api/v1/ledger-uploads/",
            files={"file": ("隐患台账.xlsx", ledger_file(numbers), "application/octet-stream")},
            headers=self.headers(),
            name="api ledger-upload",
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                journal(**entry, ok=False, status=response.status_code, stage="upload")
                return
            upload = response.json()["upload"]["id"]
        entry["upload"] = upload
        self.page(f"/api/v1/ledger-uploads/{upload}/preview/", "api ledger-preview")
        with self.client.post(
            f"/api/v1/ledger-uploads/{upload}/commit/", headers=self.headers(), name="api ledger-commit",
            catch_response=True,
        ) as response:  # fmt: skip
            ok = response.status_code == 200
            if not ok:
                response.failure(f"{response.status_code}: {response.text[:200]}")
            journal(**entry, ok=ok, status=response.status_code, stage="commit")


class EnterprisePrincipal(EnterpriseUser):
    """企业主要负责人: 签字上报 of the enterprise's major hazards."""

    weight = 8
    account_key = "principal"
    _next = itertools.count()

    @task(3)
    def queue(self) -> None:
        self.work_queue()

    @task(2)
    def hazards(self) -> None:
        self.hazard_list()

    @task(3)
    def detail(self) -> None:
        self.hazard_detail()

    @task(2)
    def sign(self) -> None:
        self.step(SIGN_POOLS.get(self.enterprise, []), "sign-report", "draft")
