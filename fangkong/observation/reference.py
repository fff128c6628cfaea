"""Reference data installed by migration 0002 (and restored by the tests that flush the
database): the period presets of the national plan and the care items of the article."""

from __future__ import annotations

from typing import Any

# (name, isolation days, monitoring days, in force): 14 days in 2020 (2nd to 8th editions of
# the national plan), 7+3 (9th edition, close contacts) and 5+3 (the 2022 adjustments).
PRESETS = [
    ("14天（2020）", 14, 0, True),
    ("7+3", 7, 3, False),
    ("5+3", 5, 3, False),
]

# (name, unit, cash): what the article lists, and what units brought most.
CARE_ITEMS = [
    ("大米", "kg", False),
    ("面粉", "kg", False),
    ("食用油", "桶", False),
    ("奶制品", "箱", False),
    ("蔬菜", "kg", False),
    ("口罩", "个", False),
    ("现金", "元", True),
]


def install(preset_model: Any, care_item_model: Any) -> None:
    """Create what is missing (models passed in: the migration gives its historical ones)."""
    has_default = preset_model.objects.filter(is_default=True).exists()
    for order, (name, isolation, monitoring, default) in enumerate(PRESETS):
        preset_model.objects.get_or_create(
            name=name,
            defaults={
                "isolation_days": isolation,
                "monitoring_days": monitoring,
                "is_default": default and not has_default,
                "order": order,
            },
        )
    for order, (name, unit, cash) in enumerate(CARE_ITEMS):
        care_item_model.objects.get_or_create(
            name=name, defaults={"unit": unit, "is_cash": cash, "order": order}
        )


def ensure() -> None:
    from .models import CareItemKind, PeriodPreset

    install(PeriodPreset, CareItemKind)
