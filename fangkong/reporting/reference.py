"""Reference data installed by migration 0002 (and restored by the tests that flush the
database): the indicators of the daily zero report form of DOMAIN.md (日报表).

The report's notes are a field of the report itself (``UnitReport.notes``), not an indicator;
the day's work (disinfection, publicity, duty) is a text written from the standing systems'
records by the text rules of the same names (migration 0003 sets them on databases installed
before)."""

from __future__ import annotations

from typing import Any

# (code, name, kind, auto-fill rule, abnormal when not zero). Names are data, in the words of
# the 2020 forms; the rules are those of fangkong.reporting.prefill (same names as the codes):
# count rules (RULES) for the counts, text rules (TEXT_RULES) for the day's work.
INDICATORS: list[tuple[str, str, str, str, bool]] = [
    ("registered", "在册人数", "count", "registered", False),
    ("away", "外出人数", "count", "away", False),
    ("arrivals", "今日新到人员", "count", "arrivals", False),
    ("arrivals_key_areas", "其中来自重点地区", "count", "arrivals_key_areas", False),
    ("home_isolation", "居家隔离人数", "count", "home_isolation", False),
    ("home_isolation_new", "今日新增居家隔离", "count", "home_isolation_new", False),
    ("home_isolation_released", "今日解除居家隔离", "count", "home_isolation_released", False),
    ("centralised", "集中隔离人数", "count", "centralised", False),
    ("fevers", "今日发热人数", "count", "fevers", True),
    ("suspected", "疑似病例", "count", "suspected", True),
    ("confirmed", "确诊病例", "count", "confirmed", True),
    ("close_contacts", "密切接触者", "count", "close_contacts", False),
    ("disinfection", "消毒工作", "text", "disinfection", False),
    ("publicity", "宣传工作", "text", "publicity", False),
    ("duty", "值班值守", "text", "duty", False),
]


def install(indicator_model: Any) -> None:
    """Create the indicators that are missing (the model passed in: the migration gives its
    historical one). An indicator the office changed or retired is left as it is."""
    for order, (code, name, kind, rule, abnormal) in enumerate(INDICATORS, start=1):
        indicator_model.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "rule": rule,
                "is_abnormal": abnormal,
                "order": order * 10,
            },
        )


def ensure() -> None:
    from .models import Indicator

    install(Indicator)
