"""Migration operations shared by the apps."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def without_field_indexes(app_label: str, changes: list[tuple[str, str]], state: list[Any]) -> Any:
    """``state`` (AlterField operations that only set ``db_index=False`` on the fields of
    ``changes``, (model name, field name) each) applied by dropping each field's own index,
    where SQLite's AlterField would copy the whole table (minutes for millions of rows).
    Reversed by creating the indexes again."""

    def single_column_indexes(schema_editor: Any, model: Any, field_name: str) -> list[str]:
        column = model._meta.get_field(field_name).column
        return list(
            schema_editor._constraint_names(
                model, [column], index=True, unique=False, primary_key=False
            )
        )

    def drop(apps: Any, schema_editor: Any) -> None:
        for model_name, field_name in changes:
            model = apps.get_model(app_label, model_name)
            for name in single_column_indexes(schema_editor, model, field_name):
                schema_editor.execute(schema_editor._delete_index_sql(model, name))

    def create(apps: Any, schema_editor: Any) -> None:
        for model_name, field_name in changes:
            model = apps.get_model(app_label, model_name)
            if single_column_indexes(schema_editor, model, field_name):
                continue
            field = model._meta.get_field(field_name)
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))

    return migrations.SeparateDatabaseAndState(
        state_operations=state,
        database_operations=[migrations.RunPython(drop, create)],
    )
