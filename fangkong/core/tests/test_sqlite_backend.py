"""The SQLite backend queues writers on a kernel lock (fangkong.core.sqlite): a second writer
waits for the first to commit or roll back, then goes on at once."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db.utils import ConnectionHandler


def _wrapper(path: Path) -> Any:
    """A connection of its own to the file (as another process or thread has)."""
    handler = ConnectionHandler(
        {
            "default": {
                "ENGINE": "fangkong.core.sqlite",
                "NAME": str(path),
                "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
            }
        }
    )
    return handler["default"]


def _begin(wrapper: Any) -> None:
    wrapper.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def _end(wrapper: Any, *, commit: bool) -> None:
    wrapper.commit() if commit else wrapper.rollback()
    wrapper.set_autocommit(True)


@pytest.fixture
def pair(tmp_path: Path, django_db_blocker: Any) -> Any:
    """Two connections to a database file of the test's own (not the test database)."""
    django_db_blocker.unblock()
    first, second = _wrapper(tmp_path / "db.sqlite3"), _wrapper(tmp_path / "db.sqlite3")
    second.inc_thread_sharing()  # used from another thread in the tests
    with first.cursor() as cursor:
        cursor.execute("CREATE TABLE t (n INTEGER)")
    yield first, second
    first.close()
    second.close()
    django_db_blocker.restore()


@pytest.mark.parametrize("commit", [True, False], ids=["commit", "rollback"])
def test_a_second_writer_waits_for_the_first_to_end_its_transaction(
    pair: Any, tmp_path: Path, commit: bool
) -> None:
    first, second = pair
    _begin(first)
    with first.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (1)")
    assert (tmp_path / "db.sqlite3-writer.lock").exists()
    began = threading.Event()

    def other() -> None:
        _begin(second)
        began.set()
        with second.cursor() as cursor:
            cursor.execute("INSERT INTO t VALUES (2)")
        _end(second, commit=True)

    thread = threading.Thread(target=other)
    thread.start()
    assert not began.wait(0.3)  # queued behind the first writer
    ended = time.monotonic()
    _end(first, commit=commit)
    assert began.wait(5)
    assert time.monotonic() - ended < 1.0  # woken at once, not after a busy-handler sleep
    thread.join(5)
    with first.cursor() as cursor:
        cursor.execute("SELECT n FROM t ORDER BY n")
        assert [n for (n,) in cursor.fetchall()] == ([1, 2] if commit else [2])


def test_reads_outside_a_transaction_do_not_wait_for_a_writer(pair: Any) -> None:
    first, second = pair
    _begin(first)
    with first.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (1)")
    with second.cursor() as cursor:  # autocommit read: WAL readers never wait
        cursor.execute("SELECT COUNT(*) FROM t")
        assert cursor.fetchone() == (0,)
    _end(first, commit=True)


def test_closing_a_connection_in_a_transaction_frees_the_queue(pair: Any) -> None:
    first, second = pair
    _begin(first)
    first.close()
    _begin(second)  # would block for ever if the lock were still held
    _end(second, commit=True)
