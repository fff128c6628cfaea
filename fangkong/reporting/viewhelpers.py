"""Helpers shared by the daily report's pages: the day a page is about, the permission of the
review pages, trying a service call without keeping it (to confirm before doing), and the
pieces of the big tables built once in Python (a value as ``{{ value }}`` shows it, a link
per id with one ``reverse()``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.template import Context
from django.template.base import render_value_in_context
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe

from fangkong.core.permissions import Perm
from fangkong.core.scoping import has_perm

T = TypeVar("T")


def day_param(request: HttpRequest, name: str = "day") -> dt.date:
    """The day a page is about (``?day=2020-02-05``): today when absent or not a date."""
    raw = request.GET.get(name, "")
    try:
        return dt.date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError:
        return timezone.localdate()


def requires_any(
    main: Perm, *others: Perm
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Like :func:`fangkong.core.viewkit.requires`, for a page that more than one permission
    opens (reviewing: the office's ``reporting.review``, or ``reporting.file`` of a unit head
    for a grid's sub-report; the service decides on the report itself). ``main`` is recorded
    as the page's permission for the generic scope test."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not any(has_perm(request.user, perm) for perm in (main, *others)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        guarded = login_required(wrapped)
        guarded.fk_perm = main  # type: ignore[attr-defined]
        return guarded

    return decorator


class _DryRun(Exception):
    """Rolls back a service call made only to learn what it would do."""


def try_out(call: Callable[[], T]) -> tuple[T | None, ValidationError | None]:
    """What the service call would return, or what it would refuse, with nothing kept: the
    service alone decides (the confirmation page asks only about what it will accept). The
    result is read inside the transaction and must not be saved again."""
    outcome: list[T] = []
    try:
        with transaction.atomic():
            outcome.append(call())
            raise _DryRun
    except _DryRun:
        return outcome[0], None
    except ValidationError as error:
        return None, error


def html_value(value: Any) -> str:
    """``value`` as ``{{ value }}`` renders it (localised, escaped), without the template's
    cost for the common cases: a text is only escaped, an integer is its digits when no
    thousand separator is in use (what the localisation gives then)."""
    kind = type(value)
    if kind is str:
        return escape(value)
    if kind is int and not settings.USE_THOUSAND_SEPARATOR:
        return str(value)
    return render_value_in_context(value, _CONTEXT)


_CONTEXT = Context()  # autoescape, localisation and time zone as the settings say


_MARK = 9876543210  # an id no real object has, to find where the id goes in a URL


def url_for_id(name: str) -> Callable[[int], str]:
    """``url(pk)`` == ``reverse(name, args=[pk])``, HTML-escaped (as ``{% url %}`` writes it),
    with a single ``reverse()`` for every id of a page."""
    head, tail = conditional_escape(reverse(name, args=[_MARK])).split(str(_MARK), 1)
    return lambda pk: f"{head}{pk}{tail}"


def _attrs_html(attrs: dict[str, Any]) -> str:
    """Django's ``django/forms/widgets/attrs.html`` in Python."""
    return "".join(
        f" {escape(name)}" if value is True else f' {escape(name)}="{html_value(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


def select_html(field: Any, css_class: str) -> SafeString:
    """A bound field's ``<select>`` exactly as ``{% field_widget field css_class %}`` renders
    it (Bootstrap class, error wiring), written in Python: a select of many options (600
    units) costs a template include per option otherwise."""
    widget = field.field.widget
    if not isinstance(widget, forms.Select) or widget.allow_multiple_selected:
        raise TypeError("select_html draws a single <select> only")
    wanted = {"class": css_class.replace("form-control", "form-select")}
    if field.errors:
        wanted["aria-invalid"] = "true"
        wanted["aria-describedby"] = f"{field.auto_id}_error"
    attrs = field.build_widget_attrs(wanted, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    drawn = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    parts = [f'<select name="{html_value(drawn["name"])}"{_attrs_html(drawn["attrs"])}>']
    for group_name, group_choices, _index in drawn["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{html_value(group_name)}">')
        parts.extend(
            f'\n  <option value="{html_value(str(option["value"]))}"'
            f"{_attrs_html(option['attrs'])}>{html_value(option['label'])}</option>\n"
            for option in group_choices
        )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return mark_safe("".join(parts).strip())
