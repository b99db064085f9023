"""Collection gaps: a kind of evidence silent for a day or more while the others go on.

`triage inspect` lists them under what the evidence can answer; `annotate` says the longest of each
kind in its notes (the scan summary, the TUI's notes), so no one reads a missed export window as a
quiet day.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

# A day or more without one event of a kind, inside that kind's own span, while the other kinds go
# on (they have events in at least `GAP_COVERED` of its hours): a collection gap — an export window
# missed, a log not shipped — to rule out before absence of evidence is read as absence of activity.
# A silence every kind shares is the organisation's (nights, weekends), not the evidence's. With a
# single kind loaded there is nothing to compare: a silence is a gap from `GAP_ALONE` (a weekend is
# not one). Measured between hourly buckets, so exact for any silence of an hour or more.
GAP = timedelta(hours=24)
GAP_ALONE = timedelta(hours=72)
GAP_COVERED = 0.25
HOUR = timedelta(hours=1)
GAPS_LISTED = 3  # per kind, longest first; the JSON report has them all


@dataclass(frozen=True)
class Gap:
    """A kind's silence: its last event before and first after, and the hours others have events in."""

    start: datetime
    end: datetime
    others: int | None  # hours between the two in which another kind has events; None: no other kind

    @property
    def hours(self) -> float:
        return round((self.end - self.start).total_seconds() / 3600, 1)

    @property
    def others_text(self) -> str:
        """`, while other evidence has events in N of those hours` ("" with one kind loaded)."""
        return (
            ""
            if self.others is None
            else f", while other evidence has events in {self.others} of those hours"
        )


def time_gaps(con: duckdb.DuckDBPyConnection) -> dict[str, list[Gap]]:
    """Per kind of evidence, its collection gaps (see `GAP`), longest first."""
    rows = con.execute(
        "SELECT kind, time_bucket(INTERVAL 1 HOUR, ts) AS hour, min(ts), max(ts) FROM events_base "
        "WHERE ts IS NOT NULL GROUP BY ALL ORDER BY kind, hour"
    ).fetchall()
    hours: dict[str, set[datetime]] = {}
    for kind, hour, _, _ in rows:
        hours.setdefault(str(kind), set()).add(hour)
    # per kind, the hours the other kinds have events in, sorted: a gap's count is two bisections
    others = {kind: sorted(set().union(*(h for k, h in hours.items() if k != kind))) for kind in hours}
    gaps: dict[str, list[Gap]] = {}
    last: dict[str, datetime] = {}
    for kind, _, first, latest in rows:
        kind = str(kind)
        before = last.get(kind)
        last[kind] = latest
        if before is None or first - before < GAP:
            continue
        if len(hours) == 1:
            if first - before >= GAP_ALONE:
                gaps.setdefault(kind, []).append(Gap(before, first, None))
            continue
        covered = others[kind]
        between = bisect_left(covered, first - HOUR) - bisect_right(covered, before)
        if between >= GAP_COVERED * (first - before).total_seconds() / 3600:
            gaps.setdefault(kind, []).append(Gap(before, first, between))
    return {kind: sorted(found, key=lambda g: (-g.hours, g.start)) for kind, found in gaps.items()}


def gap_notes(con: duckdb.DuckDBPyConnection) -> list[str]:
    """One note per kind with a gap: its longest, and how many more there are."""
    notes = []
    for kind, found in sorted(time_gaps(con).items()):
        g = found[0]
        span = f"{g.start:%Y-%m-%d %H:%M} .. {g.end:%Y-%m-%d %H:%M} UTC ({g.hours:g} h"
        more = f"; {len(found) - 1} more (triage inspect lists them)" if len(found) > 1 else ""
        notes.append(f"gap: {kind} has no event {span}{g.others_text}){more}: a collection gap to rule out")
    return notes
