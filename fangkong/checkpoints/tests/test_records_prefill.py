"""The daily report's day's work (消毒工作, 宣传工作, 值班值守) written from the records of the
day: against a hand-built fixture at the Asia/Shanghai day boundaries, per unit and added up
to the branch, in the report's language; an empty day; the filing page; the text rules as
indicator rules; and the migration that sets them.

The fixture, around D = 2020-02-10 (the clock frozen at 2020-02-11 10:00 in Shanghai):

- places of LZ-01: the world's 一站职工食堂 (unit, twice a day, disinfected on the 4th at
  09:00) disinfected at D 09:00; 一站东门卡口 (grid LZ-01-01, twice a day, added D-1 08:00)
  disinfected at D-1 23:59:59, D 00:00:00, D 12:00, D 23:59:59 and D+1 00:00:00; 一排公厕
  (grid LZ-01-02, 3 times a day, added D-1 08:00) disinfected at D 08:00; 仓库 (once a day,
  added D 20:00) and 新库 (added D+1 08:00) never disinfected; 旧库 (added D-1, inactive).
  At the end of D the canteen (15 h since) and the toilets (16 h) are overdue, the gate is
  not (1 s since): 5 disinfections at 3 places, 2 overdue.
  LZ-02: the world's 二站办公室 (once a day, disinfected on the 4th): overdue, none on D.
- publicity on D: posters in LZ-01 (20, about 120 people), broadcasts in LZ-01-01 (3, about
  180 people), a leaflet in LZ-02 (no number: once, about 50 people); a meeting on D-1 in
  LZ-01-02 and a notice on D+1.
- duty: LZ-01's office post with the shifts D-1 20:00–D 08:00 (worker11), D 08:00–20:00
  (worker11 and 赵卫东 without an account), D 20:00–D+1 08:00 (worker11 and head1) and a
  cancelled one on D; LZ-02's post with D 08:00–17:00 (head2 and 赵卫东).
- the checkpoint of LZ-01: 1 person at D-1 23:59:59, 3 at D 00:00:00 (one with a fever), 1 at
  D 15:00, 2 leaving at D 23:59:59, 1 at D+1 00:00:00.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils import translation

from fangkong.checkpoints.models import (
    Checkpoint,
    DutyPost,
    Entry,
    EntryPerson,
    Shift,
    ShiftMember,
)
from fangkong.checkpoints.services import records as services
from fangkong.core.testing import World
from fangkong.core.testing import english_client as client_of
from fangkong.org.models import User
from fangkong.reporting import prefill
from fangkong.reporting import services as reporting
from fangkong.reporting.models import Indicator

from .records_kit import RecordsWorld, records_world

SH = ZoneInfo("Asia/Shanghai")
D = dt.date(2020, 2, 10)
NOW = dt.datetime(2020, 2, 11, 10, 0, tzinfo=SH)
DAY_WORK = ("disinfection", "publicity", "duty")

ON_D_LZ01 = {
    "disinfection": "5 disinfections (3 places), 2 places overdue",
    "publicity": "2 publicity activities: 20 posters or banners, 3 broadcasts, reaching about "
    "300 people",
    "duty": "2 shifts on duty, 3 people on duty; 6 people logged at the checkpoints, 1 with a "
    "fever",
}


def at(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=SH)


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


@pytest.fixture(autouse=True)
def _frozen(settings: Any) -> Iterator[None]:
    """The clock at NOW; the report written in English (the site's language in the tests:
    the texts are compared with their English source), the pages in English too."""
    settings.LANGUAGE_CODE = "en"
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        yield


def _disinfect(place: Any, *moments: dt.datetime) -> None:
    for moment in moments:
        services.record_disinfection(
            actor=None, place=place, agent="84消毒液 1:100", done_by="王芳", done_at=moment
        )


def _publicity(unit: Any, day: dt.date, kind: str, **values: Any) -> None:
    services.create_publicity(actor=None, unit=unit, day=day, kind=kind, content="防疫", **values)


def _shift(post: DutyPost, start: dt.datetime, hours: int, *people: Any, **extra: Any) -> None:
    shift = Shift.objects.create(
        post=post, start=start, end=start + dt.timedelta(hours=hours), **extra
    )
    for person in people:
        if isinstance(person, User):
            ShiftMember.objects.create(shift=shift, user=person, name=person.username)
        else:
            ShiftMember.objects.create(shift=shift, name=person)


def _entry(
    checkpoint: Checkpoint, moment: dt.datetime, temperatures: list[str], **extra: Any
) -> None:
    fevers = [Decimal(t) >= Decimal("37.3") for t in temperatures]
    entry = Entry.objects.create(
        checkpoint=checkpoint,
        unit=checkpoint.unit,
        at=moment,
        day=moment.astimezone(SH).date(),
        people_count=len(temperatures),
        has_fever=any(fevers),
        is_flagged=any(fevers),
        created_at=moment,
        **extra,
    )
    for position, (value, fever) in enumerate(zip(temperatures, fevers, strict=True)):
        EntryPerson.objects.create(
            entry=entry,
            position=position,
            name=f"人{position}",
            temperature=Decimal(value),
            is_fever=fever,
            is_flagged=fever,
        )


@pytest.fixture
def fx(db: None) -> RecordsWorld:
    world = records_world()
    unit1, grid11, grid12, unit2 = world.unit1, world.grid11, world.grid12, world.unit2
    gate = services.create_place(
        actor=None, unit=grid11, name="一站东门卡口", times_per_day=2, at=at(D - days(1), 8)
    )
    toilets = services.create_place(
        actor=None, unit=grid12, name="一排公厕", times_per_day=3, at=at(D - days(1), 8)
    )
    services.create_place(actor=None, unit=grid11, name="仓库", times_per_day=1, at=at(D, 20))
    services.create_place(
        actor=None, unit=grid11, name="新库", times_per_day=1, at=at(D + days(1), 8)
    )
    old = services.create_place(
        actor=None, unit=grid11, name="旧库", times_per_day=1, at=at(D - days(1), 8)
    )
    services.deactivate_place(actor=None, place=old)
    _disinfect(world.place1, at(D, 9))
    _disinfect(
        gate,
        at(D - days(1), 23, 59, 59),
        at(D, 0, 0, 0),
        at(D, 12),
        at(D, 23, 59, 59),
        at(D + days(1), 0, 0, 0),
    )
    _disinfect(toilets, at(D, 8))

    _publicity(unit1, D, "poster", quantity=20, reach=120)
    _publicity(grid11, D, "broadcast", quantity=3, reach=180)
    _publicity(unit2, D, "leaflet", reach=50)
    _publicity(grid12, D - days(1), "meeting")
    _publicity(unit1, D + days(1), "notice", quantity=1)

    worker, head1, head2 = world.user("worker11"), world.user("head1"), world.user("head2")
    office = DutyPost.objects.create(kind="office", name="联防联控办公室", unit=unit1)
    _shift(office, at(D - days(1), 20), 12, worker)
    _shift(office, at(D, 8), 12, worker, "赵卫东")
    _shift(office, at(D, 20), 12, worker, head1, leader=world.user("office"))
    _shift(office, at(D, 12), 1, "钱多", is_cancelled=True)
    room = DutyPost.objects.create(kind="other", name="二站值班室", unit=unit2)
    _shift(room, at(D, 8), 9, head2, "赵卫东")

    checkpoint = Checkpoint.objects.create(name="一站东门", unit=unit1)
    _entry(checkpoint, at(D - days(1), 23, 59, 59), ["36.5"])
    _entry(checkpoint, at(D, 0, 0, 0), ["36.4", "38.1", "36.6"], plate="甘G12345")
    _entry(checkpoint, at(D, 15), ["36.7"])
    _entry(checkpoint, at(D, 23, 59, 59), ["36.2", "36.3"], direction="out")
    _entry(checkpoint, at(D + days(1), 0, 0, 0), ["36.5"])
    return world


def _texts(world: World, unit: Any, day: dt.date) -> dict[str, Any]:
    filled = reporting.prefill(units=[unit], day=day)[unit.pk]
    return {code: filled.values[code] for code in DAY_WORK}


def test_the_days_work_of_a_unit_is_written_from_its_records_of_the_day(fx: World) -> None:
    filled = reporting.prefill(units=[fx.unit1], day=D)[fx.unit1.pk]

    assert {code: filled.values[code] for code in DAY_WORK} == ON_D_LZ01
    assert filled.texts == ON_D_LZ01
    assert not set(DAY_WORK) & set(filled.register)


def test_the_day_before_and_today_count_what_crossed_midnight_on_their_side(fx: World) -> None:
    # D-1: the gate at 23:59:59; overdue at the end of the day (D 00:00): the canteen (last on
    # the 4th) and the toilets (added at 08:00, never done); the meeting; the night shift from
    # 20:00 (worker11); the person at 23:59:59.
    assert _texts(fx, fx.unit1, D - days(1)) == {
        "disinfection": "1 disinfection (1 place), 2 places overdue",
        "publicity": "1 publicity activity: 1 meeting",
        "duty": "1 shift on duty, 1 person on duty; 1 person logged at the checkpoints",
    }
    # Today (D+1, now 10:00): the gate at 00:00:00; overdue NOW: the canteen (25 h) and the
    # toilets (26 h), not the gate (10 h) nor the warehouses (14 h and 2 h old).
    assert _texts(fx, fx.unit1, D + days(1)) == {
        "disinfection": "1 disinfection (1 place), 2 places overdue",
        "publicity": "1 publicity activity: 1 notice",
        "duty": "1 person logged at the checkpoints",
    }


def test_each_unit_writes_its_own_records_only(fx: World) -> None:
    assert _texts(fx, fx.unit2, D) == {
        "disinfection": "no disinfection recorded, 1 place overdue",
        "publicity": "1 publicity activity: 1 leaflet, reaching about 50 people",
        "duty": "1 shift on duty, 2 people on duty",
    }


def test_the_branch_adds_up_its_units_and_counts_a_person_on_duty_in_two_units_once(
    fx: World,
) -> None:
    # 赵卫东 (no account) was on duty in both units: worker11, head1, 赵卫东 and head2.
    assert prefill.day_work(D, DAY_WORK) == {
        "disinfection": "5 disinfections (3 places), 3 places overdue",
        "publicity": "3 publicity activities: 20 posters or banners, 3 broadcasts, 1 leaflet, "
        "reaching about 350 people",
        "duty": "3 shifts on duty, 4 people on duty; 6 people logged at the checkpoints, 1 "
        "with a fever",
    }
    assert prefill.day_work(D, DAY_WORK, [fx.unit1.pk, fx.grid11.pk, fx.grid12.pk]) == ON_D_LZ01


def test_a_unit_nested_in_a_unit_writes_its_own_grids_and_not_the_outer_ones(fx: World) -> None:
    from fangkong.org import services as org_services

    inner = org_services.create_org_unit(
        actor=None, code="LZ-01-X", name="一站分队", kind="unit", parent=fx.unit1
    )
    grid = org_services.create_org_unit(
        actor=None, code="LZ-01-X-01", name="分队网格", kind="grid", parent=inner
    )
    shed = services.create_place(
        actor=None, unit=grid, name="分队库房", times_per_day=1, at=at(D - days(1), 8)
    )
    _disinfect(shed, at(D, 7), at(D, 18))

    filled = reporting.prefill(units=[fx.unit1, inner], day=D)

    assert filled[inner.pk].values["disinfection"] == "2 disinfections (1 place)"
    assert filled[fx.unit1.pk].values["disinfection"] == ON_D_LZ01["disinfection"]


def test_a_day_with_nothing_recorded_leaves_the_day_s_work_empty_to_write_by_hand(
    fx: World,
) -> None:
    # 2020-02-02: before any place, post or checkpoint of LZ-01 existed.
    filled = reporting.prefill(units=[fx.unit1], day=dt.date(2020, 2, 2))[fx.unit1.pk]

    assert {code: filled.values[code] for code in DAY_WORK} == dict.fromkeys(DAY_WORK, "")


def test_the_texts_are_in_the_reports_language_whatever_the_page_s(
    fx: World, settings: Any
) -> None:
    with translation.override("zh-hans"):
        english = _texts(fx, fx.unit1, D)

    assert english == ON_D_LZ01
    assert prefill.report_language() == "en"
    settings.LANGUAGE_CODE = "zh-hans"
    assert prefill.report_language() == "zh-hans"


def test_the_submitted_report_keeps_the_texts_and_a_unit_may_write_more(fx: World) -> None:
    head = fx.user("head1")

    report = reporting.submit_report(
        actor=head,
        unit=fx.unit1,
        day=D,
        values={"publicity": ON_D_LZ01["publicity"] + "；另发放宣传单200份"},
    )

    assert report.current is not None
    lines = {line["code"]: line for line in report.current.snapshot}
    assert lines["disinfection"]["value"] == ON_D_LZ01["disinfection"]
    assert lines["duty"]["value"] == ON_D_LZ01["duty"]
    assert lines["publicity"]["value"] == ON_D_LZ01["publicity"] + "；另发放宣传单200份"
    assert lines["publicity"]["in_register"] is None


def test_with_grid_sub_reports_the_records_come_once_and_the_grids_own_words_are_added(
    fx: World,
) -> None:
    reporting.update_rules(actor=None, grid_reports=True)
    worker = fx.user("worker11")
    grid_texts = reporting.prefill(units=[fx.grid11], day=D)[fx.grid11.pk].texts
    assert grid_texts["disinfection"] == "3 disinfections (1 place)"
    reporting.submit_report(
        actor=worker,
        unit=fx.grid11,
        day=D,
        values={"disinfection": grid_texts["disinfection"], "duty": "网格员夜间巡查"},
    )

    filled = reporting.prefill(units=[fx.unit1], day=D)[fx.unit1.pk]

    assert filled.values["disinfection"] == ON_D_LZ01["disinfection"]
    assert filled.values["duty"] == ON_D_LZ01["duty"] + "\n一站一网格: 网格员夜间巡查"


def test_the_filing_page_starts_from_the_texts_and_shows_the_records_beside_a_draft(
    fx: World,
) -> None:
    client = client_of(fx, "head1")
    url = f"/reporting/units/{fx.unit1.pk}/file/?day={D.isoformat()}"
    fresh = client.get(url).content.decode()
    reporting.save_draft(actor=fx.user("head1"), unit=fx.unit1, day=D, values={"duty": "站长带班"})

    drafted = client.get(url).content.decode()

    assert f"{ON_D_LZ01['duty']}</textarea>" in fresh
    assert 'id="records-v_duty"' not in fresh
    assert "站长带班</textarea>" in drafted
    assert f"From the records: {ON_D_LZ01['duty']}" in drafted
    assert 'id="records-v_disinfection"' not in drafted


# ---------------------------------------------------------------------------------------------
# The text rules as indicator rules


def test_the_indicator_rules_are_the_text_rules_for_texts_and_the_count_rules_for_counts(
    db: None,
) -> None:
    from fangkong.reporting.reference import ensure

    ensure()
    codes = {i.code: i.rule for i in Indicator.objects.filter(code__in=DAY_WORK)}
    assert codes == {code: code for code in DAY_WORK}
    assert prefill.rule_kind("duty") == "text"
    assert prefill.rule_kind("fevers") == "count"
    assert prefill.rule_kind("nothing") is None
    assert ("duty", "Shifts on duty and people at the checkpoints that day (text)") in (
        prefill.rule_choices()
    )


@pytest.mark.parametrize(
    ("kind", "rule", "message"),
    [
        ("count", "duty", "This rule writes a text: choose the kind text, or another rule."),
        ("text", "fevers", "This rule fills a count: choose the kind count, or another rule."),
    ],
)
def test_an_indicator_takes_a_rule_of_its_own_kind_only(
    db: None, kind: str, rule: str, message: str
) -> None:
    with pytest.raises(ValidationError) as error:
        reporting.save_indicator(actor=None, code="extra", name="额外", kind=kind, rule=rule)

    assert error.value.message_dict == {"rule": [message]}


def test_a_text_indicator_takes_a_text_rule(db: None) -> None:
    indicator = reporting.save_indicator(
        actor=None, code="cleaning", name="保洁工作", kind="text", rule="disinfection"
    )

    assert (indicator.kind, indicator.rule) == ("text", "disinfection")


def test_the_migration_sets_the_rules_unless_the_office_changed_the_indicator(db: None) -> None:
    from fangkong.reporting.reference import ensure

    ensure()
    Indicator.objects.filter(code__in=DAY_WORK).update(rule="")
    publicity = Indicator.objects.get(code="publicity")
    reporting.save_indicator(
        actor=None, indicator=publicity, code="publicity", name="宣传教育", kind="text"
    )
    migration = importlib.import_module("fangkong.reporting.migrations.0003_day_work_rules")

    migration.forwards(apps, None)

    rules = dict(Indicator.objects.filter(code__in=DAY_WORK).values_list("code", "rule"))
    assert rules == {"disinfection": "disinfection", "publicity": "", "duty": "duty"}
    migration.backwards(apps, None)
    rules = dict(Indicator.objects.filter(code__in=DAY_WORK).values_list("code", "rule"))
    assert rules == dict.fromkeys(DAY_WORK, "")
