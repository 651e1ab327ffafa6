"""The one upload → preview → confirm mechanism of the Excel imports (enterprises, enforcement records, ledgers).

Each importer supplies what is its own — the parser/validator and writer (``Importer``), the labels and
links of its pages (``ImportPage``) — and shares the rest:

* ``StagedUploads``: how a previewed file waits for its confirmation. The file is stored, the browser
  gets a signed token naming it and bound to the uploader; the token expires after ``PREVIEW_MAX_AGE``
  and is good for one commit only (the claim is a conditional UPDATE of the file's ``StagedImport`` row,
  released when the commit wrote nothing, so a stale preview can still be fixed and re-uploaded).
  ``staged_imports_sweep`` (nightly, beat) deletes the files nobody confirmed.
* ``sign_ref`` / ``unsign_ref``: the same signed, user-bound, expiring token for an importer that keeps
  its staged file in a row of its own (the ledger's ``LedgerUpload``, whose status makes it single-use).
* ``import_page``: the page of an importer whose staging is ``StagedUploads`` — GET the form or the
  template workbook, POST a preview or a commit.
* ``templates/portal/import_preview.html``: the one preview page — counts, the per-row error table, the
  rows as they will be saved, the confirm form.

The hostile-file checks stay in front of every parse: ``read_bytes`` bounds the upload and the
importers open it through ``portal.spreadsheets.open_table`` (``check_workbook_bytes``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import Promise

from portal.choices import StagedImportState
from portal.models import AuditEvent, StagedImport, User
from portal.spreadsheets import ImportResult, SpreadsheetError, read_bytes
from portal.uploads import PREVIEW_MAX_AGE, PreviewStore

PREVIEW_TEMPLATE = "portal/import_preview.html"
EXPIRED_MESSAGE = "预览已过期或无效，请重新上传文件。"
MISSING_MESSAGE = "找不到预览时上传的文件，请重新上传。"
COMMITTED_MESSAGE = "该预览已确认导入，不能再次确认；如需再次导入，请重新上传文件。"
# Every PreviewStore keeps its files in a folder under this one (the sweep walks it).
STAGING_ROOT = "imports"

logger = logging.getLogger(__name__)


class Importer(Protocol):
    """What an importer supplies: a read-only check (the preview) and an all-or-nothing write (the commit)."""

    def validate(self, *, source: bytes, user: User, file_name: str) -> ImportResult: ...

    def commit(self, *, source: bytes, user: User, file_name: str, stored_path: str) -> ImportResult: ...


# --------------------------------------------------------------------------------------------
# Tokens and the staged-upload store
# --------------------------------------------------------------------------------------------


def sign_ref(*, salt: str, user: User, ref: dict[str, Any]) -> str:
    """A token naming a staged upload (``ref``) for this user only."""
    return signing.dumps({"u": user.pk, **ref}, salt=salt, compress=True)


def unsign_ref(token: str, *, salt: str, user: User, max_age: int = PREVIEW_MAX_AGE) -> dict[str, Any]:
    """The ``ref`` of a token signed for this user; BadSignature when tampered, expired or someone else's."""
    payload = signing.loads(token, salt=salt, max_age=max_age)
    if not isinstance(payload, dict) or payload.get("u") != user.pk:
        raise signing.BadSignature("not this user's upload")
    return {key: value for key, value in payload.items() if key != "u"}


class StagedUploadGone(Http404):
    """The token names no staged upload of this user: tampered, expired, another user's, or already committed."""


class StagedFileMissing(Exception):
    """The token is good but its stored file is gone (cleaned up, storage moved)."""


@dataclass(frozen=True)
class Staged:
    path: str
    file_name: str
    data: bytes


@dataclass(frozen=True)
class StagedUploads:
    """Previewed files waiting for their confirmation: stored, named by a signed token, single-use."""

    store: PreviewStore

    def stage(self, *, user: User, data: bytes, file_name: str) -> str:
        """Keep the file and its `StagedImport` row (pending); the token the confirm form posts back.

        Why no service: the staged file and its row are transient preview state, not records — nothing in
        the portal reads them but this flow and the sweep (`staged_imports_sweep`); the commit that follows
        goes through the importer's service (atomic, scoped, audited). Staged files are kept under
        ``imports/<kind>/YYYY/MM/``; a committed one stays as the import's original file (its audit row names
        it), a pending one is swept once older than ``IMPORT_STAGED_MAX_AGE_HOURS``."""
        path = self.store.save(data)
        StagedImport.objects.create(path=path, uploaded_by=user)
        return self.store.sign(user=user, path=path, file_name=file_name)

    def load(self, token: str, *, user: User) -> Staged:
        try:
            path, file_name = self.store.unsign(token, user=user)
        except signing.BadSignature:  # SignatureExpired is a BadSignature
            raise StagedUploadGone(EXPIRED_MESSAGE) from None
        state = StagedImport.objects.filter(path=path).values_list("state", flat=True).first()
        if state is None:  # swept (or staged before staging had rows): nothing to confirm
            raise StagedUploadGone(EXPIRED_MESSAGE)
        if state != StagedImportState.PENDING:
            raise StagedUploadGone(COMMITTED_MESSAGE)
        try:
            data = self.store.read(path)
        except OSError:
            raise StagedFileMissing(MISSING_MESSAGE) from None
        return Staged(path=path, file_name=file_name, data=data)

    @contextmanager
    def claim(self, staged: Staged) -> Iterator[Callable[[bool], None]]:
        """Hold the staged upload for one commit; call the yielded ``done(committed)`` with the outcome.

        Two confirmations racing (a double click, two tabs, two web processes) cannot both commit: the
        claim is one conditional UPDATE (pending → claimed) that only one of them can win, on SQLite and
        PostgreSQL alike (PostgreSQL makes the second wait for the first's row lock, then re-reads the
        state and matches nothing). A commit that wrote nothing (the data changed since the preview) or
        failed gives the claim back, so a stale preview can still be fixed and re-uploaded.
        """
        rows = StagedImport.objects.filter(path=staged.path)
        if rows.filter(state=StagedImportState.PENDING).update(state=StagedImportState.CLAIMED) != 1:
            raise StagedUploadGone(COMMITTED_MESSAGE)
        outcome = {"committed": False}

        def done(committed: bool) -> None:
            outcome["committed"] = committed

        try:
            yield done
        finally:
            final = StagedImportState.COMMITTED if outcome["committed"] else StagedImportState.PENDING
            rows.filter(state=StagedImportState.CLAIMED).update(state=final)


def staged_max_age() -> dt.timedelta:
    """How long an unconfirmed staged file is kept: IMPORT_STAGED_MAX_AGE_HOURS, never less than a preview
    may wait for its confirmation (a token still good must find its file)."""
    hours = dt.timedelta(hours=float(settings.IMPORT_STAGED_MAX_AGE_HOURS))
    return max(hours, dt.timedelta(seconds=PREVIEW_MAX_AGE))


@dataclass(frozen=True)
class SweepResult:
    files: int  # pending staged files deleted with their rows
    orphans: int  # files under STAGING_ROOT without a row nor an audit row naming them (staged before rows)
    stuck: int  # claimed rows older than the bound (a commit that died midway), left alone


def staged_imports_sweep(*, now: dt.datetime | None = None) -> SweepResult:
    """Deletes the staged files nobody confirmed within ``staged_max_age()``, and their rows. Idempotent.

    Kept: committed files (the imports' original files, named in their audit rows) and claimed ones (a
    commit under way, or one that died midway and may have written: an operator decides)."""
    cutoff = (now or timezone.now()) - staged_max_age()
    old = StagedImport.objects.filter(created_at__lt=cutoff)
    files = 0
    # A list, not iterator(): SQLite gives no isolation between a cursor still reading and the deletes below.
    for pk, path in list(old.filter(state=StagedImportState.PENDING).values_list("pk", "path")):
        if _delete_file(path):
            # Conditional, as the claim: a row claimed meanwhile is not taken from under its commit.
            files += StagedImport.objects.filter(pk=pk, state=StagedImportState.PENDING).delete()[0]
    orphans = sum(_delete_file(path) for path in _orphans(cutoff))
    stuck = old.filter(state=StagedImportState.CLAIMED).count()
    if stuck:
        logger.warning("staged imports: %d claimed for longer than %s; left for an operator", stuck, staged_max_age())
    logger.info("staged imports swept: %d files (and %d files without a row) older than %s", files, orphans, cutoff)
    return SweepResult(files=files, orphans=orphans, stuck=stuck)


def _delete_file(path: str) -> bool:
    try:
        default_storage.delete(path)  # no error when the file is already gone
    except OSError as exc:
        logger.warning("staged imports: could not delete %s: %s", path, exc)  # the row stays: tried again
        return False
    return True


def _orphans(cutoff: dt.datetime) -> list[str]:
    """Files under STAGING_ROOT older than `cutoff` without a row: staged before staging had rows. One that an
    audit row names (an import's original file, in extra["file"]) is kept and gets a committed row, so that it
    is looked up once; the others are answered, to be deleted."""
    found: list[str] = []
    paths = list(_walk(STAGING_ROOT))
    for start in range(0, len(paths), 500):
        chunk = paths[start : start + 500]
        known = set(StagedImport.objects.filter(path__in=chunk).values_list("path", flat=True))
        old = [path for path in chunk if path not in known and default_storage.get_modified_time(path) < cutoff]
        named = set(AuditEvent.objects.filter(extra__file__in=old).values_list("extra__file", flat=True))
        StagedImport.objects.bulk_create(
            [StagedImport(path=path, state=StagedImportState.COMMITTED) for path in sorted(named)],
            ignore_conflicts=True,
        )
        found += [path for path in old if path not in named]
    return found


def _walk(folder: str) -> Iterator[str]:
    try:
        dirs, names = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in sorted(names):
        yield f"{folder}/{name}"
    for name in sorted(dirs):
        yield from _walk(f"{folder}/{name}")


# --------------------------------------------------------------------------------------------
# The pages
# --------------------------------------------------------------------------------------------


class ImportFileForm(forms.Form):
    file = forms.FileField(
        label="Excel 文件（.xlsx）",
        error_messages={"required": "请选择要上传的 Excel 文件。", "empty": "上传的文件为空。"},
    )


@dataclass(frozen=True)
class ImportPage:
    """The labels and links of one importer's pages; the shared preview template reads them."""

    heading: str  # "导入预览"
    crumbs: tuple[tuple[str, str | Promise], ...]  # (label, url) before the last, unlinked one
    form_template: str  # the upload form, included under the errors
    confirm_url: str | Promise
    restart_url: str | Promise
    testid: str = "import"  # prefix of the summary / errors / rows test ids
    commit_testid: str = "commit-form"
    confirm_fields: dict[str, str] = field(default_factory=lambda: {"action": "commit"})


def max_mb() -> int:
    return int(settings.UPLOAD_MAX_BYTES) // (1024 * 1024)


def render_preview(
    request: HttpRequest,
    flow: ImportPage,
    *,
    result: ImportResult,
    token: str,
    status: int,
    stale: bool = False,
    rows: Any = None,
    **extra: Any,
) -> HttpResponse:
    """The preview page: counts, per-row errors, the rows as they will be saved, the confirm form if it passes."""
    context = {
        "flow": flow,
        "result": result,
        "rows": result.rows if rows is None else rows,
        "token": token,
        "stale": stale,
        "max_mb": max_mb(),
        **extra,
    }
    return render(request, PREVIEW_TEMPLATE, context, status=status)


@dataclass(frozen=True)
class ImportFlow:
    """One importer's page on the shared mechanism (``import_page`` serves it)."""

    importer: Importer
    staging: StagedUploads
    page: ImportPage
    form_template: str  # the upload page
    template_workbook: Callable[[User], Any]
    template_file_name: str
    success_url: str
    form_class: type[forms.Form] = ImportFileForm


# Module functions rather than methods, so that the upload sweep of tests/security finds the
# ``request.FILES`` of every import page by walking the functions a view names.


def import_page(request: HttpRequest, *, user: User, flow: ImportFlow) -> HttpResponseBase:
    """GET: the upload form (``?template=1``: the template workbook). POST: the preview, or the commit."""
    if request.method == "GET":
        if request.GET.get("template"):
            stream = flow.template_workbook(user)
            return FileResponse(stream, as_attachment=True, filename=flow.template_file_name)
        return _render_form(request, flow, flow.form_class())
    if request.method != "POST":
        return HttpResponse(status=405)
    if request.POST.get("action") == "commit":
        return _commit(request, user=user, flow=flow)
    return _preview(request, user=user, flow=flow)


def _render_form(
    request: HttpRequest, flow: ImportFlow, form: forms.Form, *, status: int = 200, error: str = ""
) -> HttpResponse:
    context = {"form": form, "error": error, "max_mb": max_mb()}
    return render(request, flow.form_template, context, status=status)


def _preview(request: HttpRequest, *, user: User, flow: ImportFlow) -> HttpResponse:
    form = flow.form_class(request.POST, request.FILES)
    if not form.is_valid():
        return _render_form(request, flow, form, status=400)
    upload = form.cleaned_data["file"]
    file_name = str(upload.name)[:200]
    try:
        data = read_bytes(upload)  # bounded; the importer's open_table checks the workbook itself
    except SpreadsheetError as exc:
        form.add_error("file", exc.message)
        return _render_form(request, flow, form, status=400)
    result = flow.importer.validate(source=data, user=user, file_name=file_name)
    token = flow.staging.stage(user=user, data=data, file_name=file_name) if result.ok else ""
    status = 200 if result.ok else 400
    return render_preview(request, flow.page, result=result, token=token, status=status, form=flow.form_class())


def _commit(request: HttpRequest, *, user: User, flow: ImportFlow) -> HttpResponse:
    try:
        staged = flow.staging.load(request.POST.get("token", ""), user=user)
    except (StagedUploadGone, StagedFileMissing) as exc:
        return _render_form(request, flow, flow.form_class(), status=400, error=str(exc))
    try:
        with flow.staging.claim(staged) as done:
            result = flow.importer.commit(
                source=staged.data, user=user, file_name=staged.file_name, stored_path=staged.path
            )
            done(result.committed)
    except StagedUploadGone as exc:  # the other of two racing confirmations
        return _render_form(request, flow, flow.form_class(), status=400, error=str(exc))
    if not result.committed:
        # Something changed since the preview: nothing was written.
        return render_preview(
            request, flow.page, result=result, token="", status=409, stale=True, form=flow.form_class()
        )  # nosec B106 # an empty preview token, not a password
    messages.success(request, f"导入完成：{result.summary()}。")
    return redirect(flow.success_url)


__all__ = [
    "COMMITTED_MESSAGE",
    "EXPIRED_MESSAGE",
    "ImportFileForm",
    "ImportFlow",
    "ImportPage",
    "Importer",
    "Staged",
    "StagedFileMissing",
    "StagedUploadGone",
    "StagedUploads",
    "import_page",
    "render_preview",
    "sign_ref",
    "staged_imports_sweep",
    "unsign_ref",
]
