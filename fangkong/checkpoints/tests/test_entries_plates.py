"""Chinese plate numbers (GA 36-2018): ordinary, new energy (small and large vehicles),
trailers, learners and police; how they are normalised; and what is refused, with a message
saying what is wrong and an example."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from fangkong.core.validators import PLATE_PROVINCES, clean_plate

TOO_SHORT = (
    "This plate is too short: after the province come 6 characters (7 for new energy), e.g. "
    "甘G12345 or 甘GD12345."
)
TOO_LONG = (
    "This plate is too long: after the province come 6 characters (7 for new energy), e.g. "
    "甘G12345 or 甘GD12345."
)
NO_I_OR_O = "Plates never use the letters I and O: type the digits 1 and 0, e.g. 甘G12345."
NEW_ENERGY = (
    "A new-energy plate has D or F right after the office's letter (small car, e.g. "
    "甘GD12345) or at the end after five digits (large vehicle, e.g. 甘G12345D)."
)
SHAPE = (
    "After the province come the office's letter and 5 letters or digits, e.g. 甘G12345 (or 4 "
    "and 挂, 学 or 警)."
)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def refusal(value: str) -> str:
    with pytest.raises(ValidationError) as excinfo:
        clean_plate(value)
    (message,) = excinfo.value.messages
    return message


@pytest.mark.parametrize("plate", ["甘G12345", "京A8888B", "粤BA1234", "琼EZZ999", "川A0000A"])
def test_an_ordinary_plate_is_valid(plate: str) -> None:
    assert clean_plate(plate) == plate


@pytest.mark.parametrize(
    "plate",
    ["甘GD12345", "京AF12345", "沪ADA1234", "粤BFZ1234"],
    ids=["pure-electric", "hybrid", "letter-second", "letter-second-f"],
)
def test_a_small_new_energy_plate_has_d_or_f_first(plate: str) -> None:
    assert clean_plate(plate) == plate


@pytest.mark.parametrize("plate", ["甘G12345D", "京A00001F"])
def test_a_large_new_energy_plate_has_five_digits_then_d_or_f(plate: str) -> None:
    assert clean_plate(plate) == plate


@pytest.mark.parametrize("plate", ["甘G1234挂", "甘GA123学", "甘G0001警"])
def test_trailer_learner_and_police_plates_end_in_their_character(plate: str) -> None:
    assert clean_plate(plate) == plate


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("甘g12345", "甘G12345"),
        ("甘gd12345", "甘GD12345"),
        ("甘G·12345", "甘G12345"),
        (" 甘G 123 45 ", "甘G12345"),
        ("甘G-12345", "甘G12345"),
        ("甘G.D1234.5", "甘GD12345"),
        ("甘Ｇ１２３４５", "甘G12345"),  # full width, from a Chinese input method
    ],
)
def test_lower_case_spaces_dots_dashes_and_full_width_are_normalised(
    typed: str, stored: str
) -> None:
    assert clean_plate(typed) == stored


def test_an_empty_plate_stays_empty() -> None:
    assert clean_plate("") == clean_plate("  ") == ""


def test_every_province_character_is_accepted() -> None:
    assert [clean_plate(f"{p}A12345") for p in PLATE_PROVINCES] == [
        f"{p}A12345" for p in PLATE_PROVINCES
    ]
    assert len(PLATE_PROVINCES) == 31


@pytest.mark.parametrize(
    ("plate", "message"),
    [
        (
            "港A12345",
            "A plate starts with the province's character (京, 甘, 粤, …), e.g. 甘G12345; "
            "“港” is not one.",
        ),
        (
            "GA12345",
            "A plate starts with the province's character (京, 甘, 粤, …), e.g. 甘G12345; "
            "“G” is not one.",
        ),
        ("甘G1234", TOO_SHORT),
        ("甘G", TOO_SHORT),
        ("甘G1234567", TOO_LONG),
        ("甘GD1234567", TOO_LONG),
        ("甘GI2345", NO_I_OR_O),
        ("甘O12345", NO_I_OR_O),
        ("甘GDO1234", NO_I_OR_O),
        ("甘GA12345", NEW_ENERGY),  # 7 characters, no D or F where it belongs
        ("甘GD1234A", NEW_ENERGY),  # small new energy ends in four digits
        ("甘G1A345D", NEW_ENERGY),  # large new energy: five digits first
        ("甘112345", SHAPE),  # the office is a letter
        ("甘G1234$", SHAPE),
        ("甘G123挂4", SHAPE),
    ],
)
def test_a_wrong_plate_is_refused_saying_what_is_wrong_with_an_example(
    plate: str, message: str
) -> None:
    assert refusal(plate) == message
