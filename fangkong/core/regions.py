"""GB/T 2260 region codes, read from the data python-stdnum installs (``stdnum/cn/loc.dat``);
used by the ID-number check (core) and the risk areas (screening).

The file lists each province (``11 province="北京市"``) followed by its indented 4-digit codes
(``  0100 county="[1983-]市辖区"``): ``xx00`` is a prefecture, anything else a county, and
``0000`` repeats the province itself. The optional bracket holds the years the code was valid
(``[1983-]``, ``[-2010]``, ``[1982-1999]``); historic codes are kept, as old ID cards carry them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

PROVINCE = "province"
PREFECTURE = "prefecture"
COUNTY = "county"

_PROVINCE_LINE = re.compile(r'^(\d{2}) province="([^"]*)"$')
_CODE_LINE = re.compile(r'^\s+(\d{4}) county="(?:\[(\d{4})?-(\d{4})?\])?([^"]*)"$')


@dataclass(frozen=True)
class RegionRow:
    """One region as read from the data file."""

    code: str
    name: str
    level: str
    parent_code: str | None
    valid_from_year: int | None
    valid_to_year: int | None


def level_of(code: str) -> str:
    """Province (``xx0000``), prefecture (``xxyy00``) or county, from the code alone."""
    if code.endswith("0000"):
        return PROVINCE
    if code.endswith("00"):
        return PREFECTURE
    return COUNTY


def ancestor_codes(code: str) -> list[str]:
    """The code itself, then its prefecture's and its province's codes (without repeats)."""
    codes = [code]
    for candidate in (code[:4] + "00", code[:2] + "0000"):
        if candidate not in codes:
            codes.append(candidate)
    return codes


def parse_loc_dat(text: str) -> list[RegionRow]:
    """Every region of ``text`` (the format of ``loc.dat``), parents before children."""
    provinces: dict[str, tuple[str, int | None, int | None]] = {}
    others: dict[str, tuple[str, int | None, int | None]] = {}
    current = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        if match := _PROVINCE_LINE.match(line):
            current = match.group(1)
            provinces[current + "0000"] = (match.group(2), None, None)
            continue
        match = _CODE_LINE.match(line)
        if match is None or not current:
            raise ValueError(f"loc.dat line {number}: cannot read {line!r}")
        code = current + match.group(1)
        start = int(match.group(2)) if match.group(2) else None
        end = int(match.group(3)) if match.group(3) else None
        if code in provinces:  # "0000": the province itself, with its years when known
            provinces[code] = (provinces[code][0], start, end)
        else:
            others[code] = (match.group(4), start, end)
    rows = [RegionRow(c, n, PROVINCE, None, s, e) for c, (n, s, e) in sorted(provinces.items())]
    for level in (PREFECTURE, COUNTY):
        for code, (name, start, end) in sorted(others.items()):
            if level_of(code) != level:
                continue
            parent = next(
                (p for p in ancestor_codes(code)[1:] if p in others or p in provinces), None
            )
            rows.append(RegionRow(code, name, level, parent, start, end))
    return rows


def read_regions() -> list[RegionRow]:
    """The regions of the ``loc.dat`` installed with python-stdnum."""
    text = resources.files("stdnum.cn").joinpath("loc.dat").read_text(encoding="utf-8")
    return parse_loc_dat(text)


def load_regions(region_model: Any) -> int:
    """Insert every region into ``region_model`` (the model, or its historical version in a
    migration), skipping codes already there. Returns the number of regions added."""
    existing = set(region_model.objects.values_list("code", flat=True))
    new = [
        region_model(
            code=row.code,
            name=row.name,
            level=row.level,
            parent_id=row.parent_code,
            valid_from_year=row.valid_from_year,
            valid_to_year=row.valid_to_year,
        )
        for row in read_regions()
        if row.code not in existing
    ]
    region_model.objects.bulk_create(new, batch_size=500)
    return len(new)
