"""隐患台账 upload: a 10,000-row ledger validated and imported, next to django-import-export on the same file.

Files (built here, written to bench-out/):
- ledger_10k.xlsx — the template's layout (header on row 1, the template's column names, Excel dates),
  so that a plain django-import-export Resource can read it too: the comparison file;
- ledger_10k_messy.xlsx — the same kind of rows as enterprises keep them: title rows and merged cells,
  header on row 4, synonyms, dates written five ways, full-width digits, levels and criteria spelled
  several ways, signature rows at the bottom: the portal's importer only.

Each figure is measured in its own subprocess (`python -m bench.ledger worker …`), so that its peak
memory is its own: wall and CPU time of the whole operation (read the bytes, parse, validate, write) and
the process's peak RSS during it (VmHWM, reset to the current RSS just before the operation), next to
the RSS of the same process after Django has started (before the operation).

- portal validate: `hazards.ledger.ledger_validate` (the preview; nothing written);
- portal import: `hazards.ledger.ledger_import` for a fresh enterprise (re-validates inside the
  transaction, then bulk writes 10,000 hazards + 10,000 台账导入 events + 10,000 audit rows);
- portal re-import: the same file again (every row 未变);
- django-import-export: a minimal `ModelResource` for Hazard (columns by their Chinese names, the level,
  category and source labels mapped, the criterion matched with the same preloaded catalogue, the
  identity key computed as ours; `import_data(dry_run=False, use_transactions=True)`), for another fresh
  enterprise. It writes the hazards only (no events, no audit rows).

Reading is python-calamine's after the hostile-file checks (`portal.spreadsheet_calamine`); writing is
COPY on PostgreSQL (`portal.bulk`), multi-row INSERTs on SQLite.

Targets (issue 14 §5): the import of 10,000 rows under 1 s of CPU (on PostgreSQL: `python -m bench ledger
--postgres`), at least 10× faster than django-import-export (which must import the same 10,000 rows),
peak RSS under 150 MB.
"""

from __future__ import annotations

import datetime
import json
import os
import resource
import subprocess  # nosec B404 # runs its own worker (below)
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

NAME = "ledger"
ROWS = 10_000
CPU_TARGET_S = 1.0
MEMORY_TARGET_MB = 150.0
SPEEDUP_TARGET = 10.0
CODES = {
    "ours": "91149999MA0LEDG001",
    "iex": "91149999MA0LEDG002",
    "messy": "91149999MA0LEDG003",
}
TEMPLATE_FILE = "ledger_10k.xlsx"
MESSY_FILE = "ledger_10k_messy.xlsx"

PHRASES = [
    "边坡有浮石未及时清理",
    "台阶坡面角大于设计值",
    "运输道路临边无安全挡墙",
    "配电箱未上锁且无警示标识",
    "炸药库值班记录不全",
    "排水沟淤堵未清理",
    "作业人员未佩戴安全帽",
    "消防器材过期未更换",
    "外包单位安全协议未签订",
    "安全培训记录不完整",
]
LOCATIONS = ["+320平台", "+335平台", "运输道路", "配电室", "炸药库", "排水沟", "采场", "办公区", "破碎站", "料场"]
CATEGORIES = ["边坡", "边坡", "运输", "供配电", "爆破", "防治水", "管理", "消防", "外包", "管理"]
MESSY_CATEGORIES = ["边坡管理", "台阶", "道路运输", "机电", "爆破作业", "防排水", "安全管理", "消防", "外委", "培训"]
CRITERIA = ["露天矿山第（七）项", "二（六）", "第十项", "《金属非金属矿山重大事故隐患判定标准》露天矿山第（三）项"]


def _status_mb(key: str) -> float | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(f"{key}:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        return None
    return None


def _rss_mb() -> float:
    """The process's peak RSS. VmHWM belongs to this process image (ru_maxrss survives execve, so a worker
    would report its parent's peak); ru_maxrss where /proc is not there."""
    peak = _status_mb("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> None:
    """Start the peak from the current RSS (Linux: 5 → /proc/self/clear_refs), so that it is the operation's."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        pass


# --------------------------------------------------------------------------------------------
# The files
# --------------------------------------------------------------------------------------------


def _row_values(i: int) -> dict[str, Any]:
    found = datetime.date(2023, 1, 1) + datetime.timedelta(days=i % 500)
    major = i % 50 == 0  # 2 %
    return {
        "number": f"YH-{i:05d}",
        "description": f"第{i}处：{PHRASES[i % len(PHRASES)]}（{LOCATIONS[(i // 10) % len(LOCATIONS)]}）",
        "location": LOCATIONS[i % len(LOCATIONS)],
        "found_on": found,
        "major": major,
        "category": i % len(CATEGORIES),
        "criterion": CRITERIA[(i // 50) % len(CRITERIA)] if major else "",
        "measures": f"立即整改：{PHRASES[i % len(PHRASES)]}",
        "unit": "采矿车间" if i % 2 else "机电车间",
        "person": f"责任人{i % 37}",
        "funds": round((i % 40) * 0.25, 2),
        "deadline": found + datetime.timedelta(days=30),
        "interim": "设置警戒，专人监护",
        "note": "整改中" if i % 3 else "",
    }


def build_template_file(path: Path) -> None:
    from openpyxl import Workbook

    from hazards.ledger import LABELS, TEMPLATE_FIELDS

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "隐患台账"
    sheet.append([LABELS[name] for name in TEMPLATE_FIELDS])
    for i in range(1, ROWS + 1):
        v = _row_values(i)
        values = {
            "ledger_number": v["number"], "description": v["description"], "location": v["location"],
            "found_on": v["found_on"], "level": "重大" if v["major"] else "一般",
            "category": CATEGORIES[v["category"]], "source": "企业自查", "found_by": "安全员",
            "criterion": "露天矿山第（七）项" if v["major"] else "", "measures": v["measures"],
            "responsible_unit": v["unit"], "responsible_person": v["person"], "funds_wan": v["funds"],
            "deadline": v["deadline"], "interim_measures": v["interim"], "rectification_note": v["note"],
        }  # fmt: skip
        sheet.append([values.get(name) for name in TEMPLATE_FIELDS])  # (整改完成时间 left blank)
    workbook.save(path)


def _written_date(day: datetime.date, i: int) -> Any:
    forms: list[Callable[[datetime.date], Any]] = [
        lambda d: d,
        lambda d: d.isoformat(),
        lambda d: f"{d.year}/{d.month}/{d.day}",
        lambda d: f"{d.year}.{d.month}.{d.day}",
        lambda d: f"{d.year}年{d.month}月{d.day}日",
        lambda d: f"{d.year}年{d.month}月{d.day}日".translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"}),
    ]
    return forms[i % len(forms)](day)


def build_messy_file(path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "2024年隐患台账"
    sheet.append(["基准测试矿业有限公司隐患排查治理台账"])
    sheet.append(["填报单位（盖章）：基准测试矿业有限公司", None, None, None, None, None, "填报日期：2024年6月"])
    sheet.append([])
    sheet.append(
        ["序号", "存在问题", "地点", "排查日期", "等级", "类别", "依据", "治理措施", "责任部门", "整改负责人",
         "资金", "整改期限", "管控措施", "完成情况"]
    )  # fmt: skip
    general = ["一般", "一般隐患", "一般事故隐患"]
    major = ["重大", "重大事故隐患", "重大隐患"]
    for i in range(1, ROWS + 1):
        v = _row_values(i)
        sheet.append([
            i, f"  {v['description']} ", v["location"], _written_date(v["found_on"], i),
            (major if v["major"] else general)[i % 3], MESSY_CATEGORIES[v["category"]], v["criterion"],
            v["measures"], v["unit"], v["person"], f"{v['funds']}万元" if i % 2 else v["funds"],
            _written_date(v["deadline"], i + 1), v["interim"], v["note"],
        ])  # fmt: skip
    sheet.append([])
    sheet.append(["填表人：王五", None, None, "审核人：", None, None, "主要负责人（签字）："])
    sheet.append(["备注：本表每月更新"])
    sheet.merge_cells("A1:N1")
    sheet.merge_cells("A2:F2")
    sheet.merge_cells("G2:N2")
    workbook.save(path)


# --------------------------------------------------------------------------------------------
# django-import-export, minimal
# --------------------------------------------------------------------------------------------


def import_export_resource(enterprise: Any) -> Any:
    from import_export import fields, resources, widgets

    from hazards.choices import HazardLevel, HazardSource, HazardStatus
    from hazards.criteria import CriterionCatalogue
    from hazards.ledger import LABELS
    from hazards.models import Hazard, MajorHazardCriterion, hazard_identity_key

    catalogue = CriterionCatalogue.load()
    hint = "open_pit"
    levels = {"一般": HazardLevel.GENERAL, "重大": HazardLevel.MAJOR}
    from hazards.choices import HazardCategory

    categories = {label: value for value, label in HazardCategory.choices}
    sources = {label: value for value, label in HazardSource.choices}

    def column(name: str, **kwargs: Any) -> Any:
        # Text columns: a blank cell is "" (the model's text fields are NOT NULL).
        kwargs.setdefault("widget", widgets.CharWidget(allow_blank=True))
        return fields.Field(attribute=name, column_name=LABELS[name], **kwargs)

    class HazardResource(resources.ModelResource):  # type: ignore[type-arg]
        ledger_number = column("ledger_number")
        description = column("description")
        location = column("location")
        found_on = column("found_on", widget=widgets.DateWidget())
        level = column("level")
        category = column("category")
        source = column("source")
        found_by = column("found_by")
        criterion = column("criterion", widget=widgets.ForeignKeyWidget(MajorHazardCriterion, "pk"))
        measures = column("measures")
        responsible_unit = column("responsible_unit")
        responsible_person = column("responsible_person")
        funds_wan = column("funds_wan", widget=widgets.DecimalWidget())
        deadline = column("deadline", widget=widgets.DateWidget())
        interim_measures = column("interim_measures")
        rectification_note = column("rectification_note")
        identity_key = fields.Field(attribute="identity_key", column_name="identity_key")

        class Meta:
            model = Hazard
            import_id_fields = ("identity_key",)
            fields = (
                "ledger_number", "description", "location", "found_on", "level", "category", "source", "found_by",
                "criterion", "measures", "responsible_unit", "responsible_person", "funds_wan", "deadline",
                "interim_measures", "rectification_note", "identity_key",
            )  # fmt: skip
            skip_unchanged = True
            report_skipped = False

        def get_queryset(self) -> Any:
            return Hazard.objects.filter(enterprise=enterprise)

        def before_import_row(self, row: Any, **kwargs: Any) -> None:
            row[LABELS["level"]] = levels[row[LABELS["level"]]]
            row[LABELS["category"]] = categories[row[LABELS["category"]]]
            row[LABELS["source"]] = sources[row[LABELS["source"]]]
            citation = row.get(LABELS["criterion"]) or ""
            match = catalogue.match(citation, hint) if citation else None
            row[LABELS["criterion"]] = match.criterion.pk if match and match.criterion else None
            found = row[LABELS["found_on"]]
            row["identity_key"] = hazard_identity_key(
                ledger_number=str(row[LABELS["ledger_number"]] or ""),
                found_on=found.date() if isinstance(found, datetime.datetime) else found,
                description=row[LABELS["description"]],
            )

        def before_save_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
            instance.enterprise = enterprise
            if instance.pk is None:
                instance.status = HazardStatus.DRAFT if instance.level == HazardLevel.MAJOR else HazardStatus.REPORTED
                instance.current_deadline = instance.deadline

    return HazardResource()


# --------------------------------------------------------------------------------------------
# Workers (one subprocess per figure)
# --------------------------------------------------------------------------------------------


def _worker(mode: str, path: str, code: str) -> dict[str, Any]:
    import django

    django.setup()
    from portal.models import Enterprise, User

    enterprise = Enterprise.objects.select_related("town").get(credit_code=code)
    actor = User.objects.get(username=f"ledger_bench_{code[-2:]}")
    # Warm the imports and the connection so that the figure is the operation's own.
    from hazards import ledger  # noqa: F401
    from hazards.models import Hazard

    Hazard.objects.filter(enterprise=enterprise).exists()
    if mode == "iex":
        import tablib
        from import_export import resources  # noqa: F401
    _reset_peak()
    base = _status_mb("VmRSS") or _rss_mb()
    started = time.perf_counter()
    cpu_started = time.process_time()
    if mode == "validate":
        from hazards.ledger import ledger_validate

        result = ledger_validate(source=Path(path).read_bytes(), enterprise=enterprise, actor=actor)
        outcome = {"ok": result.ok, "summary": result.summary(), "errors": result.error_lines()[:5]}
    elif mode in ("import", "reimport"):
        from hazards.ledger import ledger_import

        result = ledger_import(
            source=Path(path).read_bytes(), enterprise=enterprise, actor=actor, file_name=Path(path).name
        )
        outcome = {"ok": result.committed, "summary": result.summary(), "errors": result.error_lines()[:5]}
    elif mode == "iex":
        import tablib

        dataset = tablib.Dataset().load(Path(path).read_bytes(), format="xlsx")
        # import-export requires the id field among the headers; the Resource fills it per row.
        dataset.append_col([""] * dataset.height, header="identity_key")
        iex_result = import_export_resource(enterprise).import_data(dataset, dry_run=False, use_transactions=True)
        totals = iex_result.totals
        outcome = {
            "ok": not iex_result.has_errors() and not iex_result.has_validation_errors(),
            "summary": f"新增 {totals.get('new', 0)} 条，更新 {totals.get('update', 0)} 条，"
            f"未变 {totals.get('skip', 0)} 条",
            "errors": [str(error.error) for error in iex_result.base_errors[:5]],
        }
    else:
        raise SystemExit(f"unknown mode {mode}")
    seconds = time.perf_counter() - started
    outcome.update(
        {
            "mode": mode,
            "seconds": seconds,
            "cpu_seconds": time.process_time() - cpu_started,
            "rss_base_mb": base,
            "rss_peak_mb": _rss_mb(),
            "hazards": Hazard.objects.filter(enterprise=enterprise).count(),
        }
    )
    return outcome


def _run_worker(mode: str, path: Path, code: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.ledger", "worker", mode, str(path), code]
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=os.environ.copy())  # nosec B603 # our interpreter and module, no shell
    if done.returncode != 0:
        raise RuntimeError(f"bench worker {mode} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# --------------------------------------------------------------------------------------------
# The bench
# --------------------------------------------------------------------------------------------


def _setup() -> None:
    """A county, a town, three open-pit enterprises (one per run) and a clerk for each; no hazards."""
    from django.db import connections

    from hazards.models import Hazard
    from portal.choices import Industry, ProductionStatus, RegionLevel, Role
    from portal.models import Enterprise, Region, User

    province, _ = Region.objects.get_or_create(
        code="149900", defaults={"name": "基准测试省", "level": RegionLevel.PROVINCE, "path": "/149900/"}
    )
    county, _ = Region.objects.get_or_create(
        code="149901",
        defaults={"name": "基准测试县", "level": RegionLevel.COUNTY, "parent": province, "path": "/149900/149901/"},
    )
    town, _ = Region.objects.get_or_create(
        code="149901100",
        defaults={"name": "基准测试镇", "level": RegionLevel.TOWN, "parent": county,
                  "path": "/149900/149901/149901100/"},
    )  # fmt: skip
    for code in CODES.values():
        enterprise, _ = Enterprise.objects.get_or_create(
            credit_code=code,
            defaults={"name": f"基准测试矿业{code[-2:]}有限公司", "town": town, "industry": Industry.OPEN_PIT,
                      "production_status": ProductionStatus.PRODUCING},
        )  # fmt: skip
        User.objects.get_or_create(
            username=f"ledger_bench_{code[-2:]}",
            defaults={"role": Role.ENTERPRISE_CLERK, "enterprise": enterprise, "full_name": "台账基准"},
        )
        Hazard.objects.filter(enterprise=enterprise).delete()
    connections.close_all()


def _check_baseline(theirs: dict[str, Any], *, log: Callable[[str], None]) -> None:
    """The speed-up means something only if django-import-export imported the same rows: count them."""
    from bench.harness import BaselineError

    if not theirs["ok"] or theirs["hazards"] != ROWS:
        log(f"  ✗ baseline django-import-export: {theirs['hazards']:,} hazards imported, expected {ROWS:,}")
        raise BaselineError(f"django-import-export imported {theirs['hazards']} hazards, expected {ROWS}")
    log(f"  ✓ baseline django-import-export: {theirs['hazards']:,} hazards imported, as many as the portal's import")


def run(*, reps: int = 1, log: Callable[[str], None] = print) -> dict[str, Any]:
    from bench.harness import bench_dir, format_table, save_json

    out = bench_dir()
    started = time.perf_counter()
    template, messy = out / TEMPLATE_FILE, out / MESSY_FILE
    build_template_file(template)
    build_messy_file(messy)
    log(
        f"Built {ROWS:,}-row ledgers in {time.perf_counter() - started:.1f} s: {template.name} "
        f"({template.stat().st_size / 1e6:.1f} MB), {messy.name} ({messy.stat().st_size / 1e6:.1f} MB). "
        "Each figure runs in its own process (wall time of the operation; peak RSS of that process)."
    )
    _setup()
    figures = [
        ("portal: validate (preview)", "validate", template, CODES["ours"]),
        ("portal: import", "import", template, CODES["ours"]),
        ("django-import-export: import", "iex", template, CODES["iex"]),
        ("portal: re-import (all 未变)", "reimport", template, CODES["ours"]),
        ("portal: validate, messy file", "validate", messy, CODES["messy"]),
        ("portal: import, messy file", "import", messy, CODES["messy"]),
    ]
    results: list[dict[str, Any]] = []
    for label, mode, path, code in figures:
        figure = _run_worker(mode, path, code)
        figure["label"] = label
        figure["file"] = path.name
        results.append(figure)
        log(
            f"  {label}: {figure['seconds']:.2f} s (CPU {figure['cpu_seconds']:.2f} s), "
            f"peak {figure['rss_peak_mb']:.0f} MB — {figure['summary']}"
        )
        if not figure["ok"]:
            log(f"    errors: {figure['errors']}")
    rows = [
        [r["label"], r["file"], f"{r['seconds']:.2f}", f"{r['cpu_seconds']:.2f}", f"{r['rss_base_mb']:.0f}",
         f"{r['rss_peak_mb']:.0f}", r["summary"], r["hazards"]]
        for r in results
    ]  # fmt: skip
    log("")
    headers = ["figure", "file", "wall s", "CPU s", "RSS before MB", "peak RSS MB", "result", "hazards"]
    log(format_table(headers, rows))
    ours = results[1]
    theirs = results[2]
    _check_baseline(theirs, log=log)
    speedup = theirs["seconds"] / ours["seconds"] if ours["seconds"] else 0.0
    checks = {
        f"import under {CPU_TARGET_S:.0f} s of CPU": ours["cpu_seconds"] < CPU_TARGET_S,
        f"import peak RSS under {MEMORY_TARGET_MB:.0f} MB": ours["rss_peak_mb"] < MEMORY_TARGET_MB,
        f"at least {SPEEDUP_TARGET:.0f}× faster than django-import-export": speedup >= SPEEDUP_TARGET,
        "every run imported every row": all(r["ok"] for r in results) and ours["hazards"] == ROWS,
        "django-import-export imported the same rows": theirs["hazards"] == ROWS,
        "re-import is all 未变": results[3]["summary"] == f"新增 0 条，更新 0 条，未变 {ROWS} 条",
    }
    load = os.getloadavg()
    log(
        f"\nSpeed-up over django-import-export: {speedup:.1f}× (CPU time: "
        f"{theirs['cpu_seconds'] / max(ours['cpu_seconds'], 1e-9):.1f}×). Load average at the end: "
        f"{load[0]:.1f} on {os.cpu_count()} CPUs — on a busy machine the wall times stretch, the CPU times less."
    )
    for name, ok in checks.items():
        log(f"  {'OK  ' if ok else 'MISS'} {name}")
    payload = {
        "rows": ROWS, "figures": results, "speedup": speedup, "checks": checks, "ok": all(checks.values()),
        "load_average": load, "cpus": os.cpu_count(),
    }  # fmt: skip
    path = save_json(NAME, payload)
    log(f"Saved {path}")
    return payload


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "worker":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
        print(json.dumps(_worker(sys.argv[2], sys.argv[3], sys.argv[4]), ensure_ascii=False))
    else:
        raise SystemExit(
            "usage: python -m bench.ledger worker MODE FILE CREDIT_CODE (the bench: python -m bench ledger)"
        )
