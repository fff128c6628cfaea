"""Template filters of the daily report's pages: how a board status is named and coloured,
and a value of a mapping by key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

from ..forms import BOARD_CSS, BOARD_LABELS

register = template.Library()


@register.filter
def board_label(status: str) -> Any:
    """``on_time`` → "Submitted on time" (translated)."""
    return BOARD_LABELS.get(status, status)


@register.filter
def board_css(status: str) -> str:
    return BOARD_CSS.get(status, "text-bg-secondary")


@register.filter
def get(mapping: Mapping[Any, Any] | None, key: Any) -> Any:
    """``mapping[key]``, or "" (``{{ unit.values|get:line.code }}``)."""
    if mapping is None:
        return ""
    value = mapping.get(key)
    return "" if value is None else value


@register.filter
def case_what(what: str) -> Any:
    """What an abnormal case is about, in words (``fever`` → "Fever")."""
    from ..exports import CASE_WHAT

    return CASE_WHAT.get(what, what)


@register.filter
def symptoms(codes: Any) -> str:
    from fangkong.core.health import symptom_labels

    return symptom_labels(list(codes or []))
