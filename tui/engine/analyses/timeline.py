"""The timeline strip's cells: events per hour (named query `timeline`) folded into the strip's width.

Each cell covers a whole number of hours, so a cell is an exact `ts>=… ts<…` range the analyst
can narrow the filter to. Only the hourly counts (at most a few thousand rows) reach Python.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

LEVELS = "▁▂▃▄▅▆▇█"
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Cell:
    """One character of the strip: `[start, end)` with its event and flagged counts."""

    start: datetime
    end: datetime
    events: int
    flagged: int


@dataclass(frozen=True)
class Strip:
    """The strip for one filter at one width."""

    cells: tuple[Cell, ...]
    hours_per_cell: int

    @property
    def peak(self) -> int:
        return max((c.events for c in self.cells), default=0)

    def bars(self) -> str:
        """One block character per cell, height by events (linear; any event shows at least ▁)."""
        peak = self.peak
        return "".join(
            " " if c.events == 0 else LEVELS[min(len(LEVELS) - 1, (c.events * len(LEVELS) - 1) // peak)]
            for c in self.cells
        )


def fold(hours: Iterable[tuple[datetime, int, int]], width: int) -> Strip:
    """Hourly (hour, events, flagged) rows into at most `width` cells of whole hours each."""
    rows = sorted((h, int(e), int(f)) for h, e, f in hours if h is not None)
    if not rows or width < 1:
        return Strip((), 1)
    first, last = rows[0][0], rows[-1][0]
    span = int((last - first) / HOUR) + 1
    per = max(1, -(-span // width))
    count = -(-span // per)
    events = [0] * count
    flagged = [0] * count
    for hour, n, f in rows:
        i = int((hour - first) / HOUR) // per
        events[i] += n
        flagged[i] += f
    step = HOUR * per
    cells = tuple(
        Cell(_after(first, step * i), _after(first, step * (i + 1)), events[i], flagged[i])
        for i in range(count)
    )
    return Strip(cells, per)


def _after(start: datetime, offset: timedelta) -> datetime:
    """`start + offset`, or the last representable time: a row dated 9999-12-31 (a "never" some
    exports write) ends its cell past `datetime.max`, which raised OverflowError in the TUI."""
    try:
        return start + offset
    except OverflowError:
        return datetime.max
