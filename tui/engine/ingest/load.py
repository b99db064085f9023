"""Load every input into one DuckDB: `src_<i>` per file, `events_base` over all (the engine's stage 1;
`tui.engine.case.annotate` is stage 2).

A file that cannot be read is reported with its reason and never stops the others.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from tui.engine.core.options import Options
from tui.engine.core.safe import inert_cell
from tui.engine.core.schema import EVENT_COLUMNS
from tui.engine.core.sql import ident
from tui.engine.ingest import load_groups, record_kinds, work
from tui.engine.ingest.cache_copies import transcode_to_cache
from tui.engine.ingest.detect import SAMPLE_ROWS, Detection, detect
from tui.engine.ingest.formats import Sniffed, UnreadableError, sniff
from tui.engine.ingest.geo import build_ip_country
from tui.engine.ingest.inputs import expand
from tui.engine.ingest.load_report import (
    STATS,
    TRUNCATION_SIZES,
    FileReport,
    KindPart,
    LoadReport,
    fold,
    grouped_stats,
    noted,
)
from tui.engine.ingest.normalise import events_constants, events_select
from tui.engine.ingest.readers import BadEncoding, NotEventLog, register
from tui.engine.ingest.records import Registered
from tui.engine.ingest.source_sql import TimeProfile
from tui.engine.ingest.time_profile import time_profile

Progress = Callable[[int, int, str], None]
TokensReady = Callable[[duckdb.DuckDBPyConnection, tuple[Path, ...]], None]


def load(
    con: duckdb.DuckDBPyConnection,
    paths: Sequence[str],
    options: Options,
    progress: Progress | None = None,
    *,
    materialise: bool = False,
    tokens_ready: TokensReady | None = None,
) -> LoadReport:
    """Register each input as `src_<i>`/`ev_<i>` and union the readable ones into `events_base`.

    With `materialise` (a session about to annotate), the union is written once into `events_t`
    (`tui.engine.ingest.work`) and each file's counts come from that table instead of a pass of their own;
    `tokens_ready(con, key_lists)` runs once the distinct tokens are known, before the rows are
    stored (again if a file then fails and the rest are stored without it), with the key lists
    found among the inputs.
    """
    files, skipped, missing = expand(paths)
    reports: list[FileReport] = [FileReport(path=p, note=why) for p, why in skipped]
    jwks: list[Path] = []
    previous = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()
    con.execute("SET preserve_insertion_order = true")  # so a table's rowid is the file's row order
    try:
        for group in load_groups.plan(files):
            if progress is not None:
                progress(group[0].i, len(files), f"reading {group[0].path.name}")
            together = _load_group(con, group, options, stats=not materialise) if len(group) > 1 else None
            if together is not None:
                reports.extend(together)
                continue
            for m in group:
                if progress is not None and m is not group[0]:
                    progress(m.i, len(files), f"reading {m.path.name}")
                report = _load_one(con, m.i, m.path, options, stats=not materialise, sniffed=m.sniffed)
                if report.format == "json" and report.note and report.note.startswith("key list"):
                    jwks.append(m.path)
                reports.append(report)
    finally:
        if previous is not None and not previous[0]:
            con.execute("SET preserve_insertion_order = false")
    _union(con, [r.events_view for r in reports if r.events_view], countries=not materialise)
    if materialise:
        keys, ready = tuple(jwks), tokens_ready
        reports = _materialise(con, reports, None if ready is None else lambda c: ready(c, keys))
    if progress is not None:
        progress(len(files), len(files), "inputs read")
    reports.sort(key=lambda r: str(r.path))
    return LoadReport(tuple(reports), tuple(jwks), tuple(missing))


def _drop(con: duckdb.DuckDBPyConnection, i: int) -> None:
    """Remove whatever an earlier load (or a failed attempt) left under this index."""
    for name in (
        f"ev_{i}",
        *record_kinds.part_views(con, i),
        f"src_{i}",
        f"data_{i}",
        f"raw_{i}",
        f"doc_{i}",
        f"lines_{i}",
        f"rej_{i}",
        f"rejscan_{i}",
        f"lst_{i}",
    ):
        for what in ("VIEW", "TABLE"):
            try:
                con.execute(f"DROP {what} IF EXISTS {name}")
            except duckdb.Error:
                continue


def _materialise(
    con: duckdb.DuckDBPyConnection,
    reports: list[FileReport],
    tokens_ready: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> list[FileReport]:
    """Write the union into `events_t`; a file whose rows cannot be normalised is reported, not fatal.

    An interrupt (the TUI's quit) is not a bad file: it stops the load at once instead of starting a
    per-file check and a second write (seconds of work after the analyst pressed `q`)."""
    try:
        work.materialise(con, _common_constants(reports), tokens_ready)
    except duckdb.InterruptException:
        raise
    except duckdb.Error:
        # Find the file(s) that fail the way the per-file stats pass would have, and leave them out.
        checked = []
        for r in reports:
            if r.events_view is not None:
                try:
                    con.execute(f"SELECT {STATS.format(token='token')} FROM {r.events_view}").fetchone()
                except duckdb.Error as exc:
                    r = dataclasses.replace(r, error=_cannot_normalise(exc), view=None, events_view=None)
            checked.append(r)
        reports = checked
        _union(con, [r.events_view for r in reports if r.events_view], countries=False)
        work.materialise(con, _common_constants(reports), tokens_ready)
    return _with_stats(con, reports)


def _common_constants(reports: Sequence[FileReport]) -> dict[str, str]:
    """The event columns every loaded file fills with the same constant (none when nothing loaded)."""
    loaded = [r.constants for r in reports if r.events_view is not None]
    if not loaded:
        return {}
    return {name: sql for name, sql in loaded[0].items() if all(c.get(name) == sql for c in loaded[1:])}


def _with_stats(con: duckdb.DuckDBPyConnection, reports: list[FileReport]) -> list[FileReport]:
    """Fill each loaded file's counts from `events_t`, one grouped scan for all files."""
    rows = con.execute(f"SELECT source, {grouped_stats('tok_key')} FROM events_t GROUP BY ALL").fetchall()
    by_source: dict[str, list[Sequence[Any]]] = {}
    for row in rows:
        by_source.setdefault(str(row[0]), []).append(row[1:])
    out = []
    for r in reports:
        if r.events_view is None:
            out.append(r)
            continue
        out.append(noted(dataclasses.replace(r, **fold(by_source.get(str(r.path), [])))))
    return out


def _load_group(
    con: duckdb.DuckDBPyConnection, members: Sequence[load_groups.Member], options: Options, *, stats: bool
) -> list[FileReport] | None:
    """Alike files read as one (`tui.engine.ingest.load_groups`): a report each; None when the group failed.

    The group's tables are numbered apart from the files' (`GROUP_INDEX` + the first file's), so a
    file the group leaves out (`load_groups.alike`) is loaded alone under its own number."""
    i = GROUP_INDEX + members[0].i
    _drop(con, i)
    paths = [str(m.path) for m in members]
    try:
        reg, bad = load_groups.register_group(con, i, members)
        agreed = load_groups.alike(con, reg, paths, options)
        lazy = reg.format == "parquet"
        if agreed.outliers and lazy:  # the view is read again over the files that agree
            kept = [m for m in members if str(m.path) not in agreed.outliers]
            reg = dataclasses.replace(reg, view=load_groups.register_group(con, i, kept)[0].view)
        elif agreed.outliers:
            con.execute(f"DELETE FROM data_{i} WHERE list_contains(?, source_file)", [list(agreed.outliers)])
        made = _normalise(con, i, reg, None, options, stats=stats, lazy=lazy, agreed=agreed)
    except duckdb.InterruptException:
        raise
    except (duckdb.Error, UnreadableError, NotEventLog, OSError):
        _drop(con, i)  # each file is then loaded alone, and reports its own trouble
        return None
    comp = members[0].sniffed.compression if members[0].sniffed else None
    out = []
    for m, path in zip(members, paths, strict=True):
        if path in agreed.outliers:
            out.append(_load_one(con, m.i, m.path, options, stats=stats, sniffed=m.sniffed))
            continue
        found = bad.get(path, load_groups.Bad())
        counted = made.counts.get(path)
        out.append(made.report(m.path, comp, found.rows, found.examples, counted, agreed.columns[path]))
    return out


# Tables of a group are `ev_<GROUP_INDEX + i>`…, apart from any single file's `ev_<i>`.
GROUP_INDEX = 1_000_000


def _load_one(
    con: duckdb.DuckDBPyConnection,
    i: int,
    path: Path,
    options: Options,
    stats: bool = True,
    sniffed: Sniffed | None = None,
) -> FileReport:
    _drop(con, i)
    try:
        sniffed = sniffed or sniff(path)
    except UnreadableError as exc:
        return FileReport(path=path, error=str(exc))
    fmt, comp = sniffed.format, sniffed.compression
    try:
        try:
            reg = register(con, i, path, sniffed)
        except BadEncoding:
            _drop(con, i)
            copy, replaced = transcode_to_cache(path, comp, sniffed.encoding)
            note = (
                f"text is {sniffed.encoding}, converted to UTF-8"
                if sniffed.encoding != "utf-8"
                else f"invalid UTF-8: {replaced:,} character(s) shown as U+FFFD"
                if replaced
                else None  # only a byte-order mark, dropped
            )
            # sniffed again: the copy's bytes are not the original's (where a record list starts)
            sniffed = dataclasses.replace(sniff(copy), note=note)
            reg = register(con, i, copy, sniffed)
    except NotEventLog as exc:
        _drop(con, i)
        return FileReport(path=path, format=fmt, compression=comp, note=str(exc))
    except UnreadableError as exc:
        _drop(con, i)
        return FileReport(path=path, format=fmt, compression=comp, error=str(exc))
    try:
        made = _normalise(con, i, reg, str(path), options, stats=stats, lazy=fmt == "parquet")
    except duckdb.Error as exc:
        _drop(con, i)
        return FileReport(path=path, format=reg.format, compression=comp, error=_cannot_normalise(exc))
    return made.report(path, comp, reg.bad_rows, reg.bad_examples, made.counts.get(None))


@dataclass(frozen=True)
class Normalised:
    """A registered input (one file, or several read as one) as event rows in `ev_<i>`."""

    i: int
    reg: Registered
    det: Detection
    profile: TimeProfile
    constants: Mapping[str, str]
    # `grouped_stats` rows by `source` (None for a single file); empty when the session counts from
    # `events_t`
    counts: Mapping[str | None, Sequence[Sequence[Any]]]
    # a file that mixes kinds: each kind's records as read (`record_kinds`), most first
    parts: tuple[tuple[record_kinds.Part, Detection, TimeProfile], ...] = ()

    def kind_parts(self, path: Path) -> tuple[KindPart, ...]:
        """Each kind's records in the file at `path` (one of a group's: its own counts), most first."""
        rows: dict[str, KindPart] = {}
        for part, det, profile in self.parts:
            n = part.by_source.get(str(path), 0) if part.by_source else part.rows
            seen = rows.get(det.kind)
            if seen is not None:  # records of no known name that read as a named kind
                rows[det.kind] = dataclasses.replace(
                    seen, rows=seen.rows + n, values=seen.values + part.values
                )
            elif n:
                rows[det.kind] = KindPart(det.kind, n, part.values, det.mapping(), profile.label)
        return tuple(sorted(rows.values(), key=lambda p: (-p.rows, p.kind)))

    def report(
        self,
        path: Path,
        comp: str | None,
        bad: int,
        examples: tuple[str, ...],
        counted: Sequence[Sequence[Any]] | None,
        columns: Sequence[tuple[str, str]] | None = None,
    ) -> FileReport:
        notes = [n for n in (self.reg.note, *self.det.notes) if n]
        parts = self.kind_parts(path) if self.parts else ()
        return noted(
            FileReport(
                path=path,
                format=self.reg.format,
                compression=comp,
                kind=parts[0].kind if parts else self.det.kind,
                bad_rows=bad,
                bad_examples=examples,
                mapping=dict(parts[0].mapping) if parts else self.det.mapping(),
                parts=parts if len(parts) > 1 else (),
                view=self.reg.view,
                note="; ".join(notes) or None,
                events_view=f"ev_{self.i}",
                time_format=parts[0].time_format if parts else self.profile.label,
                columns=tuple(c for c, _ in (self.reg.columns if columns is None else columns)),
                constants=self.constants,
                **fold(counted or []),
            )
        )


def _normalise(
    con: duckdb.DuckDBPyConnection,
    i: int,
    reg: Registered,
    source: str | None,
    options: Options,
    *,
    stats: bool,
    lazy: bool,
    agreed: load_groups.Alike | None = None,
) -> Normalised:
    """Detect what the registered rows are and create `ev_<i>` (a view when `lazy`, else a table).

    `source` is the file's path; None when `reg` holds several files whose rows carry it in
    `source_file` (`tui.engine.ingest.load_groups`), which `agreed` says how to read. With `stats`, the
    STATS of each source are counted.
    """
    types = dict(reg.columns)
    split = None if reg.har else record_kinds.split(con, reg.view, reg.columns, grouped=source is None)
    parts: tuple[tuple[record_kinds.Part, Detection, TimeProfile], ...] = ()
    if split is not None:
        parts = _kinds(con, i, reg, split, options)
        det, profile = parts[0][1], parts[0][2]
        selects = [events_select(d, f"part_{i}_{n}", source, types, p) for n, (_, d, p) in enumerate(parts)]
        union = " UNION ALL ".join(f"({s})" for s in selects)
        # a table keeps the file's order (its row numbers), as one read alone would
        select = union if lazy else f"SELECT * FROM ({union}) ORDER BY source, source_row"
        each = [events_constants(d, source, types, p) for _, d, p in parts]
        constants = {k: v for k, v in each[0].items() if all(c.get(k) == v for c in each[1:])}
    elif agreed is not None:
        det, profile = agreed.det, agreed.profile
    else:
        # No column at all: an empty export (`[]`, `{"value": []}`) or records that are all `{}`.
        sample = (
            con.execute(f"SELECT * EXCLUDE (source_row) FROM {reg.view} LIMIT {SAMPLE_ROWS}").fetchall()
            if reg.columns
            else []
        )
        det = detect(reg.columns, sample, options.mapping, har=reg.har)
        profile = time_profile(con, reg.view, det, types)
    if split is None:
        select = events_select(det, reg.view, source, types, profile)
        constants = events_constants(det, source, types, profile)
    # Parquet stays lazy; text was read once already (and a session stores the union in `events_t`)
    con.execute(f"CREATE {'VIEW' if lazy else 'TABLE'} ev_{i} AS {select}")
    counts: dict[str | None, list[Sequence[Any]]] = {}
    if stats and source is not None:
        counts[None] = list(
            con.execute(f"SELECT {grouped_stats('token')} FROM ev_{i} GROUP BY ALL").fetchall()
        )
    elif stats:
        for r in con.execute(f"SELECT source, {grouped_stats('token')} FROM ev_{i} GROUP BY ALL").fetchall():
            counts.setdefault(str(r[0]), []).append(r[1:])
    return Normalised(i, reg, det, profile, constants, counts, parts)


def _kinds(
    con: duckdb.DuckDBPyConnection, i: int, reg: Registered, split: list[record_kinds.Part], options: Options
) -> tuple[tuple[record_kinds.Part, Detection, TimeProfile], ...]:
    """`part_<i>_<n>` for each kind of record in `reg`, detected on its own first rows."""
    names = ", ".join(ident(c) for c, _ in reg.columns)
    out = []
    for n, part in enumerate(split):
        view = f"part_{i}_{n}"
        con.execute(f"CREATE VIEW {view} AS SELECT * FROM {ident(reg.view)} WHERE {part.where}")
        sample = con.execute(f"SELECT {names} FROM {view} LIMIT {SAMPLE_ROWS}").fetchall()
        det = detect(reg.columns, sample, options.mapping, kind=part.kind)
        out.append((part, det, time_profile(con, view, det, dict(reg.columns))))
    return tuple(out)


def _cannot_normalise(exc: duckdb.Error) -> str:
    reason = inert_cell(str(exc).splitlines()[0][:300]) if str(exc) else type(exc).__name__
    return f"cannot normalise: {reason}"


def _union(con: duckdb.DuckDBPyConnection, views: list[str], *, countries: bool = True) -> None:
    """`events_base`: all files' events, with the country looked up once per distinct IP.

    Without `countries` (a load about to materialise) `ip_country` is left empty here:
    `work.materialise` fills it from the stored rows, so the inputs are not read twice for it.
    """
    names = ", ".join(ident(n) for n, _ in EVENT_COLUMNS) + ", tok_raw"
    views = list(dict.fromkeys(views))  # the files of a group share one
    if views:
        body = " UNION ALL ".join(f"SELECT {names} FROM {ident(v)}" for v in views)
    else:
        empty = ", ".join(f"CAST(NULL AS {t}) AS {ident(n)}" for n, t in EVENT_COLUMNS)
        empty += ", CAST(NULL AS VARCHAR) AS tok_raw"
        body = f"SELECT {empty} WHERE false"
    con.execute(f"CREATE OR REPLACE VIEW events_union AS {body}")
    if countries:
        build_ip_country(con, "events_union")
    else:
        con.execute("CREATE OR REPLACE TABLE ip_country (ip VARCHAR, country VARCHAR)")
    cols = ", ".join("c.country AS country" if n == "country" else f"e.{ident(n)}" for n, _ in EVENT_COLUMNS)
    con.execute(
        f"CREATE OR REPLACE VIEW events_base AS SELECT {cols} FROM events_union e "
        f"LEFT JOIN ip_country c ON c.ip = e.client_ip"
    )


__all__ = ["TRUNCATION_SIZES", "FileReport", "LoadReport", "Progress", "expand", "load"]
