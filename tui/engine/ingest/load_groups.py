"""Many files of one shape, read as one: the Management Activity API's content blobs, an
extractor's hourly JSON files, rotated JSON Lines logs, Purview exports split by date, a table's
Parquet part files.

Registering a file costs ~25 ms of DuckDB statements whatever its size (reading it, its records'
keys, its bad records, the detection sample, the time profile, the normalising table…), so a folder
of 600 blobs of 100 records took 15 s to open; and every statement over the union of the files'
lazy Parquet views plans each view again (200 part files of 100 rows: 45 s). Files whose first
bytes say they are alike — JSON arrays, JSON Lines or CSV/TSV in UTF-8 with the same compression
and the same member names in the first record (the same header), each under `GROUP_MAX_BYTES`; or
uncompressed Parquet with the same columns, of any size — are read by one multi-file DuckDB read
and registered once; each row carries its file's path in `source_file` and its record number in
that file in `source_row`, as a file read alone would number it.

Every file still gets its own report (bad records counted and shown per file), and is detected as
it would be alone (`alike`): a file whose columns, first rows or time values would be read another
way leaves the group and is loaded by itself. A group that fails anywhere (a file that is not what
its first bytes said, a rejected CSV row) is dropped and its files are loaded one by one, so
grouping never changes what a file reports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from tui.engine.core.options import Options
from tui.engine.core.safe import inert_cell
from tui.engine.core.sql import file_literal, literal
from tui.engine.ingest.detect import SAMPLE_ROWS, Detection, detect
from tui.engine.ingest.formats import RECORD_LISTS, Sniffed, UnreadableError, sniff
from tui.engine.ingest.readers import csv_options, json_objects_sql
from tui.engine.ingest.records import (
    BAD_JSON,
    BAD_JSONL,
    ROW_COLUMNS,
    Registered,
    columns_of,
    lines_sql,
    list_records_sql,
    records,
)
from tui.engine.ingest.source_sql import TimeProfile
from tui.engine.ingest.time_profile import (
    TIME_ROWS,
    TIME_VALUES,
    classify_times,
    time_text_sql,
    typed_profile,
)

# Larger files are read alone: their statements are a small part of what they cost.
GROUP_MAX_BYTES = 8 * 1024 * 1024
# At most this many files and bytes per multi-file read: a group's records are held three times
# over while it is registered (read, numbered, expanded), a file's only while that file is.
GROUP_MAX_FILES = 2000
GROUP_MAX_TOTAL = 256 * 1024 * 1024


@dataclass(frozen=True)
class Member:
    """An input file: its place in the load (`i`) and what its first bytes said."""

    i: int
    path: Path
    sniffed: Sniffed | None  # None when sniffing failed (the single-file load reports why)


def plan(files: Sequence[Path]) -> list[list[Member]]:
    """The inputs in load order as groups of alike files (`_shape`), a file like no other alone.

    A group is placed where its first file was; a file that cannot be sniffed is alone.
    """
    out: list[list[Member]] = []
    open_groups: dict[tuple[object, ...], tuple[list[Member], int]] = {}  # shape → (group, its bytes)
    for i, path in enumerate(files):
        try:
            sniffed: Sniffed | None = sniff(path)
        except UnreadableError:
            sniffed = None
        member = Member(i, path, sniffed)
        found = _shape(path, sniffed)
        if found is None:
            out.append([member])
            continue
        shape, size = found
        group, total = open_groups.get(shape, ([], 0))
        if group and len(group) < GROUP_MAX_FILES and total + size <= GROUP_MAX_TOTAL:
            group.append(member)
            open_groups[shape] = (group, total + size)
            continue
        out.append([member])
        open_groups[shape] = (out[-1], size)
    return out


def _shape(path: Path, sniffed: Sniffed | None) -> tuple[tuple[object, ...], int] | None:
    """What files must share to be read as one, and the file's (decompressed, estimated) size;
    None for a file read alone."""
    if sniffed is not None and sniffed.format == "parquet" and sniffed.compression is None:
        return _parquet_shape(path)
    if sniffed is None or not sniffed.first_keys or sniffed.note or sniffed.encoding != "utf-8":
        return None
    if sniffed.format in ("csv", "tsv"):
        if any(k.strip().lower() in ROW_COLUMNS for k in sniffed.first_keys):
            return None
    elif not (sniffed.format == "jsonl" or sniffed.array or sniffed.member) or sniffed.bom:
        return None
    try:
        size = path.stat().st_size * (1 if sniffed.compression is None else 20)
    except OSError:
        return None
    if size >= GROUP_MAX_BYTES:
        return None
    shape = (
        sniffed.format,
        sniffed.compression,
        sniffed.delimiter,
        sniffed.skip,
        sniffed.fields,
        sniffed.member,
    )
    return (*shape, sniffed.first_keys), size


def _parquet_shape(path: Path) -> tuple[tuple[object, ...], int] | None:
    """Parquet files with the same columns (names and types, from the footer) are read as one lazy
    view whatever their size: the view is not copied, and what a file read alone costs is the
    planning of its own view in every statement over the union (200 part files of 100 rows: 45 s).
    Their size does not count towards a group's bytes."""
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception:  # noqa: BLE001 (pyarrow raises several kinds; the file is then read alone)
        return None
    columns = tuple((f.name, str(f.type)) for f in schema)
    if any(name.lower() in (*ROW_COLUMNS, "file_row_number") for name, _ in columns):
        return None
    return ("parquet", columns), 0


@dataclass(frozen=True)
class Bad:
    """A file's records that are not JSON objects: how many, and the first three."""

    rows: int = 0
    examples: tuple[str, ...] = ()


def register_group(
    con: duckdb.DuckDBPyConnection, i: int, members: Sequence[Member]
) -> tuple[Registered, dict[str, Bad]]:
    """`src_<i>` over every member's records (with `source_file`), and each file's bad records by path."""
    sniffed = members[0].sniffed
    assert sniffed is not None
    files = "[" + ", ".join(file_literal(m.path) for m in members) + "]"
    if sniffed.format == "parquet":
        return _parquet(con, i, files), {}
    if sniffed.format in ("csv", "tsv"):
        return _tables(con, i, files, sniffed), {}
    if sniffed.format == "jsonl":
        lines = lines_sql(files, sniffed.compression, filename=True)
        read = f"SELECT filename AS source_file, l AS j FROM {lines}"
        bad_filter, fmt = BAD_JSONL, "jsonl"
    else:
        largest = max(m.path.stat().st_size for m in members)
        objects = json_objects_sql(files, largest, sniffed.compression, filename=True)
        read = f"SELECT filename AS source_file, json AS j FROM {objects}"
        member = sniffed.member
        bad_filter, fmt = BAD_JSON, "json" if member is None else f"json {{{member}: [...]}}"
    con.execute(f"CREATE TABLE doc_{i} AS {read}")  # in file order, each file's records in order
    if sniffed.format == "json" and sniffed.member is not None:
        _record_lists(con, i, sniffed.member, len(members))
    else:
        con.execute(
            f"""CREATE TABLE raw_{i} AS SELECT source_file,
                   row_number() OVER (PARTITION BY source_file ORDER BY rowid) AS source_row, rowid AS _ord, j
            FROM doc_{i}"""
        )
    con.execute(f"DROP TABLE doc_{i}")
    bad = _bad_by_file(con, i, bad_filter)
    reg = records(con, i, fmt, bad_filter, None, grouped=True)
    return reg, bad


def _record_lists(con: duckdb.DuckDBPyConnection, i: int, member: str, files: int) -> None:
    """`raw_<i>` from documents whose `member` holds the records (Graph pages, event-hub batches),
    numbered within each file as `readers._json` numbers them. Each file must be one document whose
    record list is that member, as the single-file reader would choose it (no earlier one of
    RECORD_LISTS is a list); anything else fails the group."""
    earlier = list(RECORD_LISTS)[: list(RECORD_LISTS).index(member)]
    not_earlier = "".join(
        f" AND json_type(j, {literal(RECORD_LISTS[m])}) IS DISTINCT FROM 'ARRAY'" for m in earlier
    )
    path = RECORD_LISTS[member]
    listed = f"json_type(j, {literal(path)}) = 'ARRAY'{not_earlier}"
    row = con.execute(
        f"SELECT count(*), count(DISTINCT source_file), count(*) FILTER (WHERE {listed}) FROM doc_{i}"
    ).fetchone()
    if row != (files, files, files):
        raise UnreadableError("not one record list a file: each file is read alone")
    con.execute(f"CREATE TABLE lst_{i} AS {list_records_sql(i, path, 'source_file, ')}")
    con.execute(f"CREATE TABLE raw_{i} AS SELECT source_file, source_row, rowid AS _ord, j FROM lst_{i}")
    con.execute(f"DROP TABLE lst_{i}")


def _parquet(con: duckdb.DuckDBPyConnection, i: int, files: str) -> Registered:
    """Parquet files as one lazy view; `source_row` is the row's number in its file, as alone."""
    view = f"src_{i}"
    con.execute(f"DROP VIEW IF EXISTS {view}")
    con.execute(
        f"CREATE VIEW {view} AS SELECT source_file, file_row_number + 1 AS source_row, "
        f"* EXCLUDE (source_file, file_row_number) "
        f"FROM read_parquet({files}, file_row_number = true, filename = 'source_file')"
    )
    con.execute(f"SELECT count(*) FROM {view}").fetchone()  # every footer read: a bad file fails here
    return Registered(view, "parquet", columns_of(con, view))


def _tables(con: duckdb.DuckDBPyConnection, i: int, files: str, sniffed: Sniffed) -> Registered:
    """CSV / TSV files with one header, read as `_csv` reads one. A rejected row anywhere, or a
    dialect DuckDB's reader refuses, fails the group: its files are read alone, where the rejected
    rows are numbered and shown per file and the dialect is left to DuckDB's sniffer."""
    common, dialect = csv_options(i, sniffed)
    read = f"read_csv({files}, {common}{dialect}, filename = 'source_file')"
    con.execute(f"CREATE TABLE doc_{i} AS SELECT * FROM {read}")
    rejected = con.execute(f"SELECT count(*) FROM rej_{i}").fetchone()
    if rejected is None or rejected[0]:
        raise UnreadableError("a rejected row: each file is read alone")
    con.execute(
        f"""CREATE TABLE data_{i} AS SELECT source_file,
               row_number() OVER (PARTITION BY source_file ORDER BY rowid) AS source_row,
               * EXCLUDE (source_file)
        FROM doc_{i}"""
    )
    con.execute(f"DROP TABLE doc_{i}")
    view = f"src_{i}"
    con.execute(f"CREATE VIEW {view} AS SELECT * FROM data_{i}")
    return Registered(view, sniffed.format, columns_of(con, view))


@dataclass(frozen=True)
class Alike:
    """What a group's files agree on, decided for each file as if it were read alone."""

    det: Detection
    profile: TimeProfile
    columns: dict[str, tuple[tuple[str, str], ...]]  # each file's own columns, by path
    outliers: tuple[str, ...]  # paths of files that would be read otherwise alone: read them alone


def alike(con: duckdb.DuckDBPyConnection, reg: Registered, paths: Sequence[str], options: Options) -> Alike:
    """Each file's detection (its columns, its first SAMPLE_ROWS rows) and time profile (its first
    time values), as the single-file load decides them; the files that agree with the most files
    stay in the group, the others are outliers. So a group's rows are the rows each file alone gives
    (a Sentinel export written in a day-first locale beside one written month-first; a blob of
    sign-ins among audit blobs; an empty blob)."""
    columns = {p: reg.file_columns.get(p, reg.columns) for p in paths}
    cur = con.execute(
        f"SELECT * EXCLUDE (_n) FROM ({_numbered(reg, '*')}) WHERE _n <= {SAMPLE_ROWS} "
        "ORDER BY source_file, source_row"
    )
    where = {d[0]: n for n, d in enumerate(cur.description)}
    kinds: list[tuple[Detection, list[str]]] = []  # each detection found, with its files

    def judge(path: str, sample: list[tuple[object, ...]]) -> None:
        picked = [where[c] for c, _ in columns[path]]
        det = detect(
            columns[path], [tuple(r[n] for n in picked) for r in sample], options.mapping, har=reg.har
        )
        same = next((files for d, files in kinds if d == det), None)
        if same is None:
            kinds.append((det, [path]))
        else:
            same.append(path)

    # One file's sample in memory at a time (the rows come ordered by file)
    current: str | None = None
    sample: list[tuple[object, ...]] = []
    judged: set[str] = set()
    while batch := cur.fetchmany(8192):
        for row in batch:
            path = str(row[where["source_file"]])
            if path != current:
                if current is not None:
                    judge(current, sample)
                    judged.add(current)
                current, sample = path, []
            sample.append(row)
    if current is not None:
        judge(current, sample)
        judged.add(current)
    for path in paths:
        if path not in judged:  # no row at all (an empty array, a header alone)
            judge(path, [])
    det, agreed = max(kinds, key=lambda k: len(k[1]))
    profiles = _profiles(con, reg, det, agreed)
    counted = Counter(profiles.values())
    profile = counted.most_common(1)[0][0]
    outliers = tuple(p for p in paths if p not in agreed or profiles[p] != profile)
    return Alike(det, profile, columns, outliers)


def _profiles(
    con: duckdb.DuckDBPyConnection, reg: Registered, det: Detection, paths: Sequence[str]
) -> dict[str, TimeProfile]:
    """Each file's time profile, from its own first time values (`time_profile.time_profile`)."""
    types = dict(reg.columns)
    fixed = typed_profile(det, types)
    if fixed is not None:
        return dict.fromkeys(paths, fixed)
    found = dict(
        con.execute(
            f"""SELECT source_file, list(v ORDER BY source_row)[1:{TIME_VALUES}] FROM (
                {_numbered(reg, f"source_file, source_row, {time_text_sql(det, types)} AS v")})
            WHERE _n <= {TIME_ROWS} AND v IS NOT NULL GROUP BY 1"""
        ).fetchall()
    )
    return {p: classify_times([str(v) for v in found.get(p) or []]) for p in paths}


def _numbered(reg: Registered, columns: str) -> str:
    """`columns` of the group's rows with `_n`, a row's place among its file's rows (1, 2, …).

    Parquet rows are all there, so `_n` is `source_row` and the reader skips the row groups past
    the first rows; the text formats' tables lack their bad records, so rows are counted."""
    if reg.format == "parquet":
        return f"SELECT {columns}, source_row AS _n FROM {reg.view}"
    rank = "row_number() OVER (PARTITION BY source_file ORDER BY source_row)"
    return f"SELECT {columns}, {rank} AS _n FROM {reg.view}"


def _bad_by_file(con: duckdb.DuckDBPyConnection, i: int, bad_filter: str) -> dict[str, Bad]:
    counts = con.execute(
        f"SELECT source_file, count(*) FROM raw_{i} WHERE {bad_filter} GROUP BY 1"
    ).fetchall()
    if not counts:
        return {}
    examples: dict[str, list[str]] = {}
    for source, n, text in con.execute(
        f"""SELECT source_file, source_row, left(j::VARCHAR, 80) FROM raw_{i} WHERE {bad_filter}
        QUALIFY row_number() OVER (PARTITION BY source_file ORDER BY source_row) <= 3
        ORDER BY source_file, source_row"""
    ).fetchall():
        examples.setdefault(str(source), []).append(inert_cell(f"record {n}: {text}"))
    return {str(s): Bad(int(n), tuple(examples.get(str(s), ()))) for s, n in counts}


__all__ = ["GROUP_MAX_BYTES", "Alike", "Bad", "Member", "alike", "plan", "register_group"]
