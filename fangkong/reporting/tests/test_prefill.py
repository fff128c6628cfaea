"""Pre-filling the daily report from the register: every default indicator against a
hand-computed fixture, at the day boundaries of Asia/Shanghai; the abnormal cases; grid
sub-reports as the unit's starting figures; and a number of queries that does not grow with
the number of units.

The fixture (LZ-01, around D = 2020-02-10; time frozen at 2020-02-11 10:00 in Shanghai):

- on the register: the world's 3 persons of LZ-01 and 14 added ones (those below, one moved
  out and one away): 16;
- arrivals: A at D-1 23:59:59, B (from a high-risk area) at D 00:00:00, C at D 23:59:59, E at
  D+1 00:00:00 (B and C count for D);
- home isolation: E1 (close contact, from D-10, running), E2 (from D), E3 (released on D),
  E4 (from D+1), E5 (released on D-1), E7 (suspected on D), E8 (confirmed on D-2); centralised
  isolation: E6 (close contact, from D-5, running);
- readings: E1 38.0 °C at D-1 23:59:59 (its alert still open) and 38.2 °C at D 23:59:59,
  E2 36.9 °C with a cough at D 00:00:00, E6 38.5 °C at D+1 00:00:00;
- LZ-02: an arrival and a fever on D, never counted for LZ-01;
- the day's work: the world's place to disinfect of LZ-01 (一站职工食堂, twice a day) was last
  disinfected on 2020-02-04, so it is overdue on D with nothing recorded; no publicity, shift
  or entry on D.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.core.testing import World
from fangkong.observation import services as observation
from fangkong.observation.models import ObservationEpisode, ObservationKind
from fangkong.org import services as org_services
from fangkong.org.models import OrgUnit, Person
from fangkong.reporting import prefill as rules
from fangkong.reporting import services
from fangkong.reporting.models import Indicator
from fangkong.reporting.tree import Tree
from fangkong.screening import services as screening
from fangkong.screening.models import Region

SH = ZoneInfo("Asia/Shanghai")
D = dt.date(2020, 2, 10)
NOW = dt.datetime(2020, 2, 11, 10, 0, tzinfo=SH)
Reason = ObservationEpisode.Reason
Counts = ObservationEpisode.CountsFrom


def at(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=SH)


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@dataclass
class Fixture:
    world: World
    persons: dict[str, Person]
    episodes: dict[str, ObservationEpisode]


def _person(world: World, name: str, grid: OrgUnit) -> Person:
    return org_services.create_person(actor=None, name=name, grid=grid).person


def _episode(
    person: Person,
    start: dt.date,
    *,
    kind: str = ObservationKind.HOME_ISOLATION,
    reason: str = Reason.ARRIVAL,
) -> ObservationEpisode:
    return observation.start_episode(
        actor=None,
        entry=observation.EpisodeStart(
            person=person,
            reason=reason,
            kind=kind,
            counts_from=start,
            counts_from_kind=Counts.START,
            start_date=start,
        ),
        at=min(at(start, 8), NOW),
    )


def _arrival(person: Person, arrived: dt.datetime, region: str = "620702") -> None:
    screening.register_arrival(
        actor=None,
        person=person,
        from_region=Region.objects.get(code=region),
        arrived_at=arrived,
        registered_at=arrived,
    )


@pytest.fixture
def fx(world: World) -> Fixture:
    g11, g12, g21 = world.grid11, world.grid12, world.grid21
    names = {
        "X1": g11, "X2": g11, "X3": g12, "X4": g12, "X5": g11, "X6": g12, "X7": g11,
        "X8": g12, "A": g11, "B": g12, "C": g11, "E": g12,
    }  # fmt: skip
    persons = {key: _person(world, f"人员{key}", grid) for key, grid in names.items()}
    persons["gone"] = _person(world, "迁出者", g11)
    persons["away"] = _person(world, "外出者", g12)
    org_services.update_person(actor=None, person=persons["gone"], status="moved_out")
    org_services.update_person(actor=None, person=persons["away"], status="away")
    screening.set_risk_level(
        actor=None, region=Region.objects.get(code="420100"), level="high", start=D - days(20)
    )
    _arrival(persons["A"], at(D - days(1), 23, 59, 59))
    _arrival(persons["B"], at(D, 0, 0, 0), region="420102")
    _arrival(persons["C"], at(D, 23, 59, 59))
    _arrival(persons["E"], at(D + days(1), 0, 0, 0))
    e = {
        "E1": _episode(persons["X1"], D - days(10), reason=Reason.CONTACT),
        "E2": _episode(persons["X2"], D),
        "E3": _episode(persons["X3"], D - days(10)),
        "E4": _episode(persons["X4"], D + days(1)),
        "E5": _episode(persons["X5"], D - days(10)),
        "E6": _episode(
            persons["X6"], D - days(5), kind=ObservationKind.CENTRALISED, reason=Reason.CONTACT
        ),
        "E7": _episode(persons["X7"], D - days(10)),
        "E8": _episode(persons["X8"], D - days(10)),
    }
    observation.decide(actor=None, episode=e["E3"], outcome="released", note="提前解除", on=D)
    observation.decide(
        actor=None, episode=e["E5"], outcome="released", note="提前解除", on=D - days(1)
    )
    observation.decide(actor=None, episode=e["E7"], outcome="suspected", note="转为疑似", on=D)
    observation.decide(
        actor=None, episode=e["E8"], outcome="confirmed", note="确诊，已送医院", on=D - days(2)
    )
    observation.record_reading(
        actor=None, episode=e["E1"], value="38.0", taken_at=at(D - days(1), 23, 59, 59)
    )
    observation.record_reading(
        actor=None, episode=e["E1"], value="38.2", taken_at=at(D, 23, 59, 59)
    )
    observation.record_reading(
        actor=None, episode=e["E2"], value="36.9", symptoms=["cough"], taken_at=at(D, 0, 0, 0)
    )
    observation.record_reading(
        actor=None, episode=e["E6"], value="38.5", taken_at=at(D + days(1), 0, 0, 0)
    )
    # LZ-02: an arrival and a fever on D.
    outsider = _person(world, "二站新到", g21)
    _arrival(outsider, at(D, 9))
    sick = _episode(_person(world, "二站隔离", g21), D - days(3))
    observation.record_reading(actor=None, episode=sick, value="39.0", taken_at=at(D, 9))
    return Fixture(world, persons, e)


EXPECTED_ON_D = {
    "registered": 16,
    "away": 1,
    "arrivals": 2,
    "arrivals_key_areas": 1,
    "home_isolation": 2,
    "home_isolation_new": 1,
    "home_isolation_released": 1,
    "centralised": 1,
    "fevers": 1,
    "suspected": 1,
    "confirmed": 1,
    "close_contacts": 2,
    "disinfection": "未登记消毒，1 处场所逾期",
    "publicity": "",
    "duty": "",
}


def test_every_default_indicator_is_pre_filled_as_computed_by_hand(fx: Fixture) -> None:
    world = fx.world

    filled = services.prefill(units=[world.unit1], day=D)[world.unit1.pk]

    assert filled.values == EXPECTED_ON_D
    assert filled.register == {
        code: value for code, value in EXPECTED_ON_D.items() if isinstance(value, int)
    }
    assert set(EXPECTED_ON_D) == set(Indicator.objects.values_list("code", flat=True))


def test_the_day_before_and_after_count_what_crossed_midnight_on_their_side(fx: Fixture) -> None:
    world = fx.world

    before = services.prefill(units=[world.unit1], day=D - days(1))[world.unit1.pk].values
    after = services.prefill(units=[world.unit1], day=D + days(1))[world.unit1.pk].values

    # D-1: A arrived at 23:59:59, E1's 38.0 °C at 23:59:59; E1, E3 and E7 still isolated at the
    # end of the day (E5 released that day): 3 = 2 on D - E2 (new on D) + E3 + E7 (ended on D).
    assert (before["arrivals"], before["fevers"]) == (1, 1)
    assert (before["home_isolation"], before["home_isolation_new"]) == (3, 0)
    assert before["home_isolation_released"] == 1
    # D+1: E arrived at 00:00:00, E6's 38.5 °C at 00:00:00, E4 starts.
    assert (after["arrivals"], after["fevers"]) == (1, 1)
    assert (after["home_isolation"], after["home_isolation_new"]) == (3, 1)


def test_the_other_unit_counts_its_own_records_only(fx: Fixture) -> None:
    world = fx.world

    filled = services.prefill(units=[world.unit2], day=D)[world.unit2.pk].values

    # 王立新, the new arrival and the person isolated in LZ-02-01.
    assert filled["registered"] == 3
    assert (filled["arrivals"], filled["fevers"], filled["home_isolation"]) == (1, 1, 1)


def test_the_abnormal_cases_of_the_day_list_open_and_new_ones_with_the_highest_temperature(
    fx: Fixture,
) -> None:
    world = fx.world

    filled = services.prefill(units=[world.unit1], day=D)[world.unit1.pk]

    cases = [(c.name, c.temperature, c.symptoms, c.what, c.action, c.open) for c in filled.cases]
    assert cases == [
        ("人员X1", "38.2", [], "fever", "", True),
        ("人员X2", "36.9", ["cough"], "symptoms", "", True),
        ("人员X7", "", [], "suspected", "转为疑似", False),
        ("人员X8", "", [], "confirmed", "确诊，已送医院", False),
    ]


def test_a_resolved_fever_of_an_earlier_day_is_no_case_but_one_of_the_day_is(
    fx: Fixture,
) -> None:
    from fangkong.alerts.models import Alert
    from fangkong.alerts.services import resolve_alert

    world = fx.world
    for alert in Alert.objects.filter(person=fx.persons["X1"]):
        resolve_alert(actor=None, alert=alert, note="复测36.8℃")

    on_d = services.prefill(units=[world.unit1], day=D)[world.unit1.pk].cases
    day_after = services.prefill(units=[world.unit1], day=D + days(1))[world.unit1.pk].cases

    x1 = next(c for c in on_d if c.name == "人员X1")
    assert (x1.temperature, x1.action, x1.open) == ("38.2", "复测36.8℃", False)
    assert "人员X1" not in {c.name for c in day_after}


def test_pre_filling_many_units_reads_the_register_once_per_rule(fx: Fixture) -> None:
    world = fx.world
    more = [
        org_services.create_org_unit(
            actor=None, code=f"LZ-9{i}", name=f"九{i}站", kind="unit", parent=world.branch
        )
        for i in range(25)
    ]
    for unit in more:
        grid = org_services.create_org_unit(
            actor=None, code=f"{unit.code}-01", name="网格", kind="grid", parent=unit
        )
        _person(world, "新人", grid)
    units = [world.unit1, world.unit2, *more]

    with CaptureQueriesContext(connection) as queries:
        filled = services.prefill(units=units, day=D)

    assert filled[world.unit1.pk].values == EXPECTED_ON_D
    assert all(filled[unit.pk].values["registered"] == 1 for unit in more)
    # indicators, rules, the tree, 12 count rules, 3 text rules (4 queries: the duty reads
    # the roster and the entry log), 2 for the cases
    assert len(queries) == 1 + 1 + 1 + len(rules.RULES) + len(rules.TEXT_RULES) + 1 + 2


# ---------------------------------------------------------------------------------------------
# The tree and grid sub-reports


def test_a_unit_inside_a_unit_reports_its_own_grids(world: World) -> None:
    inner = org_services.create_org_unit(
        actor=None, code="LZ-01-X", name="一站分队", kind="unit", parent=world.unit1
    )
    grid = org_services.create_org_unit(
        actor=None, code="LZ-01-X-01", name="分队网格", kind="grid", parent=inner
    )
    tree = Tree.load()

    assert sorted(tree.members(world.unit1)) == sorted(
        [world.unit1.pk, world.grid11.pk, world.grid12.pk]
    )
    assert tree.members(inner) == [inner.pk, grid.pk]
    assert tree.unit_of[grid.pk] == inner.pk


def _grid_reports_on() -> None:
    services.update_rules(actor=None, grid_reports=True)


def test_with_grid_sub_reports_the_unit_starts_from_its_grids_figures(world: World) -> None:
    _grid_reports_on()
    services.submit_report(
        actor=world.user("worker11"),
        unit=world.grid11,
        day=D,
        values={"registered": 5, "disinfection": "消毒两次"},
        reasons={"registered": "两人未登记"},
    )

    filled = services.prefill(units=[world.unit1], day=D)[world.unit1.pk]

    # the register: 2 in LZ-01-01 and 1 in LZ-01-02; the grid reported 5 for LZ-01-01
    assert filled.register["registered"] == 3
    assert filled.values["registered"] == 6
    assert filled.reasons == {"registered": "一站一网格: 两人未登记"}
    # the unit's records (its overdue place) first, then the grid's text
    assert filled.texts["disinfection"] == "未登记消毒，1 处场所逾期"
    assert filled.values["disinfection"] == "未登记消毒，1 处场所逾期\n一站一网格: 消毒两次"


def test_a_returned_grid_report_is_not_used(world: World) -> None:
    _grid_reports_on()
    report = services.submit_report(
        actor=world.user("worker11"), unit=world.grid11, day=D, values={"registered": 5},
        reasons={"registered": "两人未登记"},
    )  # fmt: skip
    services.return_report(actor=world.user("head1"), report=report, comment="请核实")

    filled = services.prefill(units=[world.unit1], day=D)[world.unit1.pk]

    assert filled.values["registered"] == filled.register["registered"] == 3


def test_the_unit_carries_the_grids_reasons_when_it_keeps_their_figures(world: World) -> None:
    _grid_reports_on()
    services.submit_report(
        actor=world.user("worker11"), unit=world.grid11, day=D, values={"registered": 5},
        reasons={"registered": "两人未登记"},
    )  # fmt: skip

    report = services.submit_report(actor=world.user("head1"), unit=world.unit1, day=D)

    assert report.current is not None
    line = next(v for v in report.current.snapshot if v["code"] == "registered")
    assert (line["value"], line["in_register"], line["reason"]) == (6, 3, "一站一网格: 两人未登记")


def test_rules_are_registered_for_every_default_indicator_with_a_rule() -> None:
    from fangkong.reporting.reference import INDICATORS

    counts = {
        rule for _code, _name, kind, rule, _abnormal in INDICATORS if rule and kind == "count"
    }
    texts = {rule for _code, _name, kind, rule, _abnormal in INDICATORS if rule and kind == "text"}
    assert counts <= set(rules.RULES)
    assert texts == set(rules.TEXT_RULES) == {"disinfection", "publicity", "duty"}


def _values(filled: Any) -> dict[str, Any]:
    return dict(filled.values)
