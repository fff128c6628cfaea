from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from fangkong.core.regions import load_regions
from fangkong.screening.models import Region


@pytest.fixture
def regions(db: None) -> None:
    """The regions the data migration loads (loaded again if a flushing test removed them)."""
    if not Region.objects.filter(pk="620723").exists():
        load_regions(Region)


@pytest.fixture(autouse=True)
def _english_messages() -> Iterator[None]:
    """The tests compare messages with their English source text."""
    with translation.override("en"):
        yield
