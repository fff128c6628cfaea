"""Statements of the hottest paths without the ORM's per-query compilation.

Every API call looks up its bearer token, every request its user's scope, and every phone's
temperature reading reads its episode and writes three rows. Measured on SQLite, the ORM takes
0.2–0.45 ms of Python to build each of these statements, the database 0.02 ms to answer it; at
a morning peak that is most of the server's time. Here the SQL of each shape is written once
(from the models' own table and column names) and rows become model instances through
``Model.from_db``, as the ORM itself makes them. Nothing here decides anything: the services
still validate, check the scope and choose what to write.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

M = TypeVar("M", bound=models.Model)


def _db() -> BaseDatabaseWrapper:
    """The default connection itself: ``django.db.connection`` is a proxy that looks the
    connection up again at every attribute read (a few microseconds each, hundreds per
    statement prepared)."""
    return connections[DEFAULT_DB_ALIAS]


def quote(name: str) -> str:
    return _db().ops.quote_name(name)


def columns(model: type[models.Model], alias: str = "") -> str:
    """The model's concrete columns, in field order, for a SELECT list."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + quote(f.column) for f in model._meta.concrete_fields)


def from_row(model: type[M], row: Sequence[Any]) -> M:
    """An instance of ``model`` from the values of :func:`columns`, in that order, converted
    from the database's representation as the ORM would (dates, decimals, JSON)."""
    db = _db()
    steps = _row_converters(model, db.vendor)
    values = [v if step is None else step(v) for step, v in zip(steps, row, strict=True)]
    return model.from_db(db.alias, _attnames(model), values)


@functools.cache
def _attnames(model: type[models.Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


@functools.cache
def _row_converters(model: type[models.Model], vendor: str) -> tuple[Any, ...]:
    return tuple(_converters(vendor, f) for f in model._meta.concrete_fields)


@functools.cache
def _converters(vendor: str, field: models.Field) -> Any:
    """One function applying the backend's and the field's converters (as the ORM's
    compiler does for a selected column), or None when there are none."""
    db = _db()
    expression = field.get_col(field.model._meta.db_table)
    steps = db.ops.get_db_converters(expression) + expression.get_db_converters(db)
    if not steps:
        return None

    def convert(value: Any) -> Any:
        for step in steps:
            value = step(value, expression, db)
        return value

    return convert


def insert(obj: models.Model) -> dict[str, Any]:
    """Insert ``obj`` (a new instance whose primary key the database assigns) in one
    statement, its field values prepared as ``save()`` prepares them (``auto_now_add``,
    defaults, JSON, dates), and set its primary key. Returns the values written, as prepared
    for the database, by attribute name (for :func:`insert_history`). Without ``RETURNING``
    (an old SQLite), ``bulk_create`` does it and nothing is returned: :func:`insert_history`
    then builds the record from the instance."""
    model = type(obj)
    db = _db()
    fields = _insert_fields(model)
    if not db.features.can_return_columns_from_insert:
        model._default_manager.bulk_create([obj])
        return {}
    params = [f.get_db_prep_save(f.pre_save(obj, True), db) for f in fields]
    with db.cursor() as cursor:
        cursor.execute(_insert_sql(model), params)
        (pk,) = cursor.fetchone()
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = db.alias
    return dict(zip(_insert_attnames(model), params, strict=True))


@functools.cache
def _insert_attnames(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(f.attname for f in _insert_fields(model))


@functools.cache
def _insert_fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


@functools.cache
def _insert_sql(model: type[models.Model]) -> str:
    fields = _insert_fields(model)
    names = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({marks}) "
        f"RETURNING {quote(model._meta.pk.column)}"
    )


def history_record(history_model: type[models.Model], instance: models.Model) -> models.Model:
    """The audit-trail record (simple-history's "created" record) of ``instance`` just
    inserted, attributed as ``attribute_history`` asked (``_history_user``), unsaved: what
    simple-history's own signal would save, without its per-save introspection."""
    return history_model(
        history_date=getattr(instance, "_history_date", None) or timezone.now(),
        history_user=getattr(instance, "_history_user", None),
        history_change_reason=getattr(instance, "_change_reason", None),
        history_type="+",
        **{f.attname: getattr(instance, f.attname) for f in history_model.tracked_fields},  # type: ignore[attr-defined]
    )


def insert_history(
    history_model: type[models.Model], instance: models.Model, written: dict[str, Any]
) -> None:
    """Insert the audit-trail record of ``instance`` that :func:`insert` has just written
    (``written``: what it returned): the record :func:`history_record` makes, in one statement
    from the values already prepared, without building the historical instance (whose many
    fields cost more to make and prepare than the statement takes to run)."""
    db = _db()
    if not db.features.can_return_columns_from_insert:
        history_record(history_model, instance).save()
        return
    tracked, date_field = _history_shape(history_model)
    user = getattr(instance, "_history_user", None)
    params = [instance.pk if attname is None else written[attname] for attname in tracked]
    params += [
        date_field.get_db_prep_save(getattr(instance, "_history_date", None) or timezone.now(), db),
        getattr(instance, "_change_reason", None),
        "+",
        None if user is None else user.pk,
    ]
    with db.cursor() as cursor:
        cursor.execute(_history_sql(history_model), params)


@functools.cache
def _history_shape(history_model: type[models.Model]) -> tuple[tuple[str | None, ...], Any]:
    """The tracked fields' attribute names in the instance's written values (None for the
    primary key, which the instance holds), and the ``history_date`` field."""
    pk = history_model.instance_type._meta.pk.attname  # type: ignore[attr-defined]
    tracked = tuple(
        None if f.attname == pk else f.attname
        for f in history_model.tracked_fields  # type: ignore[attr-defined]
    )
    return tracked, history_model._meta.get_field("history_date")


@functools.cache
def _history_sql(history_model: type[models.Model]) -> str:
    meta = history_model._meta
    names = [f.column for f in history_model.tracked_fields]  # type: ignore[attr-defined]
    names += [
        meta.get_field(name).column  # type: ignore[union-attr]
        for name in ("history_date", "history_change_reason", "history_type", "history_user")
    ]
    marks = ", ".join(["%s"] * len(names))
    return (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({marks})"
    )


def convert(field: models.Field, value: Any) -> Any:
    """``value`` of ``field`` as the database gave it, converted as the ORM would."""
    step = _converters(_db().vendor, field)
    return value if step is None else step(value)


def get(model: type[M], pk: Any) -> M | None:
    """The instance of ``model`` with primary key ``pk``, or None."""
    with _db().cursor() as cursor:
        cursor.execute(_get_sql(model), [pk])
        row = cursor.fetchone()
    return None if row is None else from_row(model, row)


@functools.cache
def _get_sql(model: type[models.Model]) -> str:
    return (
        f"SELECT {columns(model)} FROM {quote(model._meta.db_table)} "
        f"WHERE {quote(model._meta.pk.column)} = %s"
    )


def partial(model: type[M], values: dict[str, Any]) -> M:
    """An instance of ``model`` with only the fields of ``values`` (by attribute name, as
    the database gave them) loaded, as ``QuerySet.only()`` makes it: reading another field
    queries it."""
    fields = [f for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(
        _db().alias,
        [f.attname for f in fields],
        [convert(f, values[f.attname]) for f in fields],
    )
