"""The indicators of the daily zero report form (日报表) of DOMAIN.md."""

from __future__ import annotations

from typing import Any

from django.db import migrations

from fangkong.reporting.reference import install


def forwards(apps: Any, schema_editor: Any) -> None:
    install(apps.get_model("reporting", "Indicator"))


class Migration(migrations.Migration):
    dependencies = [("reporting", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
