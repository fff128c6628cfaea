"""The day's work (消毒工作, 宣传工作, 值班值守) fills itself from the standing systems' records:
the text rules of the same names are set on the three indicators, unless the office has
changed an indicator since it was installed (its audit trail has more than its creation) or
it is no longer a text without a rule."""

from __future__ import annotations

from typing import Any

from django.db import migrations

DAY_WORK = ("disinfection", "publicity", "duty")


def forwards(apps: Any, schema_editor: Any) -> None:
    Indicator = apps.get_model("reporting", "Indicator")
    History = apps.get_model("reporting", "HistoricalIndicator")
    for indicator in Indicator.objects.filter(code__in=DAY_WORK, kind="text", rule=""):
        if History.objects.filter(id=indicator.pk).exclude(history_type="+").exists():
            continue  # changed by the office: left as it is
        indicator.rule = indicator.code
        indicator.save(update_fields=["rule"])


def backwards(apps: Any, schema_editor: Any) -> None:
    Indicator = apps.get_model("reporting", "Indicator")
    for code in DAY_WORK:
        Indicator.objects.filter(code=code, kind="text", rule=code).update(rule="")


class Migration(migrations.Migration):
    dependencies = [("reporting", "0002_default_indicators")]

    operations = [migrations.RunPython(forwards, backwards)]
