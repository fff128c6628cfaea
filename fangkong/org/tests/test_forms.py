from __future__ import annotations

import pytest
from django.forms import Select
from django.utils import translation

from fangkong.core.testing import World
from fangkong.org import forms as forms_module
from fangkong.org.forms import HouseholdForm, PersonFilterForm


def test_a_large_scope_lists_units_not_every_grid_in_the_filter(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(PersonFilterForm, "MAX_OPTIONS", 4)  # the world has 6 units in scope
    form = PersonFilterForm({"unit": str(world.grid12.pk)}, user=world.user("office"))
    labels = [label for _value, label in form.fields["unit"].widget.choices]
    assert labels[1:] == ["第一作业站 (LZ-01)", "第二作业站 (LZ-02)", "一站二网格 (LZ-01-02)"]
    assert form.is_valid()
    assert form.cleaned_data["unit"] == world.grid12
    assert PersonFilterForm({"unit": "abc"}, user=world.user("office")).is_valid() is False


def test_a_large_scope_types_the_grid_by_its_code(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(forms_module, "MAX_GRID_OPTIONS", 2)  # the office may edit 3 grids
    data = {"grid": "lz-01-02", "address": "一站9排9号"}
    form = HouseholdForm(data, user=world.user("office"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["grid"] == world.grid12
    with translation.override("en"):
        wrong = HouseholdForm({**data, "grid": "LZ-09-09"}, user=world.user("office"))
        assert wrong.errors["grid"] == [
            "No grid with this code in your scope. Check the code on the grid's page."
        ]


def test_a_small_scope_picks_the_grid_from_a_list(world: World) -> None:
    form = HouseholdForm(user=world.user("head1"))
    assert isinstance(form.fields["grid"].widget, Select)
    assert [label for _v, label in form.fields["grid"].widget.choices][1:] == [
        "一站一网格 (LZ-01-01)",
        "一站二网格 (LZ-01-02)",
    ]
