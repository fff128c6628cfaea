from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from fangkong.core.testing import World, build_world


@pytest.fixture
def oworld(db: None) -> World:
    """The test world with its two running episodes (see core.testing.add_observation_world)
    and its two reports of 2020-02-03 (add_reporting_world)."""
    return build_world(observation=True)


@pytest.fixture(autouse=True)
def _english_messages() -> Iterator[None]:
    """The tests compare messages with their English source text."""
    with translation.override("en"):
        yield
