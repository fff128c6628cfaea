"""The GB/T 2260 regions loaded from python-stdnum's loc.dat."""

from __future__ import annotations

import pytest

from fangkong.core.regions import ancestor_codes, parse_loc_dat, read_regions
from fangkong.screening.models import Region


def test_a_county_is_under_its_prefecture_under_its_province(regions: None) -> None:
    linze = Region.objects.select_related("parent__parent").get(code="620723")
    zhangye = linze.parent
    assert zhangye is not None
    gansu = zhangye.parent
    assert gansu is not None

    assert (linze.name, linze.level) == ("临泽县", "county")
    assert (zhangye.code, zhangye.name, zhangye.level) == ("620700", "张掖市", "prefecture")
    assert (gansu.code, gansu.name, gansu.level, gansu.parent) == (
        "620000",
        "甘肃省",
        "province",
        None,
    )
    assert linze.full_name == "甘肃省 张掖市 临泽县"
    assert (linze.valid_from_year, linze.valid_to_year) == (2002, None)


def test_wuhan_is_a_prefecture_of_hubei(regions: None) -> None:
    wuhan = Region.objects.get(code="420100")

    assert (wuhan.name, wuhan.level, wuhan.parent_id) == ("武汉市", "prefecture", "420000")
    assert (wuhan.valid_from_year, wuhan.valid_to_year) == (None, None)


def test_a_historic_code_keeps_the_years_it_was_valid(regions: None) -> None:
    changping = Region.objects.get(code="110221")
    chongwen = Region.objects.get(code="110103")

    assert (changping.name, changping.valid_from_year, changping.valid_to_year) == (
        "昌平县",
        1982,
        1999,
    )
    assert (chongwen.name, chongwen.valid_from_year, chongwen.valid_to_year) == (
        "崇文区",
        None,
        2010,
    )


def test_a_province_takes_its_years_from_its_0000_line(regions: None) -> None:
    hainan = Region.objects.get(code="460000")

    assert (hainan.name, hainan.level, hainan.valid_from_year) == ("海南省", "province", 1988)


def test_the_migration_loaded_every_region_of_the_file(regions: None) -> None:
    rows = read_regions()

    assert Region.objects.count() == len(rows) == 6885
    assert Region.objects.filter(level="province").count() == 34
    assert Region.objects.filter(parent__isnull=True).count() == 34


def test_a_county_without_a_prefecture_line_hangs_under_its_province() -> None:
    rows = parse_loc_dat(
        '99 province="测试省"\n  0000 county="测试省"\n  9001 county="[2000-]甲市"\n'
    )

    assert [(r.code, r.level, r.parent_code, r.valid_from_year) for r in rows] == [
        ("990000", "province", None, None),
        ("999001", "county", "990000", 2000),
    ]


def test_an_unreadable_line_is_an_error_with_its_number() -> None:
    with pytest.raises(ValueError, match=r"loc\.dat line 2: cannot read 'garbage'"):
        parse_loc_dat('99 province="测试省"\ngarbage\n')


def test_the_ancestors_of_a_code_are_its_prefecture_and_province() -> None:
    assert ancestor_codes("620723") == ["620723", "620700", "620000"]
    assert ancestor_codes("620700") == ["620700", "620000"]
    assert ancestor_codes("620000") == ["620000"]
