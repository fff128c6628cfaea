"""Classification by the rules: each rule at the edge of its window, on both sides, first by the
pure ``rules.classify`` (with a fake level lookup), then through ``services.screen_person``
with times in Asia/Shanghai (the edge of a window is local midnight)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fangkong.core.testing import World
from fangkong.screening import rules, services
from fangkong.screening.models import Region, Screening, ScreeningRules
from fangkong.screening.rules import Facts, classify, describe, within

D = dt.date
SH = ZoneInfo("Asia/Shanghai")
ON = D(2020, 2, 15)  # the screening day of the pure tests
WUHAN_JIANGAN = "420102"


class FakeLevels:
    """``level_on`` from a table of (region code, first day, last day, level); records what was
    asked."""

    def __init__(self, *periods: tuple[str, dt.date, dt.date, str]) -> None:
        self.periods = periods
        self.asked: list[tuple[str, dt.date]] = []

    def __call__(self, code: str, day: dt.date) -> str | None:
        self.asked.append((code, day))
        for region, first, last, level in self.periods:
            if region == code and first <= day <= last:
                return level
        return None


def _always(level: str) -> FakeLevels:
    return FakeLevels((WUHAN_JIANGAN, D(2019, 1, 1), D(2021, 1, 1), level))


def _arrival(arrived_on: dt.date, **more: Any) -> Facts:
    return Facts(
        on=ON, from_region=WUHAN_JIANGAN, from_region_name="江岸区", arrived_on=arrived_on, **more
    )


def _arrival_reason(
    arrived_on: dt.date, *, level: str = "high", level_on: dt.date | None = None, days: int = 14
) -> dict[str, Any]:
    return {
        "rule": "risk_area_arrival",
        "region": WUHAN_JIANGAN,
        "region_name": "江岸区",
        "level": level,
        "level_on": (level_on or arrived_on).isoformat(),
        "arrived_on": arrived_on.isoformat(),
        "window_days": days,
    }


def _summary(result: rules.Classification) -> tuple[str, bool, bool, list[dict[str, Any]]]:
    return (result.category, result.is_key, result.is_urgent, result.reason_data)


# ---------------------------------------------------------------------------------------------
# within: "at most N days before"


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2020, 2, 1), True),  # exactly 14 days before
        (D(2020, 1, 31), False),  # 15 days before
        (D(2020, 2, 15), True),  # the day itself
        (D(2020, 2, 16), False),  # after it
        (None, False),
    ],
    ids=["14-days", "15-days", "same-day", "day-after", "unknown"],
)
def test_within_counts_the_edge_day_and_not_the_one_before(
    day: dt.date | None, expected: bool
) -> None:
    assert within(day, ON, 14) is expected


# ---------------------------------------------------------------------------------------------
# Arrival from a risk area (pure)


def test_an_arrival_from_a_high_risk_area_exactly_14_days_before_is_a_key_person() -> None:
    result = classify(_arrival(D(2020, 2, 1)), rules=ScreeningRules(), level_on=_always("high"))

    assert _summary(result) == (
        "risk_area_arrival",
        True,
        False,
        [_arrival_reason(D(2020, 2, 1))],
    )


def test_an_arrival_from_a_high_risk_area_15_days_before_is_not() -> None:
    levels = _always("high")

    result = classify(_arrival(D(2020, 1, 31)), rules=ScreeningRules(), level_on=levels)

    assert _summary(result) == ("no_risk", False, False, [])
    assert levels.asked == []  # outside the window, the level is not even looked up


def test_an_arrival_on_the_screening_day_itself_counts() -> None:
    result = classify(_arrival(ON), rules=ScreeningRules(), level_on=_always("high"))

    assert _summary(result) == ("risk_area_arrival", True, False, [_arrival_reason(ON)])


@pytest.mark.parametrize(
    ("medium_is_key", "expected"),
    [(True, ("risk_area_arrival", True)), (False, ("no_risk", False))],
    ids=["medium-counts", "medium-does-not-count"],
)
def test_a_medium_risk_area_counts_only_when_the_rules_say_so(
    medium_is_key: bool, expected: tuple[str, bool]
) -> None:
    result = classify(
        _arrival(D(2020, 2, 1)),
        rules=ScreeningRules(medium_risk_is_key=medium_is_key),
        level_on=_always("medium"),
    )

    assert (result.category, result.is_key) == expected
    assert result.reason_data == (
        [_arrival_reason(D(2020, 2, 1), level="medium")] if medium_is_key else []
    )


@pytest.mark.parametrize("level", ["low", None], ids=["low", "no-level"])
def test_a_low_risk_area_or_one_without_a_level_never_counts(level: str | None) -> None:
    levels = _always(level) if level else FakeLevels()

    result = classify(_arrival(ON), rules=ScreeningRules(medium_risk_is_key=True), level_on=levels)

    assert _summary(result) == ("no_risk", False, False, [])
    assert levels.asked == [(WUHAN_JIANGAN, ON)]


@pytest.mark.parametrize(
    ("arrived_on", "is_key"),
    [(D(2020, 2, 8), True), (D(2020, 2, 7), False)],
    ids=["7-days", "8-days"],
)
def test_the_travel_window_comes_from_the_rules(arrived_on: dt.date, is_key: bool) -> None:
    result = classify(
        _arrival(arrived_on),
        rules=ScreeningRules(travel_window_days=7),
        level_on=_always("high"),
    )

    assert result.is_key is is_key
    assert result.reason_data == ([_arrival_reason(arrived_on, days=7)] if is_key else [])


def test_the_level_is_the_one_on_the_departure_day_high_then_lowered() -> None:
    # High until 2020-02-03, low from 2020-02-04: left on the 3rd, arrived on the 5th.
    levels = FakeLevels(
        (WUHAN_JIANGAN, D(2020, 1, 23), D(2020, 2, 3), "high"),
        (WUHAN_JIANGAN, D(2020, 2, 4), D(2020, 12, 31), "low"),
    )

    result = classify(
        _arrival(D(2020, 2, 5), departed_on=D(2020, 2, 3)),
        rules=ScreeningRules(),
        level_on=levels,
    )

    assert _summary(result) == (
        "risk_area_arrival",
        True,
        False,
        [_arrival_reason(D(2020, 2, 5), level_on=D(2020, 2, 3))],
    )
    assert levels.asked == [(WUHAN_JIANGAN, D(2020, 2, 3))]


def test_the_level_is_the_one_on_the_departure_day_low_then_raised() -> None:
    # Low until 2020-02-03, high from 2020-02-04: left on the 3rd, arrived on the 5th.
    levels = FakeLevels(
        (WUHAN_JIANGAN, D(2020, 1, 1), D(2020, 2, 3), "low"),
        (WUHAN_JIANGAN, D(2020, 2, 4), D(2020, 12, 31), "high"),
    )

    result = classify(
        _arrival(D(2020, 2, 5), departed_on=D(2020, 2, 3)),
        rules=ScreeningRules(),
        level_on=levels,
    )

    assert _summary(result) == ("no_risk", False, False, [])
    assert levels.asked == [(WUHAN_JIANGAN, D(2020, 2, 3))]


def test_without_a_departure_date_the_level_is_the_one_on_the_arrival_day() -> None:
    levels = FakeLevels((WUHAN_JIANGAN, D(2020, 2, 4), D(2020, 12, 31), "high"))

    result = classify(_arrival(D(2020, 2, 5)), rules=ScreeningRules(), level_on=levels)

    assert result.reason_data == [_arrival_reason(D(2020, 2, 5), level_on=D(2020, 2, 5))]
    assert levels.asked == [(WUHAN_JIANGAN, D(2020, 2, 5))]


def test_an_arrival_without_a_region_fires_nothing() -> None:
    levels = _always("high")

    result = classify(Facts(on=ON, arrived_on=ON), rules=ScreeningRules(), level_on=levels)

    assert _summary(result) == ("no_risk", False, False, [])
    assert levels.asked == []


# ---------------------------------------------------------------------------------------------
# Close contact (pure)


def _contact_reason(kind: str, day: dt.date | None, days: int = 14) -> dict[str, Any]:
    return {
        "rule": "close_contact",
        "contact_kind": kind,
        "contact_date": day.isoformat() if day else "",
        "window_days": days,
    }


@pytest.mark.parametrize("kind", ["case", "risk_arrival"])
def test_a_contact_exactly_at_the_contact_window_is_a_key_person(kind: str) -> None:
    facts = Facts(on=ON, contact_kind=kind, contact_date=D(2020, 2, 1))

    result = classify(facts, rules=ScreeningRules(), level_on=FakeLevels())

    assert _summary(result) == (
        "close_contact",
        True,
        False,
        [_contact_reason(kind, D(2020, 2, 1))],
    )


@pytest.mark.parametrize("kind", ["case", "risk_arrival"])
def test_a_contact_one_day_before_the_contact_window_is_not(kind: str) -> None:
    facts = Facts(on=ON, contact_kind=kind, contact_date=D(2020, 1, 31))

    result = classify(facts, rules=ScreeningRules(), level_on=FakeLevels())

    assert _summary(result) == ("no_risk", False, False, [])


@pytest.mark.parametrize(
    ("contact_date", "is_key"),
    [(D(2020, 2, 5), True), (D(2020, 2, 4), False)],
    ids=["10-days", "11-days"],
)
def test_the_contact_window_comes_from_the_rules(contact_date: dt.date, is_key: bool) -> None:
    facts = Facts(on=ON, contact_kind="case", contact_date=contact_date)

    result = classify(facts, rules=ScreeningRules(contact_window_days=10), level_on=FakeLevels())

    assert result.reason_data == (
        [_contact_reason("case", contact_date, days=10)] if is_key else []
    )


def test_a_contact_with_a_fever_patient_is_not_a_key_person() -> None:
    facts = Facts(on=ON, contact_kind="fever", contact_date=ON)

    result = classify(facts, rules=ScreeningRules(), level_on=FakeLevels())

    assert _summary(result) == ("no_risk", False, False, [])


def test_a_contact_on_an_unknown_date_is_a_key_person() -> None:
    facts = Facts(on=ON, contact_kind="case", contact_date=None)

    result = classify(facts, rules=ScreeningRules(), level_on=FakeLevels())

    assert _summary(result) == ("close_contact", True, False, [_contact_reason("case", None)])


# ---------------------------------------------------------------------------------------------
# Fever and symptoms (pure)


@pytest.mark.parametrize(
    ("temperature", "urgent"),
    [("37.3", True), ("37.2", False), ("39.0", True), ("36.5", False)],
)
def test_a_temperature_at_the_threshold_is_urgent_and_just_below_is_not(
    temperature: str, urgent: bool
) -> None:
    facts = Facts(on=ON, temperature=Decimal(temperature))

    result = classify(facts, rules=ScreeningRules(), level_on=FakeLevels())

    assert _summary(result) == (
        "no_risk",
        False,
        urgent,
        [{"rule": "fever", "temperature": temperature, "threshold": "37.3"}] if urgent else [],
    )


def test_the_fever_threshold_comes_from_the_rules() -> None:
    rule_set = ScreeningRules(fever_threshold=Decimal("37.5"))

    below = classify(
        Facts(on=ON, temperature=Decimal("37.4")), rules=rule_set, level_on=FakeLevels()
    )
    at = classify(Facts(on=ON, temperature=Decimal("37.5")), rules=rule_set, level_on=FakeLevels())

    assert below.is_urgent is False
    assert at.reason_data == [{"rule": "fever", "temperature": "37.5", "threshold": "37.5"}]


def test_symptoms_are_urgent_but_not_key() -> None:
    facts = Facts(on=ON, symptoms=["fever", "cough"])

    result = classify(facts, rules=ScreeningRules(), level_on=FakeLevels())

    assert _summary(result) == (
        "no_risk",
        False,
        True,
        [{"rule": "symptoms", "symptoms": ["fever", "cough"]}],
    )


def test_several_rules_fire_at_once_in_order() -> None:
    facts = _arrival(
        D(2020, 2, 10),
        departed_on=D(2020, 2, 9),
        contact_kind="risk_arrival",
        contact_date=D(2020, 2, 9),
        symptoms=["cough"],
        temperature=Decimal("38.2"),
    )

    result = classify(facts, rules=ScreeningRules(), level_on=_always("high"))

    assert _summary(result) == (
        "risk_area_arrival",  # the arrival names the category; the contact is a reason too
        True,
        True,
        [
            _arrival_reason(D(2020, 2, 10), level_on=D(2020, 2, 9)),
            _contact_reason("risk_arrival", D(2020, 2, 9)),
            {"rule": "fever", "temperature": "38.2", "threshold": "37.3"},
            {"rule": "symptoms", "symptoms": ["cough"]},
        ],
    )


def test_a_close_contact_with_a_fever_is_a_key_and_urgent_close_contact() -> None:
    facts = Facts(on=ON, contact_kind="case", contact_date=ON, temperature=Decimal("37.3"))

    result = classify(facts, rules=ScreeningRules(), level_on=FakeLevels())

    assert (result.category, result.is_key, result.is_urgent) == ("close_contact", True, True)
    assert [r["rule"] for r in result.reason_data] == ["close_contact", "fever"]


# ---------------------------------------------------------------------------------------------
# What the ledger says about each reason


def test_each_reason_is_described_in_one_line() -> None:
    assert describe(_arrival_reason(D(2020, 2, 5), level_on=D(2020, 2, 3))) == (
        "Arrived on 2020-02-05 from 江岸区, High risk on 2020-02-03 (within 14 days)"
    )
    assert describe(_contact_reason("case", D(2020, 2, 9))) == (
        "Contact with A confirmed or suspected case on 2020-02-09 (within 14 days)"
    )
    assert describe(_contact_reason("risk_arrival", None)) == (
        "Contact with Someone from a risk area, date unknown"
    )
    assert describe({"rule": "fever", "temperature": "37.3", "threshold": "37.3"}) == (
        "Temperature 37.3 °C, at or above 37.3 °C"
    )
    assert describe({"rule": "symptoms", "symptoms": ["fever", "cough"]}) == (
        "Symptoms: Fever、Dry cough"
    )


# ---------------------------------------------------------------------------------------------
# Through the service: local days in Asia/Shanghai, the levels in the database


def _set(code: str, level: str, start: dt.date, end: dt.date | None = None) -> None:
    services.set_risk_level(
        actor=None, region=Region.objects.get(code=code), level=level, start=start, end=end
    )


def _screen(world: World, at: dt.datetime, **findings: Any) -> Screening:
    return services.screen_person(
        actor=world.user("worker11"),
        campaign=world.campaign1,
        person=world.person11b,
        at=at,
        **findings,
    )


def _from_jiangan(arrived_at: dt.datetime, **more: Any) -> dict[str, Any]:
    return {"from_region": Region.objects.get(code=WUHAN_JIANGAN), "arrived_at": arrived_at, **more}


SCREENED_AT = dt.datetime(2020, 2, 15, 10, 0, tzinfo=SH)


@pytest.mark.parametrize(
    ("arrived_at", "is_key"),
    [
        (dt.datetime(2020, 2, 1, 23, 59, tzinfo=SH), True),  # late on the edge day
        (dt.datetime(2020, 2, 1, 0, 0, tzinfo=SH), True),  # its first minute (UTC: Jan 31)
        (dt.datetime(2020, 1, 31, 16, 0, tzinfo=dt.UTC), True),  # the same instant in UTC
        (dt.datetime(2020, 1, 31, 23, 59, tzinfo=SH), False),  # the minute before the edge day
        (dt.datetime(2020, 1, 31, 15, 59, tzinfo=dt.UTC), False),  # the same, in UTC
    ],
    ids=["edge-23:59", "edge-00:00", "edge-00:00-utc", "before-23:59", "before-23:59-utc"],
)
def test_the_travel_window_edge_is_local_midnight(
    world: World, arrived_at: dt.datetime, is_key: bool
) -> None:
    _set("420100", "high", D(2020, 1, 23))

    screening = _screen(world, SCREENED_AT, **_from_jiangan(arrived_at))

    expected_category = "risk_area_arrival" if is_key else "no_risk"
    assert (screening.category, screening.is_key) == (expected_category, is_key)
    arrived_on = arrived_at.astimezone(SH).date().isoformat()
    assert screening.reasons == (
        [
            {
                "rule": "risk_area_arrival",
                "region": WUHAN_JIANGAN,
                "region_name": "江岸区",
                "level": "high",
                "level_on": arrived_on,
                "arrived_on": arrived_on,
                "window_days": 14,
            }
        ]
        if is_key
        else []
    )


@pytest.mark.parametrize(
    ("screened_at", "is_key"),
    [
        (dt.datetime(2020, 2, 15, 23, 59, tzinfo=SH), True),  # last minute of day 14
        (dt.datetime(2020, 2, 16, 0, 0, tzinfo=SH), False),  # first minute of day 15 (UTC: 15th)
    ],
    ids=["day-14-23:59", "day-15-00:00"],
)
def test_the_screening_day_is_the_local_day(
    world: World, screened_at: dt.datetime, is_key: bool
) -> None:
    _set("420100", "high", D(2020, 1, 23))

    screening = _screen(
        world, screened_at, **_from_jiangan(dt.datetime(2020, 2, 1, 0, 0, tzinfo=SH))
    )

    assert screening.is_key is is_key


def test_changing_the_travel_window_moves_the_edge(world: World) -> None:
    _set("420100", "high", D(2020, 1, 23))
    services.update_rules(actor=world.user("office"), travel_window_days=7)
    seven_days = _from_jiangan(dt.datetime(2020, 2, 8, 0, 0, tzinfo=SH))
    eight_days = _from_jiangan(dt.datetime(2020, 2, 7, 23, 59, tzinfo=SH))

    assert _screen(world, SCREENED_AT, **seven_days).is_key is True
    assert _screen(world, SCREENED_AT, **eight_days).is_key is False

    services.update_rules(actor=world.user("office"), travel_window_days=14)

    assert _screen(world, SCREENED_AT, **eight_days).reasons[0]["window_days"] == 14


def test_medium_risk_counts_until_the_office_turns_it_off(world: World) -> None:
    _set("420102", "medium", D(2020, 1, 23))
    found = _from_jiangan(dt.datetime(2020, 2, 10, 8, 0, tzinfo=SH))

    assert _screen(world, SCREENED_AT, **found).category == "risk_area_arrival"

    services.update_rules(actor=world.user("office"), medium_risk_is_key=False)

    screening = _screen(world, SCREENED_AT, **found)
    assert (screening.category, screening.is_key, screening.reasons) == ("no_risk", False, [])


def test_a_low_risk_area_never_counts_through_the_service(world: World) -> None:
    _set("420102", "low", D(2020, 1, 23))

    screening = _screen(
        world, SCREENED_AT, **_from_jiangan(dt.datetime(2020, 2, 15, 9, 0, tzinfo=SH))
    )

    assert (screening.category, screening.is_key) == ("no_risk", False)


@pytest.mark.parametrize(
    ("high", "expected"),
    [("420100", True), ("420000", True), ("420200", False)],
    ids=["prefecture", "province", "another-prefecture"],
)
def test_a_county_inherits_the_level_of_its_prefecture_and_province(
    world: World, high: str, expected: bool
) -> None:
    _set(high, "high", D(2020, 1, 23))

    screening = _screen(
        world, SCREENED_AT, **_from_jiangan(dt.datetime(2020, 2, 10, 8, 0, tzinfo=SH))
    )

    assert screening.is_key is expected


def test_high_at_departure_and_lowered_before_arrival_is_a_key_person(world: World) -> None:
    _set("420100", "high", D(2020, 1, 23))
    _set("420100", "low", D(2020, 2, 4))  # closes the high period on 2020-02-03

    screening = _screen(
        world,
        SCREENED_AT,
        **_from_jiangan(
            dt.datetime(2020, 2, 5, 12, 0, tzinfo=SH),
            departed_at=dt.datetime(2020, 2, 3, 23, 30, tzinfo=SH),  # UTC: 15:30 the same day
        ),
    )

    assert (screening.category, screening.is_key) == ("risk_area_arrival", True)
    assert screening.reasons == [
        {
            "rule": "risk_area_arrival",
            "region": WUHAN_JIANGAN,
            "region_name": "江岸区",
            "level": "high",
            "level_on": "2020-02-03",
            "arrived_on": "2020-02-05",
            "window_days": 14,
        }
    ]


def test_a_departure_after_local_midnight_is_on_the_lowered_day(world: World) -> None:
    _set("420100", "high", D(2020, 1, 23))
    _set("420100", "low", D(2020, 2, 4))

    screening = _screen(
        world,
        SCREENED_AT,
        **_from_jiangan(
            dt.datetime(2020, 2, 5, 12, 0, tzinfo=SH),
            departed_at=dt.datetime(2020, 2, 4, 0, 30, tzinfo=SH),  # UTC: still the 3rd
        ),
    )

    assert (screening.category, screening.is_key, screening.reasons) == ("no_risk", False, [])


def test_low_at_departure_and_raised_before_arrival_is_not_a_key_person(world: World) -> None:
    _set("420100", "low", D(2020, 1, 1))
    _set("420100", "high", D(2020, 2, 4))

    screening = _screen(
        world,
        SCREENED_AT,
        **_from_jiangan(
            dt.datetime(2020, 2, 5, 12, 0, tzinfo=SH),
            departed_at=dt.datetime(2020, 2, 3, 20, 0, tzinfo=SH),
        ),
    )

    assert (screening.category, screening.is_key, screening.reasons) == ("no_risk", False, [])


@pytest.mark.parametrize(
    ("contact_date", "is_key"),
    [(D(2020, 2, 1), True), (D(2020, 1, 31), False), (None, True)],
    ids=["14-days", "15-days", "unknown-date"],
)
def test_a_close_contact_through_the_service(
    world: World, contact_date: dt.date | None, is_key: bool
) -> None:
    screening = _screen(
        world,
        SCREENED_AT,
        contact_kind="case",
        contact_name="刘某",
        contact_date=contact_date,
    )

    assert (screening.category, screening.is_key) == (
        ("close_contact", True) if is_key else ("no_risk", False)
    )


def test_a_contact_with_a_fever_patient_through_the_service_is_not_key(world: World) -> None:
    screening = _screen(world, SCREENED_AT, contact_kind="fever", contact_name="刘某")

    assert (screening.category, screening.is_key, screening.reasons) == ("no_risk", False, [])


@pytest.mark.parametrize(("typed", "urgent"), [("37.3", True), ("37.2", False), (" 37，3 ", True)])
def test_the_fever_threshold_through_the_service(world: World, typed: str, urgent: bool) -> None:
    screening = _screen(world, SCREENED_AT, temperature=typed)

    assert (screening.is_key, screening.is_urgent) == (False, urgent)
    assert screening.temperature == Decimal(typed.strip().replace("，", "."))


def test_symptoms_through_the_service_are_urgent_in_the_list_order(world: World) -> None:
    screening = _screen(world, SCREENED_AT, symptoms=["diarrhoea", "fever", "fever"])

    assert (screening.is_key, screening.is_urgent) == (False, True)
    assert screening.reasons == [{"rule": "symptoms", "symptoms": ["fever", "diarrhoea"]}]
