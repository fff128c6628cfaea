from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from fangkong.core.permissions import Perm
from fangkong.core.scoping import has_perm


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the menu shows: one flag per permission the user holds somewhere."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"perms_fk": {}}
    return {"perms_fk": {perm.name.lower(): has_perm(user, perm) for perm in Perm}}
