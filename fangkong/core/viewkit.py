"""View helpers shared by every app: permission marking, htmx partial rendering, pagination."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from functools import wraps
from typing import IO, TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Model, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.functional import cached_property
from django_htmx.middleware import HtmxDetails

from fangkong.core.permissions import Perm
from fangkong.core.scoping import has_perm
from fangkong.core.tabular.writing import XLSX_CONTENT_TYPE

if TYPE_CHECKING:
    from fangkong.org.models import User


class AuthedRequest(HttpRequest):
    """The request a logged-in view receives (for type checking)."""

    user: User
    htmx: HtmxDetails


def requires(
    perm: Perm,
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Log-in required, and ``perm`` held somewhere (else 403). The permission is recorded on
    the view (``view.fk_perm``) so the generic scope test knows what each page needs."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not has_perm(request.user, perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        guarded = login_required(wrapped)
        guarded.fk_perm = perm  # type: ignore[attr-defined]
        return guarded

    return decorator


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any], *, partial: str | None = None
) -> HttpResponse:
    """Render the full page, or only ``template#partial`` for an htmx request."""
    if partial and getattr(request, "htmx", False) and not request.htmx.boosted:  # type: ignore[attr-defined]
        response = render(request, f"{template}#{partial}", context)
    else:
        response = render(request, template, context)
    response.headers["Vary"] = "HX-Request"
    return response


def apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: each message on its field when the form
    has that field, otherwise at the top of the form."""
    if hasattr(error, "error_dict"):
        for field, field_messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, field_messages)
    else:
        form.add_error(None, error.messages)


def save_form(
    request: HttpRequest,
    form: forms.Form,
    save: Callable[[dict[str, Any]], tuple[Model, Sequence[str]]],
    success_message: str,
) -> HttpResponse | None:
    """Validate a POSTed form and call ``save`` (a service call returning the saved object and
    its warnings). Returns the redirect to the object on success, None to show the form again
    with the service's field errors."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        obj, warnings = save(form.cleaned_data)
    except ValidationError as error:
        apply_service_errors(form, error)
        return None
    messages.success(request, success_message)
    for warning in warnings:
        messages.warning(request, warning)
    return redirect(obj.get_absolute_url())  # type: ignore[attr-defined]


class CappedPaginator(Paginator):
    """A paginator that counts at most ``cap`` + 1 rows: past the cap the list says "more
    than <cap>" instead of counting hundreds of thousands of rows on every request (the
    database stops at the cap). ``capped`` tells which; pages stay reachable up to the cap.
    """

    def __init__(self, object_list: QuerySet[Any], per_page: int, *, cap: int) -> None:
        super().__init__(object_list, per_page)
        self.queryset = object_list
        self.cap = cap

    @cached_property
    def count(self) -> int:
        return self.queryset.order_by()[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap


def xlsx_response(write: Callable[[IO[bytes]], object], filename: str) -> FileResponse:
    """The file ``write`` produces, written to a temporary file first (memory stays flat
    however large it is) and sent from there; the file is deleted once sent."""
    file = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (FileResponse closes it)
    try:
        write(file)
        file.seek(0)
    except BaseException:
        file.close()
        raise
    return FileResponse(file, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)


def paginate(
    request: HttpRequest,
    queryset: QuerySet[Any],
    per_page: int | None = None,
    *,
    count_cap: int | None = None,
) -> Page:
    """The page of ``queryset`` the request asks for. With ``count_cap``, the count stops
    there (see :class:`CappedPaginator`)."""
    size = per_page or settings.PAGE_SIZE
    paginator = (
        CappedPaginator(queryset, size, cap=count_cap)
        if count_cap is not None
        else Paginator(queryset, size)
    )
    return paginator.get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def list_page(
    request: HttpRequest,
    template: str,
    rows: QuerySet[Any],
    context: dict[str, Any] | None = None,
    *,
    per_page: int | None = None,
    count_cap: int | None = None,
    partial: str | None = "results",
) -> HttpResponse:
    """A list page: ``context`` with the ``page`` of ``rows`` the request asks for (see
    :func:`paginate`) and the ``query`` of its links (the request's parameters but the
    page), rendered by :func:`render_page` (only ``partial`` for htmx); with ``partial``
    None, the whole page always."""
    page = paginate(request, rows, per_page, count_cap=count_cap)
    full = {**(context or {}), "page": page, "query": query_without_page(request)}
    if partial is None:
        return render(request, template, full)
    return render_page(request, template, full, partial=partial)


def filter_summary(form: forms.Form) -> list[tuple[str, str]]:
    """The filters in force in a bound filter form, as (label, value) pairs to show."""
    if not form.is_bound or not form.is_valid():
        return []
    summary = []
    for name, value in form.cleaned_data.items():
        if value in (None, "", False):
            continue
        field = form.fields[name]
        shown = "" if value is True else str(value)
        choices = dict(getattr(field, "choices", ()) or ())
        if isinstance(value, str) and value in choices:
            shown = str(choices[value])
        summary.append((str(field.label), shown))
    return summary


def ledger_export(
    request: HttpRequest,
    *,
    read_filters: Callable[[Any, Any], tuple[forms.Form, Any]],
    rows: Callable[[Any, Any], QuerySet[Any]],
    write: Callable[..., object],
    filename: str,
    confirm_template: str,
) -> HttpResponseBase:
    """The export of a ledger, the same for every ledger.

    GET: the ledger with its filters (``read_filters(data, user)`` → (form, filters)) as an
    Excel file (``write(file, user=…, filters=…, unmasked=…)``), numbers masked. GET with
    ``full=1``: what an export with full numbers holds (``rows(user, filters)``, of which
    those the user may reveal) and that it is recorded, with a button to confirm. POST (the
    confirmation, with the filters): the file with full numbers. Full numbers need
    ``pii.reveal`` (else 403)."""
    from fangkong.core.scoping import restrict

    user = request.user
    if request.method == "POST":
        if not has_perm(user, Perm.PII_REVEAL):
            raise PermissionDenied
        _form, filters = read_filters(request.POST, user)
        return xlsx_response(
            lambda file: write(file, user=user, filters=filters, unmasked=True), filename
        )
    if not request.GET.get("full"):
        _form, filters = read_filters(request.GET, user)
        return xlsx_response(lambda file: write(file, user=user, filters=filters), filename)
    if not has_perm(user, Perm.PII_REVEAL):
        raise PermissionDenied
    form, filters = read_filters(request.GET, user)
    listed = rows(user, filters)
    count = restrict(listed, user, Perm.PII_REVEAL).count()
    params = request.GET.copy()
    params.pop("full", None)
    params.pop("page", None)
    context = {
        "form": form,
        "summary": filter_summary(form),
        "count": count,
        "left_out": listed.count() - count,
        "hidden": [
            (name, value)
            for name, values in params.lists()
            if name in form.fields
            for value in values
        ],
        "query": params.urlencode(),
    }
    return render(request, confirm_template, context)
