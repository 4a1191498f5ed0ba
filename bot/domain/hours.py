"""Working hours: when a nudge may reach a person in their own time zone."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WORKING_DAYS = range(0, 5)  # Monday to Friday


def parse_window(setting: str) -> tuple[time, time] | None:
    """`09:00-18:00` as (start, end); None for `none` (no quiet hours)."""
    if setting.strip().lower() == "none":
        return None
    start, _, end = setting.partition("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


def zone(name: str | None) -> ZoneInfo | None:
    """The IANA zone, or None when unknown or invalid."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def next_working_moment(
    now: datetime, time_zone: str | None, window: tuple[time, time] | None
) -> datetime | None:
    """None when `now` is inside the person's working hours (or we don't know their zone, or
    there are no quiet hours); else the UTC moment their next working window opens."""
    tz = zone(time_zone)
    if tz is None or window is None:
        return None
    start, end = window
    local = now.astimezone(tz)
    if local.weekday() in WORKING_DAYS and start <= local.time() < end:
        return None
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    while day.weekday() not in WORKING_DAYS:
        day += timedelta(days=1)
    return datetime.combine(day, start, tzinfo=tz).astimezone(now.tzinfo)
