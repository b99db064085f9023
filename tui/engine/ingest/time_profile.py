"""How a file writes its times (`TimeProfile`): from its column's type, else from its first values.

The label is shown to the analyst (`triage inspect`, the TUI's notes); `dayfirst` tells
`normalise.time_from_text` to read `01/06/2023` as 1 June (a locale date whose first number is
over 12 anywhere in the sample, or a German-style dotted date).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import duckdb

from tui.engine.core.sql import ident
from tui.engine.ingest.detect import Detection
from tui.engine.ingest.source_sql import (
    NUMBER_TYPES,
    TIMESTAMP_TYPES,
    TimeProfile,
    source_sql,
    text_sql,
    type_in,
)

LOCALE_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})")
DOTTED_DATE = re.compile(r"^\s*\d{1,2}\.\d{1,2}\.\d{4}[ ,]")  # Excel in a German-style locale
# a time of day alone: `4:05:03.000 AM`, `16:05:03` (a Sentinel portal export's TimeGenerated, seen)
TIME_OF_DAY = re.compile(r"^\s*\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(\s*[AaPp][Mm])?\s*$")

# The time profile reads the first TIME_VALUES non-empty time values among a file's first TIME_ROWS rows.
TIME_ROWS, TIME_VALUES = 2000, 200


def typed_profile(det: Detection, types: Mapping[str, str]) -> TimeProfile | None:
    """The time profile when the column's type says it all (or there is no time); None when the
    values must be looked at (`time_text_sql`, `classify_times`)."""
    sources = det.fields.get("ts", ())
    if not sources:
        return TimeProfile("no time column")
    src = sources[0]
    typ = types.get(src.column, "VARCHAR") if src.path is None else "VARCHAR"
    if typ.upper().startswith("TIMESTAMP WITH TIME ZONE") or typ.upper() == "TIMESTAMPTZ":
        return TimeProfile(f"{typ} (converted to UTC)")
    if type_in(typ, TIMESTAMP_TYPES):
        return TimeProfile(f"{typ} (taken as UTC)")
    if type_in(typ, NUMBER_TYPES):
        return TimeProfile("epoch numbers (UTC)")
    return None


def time_text_sql(det: Detection, types: Mapping[str, str]) -> str:
    """The text of the first time source, as the profile reads it."""
    return text_sql(source_sql(det.fields["ts"][0], types))


def time_profile(
    con: duckdb.DuckDBPyConnection, view: str, det: Detection, types: Mapping[str, str]
) -> TimeProfile:
    """Look at a few time values to say how the file writes times (and whether dates are day-first)."""
    fixed = typed_profile(det, types)
    if fixed is not None:
        return fixed
    rows = con.execute(
        f"SELECT v FROM (SELECT {time_text_sql(det, types)} AS v FROM {ident(view)} LIMIT {TIME_ROWS}) "
        f"WHERE v IS NOT NULL LIMIT {TIME_VALUES}"
    ).fetchall()
    values = [str(r[0]) for r in rows]
    if values and all(TIME_OF_DAY.match(v) for v in values):
        return _time_of_day(con, view, det, types)
    return classify_times(values)


def _time_of_day(
    con: duckdb.DuckDBPyConnection, view: str, det: Detection, types: Mapping[str, str]
) -> TimeProfile:
    """The first time column holds times of day only: its date comes from the next time column of the
    same record (the profile of that column decides how its dates read), else no time is known."""
    first = det.fields["ts"][0].label()
    if len(det.fields["ts"]) < 2:
        return TimeProfile(f"{first}: a time of day without a date, and no other time column: times unknown")
    second = det.fields["ts"][1]
    other = Detection(det.kind, {"ts": (second,)})
    profile = typed_profile(other, types) or time_profile(con, view, other, types)
    return TimeProfile(
        f"{first}: a time of day without a date; the date from {second.label()} "
        f"(the nearest day to it), as {profile.label}",
        profile.dayfirst,
        time_only=True,
    )


def classify_times(values: Sequence[str]) -> TimeProfile:
    """Name the time format of sample strings; day-first when a locale date has a first number > 12."""
    if not values:
        return TimeProfile("no time values in the first rows")
    locale = [m for m in (LOCALE_DATE.match(v) for v in values) if m]
    if locale:
        dayfirst = any(int(m.group(1)) > 12 for m in locale)
        order = "D/M/YYYY" if dayfirst else "M/D/YYYY"
        return TimeProfile(f"locale {order} h:mm:ss (taken as UTC)", dayfirst)
    if any(DOTTED_DATE.match(v) for v in values):
        return TimeProfile("locale D.M.YYYY h:mm:ss (taken as UTC)", True)
    v = values[0].strip()
    if v.startswith("/Date("):
        return TimeProfile("PowerShell /Date(milliseconds)/ (UTC)")
    if re.fullmatch(r"\d{13}", v):
        return TimeProfile("epoch milliseconds (UTC)")
    if re.fullmatch(r"\d{9,10}(\.\d+)?", v):
        return TimeProfile("epoch seconds (UTC)")
    if re.search(r"(Z|[+-]\d{2}:?\d{2})$", v):
        zones = sorted({"Z" if x.strip().endswith("Z") else x.strip()[-6:] for x in values})
        return TimeProfile(f"ISO 8601 with zone ({', '.join(zones[:3])}; converted to UTC)")
    return TimeProfile("ISO 8601 without zone (taken as UTC)")
