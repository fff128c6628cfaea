"""The observation rules and period presets page: only the office, field errors from the
service, the audit trail, and one preset in force."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from fangkong.core.testing import World
from fangkong.core.testing import english_client as _client
from fangkong.observation import services
from fangkong.observation.models import ObservationEpisode, ObservationRules, PeriodPreset

URL = "/observation/settings/"
NEW_PRESET = "/observation/settings/presets/new/"


def _rules_body(**values: Any) -> dict[str, Any]:
    return {
        "morning_start": "06:00",
        "morning_end": "10:00",
        "afternoon_start": "14:00",
        "afternoon_end": "18:00",
        "fever_threshold": "37.3",
        "need_answer_hours": "24",
        "self_reports_per_hour": "6",
        **values,
    }


def _text(response: Any) -> str:
    return str(response.content.decode())


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("office", 200),
        ("admin", 200),
        ("leader", 403),
        ("head1", 403),
        ("worker11", 403),
        ("auditor1", 403),
    ],
)
def test_only_the_office_manages_the_rules(world: World, persona: str, status: int) -> None:
    client = _client(world, persona)

    assert client.get(URL).status_code == status
    assert client.get(NEW_PRESET).status_code == status
    if status == 403:
        assert client.post(URL, _rules_body(fever_threshold="37.0")).status_code == 403
        assert client.post(NEW_PRESET, {"name": "3+3", "isolation_days": "3"}).status_code == 403
    assert not ObservationRules.objects.filter(fever_threshold=Decimal("37.0")).exists()
    assert not PeriodPreset.objects.filter(name="3+3").exists()


def test_the_page_shows_the_rules_and_presets_in_force(world: World) -> None:
    response = _client(world, "office").get(URL)

    html = _text(response)
    form = response.context["form"]
    assert form["fever_threshold"].value() == Decimal("37.3")
    assert form["morning_start"].value() == dt.time(6, 0)
    assert [p.name for p in response.context["presets"]] == ["14天（2020）", "7+3", "5+3"]
    assert "in force" in html
    assert 'id="audit-trail"' in html


def test_the_office_changes_the_rules_and_the_change_is_in_the_audit_trail(world: World) -> None:
    client = _client(world, "office")

    response = client.post(
        URL, _rules_body(fever_threshold="37.5", afternoon_start="15:00", need_answer_hours="12")
    )

    assert response.status_code == 302
    assert response["Location"] == URL
    rules = services.current_rules()
    assert (rules.fever_threshold, rules.afternoon_start, rules.need_answer_hours) == (
        Decimal("37.5"),
        dt.time(15, 0),
        12,
    )
    assert rules.history.latest().history_user == world.user("office")
    page = client.get(URL)
    assert "Rules saved." in _text(page)
    client.post(URL, _rules_body(fever_threshold="37.2", afternoon_start="15:00"))
    audit = client.get(URL).context["audit"]
    assert [(str(e.user), e.changes) for e in audit] == [
        ("office", [("fever threshold (°C)", "37.5", "37.2"), ("answer a need within (hours)", "12", "24")]),
        ("office", []),  # created with the values of the first change
    ]  # fmt: skip


def test_the_service_s_errors_are_on_their_fields(world: World) -> None:
    client = _client(world, "office")

    windows = client.post(URL, _rules_body(morning_end="05:00"))
    fever = client.post(URL, _rules_body(fever_threshold="39.5"))

    assert windows.status_code == 200
    assert windows.context["form"].errors == {
        "morning_end": ["The morning window must end after it starts."]
    }
    assert fever.context["form"].errors == {
        "fever_threshold": [
            "Enter a fever threshold between 36.0 and 39.0 °C (37.3 in the national plan)."
        ]
    }
    assert services.current_rules().fever_threshold == Decimal("37.3")


def test_the_office_adds_a_preset_and_puts_it_in_force(world: World) -> None:
    client = _client(world, "office")

    response = client.post(
        NEW_PRESET,
        {
            "name": "10+4",
            "isolation_days": "10",
            "monitoring_days": "4",
            "is_default": "on",
            "is_active": "on",
            "order": "5",
        },
    )

    assert response.status_code == 302
    preset = PeriodPreset.objects.get(name="10+4")
    assert (preset.isolation_days, preset.monitoring_days, preset.is_default) == (10, 4, True)
    assert list(PeriodPreset.objects.filter(is_default=True)) == [preset]
    assert services.default_preset() == preset


def test_the_office_retires_a_preset_and_running_episodes_keep_their_days(
    oworld: World,
) -> None:
    world = oworld
    fourteen = PeriodPreset.objects.get(name="14天（2020）")
    seven = PeriodPreset.objects.get(name="7+3")
    client = _client(world, "office")
    url = f"/observation/settings/presets/{fourteen.pk}/"

    refused = client.post(
        url,
        {"name": fourteen.name, "isolation_days": "14", "monitoring_days": "0", "is_default": "on",
         "order": "0"},
    )  # fmt: skip
    client.post(
        f"/observation/settings/presets/{seven.pk}/",
        {"name": "7+3", "isolation_days": "7", "monitoring_days": "3", "is_default": "on",
         "is_active": "on", "order": "1"},
    )  # fmt: skip
    retired = client.post(
        url, {"name": fourteen.name, "isolation_days": "14", "monitoring_days": "0", "order": "0"}
    )

    assert refused.context["form"].errors == {
        "is_default": ["A retired preset cannot be the one in force."]
    }
    assert retired.status_code == 302
    fourteen.refresh_from_db()
    assert (fourteen.is_active, fourteen.is_default) == (False, False)
    assert services.default_preset() == seven
    episode = ObservationEpisode.objects.get(pk=world.episode1.pk)
    assert (episode.preset, episode.isolation_days, episode.planned_end) == (
        fourteen,
        14,
        dt.date(2020, 2, 15),
    )
    edit = client.get(url)
    assert 'id="audit-trail"' in _text(edit)
    assert [p.name for p in client.get(URL).context["presets"]][-1] == fourteen.name


def test_a_preset_name_is_unique_and_an_unknown_preset_is_404(world: World) -> None:
    client = _client(world, "office")

    clash = client.post(
        NEW_PRESET, {"name": "7+3", "isolation_days": "7", "monitoring_days": "3", "order": "0"}
    )

    assert clash.context["form"].errors == {
        "name": ["A preset with this name exists: choose another name."]
    }
    assert client.get("/observation/settings/presets/987654321/").status_code == 404
