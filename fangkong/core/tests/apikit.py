"""Helpers of the API tests: a client with a user's bearer token (answers in English) and
reading its answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.test import Client

from fangkong.org import services as org_services

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

BASE = "/api/v1"


class Api:
    """Calls of the API under ``base`` with the bearer ``token``."""

    def __init__(self, token: str, *, base: str = BASE) -> None:
        self.client = Client()
        self.base = base
        self.headers = {"Accept-Language": "en", "Authorization": f"Bearer {token}"}

    def get(self, path: str, **params: Any) -> Response:
        return self.client.get(self.base + path, params, headers=self.headers)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Response:
        return self.client.post(
            self.base + path,
            json.dumps(body or {}),
            content_type="application/json",
            headers=self.headers,
        )


ApiFor = Callable[[str], Api]


def token_api(world: Any, username: str, *, base: str = BASE) -> Api:
    """An :class:`Api` with a new token of the world's user ``username``."""
    _token, key = org_services.issue_api_token(user=world.user(username), name="test")
    return Api(key, base=base)


def ok(response: Response, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json()


def errors(response: Response) -> list[tuple[list[Any], str]]:
    """The (loc, msg) pairs of a 422."""
    assert response.status_code == 422, response.content
    return [(e["loc"], e["msg"]) for e in response.json()["detail"]]
