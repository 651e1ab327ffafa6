"""Helpers shared by the pages of field work, and the download of their files."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from inspections.models import DeliverableSubmission, EnforcementAttachment, InspectionPhoto, SelfCheckEvidence
from portal import rules
from portal.images import is_image_name, thumbnail_name
from portal.models import User
from portal.scoping import visible_or_404

PAGE_SIZE = 30


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _form_errors(form: Any, exc: ValidationError) -> None:
    """A service's ValidationError onto the form: by field when the form has it, else as a form error."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = field if field in form.fields else None
            for message in errors:
                form.add_error(target, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def _page(request: HttpRequest, queryset: Any) -> tuple[Any, str]:
    paginator = Paginator(queryset, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


def _record_list(
    request: HttpRequest, *, user: User, base: Any, filterset: Any, template: str, **extra: Any
) -> HttpResponse:
    """The field-work lists' one shape (inspections, exams, enforcement, talks): the bound filter's rows (all of
    ``base`` unfiltered), one page of them, and whether the user may record new ones."""
    queryset = filterset.qs if filterset.is_bound else base
    page, query = _page(request, queryset)
    context = {
        "filter": filterset,
        "page": page,
        "query": query,
        "can_record": rules.may(user, "inspections.record_field_work"),
        **extra,
    }
    return render(request, template, context)


# --- Files ------------------------------------------------------------------------------------

FILE_MODELS: dict[str, type[Model]] = {
    "enforcement": EnforcementAttachment,
    "photo": InspectionPhoto,
    "evidence": SelfCheckEvidence,
    "submission": DeliverableSubmission,
}


@login_required
def file_download(request: HttpRequest, kind: str, pk: int) -> HttpResponseBase:
    """Every stored file is served through here, after the scope check (404 outside it)."""
    model = FILE_MODELS.get(kind)
    if model is None:
        raise Http404
    obj: Any = visible_or_404(request, model, pk=pk)
    # ?thumb=1: a photo's server-made thumbnail, the only image pages embed. An uploaded image itself is
    # always a download (a browser never decodes it inline); ?inline=1 still shows a PDF in the browser.
    thumb = request.GET.get("thumb") == "1"
    stored = getattr(obj, "thumbnail", None) if thumb else obj.file
    if not stored or not stored.name:
        raise Http404
    try:
        handle = stored.open("rb")
    except OSError as exc:
        raise Http404 from exc
    name = obj.original_name or stored.name.rsplit("/", 1)[-1]
    if thumb:
        return FileResponse(handle, as_attachment=False, filename=thumbnail_name(name))
    inline = request.GET.get("inline") == "1" and not is_image_name(name)
    return FileResponse(handle, as_attachment=not inline, filename=name)
