"""Pages of 隐患排查治理 under /hazards/.

Every hazard reaches a page through `hazards.selectors` (scoped: out of scope is a 404). The buttons of
the detail page are the forms the step declarations give (`hazards.workflow`, Page) for the steps
`allowed_actions(user, hazard)` lists; each one POSTs to `hazard_step`,
which runs the service through `hazards.steps.run_step` and, when refused, shows the page again with
the service's Chinese message (403 wrong role, 409 wrong or changed status, 400 wrong input).
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hazards import bulk, selectors, services
from hazards import forms as f
from hazards.choices import EvidenceKind, ExtensionStatus, HazardAction, HazardCategory, HazardLevel, HazardStatus
from hazards.fields import editable_now, update_roles
from hazards.filters import HazardFilterSet
from hazards.fingerprint import hazard_fingerprint
from hazards.models import ExtensionRequest, Hazard, HazardEvidence, local_today
from hazards.paging import HazardPaginator, wide_scope, with_tiebreak
from hazards.permissions import allowed_actions
from hazards.signing import hazard_sign_authenticate
from hazards.steps import StepRefused, queued_actions, run_step
from hazards.workflow import WORKFLOW, Page, StepDef
from portal import limits, rules, scoping
from portal.choices import RegionLevel
from portal.images import thumbnail_name
from portal.models import Enterprise, Region, User
from portal.scoping import visible_or_404

A = HazardAction
PAGE_SIZES = (20, 50, 100)
# More enterprises than this and the enterprise filter lists only the chosen town's (or asks for a town).
ENTERPRISE_OPTIONS_LIMIT = 500

SORTABLE_COLUMNS = {
    "found_on": "发现日期",
    "deadline": "整改时限",
    "status": "状态",
    "level": "级别",
    "enterprise": "企业",
    "ledger_number": "编号",
}


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _page_size(request: HttpRequest) -> int:
    try:
        size = int(request.GET.get("page_size", PAGE_SIZES[0]))
    except ValueError:
        return PAGE_SIZES[0]
    return size if size in PAGE_SIZES else PAGE_SIZES[0]


def _page(request: HttpRequest, queryset: Any, size: int | None = None) -> tuple[Any, str]:
    paginator = HazardPaginator(queryset, size or _page_size(request))
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


def may_report(user: User) -> bool:
    return rules.may(user, "hazards.report", HazardLevel.GENERAL)


# --- List, export -------------------------------------------------------------------------------


def filter_params(params: QueryDict) -> QueryDict:
    """The query without blank values: the filter form sends every field, and a blank `status` is not
    a valid choice of the multiple-choice filter (it would match nothing)."""
    cleaned = QueryDict(mutable=True)
    for key, values in params.lists():
        kept = [value for value in values if value.strip()]
        if kept:
            cleaned.setlist(key, kept)
    return cleaned


@dataclass
class ScopeOptions:
    """The towns and enterprises the page offers as filters (two small queries)."""

    towns: list[tuple[int, str]]
    enterprises: list[tuple[int, str]]  # the chosen town's, or the first ENTERPRISE_OPTIONS_LIMIT + 1
    user: User | None = None

    @classmethod
    def of(cls, user: User, town: str) -> ScopeOptions:
        rows = list(
            Region.objects.visible_to(user)
            .filter(level=RegionLevel.TOWN)
            .order_by("code")
            .values_list("pk", "parent__name", "name")
        )
        several_counties = len({county for _, county, _ in rows}) > 1
        towns = [(pk, f"{county}{name}" if several_counties else name) for pk, county, name in rows]
        enterprises = Enterprise.objects.visible_to(user).order_by("name", "id")
        # Only a town the user sees narrows the list (any other number, too big for the database included, not).
        if town.isdigit() and int(town) in {pk for pk, _ in towns}:
            enterprises = enterprises.filter(town_id=int(town))
        return cls(towns, list(enterprises.values_list("pk", "name")[: ENTERPRISE_OPTIONS_LIMIT + 1]), user)

    @property
    def enterprises_complete(self) -> bool:
        return len(self.enterprises) <= ENTERPRISE_OPTIONS_LIMIT

    def has_town(self, town: str) -> bool:
        return town.isdigit() and any(pk == int(town) for pk, _ in self.towns)

    def has_enterprise(self, enterprise: str) -> bool:
        if not enterprise.isdigit():
            return False
        if any(pk == int(enterprise) for pk, _ in self.enterprises):
            return True
        # Not among the options (another town's, or beyond the list's length): is it in scope at all?
        return Enterprise.objects.visible_to(self.user).filter(pk=int(enterprise)).exists()


def town_options_html(options: ScopeOptions, selected: str) -> SafeString:
    """The town filter's <option> tags, built in Python (a province has ~1,400 towns)."""
    parts = ['<option value="">全部</option>']
    for pk, label in options.towns:
        mark = " selected" if str(pk) == selected else ""
        parts.append(f'<option value="{int(pk)}"{mark}>{html.escape(label)}</option>')
    return mark_safe("".join(parts))  # noqa: S308 - labels are escaped, ids are integers  # nosec B308, B703 # escaped


def enterprise_options_html(options: ScopeOptions, selected: str) -> SafeString:
    """The enterprise filter's options: the chosen town's enterprises, or all of them when few enough;
    beyond ENTERPRISE_OPTIONS_LIMIT the user is asked to choose a town first."""
    rows = options.enterprises
    parts = ['<option value="">全部</option>']
    if not options.enterprises_complete:
        parts = ['<option value="">全部（企业较多，请先选择镇）</option>']
        rows = [row for row in rows if str(row[0]) == selected]
    for pk, name in rows:
        mark = " selected" if str(pk) == selected else ""
        parts.append(f'<option value="{int(pk)}"{mark}>{html.escape(name)}</option>')
    return mark_safe("".join(parts))  # noqa: S308 - names are escaped, ids are integers  # nosec B308, B703 # escaped


def narrow_by_place(queryset: Any, options: ScopeOptions, town: str, enterprise: str) -> tuple[Any, list[str]]:
    """The 所在镇 and 企业 filters of the page, checked against the options the page shows.

    They are the HazardFilterSet's `town` and `enterprise` filters (the same lookups: enterprise__town,
    enterprise); the page applies them here because it has already read the user's towns and enterprises
    for the selects, so validating them again through the FilterSet would cost a query each.
    """
    errors: list[str] = []
    if town:
        if options.has_town(town):
            queryset = queryset.filter(enterprise__town_id=int(town))
        else:
            queryset, errors = queryset.none(), [*errors, "所选的镇不存在或不在您的辖区内。"]
            _log_filter_denied(options.user, Region, "town", town)
    if enterprise:
        if options.has_enterprise(enterprise):
            queryset = queryset.filter(enterprise_id=int(enterprise))
        else:
            queryset, errors = queryset.none(), [*errors, "所选的企业不存在或不在您的辖区内。"]
            _log_filter_denied(options.user, Enterprise, "enterprise", enterprise)
    return queryset, errors


def _log_filter_denied(user: User | None, model: Any, name: str, value: str) -> None:
    """An existing row outside the scope named in a filter: 越权访问, as a direct lookup of it would be."""
    scoping.log_denied(
        user=user,
        model=model,
        lookup={"pk": value},
        detail=f"筛选条件 {name}={value[:40]}",
        visible=model.objects.visible_to(user),
    )


def _sort_links(request: HttpRequest, filterset: HazardFilterSet) -> dict[str, dict[str, str]]:
    """For each sortable column: the URL that sorts by it (toggling the direction) and the arrow shown."""
    current = request.GET.get("ordering", "")
    links: dict[str, dict[str, str]] = {}
    for key in SORTABLE_COLUMNS:
        query = request.GET.copy()
        query.pop("page", None)
        if current == key:
            query["ordering"], arrow = f"-{key}", "↑"
        elif current == f"-{key}":
            query["ordering"], arrow = key, "↓"
        else:
            query["ordering"], arrow = (f"-{key}" if key in {"found_on"} else key), ""
        links[key] = {"url": f"?{query.urlencode()}", "arrow": arrow}
    return links


_LEVEL_BADGES: dict[str, tuple[str, str]] = {
    HazardLevel.MAJOR: ("text-bg-danger", "重大"),
    HazardLevel.GENERAL: ("text-bg-secondary", "一般"),
}
_STATUS_LABELS = dict(HazardStatus.choices)
_CATEGORY_LABELS = dict(HazardCategory.choices)


def hazard_badges_html(hazard: Hazard, today: Any) -> str:
    """The badges of templates/hazards/_badges.html, built in Python for the list's rows."""
    css, word = _LEVEL_BADGES.get(hazard.level, ("text-bg-secondary", hazard.level))
    parts = [
        f'<span class="badge {css}">{html.escape(word)}</span>',
        f'<span class="badge status-badge status-{html.escape(hazard.status)}">'
        f"{html.escape(_STATUS_LABELS.get(hazard.status, hazard.status))}</span>",
    ]
    if hazard.is_overdue_on(today):
        parts.append('<span class="badge text-bg-warning" data-testid="overdue">逾期</span>')
    if hazard.supervision_level:
        parts.append(
            f'<span class="badge text-bg-dark" title="{html.escape(hazard.supervision_doc_number)}">'
            f"{html.escape(hazard.get_supervision_level_display())}挂牌督办</span>"
        )
    return "\n".join(parts)


def hazard_rows_html(hazards: Any, *, show_enterprise: bool) -> SafeString:
    """The <tr>s of the hazard table, built in Python: the template engine costs ~0.5 ms a row
    (two {% url %}, an include and a dozen filters), which is most of a 100-row page."""
    base = reverse("hazards:hazard-list")
    today = local_today()
    escape = html.escape
    rows = []
    for h in hazards:
        url = f"{base}{int(h.pk)}/"
        number = escape(h.ledger_number) if h.ledger_number else f"#{int(h.pk)}"
        enterprise = (
            f'<td data-label="企业">{escape(h.enterprise.name)}</td>'
            f'<td data-label="所在镇" class="text-nowrap">{escape(h.enterprise.town.name)}</td>'
            if show_enterprise
            else ""
        )
        location = f' <span class="small text-muted">（{escape(h.location)}）</span>' if h.location else ""
        criterion = f'<div class="small text-muted">判定依据：{escape(str(h.criterion))}</div>' if h.criterion else ""
        deadline = h.current_deadline.isoformat() if h.current_deadline else "—"
        if h.current_deadline and h.deadline and h.current_deadline != h.deadline:
            deadline += ' <span class="small text-muted">（已延期）</span>'
        tr_class = ' class="table-warning"' if h.is_overdue_on(today) else ""
        rows.append(
            f"<tr{tr_class}>"
            f'<td data-label="编号" class="text-nowrap"><a href="{url}">{number}</a></td>{enterprise}'
            f'<td data-label="隐患内容" class="hazard-description"><a href="{url}" class="text-reset">'
            f"{escape(Truncator(h.description).chars(60))}</a>{location}{criterion}</td>"
            f'<td data-label="类别" class="text-nowrap">{escape(_CATEGORY_LABELS.get(h.category, h.category))}</td>'
            f'<td data-label="级别/状态">{hazard_badges_html(h, today)}</td>'
            f'<td data-label="发现日期" class="text-nowrap">{h.found_on.isoformat()}</td>'
            f'<td data-label="整改时限" class="text-nowrap">{deadline}</td></tr>'
        )
    return mark_safe("\n".join(rows))  # noqa: S308 - every text is escaped above, ids are integers  # nosec B308, B703 # escaped


@login_required
@require_GET
def hazard_list(request: HttpRequest) -> HttpResponse:
    """我的隐患 (enterprise users) or the hazards of the user's area: filtered, sorted, paginated."""
    user = _user(request)
    params = filter_params(request.GET)
    is_enterprise = user.enterprise_id is not None
    town = enterprise = ""
    options = ScopeOptions([], [])
    if not is_enterprise:
        town, enterprise = params.pop("town", [""])[-1], params.pop("enterprise", [""])[-1]
        options = ScopeOptions.of(user, town)
    filterset = selectors.hazard_filterset(user=user, params=params)
    queryset = with_tiebreak(filterset.qs) if filterset.is_valid() else filterset.queryset.none()
    queryset, place_errors = narrow_by_place(queryset, options, town, enterprise)
    paginator = HazardPaginator(
        queryset, _page_size(request), allow_estimate=wide_scope(user, {"town": town, "enterprise": enterprise})
    )
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": filterset,
        "place_errors": place_errors,
        "page": page,
        "query": query.urlencode(),
        "page_sizes": PAGE_SIZES,
        "rows_html": hazard_rows_html(page.object_list, show_enterprise=not is_enterprise),
        "town_options": town_options_html(options, town),
        "enterprise_options": enterprise_options_html(options, enterprise),
        "sort_links": _sort_links(request, filterset),
        "level_choices": HazardLevel.choices,
        "status_choices": HazardStatus.choices,
        "category_choices": HazardCategory.choices,
        "can_report": may_report(user),
        "is_enterprise": is_enterprise,
        "active_tab": "list",
    }
    return render(request, "hazards/hazard_list.html", context)


@login_required
@require_GET
def hazard_export(request: HttpRequest) -> HttpResponseBase:
    from hazards.exports import hazard_export_response

    return hazard_export_response(user=_user(request), params=filter_params(request.GET))


# --- Work queue, notifications ------------------------------------------------------------------


@login_required
@require_GET
def work_queue(request: HttpRequest) -> HttpResponse:
    """待办: the hazards that wait for this user's action, soonest deadline first."""
    user = _user(request)
    pending = ExtensionRequest.objects.filter(hazard=OuterRef("pk"), status=ExtensionStatus.PENDING)
    queryset = selectors.work_queue(user=user).annotate(extension_pending=Exists(pending))
    page, query = _page(request, queryset)
    waiting = queued_actions(user)
    rows = [
        {
            "hazard": hazard,
            "todo": waiting.get((hazard.level, hazard.status), ""),
            "extension": hazard.extension_pending,
            "bulk": bulk.bulk_action_of(user, hazard),
        }
        for hazard in page.object_list
    ]
    context = {
        "page": page,
        "rows": rows,
        "query": query,
        "active_tab": "queue",
        "bulk_actions": bulk.bulk_actions_for(user) if any(row["bulk"] for row in rows) else [],
        "comment_max": limits.TEXT_COMMENT,
    }
    return render(request, "hazards/work_queue.html", context)


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    unread_only = request.GET.get("unread") == "1"
    page, query = _page(request, selectors.notification_list(user=user, unread_only=unread_only), size=30)
    context = {
        "page": page,
        "query": query,
        "unread_only": unread_only,
        "unread_count": selectors.notification_unread_count(user=user),
        "active_tab": "notifications",
    }
    return render(request, "hazards/notification_list.html", context)


@login_required
@require_POST
def notification_read(request: HttpRequest) -> HttpResponse:
    """Mark one notification (`id`) or all of the user's notifications read."""
    user = _user(request)
    raw = request.POST.get("id", "")
    if raw:
        if not raw.isdigit():
            raise Http404("未找到该通知。")
        count = services.notification_mark_read(actor=user, notification_ids=[int(raw)])
    else:
        count = services.notification_mark_read(actor=user)
        messages.success(request, f"已将 {count} 条通知标为已读。")
    target = request.POST.get("next", "")
    if target.startswith("/hazards/") and "//" not in target:
        return redirect(target)
    return redirect("hazards:notification-list")


# --- Reporting ----------------------------------------------------------------------------------


def _form_errors(form: Any, exc: ValidationError) -> None:
    """A service's ValidationError onto the form: by field when the form has the field, else for the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = field if field in form.fields else None
            for message in errors:
                form.add_error(target, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


@login_required
@require_http_methods(["GET", "POST"])
def hazard_report(request: HttpRequest) -> HttpResponse:
    """上报隐患: a general hazard is reported at once; a major one waits for the principal's signature."""
    user = _user(request)
    if not may_report(user):
        raise PermissionDenied("您的角色不能上报隐患。")
    form = f.HazardReportForm(request.POST or None, user=user)
    form.fields["enterprise"].widget.attrs.update(
        {
            "hx-get": reverse("hazards:criterion-options"),
            "hx-target": "#id_criterion",
            "hx-trigger": "change",
            "hx-swap": "innerHTML",
        }
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                hazard = services.hazard_report(actor=user, **form.service_kwargs())
            except ValidationError as exc:
                _form_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
                status = 403
            else:
                if hazard.is_major:
                    messages.success(request, "重大事故隐患已填报，待企业主要负责人确认签字后上报镇应急管理中心。")
                else:
                    messages.success(request, "一般事故隐患已上报。")
                return redirect("hazards:hazard-detail", pk=hazard.pk)
        status = 400 if status == 200 else status
    context = {"form": form, "is_enterprise": user.enterprise_id is not None, "active_tab": "list"}
    return render(request, "hazards/hazard_report.html", context, status=status)


@login_required
@require_GET
def criterion_options(request: HttpRequest) -> HttpResponse:
    """The criterion <option>s for the chosen enterprise's mine type (htmx, on the report form)."""
    user = _user(request)
    raw = request.GET.get("enterprise", "")
    enterprise = None
    if raw.isdigit():
        enterprise = Enterprise.objects.visible_to(user).filter(pk=int(raw)).first()
    if user.enterprise_id is not None:
        enterprise = user.enterprise
    criteria = f.criteria_for(enterprise)
    parts = ['<option value="">请选择《金属非金属矿山重大事故隐患判定标准》条目</option>']
    for criterion in criteria:
        parts.append(f'<option value="{int(criterion.pk)}">{html.escape(f.criterion_label(criterion))}</option>')
    return HttpResponse("".join(parts))


# --- Detail and steps ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    slug: str
    action: str
    title: str
    button: str
    form_class: type[f.StepForm]
    perform: Callable[[User, Hazard, Any], Any]
    success: str
    style: str = "primary"
    multipart: bool = False
    shown_when: str = ""

    def make_form(self, hazard: Hazard, data: Any = None, files: Any = None, *, user: User) -> f.StepForm:
        kwargs: dict[str, Any] = {"prefix": self.slug}
        if issubclass(self.form_class, f.HazardBoundForm):
            kwargs["hazard"] = hazard
            kwargs["user"] = user
        if data is None:
            form = self.form_class(**kwargs)
            form.initial.setdefault("seen_status", hazard.status)
            if "fingerprint" in form.fields:  # a signature posts what the page showed
                form.initial.setdefault("fingerprint", hazard_fingerprint(hazard))
            if user is not None:
                for name, value in self.form_class.defaults(user=user, hazard=hazard).items():
                    form.initial.setdefault(name, value)
            return form
        return self.form_class(data, files, **kwargs)


def _changes_or_refuse(changes: dict[str, Any]) -> dict[str, Any]:
    if not changes:
        raise ValidationError("没有修改任何内容。")
    return changes


def _decide_extension(step: StepDef, user: User, hazard: Hazard, form: Any) -> Any:
    extension = (
        selectors.hazard_extensions(user=user, hazard=hazard)
        .filter(pk=form.cleaned_data["extension"], status=ExtensionStatus.PENDING)
        .first()
    )
    if extension is None:
        raise ValidationError("该延期申请不存在或已审批，请刷新页面后重试。")
    return step.service_function()(
        actor=user,
        extension=extension,
        approve=form.cleaned_data["decision"] == "approve",
        comment=form.cleaned_data.get("comment") or "",
    )


def _add_evidence(step: StepDef, user: User, hazard: Hazard, form: Any) -> Any:
    upload = form.cleaned_data["file"]
    return step.service_function()(
        actor=user,
        hazard=hazard,
        file=upload,
        original_name=upload.name,
        kind=form.cleaned_data["kind"],
        description=form.cleaned_data.get("description") or "",
    )


def _sign_report(step: StepDef, user: User, hazard: Hazard, form: Any) -> Any:
    """The principal's signature binds what the page showed (the fingerprint the form posts back)."""
    fingerprint = form.cleaned_data.get("fingerprint") or ""
    kwargs = {**form.service_kwargs(), "fingerprint": fingerprint}
    return services.hazard_sign_report(actor=user, hazard=hazard, **kwargs)


# How a page's form reaches the step's service (hazards.workflow.Page.perform).
PERFORMERS: dict[str, Callable[[StepDef, User, Hazard, Any], Any]] = {
    "fields": lambda step, u, h, fm: step.service_function()(actor=u, hazard=h, **fm.service_kwargs()),
    "changes": lambda step, u, h, fm: step.service_function()(actor=u, hazard=h, data=_changes_or_refuse(fm.changes())),
    "amend": lambda step, u, h, fm: step.service_function()(
        actor=u, hazard=h, data=_changes_or_refuse(fm.changes()), reason=fm.cleaned_data["reason"]
    ),
    "sign": _sign_report,
    "evidence": _add_evidence,
    "decide_extension": _decide_extension,
}


def _page_step(step: StepDef, page: Page) -> Step:
    return Step(
        page.slug, step.action, page.title, page.button, getattr(f, page.form),
        functools.partial(PERFORMERS[page.perform], step), page.success, page.style, page.multipart,
        page.shown_when,
    )  # fmt: skip


# The forms of the detail page, in page order, from the step declarations (hazards.workflow).
STEPS: list[Step] = [_page_step(step, page) for step, page in WORKFLOW.pages]
STEP_BY_SLUG = {step.slug: step for step in STEPS}


def _fields_editable(step: Step, user: User, hazard: Hazard, pending: ExtensionRequest | None) -> bool:
    # An edit form only when the user may change one of its fields now (hazards.fields: after signing,
    # an enterprise only completes the 五落实 of a major hazard).
    form_class = step.form_class
    if not issubclass(form_class, f.HazardBoundForm):
        return True
    return bool(editable_now(hazard, form_class.FIELDS, roles=update_roles(user)))


# Beyond the rule table: hide what would only be refused (already supervised, nothing to decide, …);
# a page declares which of these applies (hazards.workflow.Page.shown_when).
SHOWN_WHEN: dict[str, Callable[[Step, User, Hazard, ExtensionRequest | None], bool]] = {
    "extension_pending": lambda step, user, hazard, pending: pending is not None,
    "may_request_extension": lambda step, user, hazard, pending: (
        pending is None and hazard.current_deadline is not None
    ),
    "not_supervised": lambda step, user, hazard, pending: not hazard.supervision_level,
    "fields_editable": _fields_editable,
}


def _step_applies(step: Step, user: User, hazard: Hazard, pending: ExtensionRequest | None) -> bool:
    return not step.shown_when or SHOWN_WHEN[step.shown_when](step, user, hazard, pending)


def visible_steps(user: User, hazard: Hazard, pending: ExtensionRequest | None) -> list[Step]:
    allowed = set(allowed_actions(user, hazard))
    return [step for step in STEPS if step.action in allowed and _step_applies(step, user, hazard, pending)]


def _field_label(name: str) -> str:
    try:
        return str(getattr(Hazard._meta.get_field(name), "verbose_name", name))
    except FieldDoesNotExist:
        return name


def _events(user: User, hazard: Hazard) -> list[Any]:
    """The timeline, with the changed fields of an edit named in Chinese."""
    events = list(selectors.hazard_events(user=user, hazard=hazard))
    for event in events:
        fields = event.data.get("fields") if isinstance(event.data, dict) else None
        event.fields_label = "、".join(_field_label(name) for name in fields) if fields else ""  # type: ignore[attr-defined]
    return events


def _detail(
    request: HttpRequest,
    hazard: Hazard,
    *,
    failed: tuple[Step, f.StepForm] | None = None,
    refusal: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    extensions = list(selectors.hazard_extensions(user=user, hazard=hazard))
    pending = next((e for e in extensions if e.status == ExtensionStatus.PENDING), None)
    steps: list[dict[str, Any]] = []
    for step in visible_steps(user, hazard, pending):
        if failed is not None and failed[0].slug == step.slug:
            form = failed[1]
        else:
            form = step.make_form(hazard, user=user)
            if step.action == A.DECIDE_EXTENSION and pending is not None:
                form.initial["extension"] = pending.pk
        steps.append({"step": step, "form": form, "open": failed is not None and failed[0].slug == step.slug})
    if failed is None:
        # The step the hazard waits for is open; optional ones (五落实, materials, 回头看…) stay closed.
        main = next((item for item in steps if item["step"].style in {"primary", "success"}), None)
        if main is not None:
            main["open"] = True
    evidence = list(selectors.hazard_evidence(user=user, hazard=hazard))
    context = {
        "hazard": hazard,
        "events": _events(user, hazard),
        "evidence": evidence,
        "extensions": extensions,
        "pending_extension": pending,
        "steps": steps,
        "failed_step": failed[0].slug if failed else "",
        "refusal": refusal or [],
        "missing_five": hazard.missing_five_implementations() if hazard.is_major else [],
        "has_closure_evidence": any(item.kind in EvidenceKind.closure_evidence() for item in evidence),
        "next_step": services.NEXT_STEP.get(HazardStatus(hazard.status), ""),
        "active_tab": "list",
    }
    return render(request, "hazards/hazard_detail.html", context, status=status)


def _hazard(request: HttpRequest, pk: int) -> Hazard:
    """`selectors.hazard_get` for a page: a hazard outside the scope is logged as 越权访问 before the 404."""
    hazard: Hazard = visible_or_404(
        request,
        selectors.hazard_base(user=_user(request)).select_related("signed_by", "rectified_by", "verified_by"),
        pk=pk,
    )
    return hazard


@login_required
@require_GET
def hazard_detail(request: HttpRequest, pk: int) -> HttpResponse:
    hazard = _hazard(request, pk)
    return _detail(request, hazard)


def _perform(request: HttpRequest, user: User, hazard: Hazard, step: Step, form: f.StepForm) -> Any:
    """The step's service; a signature's form first re-authenticates the signer (hazards.signing)."""
    if isinstance(form, f.SignReportForm):
        data = form.cleaned_data
        hazard_sign_authenticate(
            request=request, actor=user, password=data.get("password") or "", otp_code=data.get("otp_code") or ""
        )
    return step.perform(user, hazard, form)


@login_required
@require_POST
def hazard_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """One button of the detail page: run the step's service; on refusal, show why (403/409/400)."""
    user = _user(request)
    hazard = _hazard(request, pk)
    chosen = STEP_BY_SLUG.get(step)
    if chosen is None:
        raise Http404("没有这个办理步骤。")
    form = chosen.make_form(hazard, request.POST, request.FILES, user=user)
    if not form.is_valid():
        # The role and status still decide first: a refused step is not an input error.
        try:
            run_step(actor=user, hazard=hazard, action=chosen.action, call=lambda h: None)
        except StepRefused as refused:
            return _detail(request, hazard, failed=(chosen, form), refusal=refused.messages, status=refused.status)
        return _detail(request, hazard, failed=(chosen, form), refusal=["请检查填写的内容。"], status=400)
    try:
        run_step(
            actor=user,
            hazard=hazard,
            action=chosen.action,
            seen_status=form.cleaned_data.get("seen_status") or None,
            call=lambda h: _perform(request, user, h, chosen, form),
        )
    except StepRefused as refused:
        if refused.error is not None and refused.status == 400:
            _form_errors(form, refused.error)
        fresh = _hazard(request, pk)
        return _detail(request, fresh, failed=(chosen, form), refusal=refused.messages, status=refused.status)
    messages.success(request, chosen.success)
    return redirect("hazards:hazard-detail", pk=hazard.pk)


# --- Evidence downloads ---------------------------------------------------------------------------


@login_required
@require_GET
def evidence_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Evidence files only through here, after the scope check (404 outside it); never as static media."""
    evidence = visible_or_404(request, HazardEvidence, pk=pk)
    # ?thumb=1: the server-made thumbnail, shown inline (the older ?inline=1 too, when there is one); the
    # original is always a download, so no page makes a browser decode an uploaded image.
    thumb = request.GET.get("thumb") == "1" or (request.GET.get("inline") == "1" and bool(evidence.thumbnail))
    stored = evidence.thumbnail if thumb else evidence.file
    if not stored or not stored.name:
        raise Http404("文件不存在。")
    try:
        handle = stored.open("rb")
    except OSError as exc:
        raise Http404("文件不存在。") from exc
    name = thumbnail_name(evidence.original_name) if thumb else evidence.original_name
    response = FileResponse(handle, as_attachment=not thumb, filename=name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
