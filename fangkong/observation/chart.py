"""The temperature chart of one episode, drawn on the server as SVG.

Plain SVG with no script, no link and no font to fetch: it prints as drawn, as an ``<img>``
(``chart.svg``) or inline in 一人一表. One column per day of the episode; each day has its
morning and afternoon check (at a quarter and three quarters of the column) joined by a line
that breaks where a check is missing, so a gap on paper is a missed check; a reading outside
the windows is an open circle at its time of day. The fever threshold is a dashed line.
Every reading is one ``<circle class="reading …">`` with its value in a ``<title>``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from .models import TemperatureReading
from .selectors import DayRow

WIDTH = 720
HEIGHT = 250
LEFT = 40  # room for the °C labels
RIGHT = 54  # room for the threshold's label
TOP = 26  # room for the legend
BOTTOM = 26  # room for the day labels
Y_MIN = Decimal("35")
Y_MAX = Decimal("41")
MAX_DAY_LABELS = 16  # more days than this: label every second (third…) day
MORNING_AT = 0.25  # where in its day's column a check is drawn
AFTERNOON_AT = 0.75

INK = "#222"
GRID = "#d9d9d9"
FEVER = "#c00000"
LINE = "#1f4e9b"


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    reading: TemperatureReading
    in_window: bool


def _plot_width() -> float:
    return WIDTH - LEFT - RIGHT


def _plot_height() -> float:
    return HEIGHT - TOP - BOTTOM


def y_of(value: Decimal) -> float:
    """The y of a temperature; one off the axis is drawn at its edge (its title says it)."""
    clamped = min(max(Decimal(value), Y_MIN), Y_MAX)
    return round(TOP + float((Y_MAX - clamped) / (Y_MAX - Y_MIN)) * _plot_height(), 1)


def _x(days: int, index: int, fraction: float) -> float:
    return round(LEFT + (index + fraction) * _plot_width() / days, 1)


def _time_fraction(reading: TemperatureReading) -> float:
    local = timezone.localtime(reading.taken_at)
    return (local.hour * 60 + local.minute) / (24 * 60)


def _title(reading: TemperatureReading) -> str:
    local = timezone.localtime(reading.taken_at)
    return f"{local:%Y-%m-%d %H:%M} {reading.value} °C"


def _fmt(number: float) -> str:
    return f"{number:g}"


def lines_and_points(days: Sequence[DayRow]) -> tuple[list[list[Point]], list[Point]]:
    """The line segments (checks in a row without a missing one) and every reading's point."""
    count = max(len(days), 1)
    segments: list[list[Point]] = []
    current: list[Point] = []
    points: list[Point] = []
    for index, row in enumerate(days):
        for reading, fraction in ((row.morning, MORNING_AT), (row.afternoon, AFTERNOON_AT)):
            if reading is None:
                if current:
                    segments.append(current)
                current = []
                continue
            point = Point(_x(count, index, fraction), y_of(reading.value), reading, True)
            current.append(point)
            points.append(point)
        for reading in row.others:
            x = _x(count, index, _time_fraction(reading))
            points.append(Point(x, y_of(reading.value), reading, False))
    if current:
        segments.append(current)
    return [s for s in segments if len(s) > 1], points


def _axes(days: Sequence[DayRow], parts: list[str]) -> None:
    count = max(len(days), 1)
    left, right = LEFT, WIDTH - RIGHT
    tenth = Decimal("0.5")
    value = Y_MIN
    while value <= Y_MAX:
        y = _fmt(y_of(value))
        whole = value == value.to_integral_value()
        parts.append(
            f'<line x1="{left}" y1="{y}" x2="{right}" y2="{y}" stroke="{GRID}"'
            f' stroke-width="{1 if whole else 0.5}"/>'
        )
        if whole:
            parts.append(
                f'<text x="{left - 6}" y="{y}" text-anchor="end" dominant-baseline="middle">'
                f"{value:.0f}</text>"
            )
        value += tenth
    step = math.ceil(count / MAX_DAY_LABELS)
    bottom = HEIGHT - BOTTOM
    for index, row in enumerate(days):
        x = _fmt(_x(count, index, 0))
        parts.append(f'<line x1="{x}" y1="{TOP}" x2="{x}" y2="{bottom}" stroke="{GRID}"/>')
        if index % step == 0:
            parts.append(
                f'<text x="{_fmt(_x(count, index, 0.5))}" y="{bottom + 14}"'
                f' text-anchor="middle">{row.day:%m-%d}</text>'
            )
    parts.append(
        f'<rect x="{left}" y="{TOP}" width="{_fmt(_plot_width())}"'
        f' height="{_fmt(_plot_height())}" fill="none" stroke="{INK}"/>'
    )
    parts.append(f'<text x="{left - 6}" y="{TOP - 12}" text-anchor="end">°C</text>')


def _legend(parts: list[str]) -> None:
    y = TOP - 12
    x = LEFT + 8
    parts.append(f'<circle cx="{x}" cy="{y - 4}" r="3.5" fill="{LINE}"/>')
    parts.append(f'<text x="{x + 8}" y="{y}">{escape(_("morning and afternoon check"))}</text>')
    x += 190
    parts.append(
        f'<circle cx="{x}" cy="{y - 4}" r="3.5" fill="#fff" stroke="{LINE}" stroke-width="1.5"/>'
    )
    parts.append(f'<text x="{x + 8}" y="{y}">{escape(_("other time"))}</text>')
    x += 110
    parts.append(f'<circle cx="{x}" cy="{y - 4}" r="4.5" fill="{FEVER}"/>')
    parts.append(f'<text x="{x + 8}" y="{y}">{escape(_("fever"))}</text>')


def temperature_chart(
    days: Sequence[DayRow], threshold: Decimal, *, standalone: bool = False
) -> SafeString:
    """The chart of ``days`` (an episode's rows) with the fever ``threshold``: an ``<svg>``
    element to put in a page, or (``standalone``) a complete SVG file."""
    parts: list[str] = []
    label = escape(_("Temperature chart"))
    size = (
        f'width="{WIDTH}" height="{HEIGHT}"'
        if standalone
        else 'width="100%" preserveAspectRatio="xMidYMid meet"'
    )
    parts.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" {size}'
        f' role="img" aria-label="{label}" class="temperature-chart"'
        f' font-family="sans-serif" font-size="11" fill="{INK}">'
    )
    parts.append(f"<title>{label}</title>")
    parts.append(f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>')
    _axes(days, parts)
    threshold_y = _fmt(y_of(threshold))
    parts.append(
        f'<line class="threshold" x1="{LEFT}" y1="{threshold_y}" x2="{WIDTH - RIGHT}"'
        f' y2="{threshold_y}" stroke="{FEVER}" stroke-width="1.2" stroke-dasharray="6 3"/>'
    )
    parts.append(
        f'<text x="{WIDTH - RIGHT + 4}" y="{threshold_y}" dominant-baseline="middle"'
        f' fill="{FEVER}">{escape(f"{threshold} °C")}</text>'
    )
    segments, points = lines_and_points(days)
    for segment in segments:
        coordinates = " ".join(f"{_fmt(p.x)},{_fmt(p.y)}" for p in segment)
        parts.append(
            f'<polyline class="line" points="{coordinates}" fill="none" stroke="{LINE}"'
            ' stroke-width="1.5"/>'
        )
    for point in points:
        reading = point.reading
        classes = "reading" + (" fever" if reading.is_fever else "")
        classes += "" if point.in_window else " other"
        if reading.is_fever:
            fill, stroke, radius = FEVER, FEVER, 4.5
        elif point.in_window:
            fill, stroke, radius = LINE, LINE, 3.5
        else:
            fill, stroke, radius = "#fff", LINE, 3.5
        parts.append(
            f'<circle class="{classes}" cx="{_fmt(point.x)}" cy="{_fmt(point.y)}" r="{radius}"'
            f' fill="{fill}" stroke="{stroke}" stroke-width="1.5">'
            f"<title>{escape(_title(reading))}</title></circle>"
        )
    _legend(parts)
    parts.append("</svg>")
    svg = "".join(parts)
    if standalone:
        svg = '<?xml version="1.0" encoding="UTF-8"?>\n' + svg + "\n"
    return mark_safe(svg)  # every text put in it is escaped above
