"""Pages of the monthly tables: the table on screen with every number opening its records, the
versions (submit, sign, signed files), exports built on the worker, side-by-side views, the dashboard.

Regions and records reach a view only through `visible_to` (see selectors); anything else is 404.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.defaultfilters import linebreaksbr
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import formats, timezone
from django.utils.html import format_html_join
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal import reauth, rules
from portal.choices import RegionLevel
from portal.models import Region, User
from portal.scoping import not_found, visible_or_404
from reporting import audit_events as report_events
from reporting import dashboard, selectors, services, signing
from reporting.choices import FileFormat, ReportKind, VersionStatus
from reporting.figures import (
    SOURCE_LABELS,
    ReportError,
    Scope,
    Source,
    compute_rollup,
    compute_table,
    compute_table_head,
    list_length,
    parse_month,
)
from reporting.layouts import WINTER_CUMULATIVE, WINTER_INDUSTRY, Layout, header_rows
from reporting.models import ExportJob, Report, ReportVersion
from reporting.tables import AccountabilityTable, AnyTable, ThreeListsTable, WinterTable

PAGE_SIZE = 50
# The lists of a table on its page (重大隐患明细, the 三清单) show their first rows only: at county scale
# they run to thousands of rows, which took seconds to render. The files and the records behind the
# numbers have them all.
PAGE_LIST_ROWS = 100


def _shown(value: Any) -> Any:
    """A value as `{{ value }}` prints it (localised; escaped by `format_html`)."""
    return formats.localize(value)


def _day(value: dt.date | None) -> str:
    """`{{ value|date:"Y-m-d" }}`."""
    return formats.date_format(value, "Y-m-d") if value else ""


def _list_rows(table: AnyTable, rows: int) -> dict[str, str]:
    """The first `rows` lines of the table's lists as HTML rows, built here rather than by the template: at the
    page's 100 lines × 8 columns × 3 lists, the template's per-cell nodes were most of the page's CPU time."""
    if isinstance(table, WinterTable):
        return {
            "major_rows": format_html_join(
                "\n",
                '<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class="small">{}</td></tr>',
                (
                    (x.number, x.enterprise, x.town, x.industry, x.supervision_unit, linebreaksbr(x.detail))
                    for x in table.major_hazards[:rows]
                ),
            )
        }
    if not isinstance(table, ThreeListsTable):
        return {}
    cells = "<td>{}</td>" * 8
    return {
        "problem_rows": format_html_join(
            "",
            f"<tr>{cells}</tr>",
            (
                (x.number, x.enterprise, x.town, x.description, x.location, x.level, x.source, _day(x.found_on))
                for x in table.problems[:rows]
            ),
        ),
        "rectification_rows": format_html_join(
            "",
            f"<tr>{cells}</tr>",
            (
                (
                    x.number,
                    x.enterprise,
                    x.description,
                    x.measures,
                    "" if x.funds_wan is None else _shown(x.funds_wan),
                    _day(x.deadline),
                    x.status,
                    _day(x.rectified_on),
                )
                for x in table.rectifications[:rows]
            ),
        ),
        "responsibility_rows": format_html_join(
            "",
            f"<tr>{'<td>{}</td>' * 7}</tr>",
            (
                (
                    x.number,
                    x.enterprise,
                    x.description,
                    x.responsible_unit,
                    x.responsible_person,
                    x.principal,
                    x.supervising_unit,
                )
                for x in table.responsibilities[:rows]
            ),
        ),
    }


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not rules.may(user, "reporting.view"):
        raise Http404
    return user


def _region(request: HttpRequest, code: str) -> Region:
    """`selectors.region_for` for a page: an existing region outside the scope is logged as 越权访问."""
    try:
        return selectors.region_for(user=_user(request), code=code)
    except Http404:
        raise not_found(request, Region, code=code) from None


def _version(request: HttpRequest, pk: int) -> ReportVersion:
    """`selectors.version_get` for a page (after `_user`: only accounts that see reports get here)."""
    version: ReportVersion = visible_or_404(
        request, ReportVersion.objects.select_related("report", "report__region", "report__campaign"), pk=pk
    )
    return version


def _kind(value: str) -> ReportKind:
    try:
        return ReportKind.from_cli(value)
    except ValueError as exc:
        raise Http404 from exc


def _month(value: str) -> dt.date:
    try:
        return parse_month(value)
    except ReportError as exc:
        raise Http404 from exc


def _fmt(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


@dataclass
class Cell:
    value: str
    url: str = ""


@dataclass
class Row:
    label: str
    cells: list[Cell]
    region: Region | None = None
    note: str = ""


@dataclass
class Grid:
    layout: Layout
    header: list[Any]
    rows: list[Row] = field(default_factory=list)
    row_label: str = ""

    @property
    def leaf_count(self) -> int:
        return len(list(self.layout.leaves()))


def _cell_url(kind: str, region: Region, month: dt.date, key: str) -> str:
    # reverse() once per table, not once per cell (a county's page links 400+ cells); keys are [a-z_.]
    return f"{_cell_base(kind, region.code, month, get_script_prefix(), get_urlconf())}{key}/"


@functools.lru_cache(maxsize=512)
def _cell_base(kind: str, code: str, month: dt.date, prefix: str, urlconf: Any) -> str:
    return reverse("reporting:cell", args=[ReportKind(kind).cli_name, code, f"{month:%Y-%m}", "_"]).removesuffix("_/")


def _rows(kind: str, table: AnyTable, region: Region, month: dt.date, label_prefix: str = "") -> list[Row]:
    layout = table.layout  # type: ignore[union-attr]
    if isinstance(table, AccountabilityTable):
        cells = [
            Cell(_fmt(getattr(table.row, leaf.key)), _cell_url(kind, region, month, leaf.key))
            for leaf in layout.leaves()
        ]
        return [Row(label_prefix or "当月累计", cells, region)]
    assert isinstance(table, WinterTable)
    rows = []
    for row_key, values, label in (
        ("month", table.month, WINTER_INDUSTRY),
        ("cumulative", table.cumulative, WINTER_CUMULATIVE),
    ):
        cells = [
            Cell(_fmt(getattr(values, leaf.key)), _cell_url(kind, region, month, f"{row_key}.{leaf.key}"))
            for leaf in layout.leaves()
        ]
        rows.append(Row(f"{label_prefix}{label}", cells, region))
    return rows


def _grid(kind: str, table: AnyTable) -> Grid:
    layout = table.layout  # type: ignore[union-attr]
    header = header_rows(layout)
    if layout.row_label is None:
        # the page adds a first column naming the row (当月累计 / a town), above the seed's header
        return Grid(layout, header, row_label="单位")
    return Grid(layout, header)


def _side_by_side(user: User, kind: str, region: Region, month: dt.date) -> tuple[Grid | None, list[Row]]:
    """A county's towns, or a city's counties, each with its own table's figures (computed together)."""
    children = list(selectors.child_regions(region).filter(pk__in=Region.objects.visible_to(user).values("pk")))
    if not children or kind == ReportKind.THREE_LISTS:
        return None, []
    scopes = selectors.scopes_for(kind=kind, regions=children, month=month)
    tables = compute_rollup(kind, [scope for scope in scopes.values() if isinstance(scope, Scope)])
    rows: list[Row] = []
    grid: Grid | None = None
    for child in children:
        scope = scopes[child.pk]
        if not isinstance(scope, Scope):
            rows.append(Row(child.name, [], child, scope))
            continue
        table = tables[child.pk]
        grid = grid or _grid(kind, table)
        prefix = f"{child.name} " if kind == ReportKind.WINTER else child.name
        rows.extend(_rows(kind, table, child, month, prefix))
    return grid, rows


def _may_work_on(user: User, kind: str, region: Region) -> tuple[bool, bool]:
    """(may submit, may sign) a table of this region, whether or not it exists yet."""
    probe = Report(kind=kind, region=region)
    return rules.may(user, "reporting.submit", probe), rules.may(user, "reporting.sign", probe)


def _version_context(user: User, report: Report | None, kind: str, region: Region) -> dict[str, Any]:
    if report is None:
        may_submit, may_sign = _may_work_on(user, kind, region)
        return {"report": None, "versions": [], "open_version": None, "can_submit": may_submit, "can_sign": may_sign}
    # the snapshots are large (every row of a 三清单): only the one the page compares with is loaded, on access
    versions = list(
        report.versions.select_related("submitted_by", "signed_by", "based_on")
        .defer("figures", "record_ids", "based_on__figures", "based_on__record_ids")
        .order_by("-number")
    )
    open_version = next((v for v in versions if v.status != VersionStatus.SIGNED), None)
    for version in versions:
        version.change_lines = [services.describe(change) for change in version.differences]  # type: ignore[attr-defined]
        version.verification_code = signing.code_of(version)  # type: ignore[attr-defined]
    return {
        "report": report,
        "versions": versions,
        "open_version": open_version,
        "can_submit": rules.may(user, "reporting.submit", report),
        "can_sign": rules.may(user, "reporting.sign", report),
    }


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    regions = Region.objects.visible_to(user).exclude(level=RegionLevel.PROVINCE).order_by("path")
    home = user.region if user.region_id else None
    campaigns = dashboard.campaign_months(user=user)
    reports = selectors.report_list(user=user).prefetch_related("versions").order_by("-month", "kind", "region__code")
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for report in page:
        versions = sorted(report.versions.all(), key=lambda v: -v.number)
        rows.append({"report": report, "latest": versions[0] if versions else None})
    return render(
        request,
        "reporting/index.html",
        {
            "regions": regions[:500],
            "home": home,
            "campaigns": campaigns,
            "page": page,
            "rows": rows,
            "kinds": ReportKind,
        },
    )


@login_required
@require_GET
def pick(request: HttpRequest) -> HttpResponse:
    """The index form: kind, region and month → the table page."""
    _user(request)
    kind = request.GET.get("kind", "")
    code = request.GET.get("region", "")
    month = request.GET.get("month", "")
    if kind not in ReportKind.values or not code or not month:
        messages.error(request, "请选择报表、辖区和月份。")
        return redirect("reporting:index")
    try:
        return redirect("reporting:table", ReportKind(kind).cli_name, code, month)
    except NoReverseMatch:  # a value no table address can hold (a slash, …): the same answer as a wrong one
        messages.error(request, "辖区或月份的格式不正确，请从列表中选择。")
        return redirect("reporting:index")


@login_required
@require_GET
def table(request: HttpRequest, kind: str, code: str, month: str) -> HttpResponse:
    user = _user(request)
    report_kind = _kind(kind)
    region = _region(request, code)
    first = _month(month)
    context: dict[str, Any] = {
        "kind": report_kind, "region": region, "month": first, "month_code": f"{first:%Y-%m}",
        "list_rows": PAGE_LIST_ROWS,
    }  # fmt: skip
    try:
        scope = selectors.scope_for(kind=report_kind, region=region, month=first)
    except ReportError as exc:
        scope = None
        context["error"] = exc.message
    if scope is not None:
        report = Report.objects.filter(kind=report_kind, region=region, campaign=scope.campaign, month=first).first()
        context.update(_version_context(user, report, report_kind, region))
        version = context.get("open_version") or (context["versions"][0] if context["versions"] else None)
        if version is None:
            # nothing to compare with: the lists' first rows and their length are all the page shows
            live, context["list_total"] = compute_table_head(report_kind, scope, PAGE_LIST_ROWS)
            context["stale"] = False
        else:
            live = compute_table(report_kind, scope)
            context["list_total"] = list_length(live)
            # the records now give other figures than the latest version: say so (a new version is made by
            # 生成草稿 or by the nightly check, never silently)
            context["stale"] = services.differs_from(version, report_kind, live)
        context.update(scope=scope, table=live, period=scope.period, **_list_rows(live, PAGE_LIST_ROWS))
        if report_kind != ReportKind.THREE_LISTS:
            grid = _grid(report_kind, live)
            grid.rows = _rows(report_kind, live, region, first)
            context["grid"] = grid
        if context.get("open_version") is not None:
            # 签字 posts this back: the sign job signs only the version exactly as this page showed it
            context["shown_fingerprint"] = services.shown_fingerprint(context["open_version"])
            if context.get("can_sign"):  # the confirmation asks for the 动态口令 too when it is enrolled
                context["sign_needs_code"] = reauth.needs_code(user)
        if region.level == RegionLevel.COUNTY:  # the towns that have not submitted (the deliverable's filings)
            probe = report or Report(kind=report_kind, region=region, campaign=scope.campaign, month=first)
            context["missing_towns"] = selectors.towns_not_submitted(probe)
    side_grid, side_rows = _side_by_side(user, report_kind, region, first)
    context.update(side_grid=side_grid, side_rows=side_rows)
    return render(request, "reporting/table.html", context)


def _scope_or_404(kind: str, region: Region, month: dt.date) -> Scope:
    try:
        return selectors.scope_for(kind=kind, region=region, month=month)
    except ReportError as exc:
        raise Http404 from exc


def _record_url(source: Source, obj: Any) -> str:
    try:
        if hasattr(obj, "get_absolute_url"):
            return str(obj.get_absolute_url())
        if source is Source.HAZARD:
            return reverse("hazards:hazard-detail", args=[obj.pk])
    except NoReverseMatch:
        return ""
    return ""


@login_required
@require_GET
def cell(request: HttpRequest, kind: str, code: str, month: str, key: str) -> HttpResponse:
    """The records behind one number (or behind a list of the table)."""
    user = _user(request)
    report_kind = _kind(kind)
    region = _region(request, code)
    first = _month(month)
    scope = _scope_or_404(report_kind, region, first)
    try:
        records, source, label = selectors.cell_records(user=user, kind=report_kind, scope=scope, key=key)
    except ReportError as exc:
        raise Http404 from exc
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    items = [(obj, _record_url(source, obj)) for obj in page]
    return render(
        request,
        "reporting/cell.html",
        {
            "kind": report_kind,
            "region": region,
            "month": first,
            "month_code": f"{first:%Y-%m}",
            "scope": scope,
            "label": label,
            "source": source.value,
            "source_label": SOURCE_LABELS[source],
            "page": page,
            "items": items,
            "total": page.paginator.count,
        },
    )


@login_required
@require_POST
def act(request: HttpRequest, kind: str, code: str, month: str) -> HttpResponse:
    """生成草稿 / 报送 / 签字 / 导出: the buttons of the table page."""
    user = _user(request)
    report_kind = _kind(kind)
    region = _region(request, code)
    first = _month(month)
    action = request.POST.get("action", "")
    back = redirect("reporting:table", report_kind.cli_name, region.code, f"{first:%Y-%m}")
    try:
        if action in ("export_xlsx", "export_pdf"):
            selectors.scope_for(kind=report_kind, region=region, month=first)
            job = services.export_request(
                actor=user, kind=report_kind, region=region, month=first, file_format=action.split("_")[1]
            )
            return redirect("reporting:export", job.pk)
        if not any(_may_work_on(user, report_kind, region)):
            raise Http404  # nothing to do here for this user: no report row is created for them
        scope = selectors.scope_for(kind=report_kind, region=region, month=first)
        report = services.report_get_or_create(
            kind=report_kind,
            region=region,
            campaign=scope.campaign,
            month=first,
            due_day=selectors.due_day(report_kind, scope.campaign),
        )
        if action == "refresh":
            version = services.report_refresh(actor=user, report=report)
            messages.success(request, f"已按最新记录生成{version.label}。")
        elif action in ("submit", "sign"):
            version = _version(request, int(request.POST.get("version", "0") or 0))
            if version.report_id != report.pk:
                raise Http404
            if action == "submit":
                services.report_submit(
                    actor=user, version=version, missing_reason=request.POST.get("missing_reason", "")
                )
                messages.success(request, f"已报送{version.label.split()[0]}。")
            else:
                if not rules.may(user, "reporting.sign", report):
                    raise ReportError("只有本县的分管负责人可以签字。")
                try:  # outside any transaction: the failure counters and audit rows stay
                    reauth.reauthenticate(
                        request=request,
                        user=user,
                        password=request.POST.get("password", ""),
                        otp_code=request.POST.get("otp_code", ""),
                        purpose="报表签字",
                    )
                except ValidationError as exc:
                    messages.error(request, exc.messages[0])
                    return back
                job = services.sign_request(
                    actor=user, version=version, fingerprint=request.POST.get("fingerprint", "")
                )
                return redirect("reporting:export", job.pk)
        else:
            messages.error(request, "未知的操作。")
    except ReportError as exc:
        messages.error(request, exc.message)
    return back


@login_required
@require_GET
def version_file(request: HttpRequest, pk: int, file_format: str) -> HttpResponseBase:
    """A signed version's file, byte for byte as it was frozen."""
    user = _user(request)
    version = _version(request, pk)
    if file_format not in FileFormat.values or not version.is_signed:
        raise Http404
    stored = version.xlsx_file if file_format == FileFormat.XLSX else version.pdf_file
    if not stored:
        raise Http404
    report_events.signed_file_downloaded(user=user, version=version, file_format=file_format)
    report = version.report
    month_text = f"{report.month.year}年{report.month.month}月"
    name = f"{report.region.name}{month_text}{report.get_kind_display()}（第{version.number}版）.{file_format}"
    return FileResponse(stored.open("rb"), as_attachment=True, filename=name)


@login_required
@require_GET
def export(request: HttpRequest, pk: Any) -> HttpResponse:
    """An export job's page; while it runs, htmx polls the status fragment."""
    _user(request)  # 404 for accounts that see no reports
    job = visible_or_404(request, ExportJob.objects.select_related("region"), pk=pk)
    template = "reporting/_export_status.html" if getattr(request, "htmx", False) else "reporting/export.html"
    return render(request, template, {"job": job})


@login_required
@require_GET
def export_file(request: HttpRequest, pk: Any) -> HttpResponseBase:
    user = _user(request)
    job = visible_or_404(request, ExportJob.objects.select_related("region"), pk=pk)
    if not job.file:
        raise Http404
    report_events.export_downloaded(user=user, job=job)
    name = f"{job.region.name}{job.month.year}年{job.month.month}月{job.get_kind_display()}（草稿）.{job.file_format}"
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=name)


@login_required
@require_GET
def dashboard_page(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    code = request.GET.get("region") or (user.region.code if user.region_id and user.region else "")
    region = _region(request, code) if code else None
    if region is None:
        raise Http404
    today = timezone.localdate()
    try:
        month = parse_month(request.GET["month"]) if request.GET.get("month") else today.replace(day=1)
    except ReportError:
        month = today.replace(day=1)
    data = dashboard.summary(user=user, region=region, month=month, today=today)
    return render(
        request,
        "reporting/dashboard.html",
        {"region": region, "month": month, "month_code": f"{month:%Y-%m}", "data": data, "chart_data": data.charts},
    )


@login_required
@require_GET
def dashboard_hazards(request: HttpRequest) -> HttpResponse:
    """The hazards behind a dashboard chart (level, status, overdue, 挂牌督办), scoped like everything else."""
    user = _user(request)
    region = _region(request, request.GET.get("region", ""))
    hazards, label = dashboard.hazard_list(user=user, region=region, params=request.GET, today=timezone.localdate())
    page = Paginator(hazards, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "reporting/cell.html",
        {
            "region": region,
            "label": label,
            "source": Source.HAZARD.value,
            "source_label": SOURCE_LABELS[Source.HAZARD],
            "page": page,
            "items": [(obj, _record_url(Source.HAZARD, obj)) for obj in page],
            "total": page.paginator.count,
            "query": request.GET.urlencode(),
            "from_dashboard": True,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """核验已签字文件: is an uploaded file byte for byte a signed version's Excel or PDF (in the user's scope)?"""
    user = _user(request)
    context: dict[str, Any] = {"max_mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024)}
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            context["error"] = "请选择要核验的 Excel 或 PDF 文件。"
        elif upload.size is None or upload.size > settings.UPLOAD_MAX_BYTES:
            context["error"] = f"文件超过 {context['max_mb']} MB，不是本门户生成的已签字文件，未核验。"
        else:  # a match outside the scope is answered as none (and logged as 越权访问 by find_signed)
            match = signing.find_signed(user=user, content=upload.read())
            context.update(checked=True, match=match, file_name=upload.name)
    return render(request, "reporting/verify.html", context)
