"""The campaign pages: the list, adding, editing, closing and reopening, live coverage with its
drill-down, the to-do list, grid assignment, the rules page; and their query budgets.

The world (fangkong.core.testing): campaign1 "一站摸排" over LZ-01 (grids LZ-01-01 and
LZ-01-02) with 张建国 (person11) screened; campaign2 over LZ-02. ``worker11`` is the grid
worker of LZ-01-01 and was given it when campaign1 opened.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fangkong.core.permissions import Role
from fangkong.core.testing import PASSWORD, World
from fangkong.core.testing import english_client as _client
from fangkong.org import services as org_services
from fangkong.org.models import (
    Household,
    OrgUnit,
    Person,
    household_search_text,
    person_search_text,
)
from fangkong.screening import selectors, services
from fangkong.screening.models import (
    Campaign,
    CampaignAssignment,
    CampaignTally,
    Region,
    ScreeningRules,
)
from fangkong.screening.selectors import current_rules

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2020, 2, 10, 10, 0, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _frozen_time() -> Iterator[None]:
    """Today is 2020-02-10; the session's last-seen time is kept out of the query counts."""
    with time_machine.travel(NOW, tick=False):
        yield


def _campaign_url(campaign: Campaign, rest: str = "") -> str:
    return f"/screening/campaigns/{campaign.pk}/{rest}"


# ---------------------------------------------------------------------------------------------
# A hand-counted fixture


@pytest.fixture
def counted(world: World) -> World:
    """campaign1, by hand:

    - LZ-01-01: 一站1排3号 (张建国 screened, no risk; 张小明 screened: from a high-risk area,
      38.5 °C — key and urgent) and 一站1排9号 (赵远 found moved out). Households 2, both
      visited; persons 3 (the one moved out was screened and counts), all screened.
    - LZ-01-02: 一站2排5号 (李秀英, nobody home) and 一站2排8号 (empty, not visited).
      Households 2, none visited, 1 nobody home; persons 1, none screened.

    Total: households 2 of 4 visited (50 %), 1 nobody home, 2 left; persons 3 of 4 screened
    (75 %), 1 never seen; 1 key person, 1 urgent.
    """
    region = Region.objects.filter(level=Region.Level.COUNTY).exclude(code__startswith="62")[0]
    services.set_risk_level(actor=None, region=region, level="high", start=dt.date(2020, 1, 20))
    c = world.campaign1
    services.screen_person(
        actor=None,
        campaign=c,
        person=world.person11b,
        at=NOW,
        from_region=region,
        departed_at=dt.datetime(2020, 2, 7, 9, 0, tzinfo=TZ),
        arrived_at=dt.datetime(2020, 2, 8, 9, 0, tzinfo=TZ),
        temperature="38.5",
    )
    h14 = org_services.create_household(actor=None, grid=world.grid11, address="一站1排9号")
    moved = org_services.create_person(actor=None, name="赵远", household=h14).person
    services.screen_person(actor=None, campaign=c, person=moved, at=NOW, presence="moved_out")
    services.record_nobody_home(actor=None, campaign=c, household=world.household12, at=NOW)
    org_services.create_household(actor=None, grid=world.grid12, address="一站2排8号")
    return world


def test_the_coverage_page_shows_the_hand_counted_figures(counted: World) -> None:
    response = _client(counted, "head1").get(_campaign_url(counted.campaign1))

    assert response.status_code == 200
    total = response.context["total"]
    assert (
        total.households_visited,
        total.households_total,
        total.households_percent,
        total.households_nobody_home,
        total.households_left,
    ) == (2, 4, 50, 1, 2)
    assert (
        total.persons_screened,
        total.persons_total,
        total.persons_percent,
        total.persons_never_seen,
        total.key_persons,
        total.urgent_persons,
    ) == (3, 4, 75, 1, 1, 1)
    rows = {r.unit.code: r for r in response.context["rows"]}
    assert list(rows) == ["LZ-01-01", "LZ-01-02"]
    g11, g12 = rows["LZ-01-01"], rows["LZ-01-02"]
    assert (g11.households_visited, g11.households_total, g11.persons_screened) == (2, 2, 3)
    assert (g11.persons_total, g11.key_persons, g11.urgent_persons) == (3, 1, 1)
    assert (g12.households_visited, g12.households_total, g12.households_nobody_home) == (0, 2, 1)
    assert (g12.persons_screened, g12.persons_total) == (0, 1)
    html = response.content.decode()
    assert 'id="total-households-left">2<' in html
    assert 'id="total-nobody-home">1<' in html
    assert 'id="total-never-seen">1<' in html
    assert "2</span> / 4 · 50%" in html
    assert "3</span> / 4 · 75%" in html
    # The one grid worker, with what is left in their grid.
    (worker,) = response.context["workers"]
    assert worker.workers == [counted.user("worker11")]
    assert (worker.households_left, worker.persons_never_seen) == (0, 0)


def test_the_list_shows_each_campaign_with_its_coverage(counted: World) -> None:
    response = _client(counted, "office").get("/screening/campaigns/")

    assert response.status_code == 200
    rows = {c.name: fig.all for c, fig in response.context["page"]}
    assert set(rows) == {"一站摸排", "二站摸排"}
    one = rows["一站摸排"]
    assert (one.households_visited, one.households_total, one.households_percent) == (2, 4, 50)
    assert (one.persons_screened, one.persons_total, one.persons_percent) == (3, 4, 75)
    two = rows["二站摸排"]
    assert (two.households_visited, two.households_total, two.persons_screened) == (1, 1, 1)
    assert 'href="/screening/campaigns/new/"' in response.content.decode()


def test_the_list_filters_open_and_closed(world: World) -> None:
    services.close_campaign(actor=None, campaign=world.campaign2)
    client = _client(world, "office")

    closed = client.get("/screening/campaigns/?status=closed")
    opened = client.get("/screening/campaigns/?status=open")

    assert [c.name for c, _f in closed.context["page"]] == ["二站摸排"]
    assert [c.name for c, _f in opened.context["page"]] == ["一站摸排"]


def test_a_drill_down_shows_the_units_then_the_grids(world: World) -> None:
    branch_wide = services.create_campaign(
        actor=None, name="全局摸排", unit=world.branch, start=dt.date(2020, 2, 9)
    )
    services.screen_person(actor=None, campaign=branch_wide, person=world.person12, at=NOW)
    client = _client(world, "leader")

    top = client.get(_campaign_url(branch_wide))
    down = client.get(_campaign_url(branch_wide) + f"?unit={world.unit1.pk}")

    assert [
        (r.unit.code, r.households_visited, r.households_total) for r in top.context["rows"]
    ] == [
        ("LZ-01", 1, 2),
        ("LZ-02", 0, 1),
    ]
    assert f'href="/screening/campaigns/{branch_wide.pk}/?unit={world.unit1.pk}"' in (
        top.content.decode()
    )
    assert down.context["under"] == world.unit1
    assert [
        (r.unit.code, r.households_visited, r.persons_screened, r.persons_total)
        for r in down.context["rows"]
    ] == [("LZ-01-01", 0, 0, 2), ("LZ-01-02", 1, 1, 1)]
    assert (down.context["total"].households_total, down.context["total"].persons_total) == (2, 3)


def test_the_coverage_partial_answers_the_poll(world: World) -> None:
    response = _client(world, "head1").get(
        _campaign_url(world.campaign1), headers={"hx-request": "true"}
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="coverage"')
    assert 'hx-trigger="every 30s"' in html
    assert "<nav" not in html


def test_a_grid_worker_sees_the_campaign_of_the_whole_branch_but_only_their_grid(
    world: World,
) -> None:
    branch_wide = services.create_campaign(
        actor=None, name="全局摸排", unit=world.branch, start=dt.date(2020, 2, 9)
    )
    client = _client(world, "worker11")

    listed = client.get("/screening/campaigns/")
    detail = client.get(_campaign_url(branch_wide))

    down = client.get(_campaign_url(branch_wide) + f"?unit={world.unit1.pk}")
    beside = client.get(_campaign_url(branch_wide) + f"?unit={world.unit2.pk}")

    assert "全局摸排" in {c.name for c, _f in listed.context["page"]}
    assert [r.unit.code for r in detail.context["rows"]] == ["LZ-01"]
    assert detail.context["total"].households_total == 1
    assert not detail.context["may_manage"]
    assert [r.unit.code for r in down.context["rows"]] == ["LZ-01-01"]
    assert beside.status_code == 404


# ---------------------------------------------------------------------------------------------
# The to-do list


def test_a_grid_worker_sees_only_their_grids_in_the_to_do_list(world: World) -> None:
    extra = org_services.create_household(actor=None, grid=world.grid11, address="一站1排7号")
    org_services.create_person(actor=None, name="孙未见", household=extra)

    mine = _client(world, "worker11").get(_campaign_url(world.campaign1, "todo/"))
    everyone = _client(world, "head1").get(_campaign_url(world.campaign1, "todo/"))

    assert mine.context["has_mine"] and mine.context["mine"]
    assert [h.address for h in mine.context["page"]] == ["一站1排7号"]
    assert "一站2排5号" not in mine.content.decode()
    assert [h.address for h in everyone.context["page"]] == ["一站1排7号", "一站2排5号"]
    door = f'href="/screening/campaigns/{world.campaign1.pk}/households/{extra.pk}/"'
    assert door in mine.content.decode()


def test_my_grids_are_the_default_and_every_grid_is_one_choice_away(world: World) -> None:
    """A grid worker of the whole unit, given only LZ-01-01 in this campaign."""
    worker = org_services.create_user(
        username="worker1x", password=PASSWORD, role=Role.GRID_WORKER, org_unit=world.unit1
    )
    campaign = services.create_campaign(
        actor=None, name="一站第二轮", unit=world.unit1, start=dt.date(2020, 2, 9)
    )
    services.assign_grid(actor=None, campaign=campaign, grid=world.grid12, workers=[])
    client = Client()
    client.force_login(worker)

    default = client.get(_campaign_url(campaign, "todo/"))
    every = client.get(_campaign_url(campaign, "todo/?mine=0"))
    one_grid = client.get(_campaign_url(campaign, f"todo/?mine=0&grid={world.grid12.pk}"))
    persons = client.get(_campaign_url(campaign, "todo/?show=persons"))

    assert [h.address for h in default.context["page"]] == ["一站1排3号"]
    assert [h.address for h in every.context["page"]] == ["一站1排3号", "一站2排5号"]
    assert [h.address for h in one_grid.context["page"]] == ["一站2排5号"]
    assert sorted(p.name for p in persons.context["page"]) == ["张小明", "张建国"]
    assert persons.context["counts"] == {"households": 1, "persons": 2}


def test_nobody_home_households_stay_on_the_list_marked(world: World) -> None:
    services.record_nobody_home(
        actor=None, campaign=world.campaign1, household=world.household12, at=NOW
    )

    response = _client(world, "head1").get(_campaign_url(world.campaign1, "todo/"))

    (household,) = response.context["page"]
    assert household.campaign_status == "nobody_home"
    assert "table-warning" in response.content.decode()


def test_the_to_do_list_of_one_worker_from_the_coverage_page(world: World) -> None:
    worker = world.user("worker11")
    extra = org_services.create_household(actor=None, grid=world.grid11, address="一站1排7号")

    detail = _client(world, "office").get(_campaign_url(world.campaign1))
    todo = _client(world, "office").get(
        _campaign_url(world.campaign1, f"todo/?worker={worker.pk}&mine=0")
    )

    assert f"todo/?worker={worker.pk}&amp;mine=0" in detail.content.decode()
    assert [h.pk for h in todo.context["page"]] == [extra.pk]
    assert todo.context["worker"] == worker


def test_the_to_do_list_names_no_user_who_is_not_a_grid_worker_of_the_campaign(
    world: World,
) -> None:
    # head2 is no grid worker of campaign1: asking for them filters nothing and names nobody.
    todo = _client(world, "office").get(
        _campaign_url(world.campaign1, f"todo/?worker={world.user('head2').pk}&mine=0")
    )

    assert todo.context["worker"] is None
    assert "head2" not in todo.content.decode()


# ---------------------------------------------------------------------------------------------
# Who may see and do what


@pytest.mark.parametrize("rest", ["", "todo/", "edit/", "close/", "reopen/"])
def test_an_outsider_gets_404_for_a_campaign_of_another_unit(world: World, rest: str) -> None:
    response = _client(world, "head2").get(_campaign_url(world.campaign1, rest))

    assert response.status_code == (404 if rest in ("", "todo/") else 403)
    assert "一站摸排" not in response.content.decode()


def test_an_office_of_another_branch_part_is_404_not_403(world: World) -> None:
    """Managing rights elsewhere do not reveal the campaign: 404 before 403."""
    other = org_services.create_user(
        username="office2", password=PASSWORD, role=Role.OFFICE, org_unit=world.unit2
    )
    client = Client()
    client.force_login(other)

    for rest in ("", "edit/", "close/", f"grids/{world.grid11.pk}/assign/"):
        assert client.get(_campaign_url(world.campaign1, rest)).status_code == 404
    assert client.post(_campaign_url(world.campaign1, "close/")).status_code == 404
    assert Campaign.objects.get(pk=world.campaign1.pk).is_open


def test_an_auditor_may_not_open_or_close_a_campaign(world: World) -> None:
    client = _client(world, "auditor1")
    before = Campaign.objects.count()

    create = client.post(
        "/screening/campaigns/new/",
        {"name": "审计摸排", "unit": world.unit1.pk, "start": "2020-02-10"},
    )
    close = client.post(_campaign_url(world.campaign1, "close/"), {"confirm": "1"})
    detail = client.get(_campaign_url(world.campaign1))

    assert (create.status_code, close.status_code) == (403, 403)
    assert Campaign.objects.count() == before
    assert Campaign.objects.get(pk=world.campaign1.pk).is_open
    assert detail.status_code == 200
    assert not detail.context["may_manage"]
    assert "/close/" not in detail.content.decode()


# ---------------------------------------------------------------------------------------------
# Opening, editing, closing, reopening


def test_the_office_opens_a_campaign_and_its_grids_go_to_their_workers(world: World) -> None:
    client = _client(world, "office")

    form = client.get("/screening/campaigns/new/")
    response = client.post(
        "/screening/campaigns/new/",
        {
            "name": " 一站第二轮 ",
            "unit": world.unit1.pk,
            "start": "2020-02-10",
            "end": "2020-02-12",
            "instructions": "逐户登记",
        },
    )

    assert form.status_code == 200
    assert {u.code for u in form.context["form"].fields["unit"].queryset} >= {"LZ", "LZ-01"}
    campaign = Campaign.objects.get(name="一站第二轮")
    assert response.status_code == 302
    assert response["Location"] == f"/screening/campaigns/{campaign.pk}/"
    assert (campaign.unit, campaign.end, campaign.created_by) == (
        world.unit1,
        dt.date(2020, 2, 12),
        world.user("office"),
    )
    assert list(
        CampaignAssignment.objects.filter(campaign=campaign).values_list("grid", "worker")
    ) == [(world.grid11.pk, world.user("worker11").pk)]
    detail = client.get(response["Location"])
    assert "逐户登记" in detail.content.decode()


def test_an_end_before_the_start_is_shown_on_its_field(world: World) -> None:
    client = _client(world, "office")

    created = client.post(
        "/screening/campaigns/new/",
        {"name": "倒序", "unit": world.unit1.pk, "start": "2020-02-10", "end": "2020-02-09"},
    )
    edited = client.post(
        _campaign_url(world.campaign1, "edit/"),
        {"name": "一站摸排", "start": "2020-02-01", "end": "2020-01-31"},
    )

    message = "The end date cannot be before the start date."
    for response in (created, edited):
        assert response.status_code == 200
        assert response.context["form"].errors == {"end": [message]}
        assert 'id="id_end_error"' in response.content.decode()
    assert not Campaign.objects.filter(name="倒序").exists()
    assert Campaign.objects.get(pk=world.campaign1.pk).end is None


def test_the_office_edits_a_campaign(world: World) -> None:
    response = _client(world, "office").post(
        _campaign_url(world.campaign1, "edit/"),
        {"name": "一站摸排（补）", "start": "2020-02-01", "end": "2020-02-20", "instructions": ""},
    )

    assert response.status_code == 302
    campaign = Campaign.objects.get(pk=world.campaign1.pk)
    assert (campaign.name, campaign.end) == ("一站摸排（补）", dt.date(2020, 2, 20))
    assert campaign.history.first().history_user == world.user("office")


def test_closing_asks_first_then_the_campaign_refuses_screening(world: World) -> None:
    client = _client(world, "office")

    confirm = client.get(_campaign_url(world.campaign1, "close/"))
    assert confirm.status_code == 200
    assert Campaign.objects.get(pk=world.campaign1.pk).is_open
    assert "1 households not visited, 2 persons never seen" in confirm.content.decode()

    closed = client.post(_campaign_url(world.campaign1, "close/"), {"confirm": "1"})

    assert closed.status_code == 302
    campaign = Campaign.objects.get(pk=world.campaign1.pk)
    assert not campaign.is_open
    assert campaign.closed_at == NOW
    with pytest.raises(ValidationError, match="closed"):
        services.screen_person(actor=None, campaign=campaign, person=world.person12, at=NOW)
    detail = client.get(closed["Location"])
    assert 'id="campaign-status">Closed<' in detail.content.decode()
    assert "hx-trigger" not in detail.content.decode()  # nothing to poll for
    listed = client.get("/screening/campaigns/?status=closed")
    assert [c.pk for c, _f in listed.context["page"]] == [campaign.pk]

    reopen_form = client.get(_campaign_url(campaign, "reopen/"))
    reopened = client.post(_campaign_url(campaign, "reopen/"), {"confirm": "1"})
    assert (reopen_form.status_code, reopened.status_code) == (200, 302)
    assert Campaign.objects.get(pk=campaign.pk).is_open


def test_closing_a_closed_campaign_says_so(world: World) -> None:
    services.close_campaign(actor=None, campaign=world.campaign1)
    client = _client(world, "office")

    response = client.post(_campaign_url(world.campaign1, "close/"), follow=True)

    assert "The campaign is already closed." in response.content.decode()


# ---------------------------------------------------------------------------------------------
# Assigning grids


def test_the_office_gives_a_grid_to_its_grid_workers(world: World) -> None:
    other = org_services.create_user(
        username="worker1x", password=PASSWORD, role=Role.GRID_WORKER, org_unit=world.unit1
    )
    client = _client(world, "office")
    url = _campaign_url(world.campaign1, f"grids/{world.grid12.pk}/assign/")

    overview = client.get(_campaign_url(world.campaign1, f"grids/{world.unit1.pk}/assign/"))
    form = client.get(url)
    saved = client.post(url, {"workers": [other.pk]})

    assert overview.status_code == 200
    assert [(g.code, ws) for g, ws in overview.context["page"]] == [
        ("LZ-01-01", [world.user("worker11")]),
        ("LZ-01-02", []),
    ]
    assert set(form.context["form"].fields["workers"].queryset) == {other}
    assert saved.status_code == 302
    assert list(
        CampaignAssignment.objects.filter(campaign=world.campaign1, grid=world.grid12).values_list(
            "worker", flat=True
        )
    ) == [other.pk]


def test_a_user_who_is_not_a_grid_worker_of_the_grid_is_refused(world: World) -> None:
    client = _client(world, "office")
    url = _campaign_url(world.campaign1, f"grids/{world.grid12.pk}/assign/")

    response = client.post(url, {"workers": [world.user("worker11").pk]})

    assert response.status_code == 200
    assert response.context["form"].errors["workers"]
    assert not CampaignAssignment.objects.filter(
        campaign=world.campaign1, grid=world.grid12
    ).exists()


def test_a_grid_outside_the_campaign_is_404(world: World) -> None:
    response = _client(world, "office").get(
        _campaign_url(world.campaign1, f"grids/{world.grid21.pk}/assign/")
    )

    assert response.status_code == 404


# ---------------------------------------------------------------------------------------------
# The rules


def test_the_office_changes_the_rules_and_the_change_is_in_the_audit_trail(world: World) -> None:
    client = _client(world, "office")

    page = client.get("/screening/rules/")
    response = client.post(
        "/screening/rules/",
        {
            "travel_window_days": "10",
            "medium_risk_is_key": "",
            "contact_window_days": "14",
            "fever_threshold": "37.5",
            "arrival_report_hours": "6",
        },
    )

    assert page.status_code == 200
    assert "14 days ago or less" in page.content.decode()
    assert response.status_code == 302
    rules = current_rules()
    assert (rules.travel_window_days, rules.medium_risk_is_key, str(rules.fever_threshold)) == (
        10,
        False,
        "37.5",
    )
    after = client.get("/screening/rules/").content.decode()
    assert "from a high-risk area 10 days ago or less (medium-risk areas do not count)" in after
    assert 'id="audit-trail"' in after
    client.post(
        "/screening/rules/",
        {
            "travel_window_days": "12",
            "medium_risk_is_key": "on",
            "contact_window_days": "14",
            "fever_threshold": "37.5",
            "arrival_report_hours": "6",
        },
    )
    trail = client.get("/screening/rules/").context["audit"]
    assert trail[0].user == world.user("office")
    assert ("travel window (days)", "10", "12") in trail[0].changes


def test_the_rules_are_shown_to_a_unit_head_who_may_not_change_them(world: World) -> None:
    client = _client(world, "head1")

    page = client.get("/screening/rules/")
    post = client.post("/screening/rules/", {"travel_window_days": "3"})

    assert page.status_code == 200
    assert page.context["form"] is None
    assert '<form method="post" novalidate' not in page.content.decode()
    assert post.status_code == 403
    assert not ScreeningRules.objects.exists()


def test_a_rule_out_of_range_is_shown_on_its_field(world: World) -> None:
    response = _client(world, "office").post(
        "/screening/rules/",
        {
            "travel_window_days": "0",
            "contact_window_days": "14",
            "fever_threshold": "36.0",
            "arrival_report_hours": "6",
        },
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"travel_window_days", "fever_threshold"}
    assert not ScreeningRules.objects.exists()


# ---------------------------------------------------------------------------------------------
# Home page and navigation


def test_the_home_page_lists_open_campaigns_and_what_is_left_in_my_grids(world: World) -> None:
    org_services.create_household(actor=None, grid=world.grid11, address="一站1排7号")

    worker = _client(world, "worker11").get("/")
    head = _client(world, "head2").get("/")

    assert [c.name for c, _f in worker.context["campaigns"]] == ["一站摸排"]
    (_campaign, figures) = worker.context["campaigns"][0]
    assert (figures.all.households_total, figures.all.households_visited) == (2, 1)
    assert figures.mine is not None and figures.mine.households_left == 1
    html = worker.content.decode()
    assert "1 household left in my grids" in html
    assert f'href="/screening/campaigns/{world.campaign1.pk}/todo/"' in html
    assert 'href="/screening/campaigns/"' in html  # the menu
    assert [c.name for c, _f in head.context["campaigns"]] == ["二站摸排"]
    assert head.context["campaigns"][0][1].mine is None
    assert "my grids" not in head.content.decode()


# ---------------------------------------------------------------------------------------------
# Query budgets: the same number of queries for 10 grids or households as for 200.
#
# Every page starts with three: the session, the user, the role assignments.
BUDGETS: dict[str, int] = {
    # campaigns: count and page (with their scope); coverage of the page: households and
    # persons per grid, what was done per campaign, the user's own grids
    "campaign_list": 9,
    # campaign; coverage: households, persons and what was done per grid, the grids' paths,
    # the units of the rows, the grid workers
    "campaign_detail": 10,
    # campaign, "has the user grids here?", the grid filter's choices, count of the other tab,
    # count and page (with grid and head)
    "campaign_todo": 9,
    # home: the figures (3), open campaigns, their coverage (as on the list), the user's own
    # grids and what was done in them; who is on duty now (one query)
    "home_worker": 17,
    "home_head": 16,
}

FEW, MANY = 10, 200


def _add_grids(world: World, total: int) -> list[OrgUnit]:
    """Grids under LZ-01 up to ``total``, each with a household of one person, partly done."""
    have = OrgUnit.objects.filter(parent=world.unit1).count()
    grids = OrgUnit.objects.bulk_create(
        OrgUnit(
            code=f"LZ-01-B{i:03d}",
            name=f"一站B{i}网格",
            kind=OrgUnit.Kind.GRID,
            parent=world.unit1,
            depth=world.unit1.depth + 1,
        )
        for i in range(have, total)
    )
    for grid in grids:
        grid.path = OrgUnit.child_path(world.unit1.path, grid.pk)
    OrgUnit.objects.bulk_update(grids, ["path"])
    _add_households(world, grids, 1)
    worker = world.user("worker11")
    for campaign in Campaign.objects.filter(unit__path__startswith=world.unit1.path):
        CampaignAssignment.objects.bulk_create(
            CampaignAssignment(campaign=campaign, grid=g, worker=worker) for g in grids
        )
        CampaignTally.objects.bulk_create(
            CampaignTally(campaign=campaign, grid=g, households_visited=1, persons_screened=1)
            for g in grids[::2]
        )
    return grids


def _add_households(world: World, grids: list[OrgUnit], per_grid: int) -> None:
    start = Household.objects.count()
    households = Household.objects.bulk_create(
        Household(
            grid=grid,
            address=f"{grid.name}{start + i}号",
            search_text=household_search_text(f"{grid.name}{start + i}号", ""),
        )
        for grid in grids
        for i in range(per_grid)
    )
    heads = Person.objects.bulk_create(
        Person(
            name=f"户主{h.pk}",
            grid=h.grid,
            household=h,
            relation=Person.Relation.HEAD,
            search_text=person_search_text(f"户主{h.pk}", "", ""),
        )
        for h in households
    )
    for household, head in zip(households, heads, strict=True):
        household.head = head
    Household.objects.bulk_update(households, ["head"])
    org_services.refresh_grid_counts({g.pk for g in grids})  # written around the services


def _add_campaigns(world: World, total: int) -> None:
    have = Campaign.objects.count()
    for i in range(have, total):
        services.create_campaign(
            actor=None, name=f"第{i}轮", unit=world.unit1, start=dt.date(2020, 2, 1)
        )


def _list(world: World, total: int) -> str:
    _add_campaigns(world, min(total, 30))
    _add_grids(world, total)
    return "/screening/campaigns/"


def _detail(world: World, total: int) -> str:
    _add_grids(world, total)
    return _campaign_url(world.campaign1)


def _todo(world: World, total: int) -> str:
    have = Household.objects.filter(grid=world.grid12).count()
    _add_households(world, [world.grid12] * (total - have), 1)
    _add_grids(world, total)
    return _campaign_url(world.campaign1, "todo/")


def _home(world: World, total: int) -> str:
    """More open campaigns than the home page shows, grids and households (in the grid
    worker's own grid too)."""
    _add_campaigns(world, min(total // 2, 8))
    _add_grids(world, total)
    have = Household.objects.filter(grid=world.grid11).count()
    _add_households(world, [world.grid11] * (total - have), 1)
    return "/"


PAGES: dict[str, tuple[str, Callable[[World, int], str]]] = {
    "campaign_list": ("head1", _list),
    "campaign_detail": ("head1", _detail),
    "campaign_todo": ("head1", _todo),
    "home_worker": ("worker11", _home),
    "home_head": ("head1", _home),
}


class Measure(NamedTuple):
    queries: int
    size: int


def _measure(client: Client, url: str, **headers: Any) -> Measure:
    client.get(url, **headers)  # warm up: the session's first write, translations, caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200, f"GET {url}: {response.status_code}"
    return Measure(len(queries), len(response.content))


@pytest.mark.parametrize("key", list(PAGES))
def test_a_campaign_page_costs_the_same_queries_for_200_rows_as_for_10(
    world: World, key: str
) -> None:
    username, grow = PAGES[key]
    client = _client(world, username)

    few = _measure(client, grow(world, FEW))
    many = _measure(client, grow(world, MANY))

    assert many.size > few.size, f"{key}: the rows added are not in the answer"
    assert many.queries == few.queries, f"{key}: {few.queries} queries for {FEW}, {many.queries}"
    assert many.queries <= BUDGETS[key], f"{key}: {many.queries} queries, budget {BUDGETS[key]}"


def test_the_coverage_poll_costs_no_more_than_the_page(world: World) -> None:
    client = _client(world, "head1")
    url = _detail(world, MANY)

    page = _measure(client, url)
    poll = _measure(client, url, headers={"hx-request": "true"})

    assert poll.queries == page.queries
    assert poll.size < page.size


def test_a_unit_of_many_grids_pages_its_rows_and_its_grid_workers(world: World) -> None:
    _add_grids(world, 60)  # LZ-01 now holds 60 grids, each with one household
    client = _client(world, "office")
    url = _campaign_url(world.campaign1) + f"?unit={world.unit1.pk}"

    first = client.get(url).content.decode()
    second = client.get(url + "&page=2").content.decode()

    rows = re.compile(r'<td><a href="/screening/campaigns/\d+/todo/\?grid=\d+')
    assert (len(rows.findall(first)), len(rows.findall(second))) == (50, 10)
    assert "page=2" in first and "wpage=" not in first  # one grid worker: one page
    # The totals above the tables count every grid, not only the page's.
    total, _rows = selectors.coverage(world.campaign1, world.user("office"), under=world.unit1)
    # visited: every other new grid (29) and 一站1排3号, screened in the world
    assert (total.households_total, total.households_visited) == (60, 30)
