"""The REST API (/api/v1/): bearer tokens, the same scope and masking as the pages.

Each app adds its router in ``<app>/api.py``; this module assembles them. Errors have one
shape: 422 ``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}`` for bad input,
404 for objects outside the caller's scope, 403 for a forbidden action.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.security import HttpBearer

from fangkong.org.services import user_for_api_key


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_api_key(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="fangkong API",
    version="1",
    description="防控 REST API. Authenticate with 'Authorization: Bearer <token>' "
    "(python manage.py api_token USERNAME).",
    auth=BearerToken(),
    urls_namespace="api",
)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        detail = [
            {"loc": ["body", field], "msg": message, "type": "value_error"}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    else:
        detail = [{"loc": ["body"], "msg": m, "type": "value_error"} for m in exc.messages]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(
        request, {"detail": _("Your role does not allow this action.")}, status=403
    )


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": _("Not found.")}, status=404)


def _add_routers() -> None:
    from fangkong.alerts.api import router as alerts_router
    from fangkong.checkpoints.api import router as checkpoints_router
    from fangkong.observation.api import router as observation_router
    from fangkong.org.api import router as org_router
    from fangkong.reporting.api import router as reporting_router
    from fangkong.screening.api import router as screening_router

    api.add_router("/", org_router)
    api.add_router("/", screening_router)
    api.add_router("/", observation_router)
    api.add_router("/", alerts_router)
    api.add_router("/", reporting_router)
    api.add_router("/", checkpoints_router)


_add_routers()

# Django tries a URLconf's patterns in order, and the API has about eighty. The phones' hot
# paths (a temperature reading, an entry at the gate) are tried first: at a morning peak they
# are most of the requests, and reaching them after every other pattern cost about a tenth of
# a reading's time. Their patterns overlap no other, so the order changes nothing else; the
# OpenAPI document keeps the routers' order.
HOT_OPERATIONS = ("record_reading", "log_entry")


def urls() -> tuple[list[Any], str, str]:
    """``api.urls`` with the :data:`HOT_OPERATIONS` first."""
    patterns, app_name, namespace = api.urls

    def hot(pattern: Any) -> bool:
        return getattr(pattern, "name", None) in HOT_OPERATIONS

    first = [p for p in patterns if hot(p)]
    return [*first, *(p for p in patterns if not hot(p))], app_name, namespace
