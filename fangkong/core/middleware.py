"""Session idle timeout: a session unused for SESSION_IDLE_TIMEOUT seconds is ended.

The last-activity time is written at most once a minute, so that reading pages does not turn
every request into a database write.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

_KEY = "fk_last_seen"
_WRITE_EVERY = 60


class IdleTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(_KEY)
            if last_seen is not None and now - last_seen > settings.SESSION_IDLE_TIMEOUT:
                logout(request)
                request.session["fk_idle_logout"] = True
            elif last_seen is None or now - last_seen >= _WRITE_EVERY:
                request.session[_KEY] = now
        return self.get_response(request)
