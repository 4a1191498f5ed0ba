"""The one place partnerbot reads the wall clock.

Domain, mail and store code take `now` from their caller and stamp every row with it. Only
the edges (the Slack handlers, the CLI, the worker's loops) ask a `Clock` for the time, so a
test, a rehearsal (`worker --once --at …`) or a replay can set it. `tests/test_clock_guard.py`
fails when code below the edges reads the wall clock itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The current time as an aware UTC datetime: the edges' default clock."""
    return datetime.now(UTC)


def fixed_clock(at: datetime) -> Clock:
    """A clock that always answers `at` (made aware UTC): for `--at` and for tests."""
    moment = as_utc(at)
    return lambda: moment


def as_utc(moment: datetime) -> datetime:
    """`moment` as aware UTC; a naive value is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_instant(text: str) -> datetime:
    """An ISO-8601 date or time (`2027-03-01`, `2027-03-01T09:00+01:00`) as aware UTC.

    Raises ValueError with a message a person can act on.
    """
    try:
        return as_utc(datetime.fromisoformat(text.strip()))
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO-8601 time (for example 2027-03-01 or 2027-03-01T09:00Z)"
        ) from None
