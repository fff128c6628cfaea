"""Resident ID numbers (GB 11643), mobile numbers and their masking."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from fangkong.core.masking import mask_id_number, mask_phone
from fangkong.core.testing import make_id_number
from fangkong.core.validators import (
    ResidentId,
    id_check_character,
    validate_mobile,
    validate_resident_id,
)

# A fixed "today" keeps the date rules independent of the day the tests run.
TODAY = dt.date(2020, 2, 1)
STANDARD_EXAMPLE = "11010519491231002X"  # GB 11643-1999, the standard's own example

# Real region codes (current, and historic ones listed in python-stdnum's loc.dat) and two the
# list does not know: 320219 (real numbers carry it, see guanguans/id-validator#33) and 999999.
REGIONS = ["110105", "110103", "110224", "440524", "620723", "620702", "412723", "320219", "999999"]
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def with_check(first17: str) -> str:
    return first17 + id_check_character(first17)


def rejection(value: str, *, today: dt.date = TODAY) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validate_resident_id(value, today=today)
    return caught.value


valid_numbers = st.builds(
    make_id_number,
    st.sampled_from(REGIONS),
    st.dates(min_value=dt.date(1890, 1, 1), max_value=TODAY),
    st.integers(min_value=0, max_value=999),
)

# ---------------------------------------------------------------------------------------------
# Resident ID numbers: valid numbers


def test_the_standards_example_number_is_valid_and_yields_birth_date_and_sex() -> None:
    assert validate_resident_id(STANDARD_EXAMPLE, today=TODAY) == ResidentId(
        number="11010519491231002X", birth_date=dt.date(1949, 12, 31), sex="F", warnings=()
    )


@pytest.mark.parametrize(
    ("first17", "check"),
    [
        ("11010519491231002", "X"),  # the standard's example
        ("44052418800101001", "4"),  # the standard's second example, 440524188001010014
        ("11010219800101001", "7"),
        ("62072319750314131", "6"),
        ("11022419600501123", "0"),
    ],
)
def test_the_check_character_is_computed_by_mod_11_2(first17: str, check: str) -> None:
    assert id_check_character(first17) == check


def test_the_standards_second_example_has_a_birth_year_before_1890_and_is_refused() -> None:
    error = rejection("440524188001010014")
    assert error.code == "id_birth_date"
    assert error.messages == [
        "The birth date in this ID number (1880-01-01) is impossible. Check characters 7–14."
    ]


def test_a_lower_case_x_is_accepted_and_stored_upper_case() -> None:
    assert validate_resident_id("11010519491231002x", today=TODAY).number == STANDARD_EXAMPLE


def test_surrounding_spaces_are_dropped() -> None:
    assert validate_resident_id("  11010519491231002X \n", today=TODAY).number == STANDARD_EXAMPLE


def test_full_width_digits_from_a_chinese_input_method_are_stored_as_ascii() -> None:
    assert (
        validate_resident_id("１１０１０５１９４９１２３１００２ｘ", today=TODAY).number
        == STANDARD_EXAMPLE
    )


def test_an_odd_seventeenth_digit_is_male_and_an_even_one_female() -> None:
    male = make_id_number("620723", dt.date(1975, 3, 14), 131)
    female = make_id_number("620723", dt.date(1975, 3, 14), 130)
    assert validate_resident_id(male, today=TODAY).sex == "M"
    assert validate_resident_id(female, today=TODAY).sex == "F"


def test_a_baby_born_today_is_valid() -> None:
    number = make_id_number("620723", TODAY, 1)
    assert validate_resident_id(number, today=TODAY).birth_date == TODAY


def test_a_birth_on_1_january_1890_is_the_earliest_accepted() -> None:
    number = make_id_number("110105", dt.date(1890, 1, 1), 1)
    assert validate_resident_id(number, today=TODAY).birth_date == dt.date(1890, 1, 1)


# ---------------------------------------------------------------------------------------------
# Resident ID numbers: region codes


def test_a_current_region_code_gives_no_warning() -> None:
    assert validate_resident_id(STANDARD_EXAMPLE, today=TODAY).warnings == ()


def test_a_historic_region_code_listed_in_stdnum_gives_no_warning_even_where_stdnum_rejects_it() -> (
    None
):
    # 110224 is the former Daxing county (1982-2001). Someone born there in 1960 got the code on
    # their first card in the 1980s; python-stdnum refuses the number because 1960 < 1982.
    number = make_id_number("110224", dt.date(1960, 5, 1), 123)
    assert number == "110224196005011230"
    assert not ric.is_valid(number)
    assert validate_resident_id(number, today=TODAY).warnings == ()


def test_a_region_code_abolished_in_2010_gives_no_warning() -> None:
    number = make_id_number("110103", dt.date(1985, 7, 1), 11)  # 崇文区, merged in 2010
    assert validate_resident_id(number, today=TODAY).warnings == ()


def test_an_old_region_code_missing_from_the_list_is_a_warning_not_an_error() -> None:
    number = make_id_number("320219", dt.date(1970, 1, 1), 123)
    result = validate_resident_id(number, today=TODAY)
    assert result.number == "320219197001011236"
    assert result.birth_date == dt.date(1970, 1, 1)
    assert result.sex == "M"
    assert result.warnings == (
        "Region code 320219 is not in the list of known codes; it may be an old code. "
        "Please double-check.",
    )


def test_an_unknown_region_code_is_a_warning_not_an_error() -> None:
    number = with_check("99999919800101123")
    assert number == "999999198001011233"
    assert validate_resident_id(number, today=TODAY).warnings == (
        "Region code 999999 is not in the list of known codes; it may be an old code. "
        "Please double-check.",
    )


# ---------------------------------------------------------------------------------------------
# Resident ID numbers: rejections


def test_a_wrong_check_character_is_rejected_naming_the_expected_character() -> None:
    error = rejection("110105194912310025")
    assert error.code == "id_check"
    assert error.messages == [
        "The last character (check character) should be X, not 5: a digit was probably mistyped."
    ]


def test_an_x_where_a_digit_check_character_is_expected_is_rejected() -> None:
    error = rejection("62072319750314131X")
    assert error.code == "id_check"
    assert error.messages == [
        "The last character (check character) should be 6, not X: a digit was probably mistyped."
    ]


@pytest.mark.parametrize(
    ("first17", "shown"),
    [
        ("11010519990230001", "19990230"),  # 30 February
        ("11010519991301001", "19991301"),  # month 13
        ("11010519990001001", "19990001"),  # month 0
        ("11010519990100001", "19990100"),  # day 0
        ("11010519010229001", "19010229"),  # 1901 is not a leap year
    ],
)
def test_a_birth_date_that_does_not_exist_is_rejected(first17: str, shown: str) -> None:
    error = rejection(with_check(first17))
    assert error.code == "id_birth_date"
    assert error.messages == [
        f"Characters 7–14 of an ID number are the birth date (YYYYMMDD); {shown} is not a real date."
    ]


@pytest.mark.parametrize(
    ("birth", "shown"),
    [
        (dt.date(2020, 2, 2), "2020-02-02"),  # tomorrow
        (dt.date(2031, 1, 1), "2031-01-01"),
        (dt.date(1889, 12, 31), "1889-12-31"),
        (dt.date(1066, 10, 14), "1066-10-14"),
    ],
)
def test_a_birth_date_in_the_future_or_before_1890_is_rejected(birth: dt.date, shown: str) -> None:
    error = rejection(make_id_number("110105", birth, 2))
    assert error.code == "id_birth_date"
    assert error.messages == [
        f"The birth date in this ID number ({shown}) is impossible. Check characters 7–14."
    ]


@pytest.mark.parametrize(
    ("value", "count"),
    [
        ("", 0),
        ("11010519491231002", 17),
        ("11010519491231002X1", 19),
        ("110105491231002", 15),  # an old 15-digit number
    ],
)
def test_a_number_that_is_not_18_characters_long_is_rejected(value: str, count: int) -> None:
    error = rejection(value)
    assert error.code == "id_length"
    assert error.messages == [
        f"An ID number has 18 characters; this one has {count}. Check for missing or extra digits."
    ]


@pytest.mark.parametrize(
    "value",
    [
        "11010519491231002Y",
        "1101051949123100XX",
        "110105-9491231002X",
        "110105 9491231002X",
        "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",  # Arabic-Indic digits are digits to Python, not to the standard
    ],
)
def test_characters_other_than_digits_and_a_final_x_are_rejected(value: str) -> None:
    error = rejection(value)
    assert error.code == "id_characters"
    assert error.messages == [
        "An ID number is 17 digits followed by a digit or X. Remove spaces and other characters."
    ]


# ---------------------------------------------------------------------------------------------
# Resident ID numbers: properties


@PROPERTY_SETTINGS
@given(
    region=st.sampled_from(REGIONS),
    birth=st.dates(min_value=dt.date(1890, 1, 1), max_value=TODAY),
    serial=st.integers(min_value=0, max_value=999),
    lower_case=st.booleans(),
)
def test_any_well_formed_number_validates_and_round_trips_birth_date_and_sex(
    region: str, birth: dt.date, serial: int, lower_case: bool
) -> None:
    number = make_id_number(region, birth, serial)
    result = validate_resident_id(number.lower() if lower_case else number, today=TODAY)
    assert result.number == number
    assert result.birth_date == birth
    assert result.sex == ("M" if serial % 2 else "F")


@PROPERTY_SETTINGS
@given(number=valid_numbers, position=st.integers(min_value=0, max_value=17), data=st.data())
def test_changing_any_single_character_of_a_valid_number_is_always_rejected(
    number: str, position: int, data: st.DataObject
) -> None:
    # MOD 11-2 detects every single substitution: 11 is prime and no weight is a multiple of it.
    alphabet = "0123456789X" if position == 17 else "0123456789"
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != number[position]]))
    changed = number[:position] + replacement + number[position + 1 :]
    error = rejection(changed)
    if 6 <= position < 14:  # the birth date may have become impossible first
        assert error.code in {"id_birth_date", "id_check"}
    else:
        assert error.code == "id_check"


@PROPERTY_SETTINGS
@given(number=valid_numbers)
def test_masking_an_id_number_keeps_its_length_and_first_six_and_last_four(number: str) -> None:
    masked = mask_id_number(number)
    assert masked == number[:6] + "********" + number[-4:]
    assert len(masked) == 18


# ---------------------------------------------------------------------------------------------
# Mobile numbers


@pytest.mark.parametrize("prefix", ["13", "14", "15", "16", "17", "18", "19"])
def test_a_mobile_number_starting_13_to_19_is_valid(prefix: str) -> None:
    assert validate_mobile(f"{prefix}812345678") == f"{prefix}812345678"


@pytest.mark.parametrize(
    "value",
    [
        "138 1234 5678",
        "138-1234-5678",
        "+8613812345678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        " 13812345678 ",
        "１３８１２３４５６７８",  # full-width digits
    ],
)
def test_spaces_dashes_and_the_country_code_are_dropped_from_a_mobile_number(value: str) -> None:
    assert validate_mobile(value) == "13812345678"


@pytest.mark.parametrize(
    "value",
    [
        "12812345678",  # 12x is not a mobile prefix
        "10812345678",
        "23812345678",
        "1381234567",  # 10 digits
        "138123456789",  # 12 digits
        "8613812345678",  # country code without +
        "+85213812345678",
        "1381234567a",
        "138١٢٣٤٥٦٧٨",  # Arabic-Indic digits
        "",
    ],
)
def test_anything_but_11_digits_starting_13_to_19_is_not_a_mobile_number(value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_mobile(value)
    assert caught.value.code == "phone"
    assert caught.value.messages == [
        "A mobile number has 11 digits and starts with 13–19, e.g. 13812345678."
    ]


@PROPERTY_SETTINGS
@given(
    number=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    country_code=st.sampled_from(["", "+86", "+86 ", "+86-"]),
    separator=st.sampled_from(["", " ", "-"]),
)
def test_any_valid_mobile_number_is_accepted_however_it_is_written(
    number: str, country_code: str, separator: str
) -> None:
    written = country_code + separator.join([number[:3], number[3:7], number[7:]])
    assert validate_mobile(written) == number


@PROPERTY_SETTINGS
@given(number=st.from_regex(r"1[0-2][0-9]{9}", fullmatch=True))
def test_no_number_starting_10_to_12_is_accepted(number: str) -> None:
    with pytest.raises(ValidationError):
        validate_mobile(number)


# ---------------------------------------------------------------------------------------------
# Masking


def test_an_id_number_is_masked_to_region_and_last_four() -> None:
    assert mask_id_number("11010519491231002X") == "110105********002X"


def test_a_mobile_number_is_masked_to_first_three_and_last_four() -> None:
    assert mask_phone("13812345678") == "138****5678"


def test_masking_an_empty_value_gives_an_empty_string() -> None:
    assert mask_id_number("") == ""
    assert mask_phone("") == ""


def test_a_value_too_short_to_keep_both_ends_is_masked_entirely() -> None:
    assert mask_id_number("1101051949") == "**********"
    assert mask_phone("1381234") == "*******"


@PROPERTY_SETTINGS
@given(number=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_masking_a_mobile_number_keeps_its_length_and_first_three_and_last_four(
    number: str,
) -> None:
    assert mask_phone(number) == number[:3] + "****" + number[-4:]
