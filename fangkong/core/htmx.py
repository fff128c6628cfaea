"""View helpers shared by every app: permission marking, htmx partial rendering, pagination."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails

from fangkong.core.permissions import Perm
from fangkong.core.scoping import has_perm

if TYPE_CHECKING:
    from fangkong.org.models import User


class AuthedRequest(HttpRequest):
    """The request a logged-in view receives (for type checking)."""

    user: User
    htmx: HtmxDetails


def requires(perm: Perm) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Log-in required, and ``perm`` held somewhere (else 403). The permission is recorded on
    the view (``view.fk_perm``) so the generic scope test knows what each page needs."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
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


def paginate(request: HttpRequest, queryset: QuerySet[Any], per_page: int | None = None) -> Page:
    paginator = Paginator(queryset, per_page or settings.PAGE_SIZE)
    return paginator.get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
