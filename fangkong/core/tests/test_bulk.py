from __future__ import annotations

import pytest
from django.db import connection

from fangkong.core.bulk import streaming_reads


def _cache_size() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        return int(cursor.fetchone()[0])


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's page cache")
def test_streaming_reads_shrinks_the_page_cache_for_the_pass_and_puts_it_back() -> None:
    before = _cache_size()
    with streaming_reads(cache_kib=2048):
        assert _cache_size() == -2048
    assert _cache_size() == before
    assert before != -2048
