"""What a load says about each input (`FileReport`) and about all of them (`LoadReport`), and the
counts each file's report carries (`STATS`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

TRUNCATION_SIZES = (5_000, 50_000)


@dataclass(frozen=True)
class FileReport:
    """What happened to one input file."""

    path: Path
    format: str | None = None
    compression: str | None = None
    kind: str | None = None
    rows: int = 0
    bad_rows: int = 0
    bad_examples: tuple[str, ...] = ()
    error: str | None = None
    mapping: Mapping[str, str] = field(default_factory=dict)
    ts_min: datetime | None = None
    ts_max: datetime | None = None
    view: str | None = None
    note: str | None = None
    events_view: str | None = None  # `ev_<i>`: this file's rows in EVENT_COLUMNS (country still NULL)
    time_format: str | None = None
    columns: tuple[str, ...] = ()
    # rows_without_time, tokens, token_ids, mail_items_accessed (each a row count)
    counts: Mapping[str, int] = field(default_factory=dict)
    # event columns this file fills with one constant: name → typed SQL (normalise.events_constants)
    constants: Mapping[str, str] = field(default_factory=dict)

    @property
    def loaded(self) -> bool:
        """True when the file's rows are part of `events_base`."""
        return self.events_view is not None

    @property
    def likely_truncated(self) -> bool:
        """Exactly 5,000 or 50,000 rows: the page size of Search-UnifiedAuditLog / Purview export."""
        return self.rows in TRUNCATION_SIZES


@dataclass(frozen=True)
class LoadReport:
    """Every input's fate, plus the key lists found among them."""

    files: tuple[FileReport, ...]
    jwks_files: tuple[Path, ...] = ()
    missing: tuple[str, ...] = ()  # arguments that matched no file

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files if f.loaded)

    @property
    def ts_min(self) -> datetime | None:
        return min((f.ts_min for f in self.files if f.ts_min is not None), default=None)

    @property
    def ts_max(self) -> datetime | None:
        return max((f.ts_max for f in self.files if f.ts_max is not None), default=None)

    @property
    def errors(self) -> tuple[FileReport, ...]:
        return tuple(f for f in self.files if f.error is not None)


STATS = (
    "count(*), min(ts), max(ts), count(*) - count(ts), count({token}), count(token_id), "
    "coalesce(count_if(operation = 'MailItemsAccessed'), 0)"
)
NO_STATS = (0, None, None, 0, 0, 0, 0)


def stats_fields(stats: Sequence[Any]) -> dict[str, Any]:
    rows, ts_min, ts_max, no_time, tokens, token_ids, mia = stats
    return {
        "rows": int(rows),
        "ts_min": ts_min,
        "ts_max": ts_max,
        "counts": {
            "rows_without_time": int(no_time),
            "tokens": int(tokens),
            "token_ids": int(token_ids),
            "mail_items_accessed": int(mia),
        },
    }


def said_once(said: Sequence[tuple[str, str]], most: int = 3) -> list[tuple[str, str]]:
    """(path, what is said of it) pairs in order, with more than `most` paths saying the same thing
    made one pair: ("N files", "the text (e.g. the first path)") — a folder of 400 exports with a
    `.sha256` beside each says its checksums were skipped once, not 400 times."""
    by_text: dict[str, list[str]] = {}
    for path, text in said:
        by_text.setdefault(text, []).append(path)
    out: list[tuple[str, str]] = []
    for text, paths in by_text.items():
        if len(paths) > most:
            out.append((f"{len(paths):,} files", f"{text} (e.g. {paths[0]})"))
        else:
            out += [(path, text) for path in paths]
    return out


__all__ = ["NO_STATS", "STATS", "TRUNCATION_SIZES", "FileReport", "LoadReport", "said_once", "stats_fields"]
