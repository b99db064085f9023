"""What a load says about each input (`FileReport`) and about all of them (`LoadReport`), and the
counts each file's report carries (`STATS`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tui.engine.ingest.signin_values import ODD_FIELDS, odd_field_sql

TRUNCATION_SIZES = (5_000, 50_000)


@dataclass(frozen=True)
class Odd:
    """Records whose `field` holds a value triage does not know (`signin_values`), kept as written:
    how many, and the least and greatest such value as examples."""

    field: str
    rows: int
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Facet:
    """A file's records of one kind (a sign-in's also of one category): how many carry a session id
    and a token id (uti), and of sign-ins how many list their authentication steps, how many of those
    could not be read at all or only in part, and how many say nothing of MFA (`unknown`); and
    per enumerated field (and the session id) the values outside the known ones (`Odd`)."""

    kind: str
    category: str | None
    rows: int
    session_ids: int = 0
    token_ids: int = 0
    with_steps: int = 0
    unreadable_steps: int = 0
    mfa_unknown: int = 0
    partial_steps: int = 0
    odd: tuple[Odd, ...] = ()


@dataclass(frozen=True)
class KindPart:
    """One kind of record in a file that mixes them (`tui.engine.ingest.record_kinds`): how many,
    the table names that made them that kind, and how they were read."""

    kind: str
    rows: int
    values: tuple[str, ...] = ()
    mapping: Mapping[str, str] = field(default_factory=dict)
    time_format: str | None = None


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
    # a file that mixes kinds of records: each kind, most records first (`kind` and `mapping` are
    # the first's); empty for a file of one kind
    parts: tuple[KindPart, ...] = ()
    # per kind (and a sign-in's category): what the identity joins can rely on (`Facet`)
    facets: tuple[Facet, ...] = ()

    @property
    def kinds(self) -> tuple[tuple[str, int], ...]:
        """The kinds of records found in the file with their counts, most first."""
        if self.parts:
            return tuple((p.kind, p.rows) for p in self.parts)
        return ((self.kind, self.rows),) if self.kind is not None and self.loaded else ()

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
# STATS per kind and sign-in category, then a `Facet`'s counts: one grouped pass gives both
GROUPED_STATS = (
    "kind, CASE WHEN kind = 'entra_signin' THEN coalesce(category, '') END, {stats}, "
    "count(session_id), count(token_id), "
    "count(auth_steps) - count_if(starts_with(auth_steps, 'unreadable:')), "
    "count_if(starts_with(auth_steps, 'unreadable:')), count_if(mfa = 'unknown'), "
    "count_if(contains(auth_steps, '; unreadable: ')), {odd}"
)
# The `Facet` counts after STATS, in GROUPED_STATS order
FACET_COUNTS = ("session_ids", "token_ids", "with_steps", "unreadable_steps", "mfa_unknown", "partial_steps")
EXAMPLE_CHARS = 60  # of an odd value shown as an example


def grouped_stats(token: str) -> str:
    """The select list of the grouped counts (`GROUP BY ALL`), read back with `fold`."""
    odd = ", ".join(
        f"count_if({odd_field_sql(f)}), min(left({f}, {EXAMPLE_CHARS})) FILTER (WHERE {odd_field_sql(f)}), "
        f"max(left({f}, {EXAMPLE_CHARS})) FILTER (WHERE {odd_field_sql(f)})"
        for f in ODD_FIELDS
    )
    return GROUPED_STATS.format(stats=STATS.format(token=token), odd=odd)


def _odd(values: Sequence[Any]) -> tuple[Odd, ...]:
    """The `Odd` of each field with any, from its (count, least, greatest) triples in ODD_FIELDS order."""
    out = []
    for n, name in enumerate(ODD_FIELDS):
        rows, least, most = values[3 * n : 3 * n + 3]
        if rows:
            out.append(
                Odd(name, int(rows), tuple(dict.fromkeys(str(v) for v in (least, most) if v is not None)))
            )
    return tuple(out)


def fold(groups: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """A file's FileReport fields from its rows of `grouped_stats`: the STATS summed and its facets."""
    if not groups:
        return stats_fields(NO_STATS)
    n = len(NO_STATS)
    stats: list[Any] = [None if k in (1, 2) else sum(int(g[2 + k] or 0) for g in groups) for k in range(n)]
    stats[1] = min((g[3] for g in groups if g[3] is not None), default=None)
    stats[2] = max((g[4] for g in groups if g[4] is not None), default=None)
    counts = 2 + n + len(FACET_COUNTS)
    facets = tuple(
        Facet(
            str(g[0]),
            str(g[1]) if g[1] else None,
            int(g[2]),
            odd=_odd(g[counts:]),
            **{name: int(v or 0) for name, v in zip(FACET_COUNTS, g[2 + n : counts], strict=True)},
        )
        for g in sorted(groups, key=lambda g: (-int(g[2]), str(g[0]), str(g[1])))
        if g[0] is not None
    )
    return {**stats_fields(stats), "facets": facets}


def odd_values(facets: Sequence[Facet]) -> dict[str, Odd]:
    """Per field, the odd values of all these facets: their count and at most two examples."""
    found: dict[str, list[Odd]] = {}
    for f in facets:
        for o in f.odd:
            found.setdefault(o.field, []).append(o)
    out = {}
    for name in ODD_FIELDS:
        if name in found:
            examples = sorted({e for o in found[name] for e in o.examples})
            shown = tuple(dict.fromkeys((examples[0], examples[-1]))) if examples else ()
            out[name] = Odd(name, sum(o.rows for o in found[name]), shown)
    return out


def remarks(facets: Sequence[Facet]) -> list[str]:
    """What a file's records hold that could not be read, or not known, said once per kind of
    trouble (for the load's notes: the TUI, `scan` and `inspect` list them)."""
    out = []
    unreadable = sum(f.unreadable_steps for f in facets)
    partial = sum(f.partial_steps for f in facets)
    if unreadable:
        out.append(
            f"{unreadable:,} sign-in(s) with authentication details that cannot be read "
            "(kept as written after `unreadable:` in auth_steps; MFA unknown)"
        )
    if partial:
        out.append(
            f"{partial:,} sign-in(s) with authentication details read in part "
            "(what was lost is named after `unreadable:` in auth_steps)"
        )
    odd = odd_values(facets)
    enums = [o for name, o in odd.items() if name != "session_id"]
    if enums:
        said = ", ".join(f"{o.field} {o.rows:,} (e.g. {' / '.join(o.examples)})" for o in enums)
        out.append(f"values triage does not know, kept as written: {said}")
    if "session_id" in odd:
        o = odd["session_id"]
        out.append(
            f"{o.rows:,} event(s) with a session id that is not a GUID (e.g. {' / '.join(o.examples)}): "
            "kept as written, sessions group by it"
        )
    return out


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


def noted(report: FileReport) -> FileReport:
    """The report with what its records hold that could not be read added to its note (`remarks`)."""
    said = remarks(report.facets)
    if not said:
        return report
    return dataclasses.replace(report, note="; ".join([*([report.note] if report.note else []), *said]))


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


__all__ = [
    "Facet",
    "Odd",
    "noted",
    "odd_values",
    "remarks",
    "fold",
    "grouped_stats",
    "KindPart",
    "NO_STATS",
    "STATS",
    "TRUNCATION_SIZES",
    "FileReport",
    "LoadReport",
    "said_once",
    "stats_fields",
]
