"""The URLconf of the ``reading_throughput`` benchmark's server (see bench_settings): every URL
of the app, plus ``/bench/bare``, a JSON view that does what Django does for any request (the
same middleware) and nothing else — no authentication, no database — against which the
readings endpoint is measured; and ``/bench/bare-auth``, the same after checking the bearer
token as the API does (one query), to tell the cost of authentication from the rest."""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from fangkong.org.services import user_for_api_key
from fangkong.urls import urlpatterns as app_urlpatterns


@csrf_exempt
@require_POST
def bare(request: HttpRequest) -> JsonResponse:
    """Parse the JSON body and answer 201, as an API endpoint would."""
    body = json.loads(request.body or b"{}")
    return JsonResponse({"ok": True, "fields": len(body)}, status=201)


@csrf_exempt
@require_POST
def bare_auth(request: HttpRequest) -> JsonResponse:
    """:func:`bare` for the holder of a valid bearer token only."""
    scheme, _space, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or user_for_api_key(key.strip()) is None:
        return JsonResponse({"detail": "Unauthorized"}, status=401)
    return bare(request)


urlpatterns = [
    path("bench/bare", bare, name="bench_bare"),
    path("bench/bare-auth", bare_auth, name="bench_bare_auth"),
    *app_urlpatterns,
]
