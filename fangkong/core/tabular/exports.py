"""What every ledger export shares: its file name, and the write that records an export of
full numbers (:func:`fangkong.core.services.record_export`) once the file is written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

from django.utils import timezone, translation
from django.utils.functional import Promise

from fangkong.core.bulk import streaming_reads
from fangkong.core.services import record_export

from .columns import Column
from .writing import LEDGER_LANGUAGE, Target, write_ledger


def dated_filename(title: str | Promise, today: dt.date | None = None) -> str:
    """``<title>-2020-02-10.xlsx`` (today by default), the title in Chinese like the file's
    content."""
    with translation.override(LEDGER_LANGUAGE):
        return f"{title}-{(today or timezone.localdate()).isoformat()}.xlsx"


def write_recorded_ledger(
    target: Target,
    sheet_name: str | Promise,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    user: Any,
    unmasked: bool,
    object_type: str,
    describe: Callable[[], dict[str, Any]],
    via: str = "web",
    date_keys: Collection[str] = (),
) -> int:
    """Write a ledger (:func:`~fangkong.core.tabular.writing.write_ledger`, the rows read in
    chunks) and return its row count; an ``unmasked`` one is recorded once the file is
    written, with ``describe()`` (the filters, JSON-ready) and the row count."""
    with streaming_reads():
        count = write_ledger(target, sheet_name, columns, rows, date_keys=date_keys)
    if unmasked:
        record_export(user=user, object_type=object_type, filters=describe(), rows=count, via=via)
    return count
