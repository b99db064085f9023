"""Displayed times in the analyst's zone (`--tz`), always with the zone shown; stored times stay UTC.

The zone is set once when the UI starts (`set_zone`); every formatter reads it, so the tables, the
detail panel, the header and the timeline agree. Naive datetimes are UTC, as DuckDB stores them.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

_zone: tzinfo = timezone.utc


def set_zone(name: str | None) -> None:
    """Use this IANA zone (or UTC) for every displayed time from now on."""
    global _zone
    _zone = timezone.utc if not name or name.upper() in ("UTC", "Z") else ZoneInfo(name)


def zone() -> tzinfo:
    return _zone


def local(value: datetime) -> datetime:
    """The moment in the display zone (naive input means UTC); in UTC when the zone's offset would
    take it past year 1 or 9999 (a "never" dated 9999-12-31 shown east of UTC raised OverflowError)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    try:
        return value.astimezone(_zone)
    except OverflowError:
        return value.astimezone(timezone.utc)


def zone_label(value: datetime) -> str:
    """`UTC`, or the moment's offset in the display zone (`+02:00`), which also says DST."""
    if _zone is timezone.utc:
        return "UTC"
    offset = local(value).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def show(value: datetime, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """`2023-05-30 06:08:15 UTC` or `2023-05-30 08:08:15 +02:00`."""
    return f"{stamp(local(value), fmt)} {zone_label(value)}"


def stamp(value: datetime, fmt: str) -> str:
    """`value.strftime(fmt)` with a four-digit year (the C library writes year 1 as `1`)."""
    return value.strftime(fmt.replace("%Y", f"{value.year:04d}"))
