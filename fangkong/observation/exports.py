"""The observation ledger (居家隔离医学观察台账) as an ``.xlsx`` file.

The file holds the episodes the ledger page shows for the same user and filters
(:func:`fangkong.observation.selectors.episodes_for`), in the columns below (the fields of
the home-observation notice and the close-contact register, DOMAIN.md), written by the shared
writer (:func:`fangkong.core.tabular.writing.write_ledger`). ID and phone numbers (the
person's and the responsible people's) are masked unless the export asks for full numbers,
which needs ``pii.reveal``, is limited to the episodes where the user holds it, and is
recorded (:func:`fangkong.core.services.record_export`).

Streaming: the episodes are read in chunks as plain values, with their last temperature
read by the same query; the names they point to (grids and units, presets) are read once
beforehand and the responsible people once per chunk: the number of queries does not grow
with the rows, and memory stays flat.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils.translation import gettext_lazy

from fangkong.core.masking import mask_id_number, mask_phone
from fangkong.core.permissions import Perm
from fangkong.core.scoping import has_perm, restrict
from fangkong.core.tabular.columns import Column
from fangkong.core.tabular.exports import dated_filename, write_recorded_ledger
from fangkong.core.tabular.writing import Target
from fangkong.org.models import OrgUnit, Person

from .models import (
    EpisodeResponsible,
    ObservationEpisode,
    ObservationKind,
    PeriodPreset,
    TemperatureReading,
)
from .selectors import EpisodeFilters, episodes_for

OBJECT_TYPE = "observation_ledger"  # SensitiveAccess.object_type of an unmasked export
CHUNK_SIZE = 2000

LEDGER_SHEET = gettext_lazy("Observation ledger")

Episode = ObservationEpisode

COLUMNS: tuple[Column, ...] = (
    Column("name", gettext_lazy("Name"), width=10),
    Column("sex", gettext_lazy("Sex"), choices=Person.Sex.choices, width=6),
    Column("id_number", gettext_lazy("ID number"), width=21),
    Column("phone", gettext_lazy("Mobile phone"), width=13),
    Column("address", gettext_lazy("Household address"), width=18),
    Column("unit", gettext_lazy("Unit"), width=14),
    Column("grid", gettext_lazy("Grid"), width=14),
    Column("kind", gettext_lazy("Kind of observation"), choices=ObservationKind.choices, width=16),
    Column("reason", gettext_lazy("Reason"), choices=Episode.Reason.choices, width=14),
    Column("reason_note", gettext_lazy("Reason details"), width=20),
    Column(
        "counts_from_kind",
        gettext_lazy("Counted from what"),
        choices=Episode.CountsFrom.choices,
        width=10,
    ),
    Column("counts_from", gettext_lazy("Counted from"), width=12),
    Column("start_date", gettext_lazy("Observation started"), width=12),
    Column("preset", gettext_lazy("Period preset"), width=12),
    Column("isolation_end", gettext_lazy("Isolation until"), width=12),
    Column("planned_end", gettext_lazy("Planned end"), width=12),
    Column("place", gettext_lazy("Place"), width=18),
    Column("status", gettext_lazy("Status"), choices=Episode.Status.choices, width=10),
    Column("ended_on", gettext_lazy("Ended on"), width=12),
    Column("decision_note", gettext_lazy("Decision note"), width=20),
    Column("responsible", gettext_lazy("Responsible people"), width=40),
    Column("last_temperature", gettext_lazy("Last temperature (°C)"), width=8),
    Column("last_temperature_at", gettext_lazy("Last temperature taken at"), width=17),
)

DATE_KEYS = frozenset({"counts_from", "start_date", "isolation_end", "planned_end", "ended_on"})

EPISODE_FIELDS = (
    "pk",
    "person__grid_id",
    "kind",
    "reason",
    "reason_note",
    "counts_from_kind",
    "counts_from",
    "start_date",
    "preset_id",
    "isolation_end",
    "planned_end",
    "place",
    "status",
    "ended_on",
    "decision_note",
)


def _last_reading(field: str) -> Subquery:
    return Subquery(
        TemperatureReading.objects.filter(episode=OuterRef("pk"))
        .order_by("-taken_at", "-id")
        .values(field)[:1]
    )


EXTRA_VALUES = {
    "p_name": F("person__name"),
    "p_sex": F("person__sex"),
    "p_id_number": F("person__id_number"),
    "p_phone": F("person__phone"),
    "p_address": F("person__household__address"),
    "last_value": _last_reading("value"),
    "last_at": _last_reading("taken_at"),
}


class _Names:
    """The grids (with their unit) and presets the episodes point to, read once."""

    def __init__(self, episodes: QuerySet[ObservationEpisode]) -> None:
        plain = episodes.order_by()
        self.grids = (
            OrgUnit.objects.filter(pk__in=plain.values("person__grid_id"))
            .select_related("parent")
            .in_bulk()
        )
        self.presets = dict(PeriodPreset.objects.values_list("pk", "name"))

    def unit(self, grid_id: int) -> str:
        grid = self.grids.get(grid_id)
        if grid is None:
            return ""
        return grid.parent.name if grid.parent is not None else grid.name

    def grid(self, grid_id: int) -> str:
        grid = self.grids.get(grid_id)
        return grid.name if grid is not None else ""


def _responsible(episode_ids: list[int], phone: Callable[[str], str]) -> dict[int, str]:
    """'网格员 赵某 138****1234；医生 …' per episode, in the order of the roles."""
    roles = list(EpisodeResponsible.Role.values)
    labels = dict(EpisodeResponsible.Role.choices)
    found: dict[int, list[tuple[int, str]]] = {}
    for episode_id, role, name, number in EpisodeResponsible.objects.filter(
        episode_id__in=episode_ids
    ).values_list("episode_id", "role", "name", "phone"):
        text = " ".join(part for part in (str(labels.get(role, role)), name, phone(number)) if part)
        order = roles.index(role) if role in roles else len(roles)
        found.setdefault(episode_id, []).append((order, text))
    return {pk: "；".join(text for _order, text in sorted(lines)) for pk, lines in found.items()}


def ledger_queryset(
    user: Any, filters: EpisodeFilters, *, unmasked: bool = False
) -> QuerySet[ObservationEpisode]:
    """The episodes of the ledger page for ``user`` and ``filters``; with ``unmasked`` only
    those where the user may see full numbers."""
    episodes = episodes_for(user, filters)
    if unmasked:
        episodes = restrict(episodes, user, Perm.PII_REVEAL)
    return episodes


def ledger_rows(
    episodes: QuerySet[ObservationEpisode], *, unmasked: bool = False
) -> Iterator[list[Any]]:
    """The rows of the file (in the order of ``COLUMNS``), read in chunks."""
    names = _Names(episodes)
    id_number: Callable[[str], str] = (lambda v: v) if unmasked else mask_id_number
    phone: Callable[[str], str] = (lambda v: v) if unmasked else mask_phone
    values = (
        episodes.select_related(None)
        .annotate(**EXTRA_VALUES)
        .values(*EPISODE_FIELDS, *EXTRA_VALUES)
    )
    batch: list[dict[str, Any]] = []

    def flush() -> Iterator[list[Any]]:
        responsible = _responsible([row["pk"] for row in batch], phone)
        for row in batch:
            grid_id = row["person__grid_id"]
            yield [
                row["p_name"],
                row["p_sex"],
                id_number(row["p_id_number"] or ""),
                phone(row["p_phone"] or ""),
                row["p_address"] or "",
                names.unit(grid_id),
                names.grid(grid_id),
                row["kind"],
                row["reason"],
                row["reason_note"],
                row["counts_from_kind"],
                row["counts_from"],
                row["start_date"],
                names.presets.get(row["preset_id"], ""),
                row["isolation_end"],
                row["planned_end"],
                row["place"],
                row["status"],
                row["ended_on"],
                row["decision_note"],
                responsible.get(row["pk"], ""),
                row["last_value"],
                row["last_at"],
            ]
        batch.clear()

    for row in values.iterator(chunk_size=CHUNK_SIZE):
        batch.append(row)
        if len(batch) >= CHUNK_SIZE:
            yield from flush()
    if batch:
        yield from flush()


def describe_filters(filters: EpisodeFilters) -> dict[str, Any]:
    """The filters in force, as JSON for the audit trail."""
    described: dict[str, Any] = {}
    for name in ("q", "status", "kind", "reason"):
        value = getattr(filters, name)
        if value:
            described[name] = value
    if filters.unit is not None:
        described["unit"] = filters.unit.code
    for name in ("due_by", "started_from", "started_to", "fever_on", "no_visit_on"):
        value = getattr(filters, name)
        if value is not None:
            described[name] = value.isoformat()
    return described


def export_observation_ledger(
    target: Target,
    *,
    user: Any,
    filters: EpisodeFilters | None = None,
    unmasked: bool = False,
    via: str = "web",
) -> int:
    """Write the observation ledger of ``user`` with ``filters`` to ``target`` and return
    its row count. Masked ID and phone numbers unless ``unmasked``, which needs
    ``pii.reveal`` (else PermissionDenied), keeps only the episodes where the user holds it,
    and records the export once the file is written."""
    filters = filters or EpisodeFilters()
    if unmasked and not has_perm(user, Perm.PII_REVEAL):
        raise PermissionDenied
    episodes = ledger_queryset(user, filters, unmasked=unmasked)
    return write_recorded_ledger(
        target,
        LEDGER_SHEET,
        COLUMNS,
        ledger_rows(episodes, unmasked=unmasked),
        user=user,
        unmasked=unmasked,
        object_type=OBJECT_TYPE,
        describe=lambda: describe_filters(filters),
        via=via,
        date_keys=DATE_KEYS,
    )


def ledger_filename(today: dt.date | None = None) -> str:
    """``居家隔离医学观察台账-2020-02-10.xlsx``: in Chinese, like the file's content."""
    return dated_filename(LEDGER_SHEET, today)
