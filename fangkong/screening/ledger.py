"""The screening ledger (排查台账) as a sheet: its columns, in the order of the screening /
returnee form (排查登记表, DOMAIN.md), described once for the export (see
:mod:`fangkong.core.tabular`). How each cell is read from a screening result is in
:mod:`fangkong.screening.exports`; the keys here name them.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from fangkong.core.tabular.columns import Column
from fangkong.org.models import Person

from .models import ContactKind, ContactMode, ContactRelation, Screening, Transport

LEDGER_SHEET = _("Screening ledger")

# Until the observation workflow fills it: the cell of "observation ordered".
NOT_YET = "—"

COLUMNS: tuple[Column, ...] = (
    Column("name", _("Name"), width=10),
    Column("sex", _("Sex"), choices=Person.Sex.choices, width=6),
    Column("age", _("Age"), meaning=_("Whole years on the day of the screening."), width=6),
    Column("id_number", _("ID number"), width=21),
    Column("phone", _("Mobile phone"), width=13),
    Column("occupation", _("Occupation"), width=10),
    Column("address", _("Household address"), width=18),
    Column("employer", _("Employer (unit)"), width=16),
    Column("campaign", _("Campaign"), meaning=_("The campaign, or New arrival."), width=16),
    Column("screened_at", _("Screened at"), width=17),
    Column("screened_by", _("Screened by"), width=10),
    Column("presence", _("Presence"), choices=Screening.Presence.choices, width=8),
    Column("from_region", _("Came from"), width=24),
    Column("departed_at", _("Left there"), width=17),
    Column("arrived_at", _("Arrived"), width=17),
    Column("transport", _("Transport"), choices=Transport.choices, width=8),
    Column("transport_no", _("Train or flight number"), width=12),
    Column("stopovers", _("Stop-overs"), width=16),
    Column("contact_kind", _("Contact with"), choices=ContactKind.choices, width=18),
    Column("contact_name", _("Contact's name"), width=10),
    Column("contact_relation", _("Relation"), choices=ContactRelation.choices, width=8),
    Column("contact_mode", _("Contact mode"), choices=ContactMode.choices, width=10),
    Column("contact_date", _("Last contact"), width=12),
    Column("symptoms", _("Symptoms"), width=16),
    Column("temperature", _("Temperature (°C)"), width=8),
    Column("category", _("Classification"), choices=Screening.Category.choices, width=14),
    Column("is_key", _("Key person"), width=8),
    Column("is_urgent", _("Urgent"), width=8),
    Column("late_registration", _("Registered late"), width=8),
    Column("reasons", _("Rules that fired"), width=40),
    Column("observation", _("Observation ordered"), width=12),
)

DATE_KEYS = frozenset({"contact_date"})
