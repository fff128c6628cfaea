"""A ledger's columns, described once for its template, its import and its export."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise


@dataclass(frozen=True)
class Column:
    """One column of a ledger sheet.

    ``key`` is the name used in code (a service argument or an export field); ``header`` is
    the Chinese column title users see (and that an import matches, ignoring surrounding
    spaces); ``choices`` are (stored value, label) pairs: files carry the label, and an import
    also accepts the stored value.
    """

    key: str
    header: str | Promise
    meaning: str | Promise = ""
    format: str | Promise = ""
    required: bool = False
    choices: Sequence[tuple[str, Any]] = ()
    example: str = ""
    width: int = 14
    # Export only: how to get the cell's value from a row object (default: attribute ``key``).
    value: Callable[[Any], Any] | None = field(default=None, compare=False)

    @property
    def labels(self) -> list[str]:
        return [str(label) for _value, label in self.choices]

    def value_for_label(self, text: str) -> str | None:
        """The stored value for a label (or a stored value typed as such), else None."""
        text = text.strip()
        for value, label in self.choices:
            if text in (str(label), value):
                return value
        return None
