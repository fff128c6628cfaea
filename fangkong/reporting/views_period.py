"""Completeness and timeliness (DHIS2 style) over a period: the calendar matrix (units × days,
a cell per status, with a legend), the rates per unit and overall, a page of units at a time.

Query budget: the filter's units, then the selector's three queries (rules, units, reports)
whatever the number of units and days; the page is cut from the computed rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.utils import dateformat, timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from fangkong.core.permissions import Perm
from fangkong.core.viewkit import (
    AuthedRequest,
    apply_service_errors,
    query_without_page,
    render_page,
    requires,
)

from . import selectors
from .forms import DEFAULT_PERIOD_DAYS, PeriodForm
from .selectors import Cell
from .viewhelpers import html_value, select_html, url_for_id

UNITS_PER_PAGE = 50
QUICK_PERIODS = (7, 30, 90)  # days, offered as links

# The cells as the legend and the matrix show them: a symbol (not only a colour), a class.
CELLS = [
    (Cell.ON_TIME, "✓", "cell-on-time"),
    (Cell.LATE, "!", "cell-late"),
    (Cell.RETURNED, "↺", "cell-returned"),
    (Cell.MISSING, "✗", "cell-missing"),
    (Cell.NOT_DUE, "·", "cell-not-due"),
]


@dataclass
class MatrixLine:
    """A unit's row of the matrix as the page shows it: the unit's rates, and its day cells
    ready as HTML (per day a status symbol and class, a link to the day's report)."""

    row: selectors.UnitRow
    cells: SafeString


def _lines(rows: Any, days: list[dt.date]) -> list[MatrixLine]:
    """The page's rows, each day's cell written once here (a cell per unit and day: a
    template loop and a ``{% url %}`` per cell cost more than the selector)."""
    report_url = url_for_id("reporting:report")
    shown = {
        key: (html_value(symbol), html_value(key), html_value(css)) for key, symbol, css in CELLS
    }
    titles = [html_value(dateformat.format(day, "Y-m-d")) for day in days]
    lines = []
    for row in rows:
        cells = []
        for title, cell, report in zip(titles, row.cells, row.reports, strict=True):
            symbol, key, css = shown[cell]
            inner = f'<a href="{report_url(report)}">{symbol}</a>' if report else symbol
            cells.append(f'<td class="cell {css}" data-cell="{key}" title="{title}">{inner}</td>')
        lines.append(MatrixLine(row, mark_safe("".join(cells))))
    return lines


@require_GET
@requires(Perm.REPORTING_VIEW)
def completeness(request: AuthedRequest) -> HttpResponse:
    """The matrix and the rates of the chosen period (the last 7 days by default; at most
    the selector's cap of days: a longer period is refused with its message)."""
    user = request.user
    today = timezone.localdate()
    form = PeriodForm(request.GET or None, user=user)
    start, end, unit = form.period(today)
    try:
        matrix = selectors.completeness_matrix(user, start, end, unit=unit)
    except ValidationError as error:
        if form.is_bound:
            apply_service_errors(form, error)
        start, end = today - dt.timedelta(days=DEFAULT_PERIOD_DAYS - 1), today
        matrix = selectors.completeness_matrix(user, start, end, unit=unit)
    page = Paginator(matrix.rows, UNITS_PER_PAGE).get_page(request.GET.get("page"))
    counts = matrix.counts()
    return render_page(
        request,
        "reporting/completeness.html",
        {
            "form": form,
            # drawn only when shown (not in the htmx answer, the results alone)
            "unit_select": partial(select_html, form["unit"], "form-select form-select-sm"),
            "matrix": matrix,
            "page": page,
            "lines": _lines(page.object_list, matrix.days),
            "query": query_without_page(request),
            "legend": [(key, symbol, css, counts.get(key, 0)) for key, symbol, css in CELLS],
            "max_days": selectors.MAX_DAYS,
            "quick": [
                (days, (today - dt.timedelta(days=days - 1)).isoformat(), today.isoformat())
                for days in QUICK_PERIODS
            ],
            "unit": unit,
        },
        partial="results",
    )
