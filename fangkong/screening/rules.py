"""Classification of a screening result by the rules in force, never by hand.

The rules (defaults from DOMAIN.md, changed by the office in :class:`ScreeningRules`):

- **risk_area_arrival** — arrived from a region that was at high risk (or medium, when the
  rules say so) on the day the person left it, and the arrival was at most
  ``travel_window_days`` days before the screening day: key person.
- **close_contact** — contact with a confirmed or suspected case, or with someone from a risk
  area, at most ``contact_window_days`` days before the screening day (or on a date nobody
  knows): key person.
- **fever** — a temperature at or above ``fever_threshold``: urgent.
- **symptoms** — any symptom from the list: urgent.

"At most N days before": with N = 14, screened on 2020-02-15, an arrival on 2020-02-01 counts
and one on 2020-01-31 does not. The level is the one in force on the departure day (the day
the person was last there); without a departure date, on the arrival day. The level of a
region is the most severe of the periods of the region, its prefecture and its province.

Each rule that fires leaves a :class:`Reason` with the facts it used, so the ledger says why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from .models import ContactKind, RiskLevel, Screening, ScreeningRules

RISK_AREA_ARRIVAL = "risk_area_arrival"
CLOSE_CONTACT = "close_contact"
FEVER = "fever"
SYMPTOMS = "symptoms"

KEY_CONTACT_KINDS = frozenset({ContactKind.CASE, ContactKind.RISK_ARRIVAL})


@dataclass(frozen=True)
class Reason:
    rule: str
    facts: dict[str, Any] = field(default_factory=dict)

    def as_data(self) -> dict[str, Any]:
        return {"rule": self.rule, **self.facts}


@dataclass(frozen=True)
class Facts:
    """What was found about one person, as the rules read it."""

    on: dt.date  # the screening day
    from_region: str = ""  # GB/T 2260 code
    from_region_name: str = ""
    departed_on: dt.date | None = None
    arrived_on: dt.date | None = None
    contact_kind: str = ""
    contact_date: dt.date | None = None
    symptoms: Sequence[str] = ()
    temperature: Decimal | None = None


@dataclass(frozen=True)
class Classification:
    category: str
    is_key: bool
    is_urgent: bool
    reasons: tuple[Reason, ...]

    @property
    def reason_data(self) -> list[dict[str, Any]]:
        return [r.as_data() for r in self.reasons]


def within(day: dt.date | None, on: dt.date, days: int) -> bool:
    """Whether ``day`` is at most ``days`` days before ``on`` (and not after it)."""
    return day is not None and on - dt.timedelta(days=days) <= day <= on


def key_levels(rules: ScreeningRules) -> set[str]:
    levels = {RiskLevel.HIGH.value}
    if rules.medium_risk_is_key:
        levels.add(RiskLevel.MEDIUM.value)
    return levels


def classify(
    facts: Facts,
    *,
    rules: ScreeningRules,
    level_on: Callable[[str, dt.date], str | None],
) -> Classification:
    """The category, the key and urgent flags, and the reasons, for ``facts``.
    ``level_on(region_code, day)`` answers the risk level of a region on a day."""
    reasons: list[Reason] = []
    category = Screening.Category.NO_RISK
    if facts.from_region and within(facts.arrived_on, facts.on, rules.travel_window_days):
        assert facts.arrived_on is not None
        level_day = facts.departed_on or facts.arrived_on
        level = level_on(facts.from_region, level_day)
        if level is not None and level in key_levels(rules):
            category = Screening.Category.RISK_AREA_ARRIVAL
            reasons.append(
                Reason(
                    RISK_AREA_ARRIVAL,
                    {
                        "region": facts.from_region,
                        "region_name": facts.from_region_name,
                        "level": str(level),
                        "level_on": level_day.isoformat(),
                        "arrived_on": facts.arrived_on.isoformat(),
                        "window_days": rules.travel_window_days,
                    },
                )
            )
    if facts.contact_kind in KEY_CONTACT_KINDS and (
        facts.contact_date is None
        or within(facts.contact_date, facts.on, rules.contact_window_days)
    ):
        if category == Screening.Category.NO_RISK:
            category = Screening.Category.CLOSE_CONTACT
        reasons.append(
            Reason(
                CLOSE_CONTACT,
                {
                    "contact_kind": facts.contact_kind,
                    "contact_date": facts.contact_date.isoformat() if facts.contact_date else "",
                    "window_days": rules.contact_window_days,
                },
            )
        )
    is_key = bool(reasons)
    is_urgent = False
    if facts.temperature is not None and facts.temperature >= rules.fever_threshold:
        is_urgent = True
        reasons.append(
            Reason(
                FEVER,
                {"temperature": str(facts.temperature), "threshold": str(rules.fever_threshold)},
            )
        )
    if facts.symptoms:
        is_urgent = True
        reasons.append(Reason(SYMPTOMS, {"symptoms": list(facts.symptoms)}))
    return Classification(
        category=category, is_key=is_key, is_urgent=is_urgent, reasons=tuple(reasons)
    )


def describe(reason: dict[str, Any]) -> str:
    """One line saying why a rule fired, in the current language."""
    from fangkong.core.health import symptom_labels

    rule = reason.get("rule")
    if rule == RISK_AREA_ARRIVAL:
        return _(
            "Arrived on %(arrived)s from %(region)s, %(level)s on %(level_on)s "
            "(within %(days)s days)"
        ) % {
            "arrived": reason.get("arrived_on", ""),
            "region": reason.get("region_name") or reason.get("region", ""),
            "level": RiskLevel(reason["level"]).label if reason.get("level") else "",
            "level_on": reason.get("level_on", ""),
            "days": reason.get("window_days", ""),
        }
    if rule == CLOSE_CONTACT:
        who = ContactKind(reason["contact_kind"]).label if reason.get("contact_kind") else ""
        if reason.get("contact_date"):
            return _("Contact with %(who)s on %(date)s (within %(days)s days)") % {
                "who": who,
                "date": reason["contact_date"],
                "days": reason.get("window_days", ""),
            }
        return _("Contact with %(who)s, date unknown") % {"who": who}
    if rule == FEVER:
        return _("Temperature %(value)s °C, at or above %(threshold)s °C") % {
            "value": reason.get("temperature", ""),
            "threshold": reason.get("threshold", ""),
        }
    if rule == SYMPTOMS:
        return _("Symptoms: %(list)s") % {"list": symptom_labels(reason.get("symptoms", []))}
    return str(rule)
