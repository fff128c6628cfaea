"""Starting observation (one person, from a screening, in bulk from the key persons found by
screening), decisions and period changes: who may, what is recorded, the confirmation steps,
all or nothing in bulk, and query budgets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fangkong.core.testing import World
from fangkong.core.testing import english_client as _client
from fangkong.observation import services
from fangkong.observation.models import EpisodeResponsible, ObservationEpisode, PeriodPreset
from fangkong.org import services as org_services
from fangkong.org.models import Person, TimelineEvent
from fangkong.screening.models import Screening

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2020, 2, 10, 10, 0, tzinfo=TZ)
START = "/observation/start/"
BULK = "/observation/bulk-start/"
Status = ObservationEpisode.Status


@pytest.fixture(autouse=True)
def _frozen_time() -> Iterator[None]:
    """Today is 2020-02-10."""
    with time_machine.travel(NOW, tick=False):
        yield


def _text(response: Any) -> str:
    return str(response.content.decode())


def _key_screening(
    person: Person, *, contact: dt.date | None = None, arrived: dt.datetime | None = None
) -> Screening:
    """A key result of ``person``: a close contact on ``contact``, or an arrival from a
    risk area at ``arrived``, screened on 2020-02-09."""
    return Screening.objects.create(
        kind=Screening.Kind.ARRIVAL,
        person=person,
        grid=person.grid,
        household=person.household,
        screened_at=dt.datetime(2020, 2, 9, 9, 0, tzinfo=TZ),
        category="close_contact" if contact else "risk_area_arrival",
        contact_kind="case" if contact else "",
        contact_name="刘某" if contact else "",
        contact_date=contact,
        arrived_at=arrived,
        from_region_id="420100" if arrived else None,
        is_key=True,
        reasons=[],
    )


# ---------------------------------------------------------------------------------------------
# One person


def _start_body(**values: Any) -> dict[str, Any]:
    return {
        "kind": "home_isolation",
        "reason": "contact",
        "reason_note": "",
        "counts_from": "2020-02-08",
        "counts_from_kind": "last_contact",
        "start_date": "2020-02-10",
        "preset": PeriodPreset.objects.get(is_default=True).pk,
        "place": "",
        **values,
    }


def test_a_grid_worker_starts_observation_for_a_person(oworld: World) -> None:
    world = oworld
    client = _client(world, "worker11")
    url = f"{START}?person={world.person11.pk}"

    form = client.get(url)
    response = client.post(
        url,
        _start_body(
            grid_worker_name="赵网格员",
            grid_worker_phone="13800001234",
            doctor_name="钱医生",
        ),
    )

    assert form.status_code == 200
    assert form.context["form"]["start_date"].value() == dt.date(2020, 2, 10)
    episode = ObservationEpisode.objects.get(person=world.person11)
    assert response.status_code == 302
    assert response["Location"] == f"/observation/{episode.pk}/"
    assert (episode.reason, episode.counts_from, episode.start_date, episode.planned_end) == (
        "contact",
        dt.date(2020, 2, 8),
        dt.date(2020, 2, 10),
        dt.date(2020, 2, 22),
    )
    assert episode.place == "一站1排3号"  # the household's address when left empty
    assert episode.created_by == world.user("worker11")
    assert sorted(episode.responsible.values_list("role", "name", "phone")) == [
        ("doctor", "钱医生", ""),
        ("grid_worker", "赵网格员", "13800001234"),
    ]
    world.person11.refresh_from_db()
    assert world.person11.status == Person.Status.UNDER_OBSERVATION
    followed = client.get(f"/org/persons/{world.person11.pk}/", follow=False)
    assert followed.status_code == 200
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["张建国 is under observation until 2020-02-22."]


def test_the_form_says_what_is_wrong(oworld: World) -> None:
    world = oworld
    client = _client(world, "head1")
    url = f"{START}?person={world.person11.pk}"

    missing = client.post(url, _start_body(reason="", counts_from=""))
    late = client.post(url, _start_body(counts_from="2020-02-11", start_date="2020-02-10"))
    phone = client.post(url, _start_body(cadre_name="张书记", cadre_phone="12345"))

    assert missing.status_code == 200
    assert missing.context["form"].errors == {
        "reason": ["Choose why the person is put under observation."],
        "counts_from": ["Enter the day the period counts from (last contact or arrival)."],
    }
    assert late.context["form"].errors["counts_from"] == [
        "The day counted from (2020-02-11) is after the start of observation: enter the day "
        "of the last contact or arrival, on or before 2020-02-10."
    ]
    assert "张书记: enter an 11-digit mobile number, e.g. 13812345678." in _text(phone)
    assert ObservationEpisode.objects.filter(person=world.person11).count() == 0


def test_starting_from_a_screening_fills_in_the_reason_and_the_day(oworld: World) -> None:
    world = oworld
    screening = _key_screening(world.person12, contact=dt.date(2020, 2, 6))
    client = _client(world, "head1")
    url = f"{START}?person={world.person12.pk}&screening={screening.pk}"

    form = client.get(url)
    response = client.post(url, _start_body(counts_from="2020-02-06", reason_note="刘某"))

    bound = form.context["form"]
    assert (bound["reason"].value(), bound["counts_from"].value()) == (
        "contact",
        dt.date(2020, 2, 6),
    )
    assert bound["counts_from_kind"].value() == "last_contact"
    assert bound["reason_note"].value() == "刘某"
    assert "Isolation until 2020-02-20; the last day of observation is 2020-02-20." in _text(form)
    assert response.status_code == 302
    episode = ObservationEpisode.objects.get(person=world.person12)
    assert episode.screening == screening


def test_the_planned_end_is_previewed_for_the_values_typed(oworld: World) -> None:
    world = oworld
    seven = PeriodPreset.objects.get(name="7+3")
    url = (
        f"{START}?person={world.person11.pk}&counts_from=2020-02-08&preset={seven.pk}"
        "&start_date=2020-02-10"
    )

    response = _client(world, "head1").get(url, headers={"HX-Request": "true"})
    early = _client(world, "head1").get(
        url.replace("2020-02-08", "2020-01-20"), headers={"HX-Request": "true"}
    )

    html = _text(response)
    assert "<html" not in html and 'id="plan-preview"' in html
    assert "Isolation until 2020-02-15; the last day of observation is 2020-02-18." in html
    assert "That is before observation starts" in _text(early)


def test_a_person_already_under_observation_is_not_started_twice(oworld: World) -> None:
    world = oworld
    client = _client(world, "head1")
    url = f"{START}?person={world.person11b.pk}"

    page = client.get(url)
    post = client.post(url, _start_body())

    assert "张小明 is already under observation (until 2020-02-15)." in _text(page)
    assert f'href="/observation/{world.episode1.pk}/"' in _text(page)
    assert 'id="start-form"' not in _text(page)
    assert post.status_code == 200
    assert ObservationEpisode.objects.filter(person=world.person11b).count() == 1


def test_who_may_start_observation(oworld: World) -> None:
    world = oworld
    url = f"{START}?person={world.person11.pk}"
    other = _key_screening(world.person21, contact=dt.date(2020, 2, 6))

    assert _client(world, "auditor1").get(url).status_code == 403
    assert _client(world, "leader").get(url).status_code == 403
    assert _client(world, "head2").get(url).status_code == 404
    assert _client(world, "head2").post(url, _start_body()).status_code == 404
    assert _client(world, "worker11").get(f"{START}?person={world.person12.pk}").status_code == 404
    # A screening of someone else is not this person's.
    assert _client(world, "office").get(f"{url}&screening={other.pk}").status_code == 404
    assert _client(world, "head1").get(f"{START}?person=abc").status_code == 404
    assert ObservationEpisode.objects.filter(person=world.person11).count() == 0


def test_without_a_person_the_page_finds_one(oworld: World) -> None:
    world = oworld

    found = _client(world, "head1").get(f"{START}?q=张建")
    outside = _client(world, "head2").get(f"{START}?q=张建")
    empty = _client(world, "head1").get(START)

    assert [p.name for p in found.context["persons"]] == ["张建国"]
    assert f'href="/observation/start/?person={world.person11.pk}"' in _text(found)
    assert outside.context["persons"] == []
    assert empty.status_code == 200 and empty.context["persons"] == []


def test_the_door_page_links_a_key_person_to_the_start(oworld: World) -> None:
    world = oworld
    Screening.objects.filter(campaign=world.campaign1, person=world.person11).delete()
    screening = _key_screening(world.person11, contact=dt.date(2020, 2, 6))
    Screening.objects.filter(pk=screening.pk).update(
        kind=Screening.Kind.DOOR, campaign=world.campaign1
    )
    _key_screening(world.person11b, contact=dt.date(2020, 2, 6))

    html = _text(
        _client(world, "worker11").get(
            f"/screening/campaigns/{world.campaign1.pk}/households/{world.household11.pk}/"
        )
    )
    detail = _text(_client(world, "head1").get(f"/screening/screenings/{screening.pk}/"))
    auditor = _text(_client(world, "auditor1").get(f"/screening/screenings/{screening.pk}/"))

    link = f'href="/observation/start/?person={world.person11.pk}&amp;screening={screening.pk}"'
    assert link in html
    assert link in detail
    assert link not in auditor


# ---------------------------------------------------------------------------------------------
# In bulk


@pytest.fixture
def bworld(oworld: World) -> World:
    """Key results: 李秀英 (LZ-01-02) close contact on 2020-02-06; 张建国 (LZ-01-01)
    arrived from Wuhan on 2020-02-07; 张小明 (already under observation) close contact;
    王立新 (LZ-02, under observation) and 钱七 (LZ-02, new) close contacts."""
    world = oworld
    _key_screening(world.person12, contact=dt.date(2020, 2, 6))
    _key_screening(world.person11, arrived=dt.datetime(2020, 2, 7, 18, 0, tzinfo=TZ))
    _key_screening(world.person11b, contact=dt.date(2020, 2, 6))
    qian = org_services.create_person(actor=None, name="钱七", household=world.household21).person
    _key_screening(qian, contact=dt.date(2020, 2, 6))
    return world


def _candidates(client: Client, query: str = "") -> list[str]:
    response = client.get(f"{BULK}{query}")
    assert response.status_code == 200
    return [c.person.name for c in response.context["page"]]


def _screening(person: Person) -> Screening:
    return Screening.objects.get(person=person, is_key=True, kind=Screening.Kind.ARRIVAL)


def _bulk_body(*persons: Person, **values: Any) -> dict[str, Any]:
    return {
        "screenings": [_screening(p).pk for p in persons],
        "kind": "home_isolation",
        "preset": PeriodPreset.objects.get(is_default=True).pk,
        "start_date": "2020-02-10",
        **values,
    }


def test_the_list_holds_the_key_persons_not_under_observation_in_scope(bworld: World) -> None:
    world = bworld
    html = _text(_client(world, "head1").get(BULK))

    # Newest result first (the same time: the one recorded last first).
    assert _candidates(_client(world, "head1")) == ["张建国", "李秀英"]
    assert _candidates(_client(world, "worker11")) == ["张建国"]
    assert _candidates(_client(world, "head2")) == ["钱七"]
    assert _candidates(_client(world, "head1"), "?q=李秀") == ["李秀英"]
    assert _candidates(_client(world, "head1"), f"?unit={world.grid11.pk}") == ["张建国"]
    assert "2020-02-20" in html  # 李秀英: counted from 02-06, 14 days
    assert "2020-02-21" in html  # 张建国: counted from his arrival on 02-07
    assert _client(world, "auditor1").get(BULK).status_code == 403


def test_bulk_start_asks_to_confirm_then_starts_everyone(bworld: World) -> None:
    world = bworld
    client = _client(world, "head1")
    body = _bulk_body(world.person12, world.person11)

    review = client.post(BULK, body)
    assert ObservationEpisode.objects.filter(status=Status.ACTIVE).count() == 2
    done = client.post(BULK, {**body, "confirm": "1"})

    assert review.status_code == 200
    assert "Put 2 persons under observation?" in _text(review)
    assert [r.person.name for r in review.context["rows"]] == ["张建国", "李秀英"]
    assert done.status_code == 302
    assert done["Location"] == "/observation/?status=active"
    started = {
        e.person.name: (e.reason, e.counts_from, e.counts_from_kind, e.planned_end, e.screening)
        for e in ObservationEpisode.objects.filter(created_by=world.user("head1"))
    }
    assert started == {
        "李秀英": (
            "contact",
            dt.date(2020, 2, 6),
            "last_contact",
            dt.date(2020, 2, 20),
            _screening(world.person12),
        ),
        "张建国": (
            "arrival",
            dt.date(2020, 2, 7),
            "arrival",
            dt.date(2020, 2, 21),
            _screening(world.person11),
        ),
    }
    assert _candidates(client) == []


def test_bulk_start_is_all_or_nothing_and_names_who_cannot_start(bworld: World) -> None:
    """Starting on 2020-02-06: 张建国 arrived on 02-07, after that day; nobody is started."""
    world = bworld
    client = _client(world, "head1")
    body = _bulk_body(world.person12, world.person11, start_date="2020-02-06")

    review = client.post(BULK, body)
    response = client.post(BULK, {**body, "confirm": "1"})

    expected = [
        "张建国: The day counted from (2020-02-07) is after the start of observation: enter "
        "the day of the last contact or arrival, on or before 2020-02-06."
    ]
    assert review.status_code == 200
    assert review.context["form"].non_field_errors() == expected
    assert "Nobody is started" in _text(review)
    assert 'id="confirm"' not in _text(review)  # nothing to confirm until it is corrected
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == expected
    assert ObservationEpisode.objects.filter(created_by=world.user("head1")).count() == 0
    assert (
        not TimelineEvent.objects.filter(kind="observation_started")
        .exclude(person__in=[world.person11b, world.person21])
        .exists()
    )


def test_bulk_start_names_a_person_started_meanwhile(bworld: World) -> None:
    world = bworld
    client = _client(world, "head1")
    body = _bulk_body(world.person12, world.person11, confirm="1")
    services.start_episode(
        actor=None,
        entry=services.EpisodeStart(
            person=world.person12,
            reason="contact",
            counts_from=dt.date(2020, 2, 6),
            counts_from_kind="last_contact",
        ),
    )

    response = client.post(BULK, body)

    assert response.context["form"].non_field_errors() == [
        "李秀英 is already under observation: open the running episode."
    ]
    assert not ObservationEpisode.objects.filter(person=world.person11).exists()


def test_bulk_start_refuses_what_is_not_on_the_list(bworld: World) -> None:
    world = bworld
    qian = Person.objects.get(name="钱七")

    nothing = _client(world, "head1").post(BULK, _bulk_body())
    outside = _client(world, "head1").post(BULK, _bulk_body(qian, confirm="1"))

    assert nothing.context["form"].errors["screenings"] == ["Tick at least one person to start."]
    assert outside.context["form"].errors["screenings"] == [
        "A person chosen is no longer on the list (or not in your scope): reload the list and "
        "choose again."
    ]
    assert not ObservationEpisode.objects.filter(person=qian).exists()


def test_the_bulk_list_costs_the_same_queries_for_more_persons(bworld: World) -> None:
    world = bworld
    client = _client(world, "head1")
    client.get(BULK)
    with CaptureQueriesContext(connection) as few:
        client.get(BULK)
    for i in range(5):
        person = org_services.create_person(
            actor=None, name=f"新来{i}", household=world.household12
        ).person
        _key_screening(person, contact=dt.date(2020, 2, 5))

    with CaptureQueriesContext(connection) as many:
        response = client.get(BULK)

    assert len(response.context["page"].object_list) == 7
    assert len(many) == len(few)
    assert len(many) <= 14


# ---------------------------------------------------------------------------------------------
# Decisions


def _decide_url(episode: ObservationEpisode) -> str:
    return f"/observation/{episode.pk}/decide/"


def test_who_may_decide(oworld: World) -> None:
    world = oworld
    url = _decide_url(world.episode1)

    assert _client(world, "worker11").get(url).status_code == 403
    assert _client(world, "worker11").post(url, {"outcome": "released"}).status_code == 403
    assert _client(world, "auditor1").get(url).status_code == 403
    assert _client(world, "head2").get(url).status_code == 404
    assert _client(world, "head2").post(url, {"outcome": "released"}).status_code == 404
    assert _client(world, "head1").get(url).status_code == 200
    world.episode1.refresh_from_db()
    assert world.episode1.status == Status.ACTIVE


def test_the_decision_offers_what_may_follow(oworld: World) -> None:
    world = oworld
    page = _client(world, "head1").get(_decide_url(world.episode1))

    assert [value for value, _label in page.context["form"].fields["outcome"].choices] == [
        "released",
        "referred",
        "suspected",
        "confirmed",
    ]
    assert "Today is day 9 of 14." in _text(page)


def test_an_early_release_needs_a_note_before_the_confirmation(oworld: World) -> None:
    world = oworld
    client = _client(world, "head1")
    url = _decide_url(world.episode1)

    bare = client.post(url, {"outcome": "released", "on": "2020-02-10", "note": ""})
    review = client.post(url, {"outcome": "released", "on": "2020-02-10", "note": "核酸阴性"})

    assert bare.status_code == 200
    assert bare.context["form"].errors == {
        "note": ["Releasing before the planned end (2020-02-15) needs a reason."]
    }
    assert "张小明: Released on 2020-02-10?" in _text(review)
    assert 'name="confirm" value="1"' in _text(review)
    world.episode1.refresh_from_db()
    assert (world.episode1.status, world.episode1.decision_note) == (Status.ACTIVE, "")
    assert TimelineEvent.objects.filter(kind="observation_decision").count() == 0


def test_a_unit_head_releases_after_confirming(oworld: World) -> None:
    world = oworld
    client = _client(world, "head1")
    body = {"outcome": "released", "on": "2020-02-10", "note": "核酸阴性", "confirm": "1"}

    response = client.post(_decide_url(world.episode1), body)

    assert response.status_code == 302
    assert response["Location"] == f"/observation/{world.episode1.pk}/"
    world.episode1.refresh_from_db()
    assert (
        world.episode1.status,
        world.episode1.ended_on,
        world.episode1.decided_by,
        world.episode1.decision_note,
    ) == (Status.RELEASED, dt.date(2020, 2, 10), world.user("head1"), "核酸阴性")
    world.person11b.refresh_from_db()
    assert world.person11b.status == Person.Status.NORMAL
    released = _client(world, "head1").get(_decide_url(world.episode1))
    assert 'id="nothing-to-decide"' in _text(released)


def test_a_release_at_the_end_needs_no_note(oworld: World) -> None:
    world = oworld
    with time_machine.travel(dt.datetime(2020, 2, 15, 18, 0, tzinfo=TZ), tick=False):
        client = _client(world, "head1")
        review = client.post(
            _decide_url(world.episode1), {"outcome": "released", "on": "2020-02-15"}
        )
        done = client.post(
            _decide_url(world.episode1), {"outcome": "released", "on": "2020-02-15", "confirm": "1"}
        )

    assert review.status_code == 200 and "Confirm the decision" in _text(review)
    assert done.status_code == 302
    world.episode1.refresh_from_db()
    assert world.episode1.status == Status.RELEASED


def test_a_referral_then_a_confirmed_case(oworld: World) -> None:
    world = oworld
    client = _client(world, "head1")
    url = _decide_url(world.episode1)

    client.post(url, {"outcome": "referred", "on": "2020-02-10", "note": "发热", "confirm": "1"})
    page = client.get(url)
    client.post(url, {"outcome": "confirmed", "on": "2020-02-10", "note": "确诊", "confirm": "1"})

    assert [v for v, _label in page.context["form"].fields["outcome"].choices] == [
        "released",
        "suspected",
        "confirmed",
    ]
    world.episode1.refresh_from_db()
    world.person11b.refresh_from_db()
    assert (world.episode1.status, world.person11b.status) == ("confirmed", "confirmed")


# ---------------------------------------------------------------------------------------------
# Period changes


def test_a_unit_head_extends_the_period_with_a_reason(oworld: World) -> None:
    world = oworld
    client = _client(world, "head1")
    url = f"/observation/{world.episode1.pk}/period/"

    page = client.get(url)
    bare = client.post(url, {"planned_end": "2020-02-20", "reason": ""})
    done = client.post(url, {"planned_end": "2020-02-20", "reason": "再次接触病例"})

    assert page.context["form"]["planned_end"].value() == dt.date(2020, 2, 15)
    assert bare.context["form"].errors == {
        "reason": ["Say why the period changes, e.g. 'contact with a new case on 02-10'."]
    }
    assert done.status_code == 302
    world.episode1.refresh_from_db()
    assert (world.episode1.planned_end, world.episode1.isolation_end) == (
        dt.date(2020, 2, 20),
        dt.date(2020, 2, 20),
    )
    assert TimelineEvent.objects.get(kind="observation_period").summary == (
        "Observation extended: last day 2020-02-15 → 2020-02-20 (再次接触病例)"
    )


def test_the_service_refuses_a_period_ending_before_the_start(oworld: World) -> None:
    world = oworld
    response = _client(world, "head1").post(
        f"/observation/{world.episode1.pk}/period/",
        {"planned_end": "2020-02-01", "reason": "录入错误"},
    )

    assert response.context["form"].errors == {
        "planned_end": ["The last day cannot be before the start (2020-02-03)."]
    }


def test_who_may_change_the_period(oworld: World) -> None:
    world = oworld
    url = f"/observation/{world.episode1.pk}/period/"
    body = {"planned_end": "2020-02-20", "reason": "x"}

    assert _client(world, "worker11").post(url, body).status_code == 403
    assert _client(world, "head2").post(url, body).status_code == 404
    world.episode1.refresh_from_db()
    assert world.episode1.planned_end == dt.date(2020, 2, 15)


def test_responsible_roles_are_the_five(oworld: World) -> None:
    page = _client(oworld, "head1").get(f"{START}?person={oworld.person11.pk}")

    assert [label for label, _name, _phone in page.context["form"].responsible_rows()] == [
        str(label) for _value, label in EpisodeResponsible.Role.choices
    ]
