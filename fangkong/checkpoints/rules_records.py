"""When a place is due for disinfection: pure functions of its frequency and times.

A place disinfected ``times_per_day`` times a day is due every 24 h ÷ ``times_per_day`` after
its last disinfection (twice a day: every 12 hours). It is overdue when more than that has
passed: exactly at the interval it is not overdue, a second later it is. A place never
disinfected counts from when it was added. The frequency runs from 1 to 24 times a day."""

from __future__ import annotations

import datetime as dt

MIN_TIMES_PER_DAY = 1
MAX_TIMES_PER_DAY = 24
DAY = dt.timedelta(hours=24)
# The suggestions offered for the disinfectant (the usual ones of the 2020 guidance); any
# other text is accepted.
AGENTS: tuple[str, ...] = ("84消毒液 1:100", "75%酒精", "过氧乙酸", "含氯消毒剂 500mg/L")


def interval(times_per_day: int) -> dt.timedelta:
    """The longest time allowed between two disinfections (24 h ÷ times a day)."""
    if not MIN_TIMES_PER_DAY <= times_per_day <= MAX_TIMES_PER_DAY:
        raise ValueError(f"times a day must be from 1 to 24, not {times_per_day}")
    return DAY / times_per_day


def anchor(last_done_at: dt.datetime | None, created_at: dt.datetime) -> dt.datetime:
    """What the interval counts from: the last disinfection, or the place's creation."""
    return last_done_at if last_done_at is not None else created_at


def due_at(
    *, times_per_day: int, last_done_at: dt.datetime | None, created_at: dt.datetime
) -> dt.datetime:
    """The moment the place is due again: overdue after it (not at it)."""
    return anchor(last_done_at, created_at) + interval(times_per_day)


def is_overdue(
    *,
    times_per_day: int,
    last_done_at: dt.datetime | None,
    created_at: dt.datetime,
    now: dt.datetime,
) -> bool:
    """Whether more than the interval has passed since the last disinfection (or, never
    disinfected, since the place was added)."""
    return now - anchor(last_done_at, created_at) > interval(times_per_day)
