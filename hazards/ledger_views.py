"""Pages of the 隐患台账 upload, under /hazards/ledger/: upload → preview → confirm, and the kept files.

Who may upload for which enterprise is `hazards.ledger.check_uploader` (scope through `visible_to`:
an enterprise or an upload outside it is a 404; a role that may not upload is a 403). The preview
keeps the file as a 待确认 `LedgerUpload`; the confirmation posts a signed token naming that upload
and the user, and the service re-validates the stored file before writing anything.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hazards.choices import LedgerUploadStatus
from hazards.ledger import (
    LEDGER_COLUMNS,
    REFUSED_MESSAGE,
    LedgerError,
    enterprise_for_upload,
    ledger_template,
    ledger_upload_commit,
    ledger_upload_create,
    ledger_upload_preview,
    may_upload,
    uploadable_enterprises,
)
from hazards.models import LedgerUpload
from portal.import_flow import ImportPage, render_preview, sign_ref, unsign_ref
from portal.models import Enterprise, User
from portal.scoping import not_found, visible_or_404
from portal.spreadsheets import ImportResult, SpreadsheetError, read_bytes

TOKEN_SALT = "hazards.ledger.upload"  # noqa: S105 - a signing salt, not a secret  # nosec B105 # a signing salt
TOKEN_MAX_AGE = 2 * 3600
PREVIEW_PAGE_SIZE = 200
HISTORY_PAGE_SIZE = 20


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


class LedgerUploadForm(forms.Form):
    enterprise = forms.IntegerField(
        label="企业", required=False, error_messages={"invalid": "请选择企业。"}, widget=forms.HiddenInput
    )
    file = forms.FileField(
        label="隐患台账（Excel .xlsx）",
        error_messages={"required": "请选择要上传的 Excel 文件。", "empty": "上传的文件为空。"},
    )


def _require_uploader(user: User) -> None:
    if not may_upload(user):
        raise PermissionDenied(REFUSED_MESSAGE)


def _sign(user: User, upload: LedgerUpload) -> str:
    return sign_ref(salt=TOKEN_SALT, user=user, ref={"id": upload.pk})


def _check_token(token: str, user: User, upload: LedgerUpload) -> bool:
    try:
        ref = unsign_ref(token, salt=TOKEN_SALT, user=user, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return False
    return bool(ref.get("id") == upload.pk)


def _history(request: HttpRequest, user: User) -> Any:
    uploads = (
        LedgerUpload.objects.visible_to(user)
        .select_related("enterprise", "uploaded_by")
        .order_by("-uploaded_at", "-id")
    )
    return Paginator(uploads, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))


def _form_context(request: HttpRequest, user: User, form: LedgerUploadForm, **extra: Any) -> dict[str, Any]:
    enterprises = [] if user.enterprise_id is not None else list(uploadable_enterprises(user))
    return {
        "form": form,
        "enterprises": enterprises,
        "own_enterprise": user.enterprise if user.enterprise_id is not None else None,
        "chosen": str(form["enterprise"].value() or request.GET.get("enterprise") or ""),
        "max_mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024),
        "columns": {name: words[0] for name, words in LEDGER_COLUMNS.items() if name != "serial"},
        **extra,
    }


def _render_preview(
    request: HttpRequest,
    user: User,
    result: ImportResult,
    *,
    upload: LedgerUpload | None,
    token: str,
    enterprise: Enterprise,
    status: int,
    stale: bool = False,
) -> HttpResponse:
    """The shared preview page (portal.import_flow), paged, with the ledger's upload form under the errors."""
    page = Paginator(result.rows, PREVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
    detail_url = reverse("hazards:ledger-upload-detail", args=[upload.pk]) if upload is not None else ""
    flow = ImportPage(
        heading="隐患台账预览",
        crumbs=(
            ("我的隐患" if user.enterprise_id else "隐患台账", reverse("hazards:hazard-list")),
            ("上传隐患台账", reverse("hazards:ledger-upload")),
        ),
        form_template="hazards/ledger_form.html",
        confirm_url=reverse("hazards:ledger-upload-confirm", args=[upload.pk]) if upload is not None else "",
        restart_url=reverse("hazards:ledger-upload"),
        testid="ledger",
        commit_testid="ledger-commit-form",
        confirm_fields={},
    )
    form_context = _form_context(request, user, LedgerUploadForm(initial={"enterprise": enterprise.pk}))
    return render_preview(
        request,
        flow,
        result=result,
        token=token,
        status=status,
        stale=stale,
        rows=page.object_list,
        page=page,
        page_url=detail_url,
        note=f"企业：{enterprise.name}",
        upload=upload,
        enterprise=enterprise,
        errors_by_row=result.errors_by_row(),
        **form_context,
    )


@login_required
@require_http_methods(["GET", "POST"])
def ledger_upload(request: HttpRequest) -> HttpResponse:
    """GET: the upload form and the uploads in scope. POST: the preview (the file is kept when it passes)."""
    user = _user(request)
    _require_uploader(user)
    if request.method == "GET":
        context = _form_context(request, user, LedgerUploadForm(), history=_history(request, user))
        return render(request, "hazards/ledger_upload.html", context)

    form = LedgerUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        context = _form_context(request, user, form, history=_history(request, user))
        return render(request, "hazards/ledger_upload.html", context, status=400)
    chosen = form.cleaned_data.get("enterprise")
    if user.enterprise_id is None and chosen is None:
        form.add_error("enterprise", "请选择要代为上传台账的企业。")
        context = _form_context(request, user, form, history=_history(request, user))
        return render(request, "hazards/ledger_upload.html", context, status=400)
    enterprise = _enterprise_for_upload(request, chosen)
    upload_file = form.cleaned_data["file"]
    file_name = str(upload_file.name).replace("\\", "/").rsplit("/", 1)[-1][:200]
    try:
        data = read_bytes(upload_file)
    except SpreadsheetError as exc:
        form.add_error("file", exc.message)
        context = _form_context(request, user, form, history=_history(request, user))
        return render(request, "hazards/ledger_upload.html", context, status=400)
    result, upload = ledger_upload_create(actor=user, enterprise=enterprise, source=data, file_name=file_name)
    token = _sign(user, upload) if upload is not None else ""
    status = 200 if result.ok else 400
    return _render_preview(request, user, result, upload=upload, token=token, enterprise=enterprise, status=status)


def _enterprise_for_upload(request: HttpRequest, chosen: Any) -> Enterprise:
    """`enterprise_for_upload`, with another scope's enterprise logged as 越权访问."""
    try:
        return enterprise_for_upload(_user(request), chosen)
    except Http404:
        raise not_found(request, Enterprise, pk=chosen) from None


def _get_upload(request: HttpRequest, pk: int) -> LedgerUpload:
    """The upload, or 404 (one outside the scope logged as 越权访问)."""
    upload: LedgerUpload = visible_or_404(
        request, LedgerUpload.objects.select_related("enterprise__town", "uploaded_by"), pk=pk
    )
    return upload


@login_required
@require_GET
def ledger_upload_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An upload: its preview while it waits for its uploader's confirmation, else what it did."""
    user = _user(request)
    upload = _get_upload(request, pk)
    if upload.status == LedgerUploadStatus.PENDING and upload.uploaded_by_id == user.pk and may_upload(user):
        result = ledger_upload_preview(actor=user, upload=upload)
        token = _sign(user, upload) if result.ok else ""
        status = 200 if result.ok else 409
        return _render_preview(
            request, user, result, upload=upload, token=token, enterprise=upload.enterprise, status=status
        )
    return render(request, "hazards/ledger_detail.html", {"upload": upload})


@login_required
@require_POST
def ledger_upload_confirm(request: HttpRequest, pk: int) -> HttpResponseBase:
    """确认导入: every row of the stored file, or none."""
    user = _user(request)
    _require_uploader(user)
    upload = _get_upload(request, pk)
    if not _check_token(request.POST.get("token", ""), user, upload):
        messages.error(request, "预览已过期或无效，请重新上传文件。")
        context = _form_context(request, user, LedgerUploadForm(), history=_history(request, user))
        return render(request, "hazards/ledger_upload.html", context, status=400)
    try:
        result = ledger_upload_commit(actor=user, upload=upload)
    except LedgerError as exc:
        messages.error(request, str(exc))
        return redirect("hazards:ledger-upload-detail", pk=upload.pk)
    if not result.committed:
        # Something changed since the preview: nothing was written.
        return _render_preview(
            request, user, result, upload=upload, token="", enterprise=upload.enterprise, status=409, stale=True
        )  # nosec B106 # an empty preview token, not a password
    messages.success(request, f"隐患台账已导入：{result.summary()}。")
    return redirect("hazards:ledger-upload-detail", pk=upload.pk)


@login_required
@require_GET
def ledger_upload_file(request: HttpRequest, pk: int) -> FileResponse:
    """The original file as it was uploaded (scoped like the upload itself)."""
    upload = _get_upload(request, pk)
    try:
        handle = upload.file.open("rb")
    except OSError:
        raise Http404("原文件不存在。") from None
    return FileResponse(handle, as_attachment=True, filename=upload.original_name)


@login_required
@require_GET
def ledger_template_download(request: HttpRequest) -> FileResponse:
    """The template; with ?enterprise=<id>, filled with that enterprise's hazards for editing and re-upload."""
    user = _user(request)
    enterprise = None
    raw = request.GET.get("enterprise")
    if raw or (user.enterprise_id is not None and request.GET.get("filled")):
        enterprise = _enterprise_for_upload(request, raw)
    stream = ledger_template(user=user, enterprise=enterprise)
    name = f"{enterprise.name}隐患台账.xlsx" if enterprise is not None else "隐患台账导入模板.xlsx"
    return FileResponse(stream, as_attachment=True, filename=name)


def upload_link(enterprise: Enterprise | None = None) -> str:
    """The upload page, with the enterprise chosen (for links from other pages)."""
    url = reverse("hazards:ledger-upload")
    return f"{url}?enterprise={enterprise.pk}" if enterprise is not None else url


__all__ = [
    "ledger_template_download",
    "ledger_upload",
    "ledger_upload_confirm",
    "ledger_upload_detail",
    "ledger_upload_file",
    "upload_link",
]
