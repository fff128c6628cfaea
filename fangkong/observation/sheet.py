"""一人一表: the observation form of one episode, as the page and the ``.xlsx`` file show it.

:func:`build_sheet` reads the episode once (the details, the responsible people, the day rows
of :func:`selectors.episode_days`: a fixed number of queries however many readings) and turns
it into labelled values and one :class:`SheetRow` per day; the A4 page
(``observation/sheet.html``) and :func:`write_sheet` show the same values. ID and phone
numbers are masked; temperatures keep their one decimal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

import xlsxwriter
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fangkong.core.health import symptom_labels
from fangkong.core.masking import mask_id_number, mask_phone
from fangkong.core.tabular.writing import LEDGER_LANGUAGE, WORKBOOK_OPTIONS
from fangkong.screening.exports import age_on

from . import selectors
from .models import EpisodeResponsible, ObservationEpisode, ObservationKind, TemperatureReading

# Columns of the day rows (the page and the file): key, header.
COLUMNS = (
    "date",
    "number",
    "morning",
    "afternoon",
    "others",
    "symptoms",
    "follow_up",
    "needs",
    "abnormal",
)
# Widths of those columns in the file (characters).
WIDTHS = (11, 6, 8, 8, 14, 16, 20, 22, 8)
DETAILS_PER_ROW = 3  # label and value pairs on one line of the header block


def column_headers() -> list[str]:
    return [
        _("Date"),
        _("Day"),
        _("Morning °C"),
        _("Afternoon °C"),
        _("Other readings"),
        _("Symptoms"),
        _("Follow-up (mode, by)"),
        _("Needs raised"),
        _("Abnormality reported"),
    ]


def sheet_title(kind: str) -> str:
    """居家隔离医学观察记录表 and its kin, after the kind of observation."""
    titles: dict[str, str] = {
        ObservationKind.HOME_ISOLATION: _("Home isolation medical observation record"),
        ObservationKind.CENTRALISED: _("Centralised isolation medical observation record"),
        ObservationKind.HEALTH_MONITORING: _("Home health monitoring record"),
    }
    return titles.get(kind, titles[ObservationKind.HOME_ISOLATION])


def signature_labels() -> list[str]:
    return [
        _("Cadre (signature)"),
        _("Grid worker (signature)"),
        _("Person under observation (signature)"),
        _("Date"),
    ]


@dataclass
class SheetRow:
    """One day of the form: values as written on paper."""

    day: dt.date
    number: int
    morning: TemperatureReading | None
    afternoon: TemperatureReading | None
    others: list[TemperatureReading]
    symptoms: str
    follow_up: str
    needs: str
    abnormal: bool
    is_future: bool
    is_today: bool

    @property
    def others_text(self) -> str:
        return "、".join(f"{timezone.localtime(r.taken_at):%H:%M} {r.value}" for r in self.others)

    @property
    def missed_visit(self) -> bool:
        return not self.is_future and not self.follow_up

    @property
    def follow_up_text(self) -> str:
        """Who followed up and how; a past day without a visit says so."""
        return _("no visit") if self.missed_visit else self.follow_up

    @property
    def abnormal_text(self) -> str:
        if self.is_future:
            return ""
        return _("Yes") if self.abnormal else _("No")

    def cells(self) -> list[Any]:
        """The row as the file holds it (a missing reading is an empty cell)."""
        return [
            self.day,
            self.number,
            self.morning.value if self.morning else None,
            self.afternoon.value if self.afternoon else None,
            self.others_text,
            self.symptoms,
            self.follow_up_text,
            self.needs,
            self.abnormal_text,
        ]


@dataclass
class Sheet:
    episode: ObservationEpisode
    title: str
    details: list[tuple[str, str]]
    responsible: list[EpisodeResponsible]
    days: list[selectors.DayRow]
    rows: list[SheetRow]
    threshold: Decimal
    printed_on: dt.date
    signatures: list[str] = field(default_factory=signature_labels)

    @property
    def detail_lines(self) -> list[list[tuple[str, str, int]]]:
        """The details a few to a line (the header block of the page and the file): (label,
        value, columns the value spans), the last value of a short line spanning the rest."""
        pairs = self.details
        lines = []
        for start in range(0, len(pairs), DETAILS_PER_ROW):
            line = pairs[start : start + DETAILS_PER_ROW]
            rest = 2 * (DETAILS_PER_ROW - len(line))
            lines.append(
                [
                    (label, value, 1 + (rest if index == len(line) - 1 else 0))
                    for index, (label, value) in enumerate(line)
                ]
            )
        return lines

    @property
    def responsible_text(self) -> str:
        return "；".join(
            f"{r.get_role_display()} {r.name}" + (f" {r.phone}" if r.phone else "")
            for r in self.responsible
        )


def _follow_up(row: selectors.DayRow) -> str:
    return "；".join(
        f"{v.get_mode_display()} · {v.visitor_name}" if v.visitor_name else v.get_mode_display()
        for v in row.visits
    )


def _needs(row: selectors.DayRow) -> str:
    """The needs raised that day: those tracked, and what a visit noted without a kind."""
    texts = [f"{n.get_kind_display()}：{n.description}" for n in row.needs]
    tracked = {n.description for n in row.needs}
    texts += [v.needs for v in row.visits if v.needs and v.needs not in tracked]
    return "；".join(texts)


def _row(row: selectors.DayRow) -> SheetRow:
    return SheetRow(
        day=row.day,
        number=row.number,
        morning=row.morning,
        afternoon=row.afternoon,
        others=row.others,
        symptoms=symptom_labels(row.symptoms),
        follow_up=_follow_up(row),
        needs=_needs(row),
        abnormal=row.abnormal,
        is_future=row.is_future,
        is_today=row.is_today,
    )


def _details(episode: ObservationEpisode) -> list[tuple[str, str]]:
    person = episode.person
    household = person.household
    grid = person.grid
    age = age_on(person.birth_date, episode.start_date)
    unit = f"{grid.parent.name} · {grid.name}" if grid.parent else grid.name
    reason = episode.get_reason_display()
    if episode.reason_note:
        reason = f"{reason}（{episode.reason_note}）"
    status = episode.get_status_display()
    if episode.ended_on:
        status = f"{status}（{episode.ended_on.isoformat()}）"
    details = [
        (_("Name"), person.name),
        (_("Sex"), person.get_sex_display()),
        (_("Age"), str(age) if age is not None else ""),
        (_("ID number"), mask_id_number(person.id_number)),
        (_("Phone"), mask_phone(person.phone or (household.phone if household else ""))),
        (_("Unit and grid"), unit),
        (_("Address"), episode.place or (household.address if household else "")),
        (_("Kind"), episode.get_kind_display()),
        (_("Reason"), reason),
        (
            _("Counted from"),
            f"{episode.counts_from.isoformat()}（{episode.get_counts_from_kind_display()}）",
        ),
        (_("Observation started"), episode.start_date.isoformat()),
        (_("Planned end"), episode.planned_end.isoformat()),
    ]
    if episode.monitoring_days:
        details.insert(-1, (_("Isolation until"), episode.isolation_end.isoformat()))
    details.append((_("Status"), status))
    if episode.decision_note:
        details.append((_("Decision note"), episode.decision_note))
    return details


def build_sheet(episode: ObservationEpisode, *, today: dt.date | None = None) -> Sheet:
    """The form of ``episode`` (fetched with its person, household and grid)."""
    today = today or timezone.localdate()
    days = selectors.episode_days(episode, today=today)
    return Sheet(
        episode=episode,
        title=sheet_title(episode.kind),
        details=_details(episode),
        responsible=list(episode.responsible.order_by("pk")),
        days=days,
        rows=[_row(row) for row in days],
        threshold=selectors.current_rules().fever_threshold,
        printed_on=today,
    )


def sheet_filename(episode: ObservationEpisode) -> str:
    """``居家隔离医学观察记录表-张小明-2020-02-03.xlsx``: in Chinese, like the file."""
    with translation.override(LEDGER_LANGUAGE):
        title = sheet_title(episode.kind)
    return f"{title}-{episode.person.name}-{episode.start_date.isoformat()}.xlsx"


# ---------------------------------------------------------------------------------------------
# The .xlsx file


def write_sheet(target: str | IO[bytes], episode: ObservationEpisode) -> None:
    """Write the form of ``episode`` (in Chinese, like every file the app writes): the title,
    the details a few to a line, the responsible people, the day rows under their header,
    and the signature lines; set to print on A4, one page wide."""
    workbook = xlsxwriter.Workbook(target, WORKBOOK_OPTIONS)
    try:
        with translation.override(LEDGER_LANGUAGE):
            _write(workbook, build_sheet(episode))
    finally:
        workbook.close()


def _write(workbook: xlsxwriter.Workbook, sheet: Sheet) -> None:
    title_format = workbook.add_format(
        {"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"}
    )
    label = workbook.add_format({"bold": True, "valign": "top"})
    text = workbook.add_format({"num_format": "@", "valign": "top"})  # runs on to the right
    header = workbook.add_format(
        {"bold": True, "bg_color": "#F2F2F2", "border": 1, "text_wrap": True, "valign": "top"}
    )
    cell = workbook.add_format({"border": 1, "valign": "top", "text_wrap": True})
    date = workbook.add_format({"border": 1, "valign": "top", "num_format": "yyyy-mm-dd"})
    number = workbook.add_format({"border": 1, "valign": "top", "num_format": "0"})
    temperature = workbook.add_format({"border": 1, "valign": "top", "num_format": "0.0"})
    fever = workbook.add_format(
        {"border": 1, "valign": "top", "num_format": "0.0", "bold": True, "font_color": "#C00000"}
    )

    ws = workbook.add_worksheet(sheet.title[:31])
    last_col = len(COLUMNS) - 1
    for col, width in enumerate(WIDTHS):
        ws.set_column(col, col, width)
    ws.merge_range(0, 0, 0, last_col, sheet.title, title_format)
    ws.set_row(0, 24)
    row = 2
    for line in sheet.detail_lines:
        for index, (name, value, _span) in enumerate(line):
            ws.write_string(row, index * 3, name, label)
            if value:
                ws.write_string(row, index * 3 + 1, value, text)
        row += 1
    ws.write_string(row, 0, _("Responsible people"), label)
    if sheet.responsible_text:
        ws.write_string(row, 1, sheet.responsible_text, text)
    row += 2
    header_row = row
    for col, name in enumerate(column_headers()):
        ws.write_string(row, col, name, header)
    for day in sheet.rows:
        row += 1
        values = day.cells()
        ws.write_datetime(row, 0, dt.datetime.combine(values[0], dt.time()), date)
        ws.write_number(row, 1, values[1], number)
        for col, reading in ((2, day.morning), (3, day.afternoon)):
            if reading is None:
                ws.write_blank(row, col, None, cell)
            else:
                ws.write_number(
                    row, col, float(reading.value), fever if reading.is_fever else temperature
                )
        for col in range(4, len(COLUMNS)):
            if values[col]:
                ws.write_string(row, col, values[col], cell)
            else:
                ws.write_blank(row, col, None, cell)
    row += 2
    for index, name in enumerate(sheet.signatures):
        ws.write_string(row + index // 2, (index % 2) * 5, f"{name}：", label)
    ws.set_paper(9)  # A4
    ws.set_portrait()
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.center_horizontally()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(header_row)
    ws.print_area(0, 0, row + 1, last_col)
