from __future__ import annotations

import pytest

from fangkong.core.testing import World
from fangkong.org.forms import PersonFilterForm


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
