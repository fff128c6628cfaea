"""The period presets of the national plan and the care items of the article."""

from __future__ import annotations

from typing import Any

from django.db import migrations

from fangkong.observation.reference import install


def forwards(apps: Any, schema_editor: Any) -> None:
    install(
        apps.get_model("observation", "PeriodPreset"), apps.get_model("observation", "CareItemKind")
    )


class Migration(migrations.Migration):
    dependencies = [("observation", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
