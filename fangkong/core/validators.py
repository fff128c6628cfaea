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


# ---------------------------------------------------------------------------------------------
# Vehicle plates (GA 36-2018)

# The one-character abbreviations of the provinces, regions and municipalities on plates.
PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# The issuing office's letter and the serial's letters: A–Z but I and O (read as 1 and 0).
_PLATE_LETTER = "A-HJ-NP-Z"
_PLATE_SERIAL = f"[{_PLATE_LETTER}0-9]"
_PLATE_SHAPES = (
    # ordinary: 甘G12345, 甘GA1234
    re.compile(f"^[{_PLATE_LETTER}]{_PLATE_SERIAL}{{5}}$"),
    # new energy, small car: D or F, a letter or digit, four digits (甘GD12345, 甘GFA1234)
    re.compile(f"^[{_PLATE_LETTER}][DF]{_PLATE_SERIAL}[0-9]{{4}}$"),
    # new energy, large vehicle: five digits, then D or F (甘G12345D)
    re.compile(f"^[{_PLATE_LETTER}][0-9]{{5}}[DF]$"),
    # trailer, learner, police: four characters and 挂, 学 or 警 (甘G1234挂)
    re.compile(f"^[{_PLATE_LETTER}]{_PLATE_SERIAL}{{4}}[挂学警]$"),
)
_PLATE_NOISE = re.compile(r"[\s.·•・\-_—]")
PLATE_EXAMPLE = "甘G12345"


def clean_plate(value: str) -> str:
    """A Chinese plate number (GA 36-2018), upper-case, without spaces, dots or dashes:
    ordinary (甘G12345), new energy (甘GD12345 for a small car, 甘G12345D for a large one),
    or a trailer, learner or police plate (甘G1234挂, 甘G1234学, 甘G1234警). An empty value
    stays empty. Raises ValidationError saying what is wrong, with an example."""
    plate = _PLATE_NOISE.sub("", unicodedata.normalize("NFKC", value or "")).upper()
    if not plate:
        return ""
    example = {"example": PLATE_EXAMPLE}
    if plate[0] not in PLATE_PROVINCES:
        raise ValidationError(
            _(
                "A plate starts with the province's character (京, 甘, 粤, …), e.g. "
                "%(example)s; “%(first)s” is not one."
            )
            % {**example, "first": plate[0]},
            code="plate_province",
        )
    rest = plate[1:]
    if len(rest) < 6:
        raise ValidationError(
            _(
                "This plate is too short: after the province come 6 characters (7 for new "
                "energy), e.g. %(example)s or 甘GD12345."
            )
            % example,
            code="plate_length",
        )
    if len(rest) > 7:
        raise ValidationError(
            _(
                "This plate is too long: after the province come 6 characters (7 for new "
                "energy), e.g. %(example)s or 甘GD12345."
            )
            % example,
            code="plate_length",
        )
    if "I" in rest or "O" in rest:
        raise ValidationError(
            _("Plates never use the letters I and O: type the digits 1 and 0, e.g. %(example)s.")
            % example,
            code="plate_letters",
        )
    if not any(shape.match(rest) for shape in _PLATE_SHAPES):
        if len(rest) == 7:
            message = _(
                "A new-energy plate has D or F right after the office's letter (small car, "
                "e.g. 甘GD12345) or at the end after five digits (large vehicle, e.g. 甘G12345D)."
            )
        else:
            message = (
                _(
                    "After the province come the office's letter and 5 letters or digits, e.g. "
                    "%(example)s (or 4 and 挂, 学 or 警)."
                )
                % example
            )
        raise ValidationError(message, code="plate_shape")
    return plate
