"""Validation of resident ID numbers (GB 11643) and mobile phone numbers.

Validators return the normalised value and a list of warnings, or raise ``ValidationError``
with a message that says what is wrong and how to fix it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from operator import mul

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: dt.date
    sex: str  # "M" or "F"
    warnings: tuple[str, ...] = ()


def id_check_character(first17: str) -> str:
    """The MOD 11-2 check character for the first 17 digits of a resident ID number."""
    if len(first17) != len(_ID_WEIGHTS):
        raise ValueError(f"expected 17 digits, got {first17!r}")
    total = sum(map(mul, map(int, first17), _ID_WEIGHTS))
    return _ID_CHECK[total % 11]


@cache
def _known_region_prefixes() -> frozenset[str]:
    """Region codes (GB/T 2260, historic ones included) as listed by python-stdnum."""
    from fangkong.core.regions import read_regions

    return frozenset(region.code for region in read_regions())


def validate_resident_id(value: str, *, today: dt.date | None = None) -> ResidentId:
    """Check an 18-character resident ID number; an unknown region code is only a warning."""
    # NFKC turns full-width digits and Ｘ (typed with a Chinese IME) into ASCII.
    number = unicodedata.normalize("NFKC", value).strip().upper()
    if len(number) != 18:
        raise ValidationError(
            _(
                "An ID number has 18 characters; this one has %(count)d. Check for missing or extra digits."
            )
            % {"count": len(number)},
            code="id_length",
        )
    if not _ID_SHAPE.match(number):
        raise ValidationError(
            _(
                "An ID number is 17 digits followed by a digit or X. Remove spaces and other characters."
            ),
            code="id_characters",
        )
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _(
                "Characters 7–14 of an ID number are the birth date (YYYYMMDD); %(date)s is not a real date."
            )
            % {"date": number[6:14]},
            code="id_birth_date",
        ) from None
    today = today or dt.date.today()
    if birth > today or birth.year < 1890:
        raise ValidationError(
            _("The birth date in this ID number (%(date)s) is impossible. Check characters 7–14.")
            % {"date": birth.isoformat()},
            code="id_birth_date",
        )
    expected = id_check_character(number[:17])
    if number[17] != expected:
        raise ValidationError(
            _(
                "The last character (check character) should be %(expected)s, not %(actual)s: a digit was probably mistyped."
            )
            % {"expected": expected, "actual": number[17]},
            code="id_check",
        )
    warnings: list[str] = []
    known = _known_region_prefixes()
    if known and number[:6] not in known:
        warnings.append(
            _(
                "Region code %(code)s is not in the list of known codes; it may be an old code. Please double-check."
            )
            % {"code": number[:6]}
        )
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return ResidentId(number=number, birth_date=birth, sex=sex, warnings=tuple(warnings))


def validate_mobile(value: str) -> str:
    """A mainland mobile number: 11 digits starting 13–19. Spaces and dashes are dropped."""
    number = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", value))
    if number.startswith("+86"):
        number = number[3:]
    if not _MOBILE.match(number):
        raise ValidationError(
            _("A mobile number has 11 digits and starts with 13–19, e.g. 13812345678."),
            code="phone",
        )
    return number
