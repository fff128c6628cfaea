"""The duty pages: the roster overview, a post's week, adding, changing, cancelling and
swapping shifts, repeating a week, the printable week roster, the duty rules, the pioneer
posts, and "on duty now" on the home page. Who may do what, and that a refused request
changes nothing.

The world's duty (see :mod:`fangkong.checkpoints.testing_duty`) plus, on the office post
联防联控办公室 of LZ-01 (round the clock), 2020-02-05: 00:00–08:00 赵卫东, 08:00–16:00 gate1
with the leader on duty, 16:00–22:00 worker11; nothing from 22:00. The clock: 2020-02-05 10:00."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from django.utils import translation

from fangkong.checkpoints.models import DutyPost, DutyRules, PioneerPost, Shift, ShiftSwap
from fangkong.checkpoints.services import duty as services
from fangkong.checkpoints.testing_duty import DutyWorld
from fangkong.core.testing import World
from fangkong.core.testing import english_client as client_of

from .duty_kit import NOW, at, element, has_element, plain, post, shift, table_counts


@pytest.fixture(autouse=True)
def _english_at_now() -> Iterator[None]:
    with translation.override("en"), time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def duty(world: World) -> DutyWorld:
    return world.duty


@pytest.fixture
def office(world: World, duty: DutyWorld) -> DutyPost:
    office = post(world)
    shift(office, at(5, 0), at(5, 8), "赵卫东")
    shift(office, at(5, 8), at(5, 16), world.user("gate1"), leader=world.user("leader"))
    shift(office, at(5, 16), at(5, 22), world.user("worker11"))
    return office


def week_url(post: DutyPost, week: str = "") -> str:
    return f"/checkpoints/duty/posts/{post.pk}/" + (f"?week={week}" if week else "")


# ---------------------------------------------------------------------------------------------
# The roster overview


def test_the_roster_lists_the_posts_with_a_gap_first_and_who_is_on_duty(
    world: World, office: DutyPost, duty: DutyWorld
) -> None:
    response = client_of(world, "head1").get("/checkpoints/duty/")

    rows = element(response, "roster")
    assert (
        rows.index("一站东门卡口")
        < rows.index("联防联控办公室")
        < rows.index("一站疫情防控党员先锋岗")
    )
    assert element(response, f"post-{office.pk}") == (
        "联防联控办公室 第一作业站 · Office (joint prevention office) gate1 leader "
        "2020-02-05 22:00–2020-02-20 00:00"
    )
    assert element(response, f"post-{duty.post1.pk}") == (
        "一站东门卡口 第一作业站 · Checkpoint nobody — 2020-02-05 10:00–2020-02-20 00:00"
    )
    assert element(response, f"post-{duty.pioneer1.post_id}") == (
        "一站疫情防控党员先锋岗 第一作业站 · Pioneer post · not staffed 24 hours nobody — —"
    )
    assert element(response, "roster-summary") == (
        "Gaps in the 24 hours of the round-the-clock posts over the next 14 days: 2 posts "
        "with a gap."
    )


def test_the_roster_shows_nothing_of_another_unit(world: World, office: DutyPost) -> None:
    page = client_of(world, "head2").get("/checkpoints/duty/").content.decode()

    assert "二站值班室" in page
    assert "联防联控办公室" not in page
    assert "一站东门卡口" not in page


def test_the_post_list_shows_inactive_posts_on_request(world: World, office: DutyPost) -> None:
    services.update_post(actor=None, post=office, is_active=False)
    client = client_of(world, "head1")

    active = client.get("/checkpoints/duty/posts/")
    everything = client.get("/checkpoints/duty/posts/?inactive=1")

    assert not has_element(active, f"post-{office.pk}")
    assert element(everything, f"post-{office.pk}") == (
        "联防联控办公室 inactive 第一作业站 Office (joint prevention office) yes Week"
    )


# ---------------------------------------------------------------------------------------------
# A post's week


def test_the_week_of_a_post_shows_its_shifts_and_gaps_by_day(
    world: World, office: DutyPost
) -> None:
    shift(office, at(6, 22), at(7, 8), "钱多多", note="夜班")

    response = client_of(world, "head1").get(week_url(office))

    assert element(response, "week-range") == "2020-02-03 – 2020-02-09"
    assert element(response, "day-2020-02-05") == (
        "Wed 02-05 today 00:00–08:00 赵卫东 "
        "08:00–16:00 gate1 leader on duty: leader Change Swap Cancel the shift "
        "16:00–22:00 worker11 Change Swap Cancel the shift "
        "Gap 22:00–24:00 Fill + shift"
    )
    assert element(response, "day-2020-02-07") == (
        "Fri 02-07 … until 08:00: 钱多多 Gap 08:00–24:00 Fill + shift"
    )
    assert element(response, "day-2020-02-06").startswith("Thu 02-06 22:00–08:00 (+1) 钱多多 夜班")
    assert element(response, "week-gaps") == "3 gaps in the 24 hours this week"
    page = response.content.decode()
    assert 'href="?week=2020-01-27"' in page
    assert 'href="?week=2020-02-10"' in page


def test_a_past_shift_has_no_actions(world: World, office: DutyPost) -> None:
    response = client_of(world, "head1").get(week_url(office))

    morning = Shift.objects.get(post=office, start=at(5, 0))
    assert f"/checkpoints/duty/shifts/{morning.pk}/edit/" not in response.content.decode()


def test_a_read_only_user_sees_the_week_without_actions(world: World, office: DutyPost) -> None:
    response = client_of(world, "auditor1").get(week_url(office))

    assert response.status_code == 200
    assert "Cancel the shift" not in response.content.decode()
    assert not has_element(response, "add-shift")


def test_the_week_of_a_post_of_another_unit_is_not_found(world: World, office: DutyPost) -> None:
    assert client_of(world, "head2").get(week_url(office)).status_code == 404


# ---------------------------------------------------------------------------------------------
# Shifts


def test_a_shift_is_added_from_the_form(world: World, office: DutyPost) -> None:
    client = client_of(world, "head1")
    form = client.get(f"/checkpoints/duty/posts/{office.pk}/shifts/new/?day=2020-02-06")

    response = client.post(
        f"/checkpoints/duty/posts/{office.pk}/shifts/new/",
        {
            "start": "2020-02-05T22:00",
            "end": "2020-02-06T08:00",
            "users": [world.user("gate1").pk],
            "name_1": "赵卫东",
            "phone_1": "13600001111",
            "leader": world.user("office").pk,
            "note": "夜班",
        },
    )

    assert 'value="2020-02-06T08:00"' in form.content.decode()
    assert 'value="2020-02-06T16:00"' in form.content.decode()
    assert response.status_code == 302
    assert response["Location"] == week_url(office, "2020-02-03")
    made = Shift.objects.get(post=office, start=at(5, 22))
    assert (made.end, made.leader, made.note) == (at(6, 8), world.user("office"), "夜班")
    assert sorted(made.members.values_list("name", flat=True)) == ["gate1", "赵卫东"]


def test_a_gap_is_filled_from_its_link(world: World, office: DutyPost) -> None:
    page = client_of(world, "head1").get(week_url(office)).content.decode()

    link = (
        f"/checkpoints/duty/posts/{office.pk}/shifts/new/?start=2020-02-05T22%3A00%3A00%2B08%3A00"
        "&amp;end=2020-02-06T00%3A00%3A00%2B08%3A00"
    )
    assert link in page
    form = client_of(world, "head1").get(link.replace("&amp;", "&")).content.decode()
    assert 'value="2020-02-05T22:00"' in form
    assert 'value="2020-02-06T00:00"' in form


def test_an_overlapping_member_is_refused_on_the_form(world: World, office: DutyPost) -> None:
    before = table_counts()

    response = client_of(world, "head1").post(
        f"/checkpoints/duty/posts/{office.pk}/shifts/new/",
        {"start": "2020-02-05T12:00", "end": "2020-02-05T20:00", "users": [world.user("gate1").pk]},
    )

    assert response.status_code == 200
    assert (
        "gate1 is already on duty at 联防联控办公室 from 2020-02-05 08:00–16:00: choose someone "
        "else or change that shift first." in plain(response.content.decode())
    )
    assert table_counts() == before


@pytest.mark.parametrize("username", ["auditor1", "gate1", "leader"])
def test_a_read_only_user_may_not_add_a_shift(
    world: World, office: DutyPost, username: str
) -> None:
    client = client_of(world, username)
    url = f"/checkpoints/duty/posts/{office.pk}/shifts/new/"
    before = table_counts()

    get = client.get(url)
    post_ = client.post(
        url, {"start": "2020-02-05T22:00", "end": "2020-02-06T08:00", "name_1": "甲"}
    )

    assert (get.status_code, post_.status_code) == (403, 403)
    assert table_counts() == before


def test_an_outsider_may_not_add_a_shift_to_another_units_post(
    world: World, office: DutyPost
) -> None:
    client = client_of(world, "head2")
    before = table_counts()

    response = client.post(
        f"/checkpoints/duty/posts/{office.pk}/shifts/new/",
        {"start": "2020-02-05T22:00", "end": "2020-02-06T08:00", "name_1": "甲"},
    )

    assert response.status_code == 404
    assert table_counts() == before


def test_a_shift_is_changed_from_the_form(world: World, office: DutyPost) -> None:
    evening = Shift.objects.get(post=office, start=at(5, 16))
    client = client_of(world, "head1")
    form = client.get(f"/checkpoints/duty/shifts/{evening.pk}/edit/")

    response = client.post(
        f"/checkpoints/duty/shifts/{evening.pk}/edit/",
        {
            "start": "2020-02-05T16:00",
            "end": "2020-02-06T00:00",
            "users": [world.user("worker11").pk],
            "note": "延长到24点",
        },
    )

    assert 'value="2020-02-05T22:00"' in form.content.decode()
    assert response.status_code == 302
    evening.refresh_from_db()
    assert (evening.end, evening.note) == (at(6, 0), "延长到24点")


def test_a_past_shift_shows_why_it_cannot_change(world: World, office: DutyPost) -> None:
    morning = Shift.objects.get(post=office, start=at(5, 0))
    client = client_of(world, "head1")

    response = client.get(f"/checkpoints/duty/shifts/{morning.pk}/edit/")
    posted = client.post(
        f"/checkpoints/duty/shifts/{morning.pk}/edit/",
        {"start": "2020-02-05T00:00", "end": "2020-02-05T09:00", "name_1": "赵卫东"},
    )

    assert element(response, "closed") == (
        "This shift ended at 2020-02-05 08:00: a past shift stays as it was."
    )
    assert posted.status_code == 200
    morning.refresh_from_db()
    assert morning.end == at(5, 8)


def test_a_shift_is_cancelled_after_a_confirmation(world: World, office: DutyPost) -> None:
    evening = Shift.objects.get(post=office, start=at(5, 16))
    client = client_of(world, "head1")
    url = f"/checkpoints/duty/shifts/{evening.pk}/cancel/"

    confirm = client.get(url)
    response = client.post(url, {"reason": "人员调整"})

    assert element(confirm, "confirm-title") == (
        "Cancel the shift of 联防联控办公室 on 2020-02-05, 16:00–22:00?"
    )
    assert response["Location"] == week_url(office, "2020-02-03")
    evening.refresh_from_db()
    assert (evening.is_cancelled, evening.note) == (True, "人员调整")
    week = client.get(week_url(office))
    assert element(week, "cancelled") == "2020-02-05 16:00–22:00 worker11 · 人员调整"


def test_a_swap_is_recorded_from_the_form(world: World, office: DutyPost) -> None:
    evening = Shift.objects.get(post=office, start=at(5, 16))
    member = evening.members.get()
    client = client_of(world, "head1")

    response = client.post(
        f"/checkpoints/duty/shifts/{evening.pk}/swap/",
        {"from_member": member.pk, "to_user": world.user("head1").pk, "reason": "家中有事"},
    )

    assert response.status_code == 302
    swap = ShiftSwap.objects.get()
    assert (swap.from_name, swap.to_name, swap.reason, swap.recorded_by) == (
        "worker11",
        "head1",
        "家中有事",
        world.user("head1"),
    )
    week = client.get(week_url(office))
    assert "worker11 → head1 (家中有事)" in element(week, f"shift-{evening.pk}")
    again = client.get(f"/checkpoints/duty/shifts/{evening.pk}/swap/")
    assert element(again, "swaps") == (
        "worker11 → head1 (家中有事), recorded by head1 at 2020-02-05 10:00"
    )


def test_a_week_is_repeated_after_a_confirmation(world: World, office: DutyPost) -> None:
    client = client_of(world, "head1")
    url = f"/checkpoints/duty/posts/{office.pk}/copy-week/"

    confirm = client.get(f"{url}?week=2020-02-05")
    response = client.post(url, {"week": "2020-02-03"})

    assert element(confirm, "confirm-title") == (
        "Repeat the shifts of 联防联控办公室 of the week of 2020-02-03 in the week of 2020-02-10?"
    )
    assert element(confirm, "confirm") == "Repeat 3 shifts"
    assert response["Location"] == week_url(office, "2020-02-10")
    assert Shift.objects.filter(post=office, start__gte=at(10, 0)).count() == 3


# ---------------------------------------------------------------------------------------------
# Posts


def test_a_post_is_added_and_deactivated(world: World) -> None:
    client = client_of(world, "head1")

    added = client.post(
        "/checkpoints/duty/posts/new/",
        {"kind": "checkpoint", "name": "西门卡口", "unit": world.unit1.pk, "round_the_clock": "on"},
    )
    made = DutyPost.objects.get(name="西门卡口")
    confirm = client.get(f"/checkpoints/duty/posts/{made.pk}/state/")
    client.post(f"/checkpoints/duty/posts/{made.pk}/state/", {"action": "deactivate"})

    assert added["Location"] == week_url(made)
    assert element(confirm, "confirm-title") == "Deactivate 西门卡口?"
    made.refresh_from_db()
    assert not made.is_active


def test_a_post_form_offers_only_the_managers_units(world: World) -> None:
    page = client_of(world, "head1").get("/checkpoints/duty/posts/new/").content.decode()

    assert "LZ-01 第一作业站" in page
    assert "LZ-01-01 一站一网格" in page
    assert "第二作业站" not in page
    assert 'value="pioneer"' not in page


def test_a_unit_head_may_not_add_a_post_to_another_unit(world: World) -> None:
    before = table_counts()

    response = client_of(world, "head1").post(
        "/checkpoints/duty/posts/new/",
        {"kind": "office", "name": "值班室", "unit": world.unit2.pk},
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert table_counts() == before


# ---------------------------------------------------------------------------------------------
# The printable week roster


def test_the_week_roster_prints_every_post_of_a_unit(
    world: World, office: DutyPost, duty: DutyWorld
) -> None:
    response = client_of(world, "office").get(
        f"/checkpoints/duty/print/?unit={world.unit1.pk}&week=2020-02-05"
    )

    assert element(response, "sheet-week") == "2020-02-03 – 2020-02-09"
    assert element(response, f"row-{office.pk}") == (
        "联防联控办公室 00:00–08:00 赵卫东 08:00–16:00 gate1 leader: leader 16:00–22:00 worker11"
    )
    assert (
        element(response, f"row-{duty.post1.pk}")
        == "一站东门卡口 08:00–20:00 worker11、赵卫东 leader: leader"
    )
    assert "@page { size: A4 landscape" in response.content.decode()


def test_the_week_roster_of_another_unit_is_not_found(world: World, office: DutyPost) -> None:
    response = client_of(world, "head2").get(f"/checkpoints/duty/print/?unit={world.unit1.pk}")

    assert response.status_code == 404


# ---------------------------------------------------------------------------------------------
# The duty rules


def test_the_office_changes_the_duty_rules(world: World) -> None:
    client = client_of(world, "office")

    response = client.post(
        "/checkpoints/duty/rules/", {"alert_before_minutes": "60", "gap_days_ahead": "7"}
    )

    assert response.status_code == 302
    rules = DutyRules.objects.get()
    assert (rules.alert_before_minutes, rules.gap_days_ahead) == (60, 7)
    assert element(client.get("/checkpoints/duty/rules/"), "rules-now") == (
        "A gap in a 24-hour post, or a shift with nobody on it, raises an alert 60 minutes "
        "before it starts; the roster shows the gaps of the next 7 days."
    )


def test_a_unit_head_sees_the_duty_rules_but_may_not_change_them(world: World) -> None:
    client = client_of(world, "head1")

    page = client.get("/checkpoints/duty/rules/")
    posted = client.post(
        "/checkpoints/duty/rules/", {"alert_before_minutes": "60", "gap_days_ahead": "7"}
    )

    assert element(page, "office-only") == "The office sets these rules for the whole organisation."
    assert not has_element(page, "save-rules")
    assert posted.status_code == 403
    assert not DutyRules.objects.exists()


# ---------------------------------------------------------------------------------------------
# Pioneer posts


def test_a_pioneer_post_is_added_with_a_person_and_a_user(world: World, duty: DutyWorld) -> None:
    client = client_of(world, "head1")

    response = client.post(
        "/checkpoints/pioneers/new/",
        {
            "name": "疫情防控党员先锋岗",
            "duty": "卡口值守",
            "unit": world.unit1.pk,
            "persons": [world.person12.pk],
            "users": [world.user("gate1").pk],
            "leader": f"p{world.person12.pk}",
        },
    )

    pioneer = PioneerPost.objects.exclude(pk__in=[duty.pioneer1.pk, duty.pioneer2.pk]).get()
    assert response["Location"] == f"/checkpoints/pioneers/{pioneer.pk}/"
    detail = client.get(response["Location"])
    assert element(detail, "pioneer-members") == "李秀英 leader file gate1"
    assert element(detail, "pioneer-duty") == "卡口值守"
    assert pioneer.post is not None and pioneer.post.kind == DutyPost.Kind.PIONEER


def test_a_pioneer_post_needs_a_leader_among_its_members(world: World) -> None:
    before = table_counts()

    response = client_of(world, "head1").post(
        "/checkpoints/pioneers/new/",
        {
            "name": "先锋岗",
            "duty": "值守",
            "unit": world.unit1.pk,
            "users": [world.user("gate1").pk],
            "leader": f"p{world.person12.pk}",
        },
    )

    assert response.status_code == 200
    assert "Choose one member as the post&#x27;s leader." in response.content.decode()
    assert table_counts() == before


def test_the_pioneer_detail_shows_its_shifts_this_week(
    world: World, office: DutyPost, duty: DutyWorld
) -> None:
    pioneer = duty.pioneer1
    assert pioneer.post is not None
    shift(pioneer.post, at(6, 8), at(6, 12), world.user("worker11"))

    response = client_of(world, "auditor1").get(f"/checkpoints/pioneers/{pioneer.pk}/")

    assert element(response, "pioneer-members") == "张建国 leader file worker11"
    assert element(response, "day-2020-02-06") == "Thu 02-06 08:00–12:00 worker11"


def test_the_members_search_finds_persons_of_the_managers_scope_only(world: World) -> None:
    client = client_of(world, "head1")

    mine = client.get("/checkpoints/pioneers/persons/?q=张建国")
    theirs = client.get("/checkpoints/pioneers/persons/?q=王立新")

    assert f'value="{world.person11.pk}"' in mine.content.decode()
    assert plain(theirs.content.decode()) == (
        "Nobody found: try part of the name, the ID number or the phone."
    )


def test_a_pioneer_post_is_edited_and_deactivated(world: World, duty: DutyWorld) -> None:
    pioneer = duty.pioneer1
    client = client_of(world, "head1")
    form = client.get(f"/checkpoints/pioneers/{pioneer.pk}/edit/")

    client.post(
        f"/checkpoints/pioneers/{pioneer.pk}/edit/",
        {
            "name": "东门党员先锋岗",
            "duty": "东门值守",
            "unit": world.unit1.pk,
            "persons": [world.person11.pk],
            "users": [world.user("worker11").pk],
            "leader": f"u{world.user('worker11').pk}",
        },
    )
    client.post(f"/checkpoints/pioneers/{pioneer.pk}/state/", {"action": "deactivate"})

    assert f'value="p{world.person11.pk}" id="leader-p{world.person11.pk}" checked' in (
        form.content.decode()
    )
    pioneer.refresh_from_db()
    assert (pioneer.name, pioneer.duty, pioneer.is_active) == ("东门党员先锋岗", "东门值守", False)
    assert pioneer.members.get(is_leader=True).name == "worker11"


# ---------------------------------------------------------------------------------------------
# The home page


def test_the_home_page_shows_who_is_on_duty_now(world: World, office: DutyPost) -> None:
    response = client_of(world, "head1").get("/")

    assert element(response, "on-duty-posts") == "联防联控办公室 gate1 · leader on duty: leader"
    assert not has_element(response, "my-shift")


def test_the_home_page_shows_my_next_shift(world: World, office: DutyPost) -> None:
    response = client_of(world, "worker11").get("/")

    assert element(response, "my-shift") == "My next shift: 2020-02-05 16:00–22:00 · 联防联控办公室"
    # The post is of LZ-01, above the grid worker's grid: no link to a page they cannot open.
    assert week_url(office) not in response.content.decode()


def test_the_home_page_links_my_shift_to_its_week(world: World, office: DutyPost) -> None:
    response = client_of(world, "gate1").get("/")

    assert f'href="{week_url(office, "2020-02-05")}"' in response.content.decode()


def test_the_home_page_shows_my_shift_now(world: World, office: DutyPost) -> None:
    response = client_of(world, "gate1").get("/")

    assert (
        element(response, "my-shift") == "I am on duty now: 2020-02-05 08:00–16:00 · 联防联控办公室"
    )


def test_the_home_page_of_another_unit_shows_none_of_these_posts(
    world: World, office: DutyPost
) -> None:
    response = client_of(world, "head2").get("/")

    assert element(response, "nobody-on-duty") == (
        "Nobody is on duty now at the posts of your scope."
    )
    assert "联防联控办公室" not in response.content.decode()


def test_the_home_page_costs_the_same_queries_for_20_posts_on_duty_as_for_1(
    world: World, office: DutyPost
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fangkong.org.tests.test_query_budgets import BUDGETS

    client = client_of(world, "head1")

    def queries() -> tuple[int, int]:
        client.get("/")
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/")
        return len(captured), len(response.content)

    few = queries()
    for i in range(19):
        shift(
            post(world, f"卡口{i}"), at(5, 9), at(5, 17), f"值班员{i}", leader=world.user("leader")
        )
    many = queries()

    assert many[0] == few[0] <= BUDGETS["/"]
    assert many[1] > few[1]
