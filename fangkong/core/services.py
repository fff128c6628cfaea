"""Writes to the shared records of :mod:`fangkong.core.models`."""

from __future__ import annotations

from typing import Any

from fangkong.core.models import SensitiveAccess


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


def attribute_history(obj: Any, actor: Any) -> None:
    """Attribute the audit-trail record of ``obj``'s next save to ``actor`` (a signed-in
    user; nobody for the system itself or the command-line operator)."""
    if actor is not None and getattr(actor, "pk", None) is not None and actor.is_authenticated:
        obj._history_user = actor
