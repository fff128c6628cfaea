"""Writes to the shared records of :mod:`fangkong.core.models`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from fangkong.core.models import SensitiveAccess
from fangkong.core.permissions import Perm


def record_reveal(
    *, user: Any, object_type: str, object_id: int, detail: dict[str, Any]
) -> SensitiveAccess:
    """Record that ``user`` was shown the full ID or phone number of one record (PIPL)."""
    return SensitiveAccess.objects.create(
        user=user,
        action=SensitiveAccess.Action.REVEAL,
        object_type=object_type,
        object_id=object_id,
        detail=detail,
    )


def record_export(
    *,
    user: Any | None,
    object_type: str,
    filters: dict[str, Any],
    rows: int,
    via: str = "web",
) -> SensitiveAccess:
    """Record an export of unmasked personal data in the audit trail (PIPL): who (``None``
    for the operator at the command line), when, what (``object_type``, e.g.
    ``"person_ledger"``), with which filters (JSON-ready values), how many rows, and
    ``via`` (``"web"`` or ``"cli"``). Every export of full ID or phone numbers calls this."""
    return SensitiveAccess.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        action=SensitiveAccess.Action.EXPORT,
        object_type=object_type,
        detail={"via": via, "filters": filters, "rows": rows},
    )


def acting_user(actor: Any) -> Any | None:
    """The signed-in user behind ``actor``, to record as who did something; None for the
    system itself (``actor=None``) or the command-line operator."""
    if actor is not None and getattr(actor, "pk", None) is not None and actor.is_authenticated:
        return actor
    return None


def attribute_history(obj: Any, actor: Any) -> None:
    """Attribute the audit-trail record of ``obj``'s next save to ``actor`` (a signed-in
    user; nobody for the system itself or the command-line operator)."""
    user = acting_user(actor)
    if user is not None:
        obj._history_user = user


def check_actor_on(actor: Any, perm: Perm, obj: Any) -> None:
    """PermissionDenied unless ``actor`` may do ``perm`` on ``obj`` (a unit or a scoped
    record); the system itself (``actor=None``) may do everything."""
    if actor is not None:
        from fangkong.core.scoping import check_perm_on

        check_perm_on(actor, perm, obj)


def clean_text(
    value: Any, field: str, max_length: int, *, required: str = "", collapse: bool = False
) -> str:
    """``value`` as stripped text (with ``collapse``, every run of spaces and line breaks
    made one space); ValidationError on ``field`` when it is empty and ``required`` (the
    message) or longer than ``max_length``."""
    text = str(value or "")
    text = " ".join(text.split()) if collapse else text.strip()
    if required and not text:
        raise ValidationError({field: required})
    if len(text) > max_length:
        raise ValidationError(
            {field: _("Keep this under %(max)d characters.") % {"max": max_length}}
        )
    return text
