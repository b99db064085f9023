"""The drift split: a baseline period and the hunt window after it (SPEC §1, --baseline-until/--window).

Default: the window is the last `options.window_days` days of the data (ending at the latest
event) and the baseline everything before. With `--baseline-until DATE` the window starts at
DATE and runs to the end of the data (`--window` then does not shorten it). Intervals are
half-open: baseline is [baseline_start, baseline_end), window is [window_start, window_end].
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from tui.engine.core.options import Options


@dataclass(frozen=True)
class Split:
    """Baseline and hunt-window bounds (naive UTC); all None when the data has no times."""

    baseline_start: datetime | None
    baseline_end: datetime | None
    window_start: datetime | None
    window_end: datetime | None


def drift_split(con: duckdb.DuckDBPyConnection, options: Options) -> Split:
    """Where the baseline ends and the hunt window begins, from the data's time range and the options."""
    row = con.execute("SELECT min(ts), max(ts) FROM events_base").fetchone()
    first, last = row if row else (None, None)
    if first is None or last is None:
        return Split(None, None, None, None)
    if options.baseline_until is not None:
        start = options.baseline_until
        end = max(last, start)
    else:
        start = last - timedelta(days=options.window_days)
        end = last
    return Split(baseline_start=min(first, start), baseline_end=start, window_start=start, window_end=end)
