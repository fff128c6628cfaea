"""Load the GB/T 2260 regions shipped with python-stdnum (see fangkong/core/regions.py)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

from fangkong.core.regions import load_regions


def load(apps: Any, schema_editor: Any) -> None:
    load_regions(apps.get_model("screening", "Region"))


def unload(apps: Any, schema_editor: Any) -> None:
    apps.get_model("screening", "Region").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
