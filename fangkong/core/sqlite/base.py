"""Django's SQLite backend, with the writers of a database file queued on a kernel lock.

SQLite lets one writer at a time hold its write lock. A writer that finds it taken waits in
SQLite's busy handler, which sleeps 1, 2, 5, 10… ms between tries: a lock held for a few
tenths of a millisecond (a temperature reading's three inserts and the commit) makes the next
writer sleep a whole millisecond or more, while the processor has nothing to do. Here every
transaction (``BEGIN IMMEDIATE``, as the settings ask) first takes an exclusive ``flock`` on
``<database>-writer.lock`` and gives it back at its commit or rollback: the kernel wakes the
next writer the moment the lock is free. SQLite's own lock still guards the file; the kernel's
only orders the writers of this machine (each process and thread has its own descriptor).
An in-memory database (the tests') has one connection and needs no queue.
"""

from __future__ import annotations

import fcntl
import os
from typing import Any

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    _writer_fd: int | None = None
    _writer_held = False

    def _writer_lock_fd(self) -> int | None:
        if self._writer_fd is None and not self.is_in_memory_db():
            path = f"{self.settings_dict['NAME']}-writer.lock"
            self._writer_fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return self._writer_fd

    def _release_writer(self) -> None:
        if self._writer_held and self._writer_fd is not None:
            fcntl.flock(self._writer_fd, fcntl.LOCK_UN)
        self._writer_held = False

    def _start_transaction_under_autocommit(self) -> None:
        immediate = getattr(self, "transaction_mode", None) == "IMMEDIATE"
        fd = self._writer_lock_fd() if immediate else None
        if fd is not None and not self._writer_held:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._writer_held = True
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._release_writer()
            raise

    def _commit(self) -> Any:
        try:
            return super()._commit()  # type: ignore[misc]
        finally:
            self._release_writer()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]
        finally:
            self._release_writer()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]
        finally:
            self._release_writer()
            if self._writer_fd is not None:
                os.close(self._writer_fd)
                self._writer_fd = None
