"""One analysis session: the loaded inputs, their annotations and the connection that holds them.

`triage scan` and the TUI both go through `Session.open`, so the headless findings and what the
analyst sees come from the same engine calls and the same named queries.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from tui.engine.case.context import Case
from tui.engine.core.options import Options
from tui.engine.core.queries import named_query

Progress = Callable[[str, float], None]  # (what is happening, fraction done 0..1)


class Cursors:
    """Cursors, one per worker thread, on a connection another thread may be busy with."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self._lock = threading.Lock()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for one worker thread (DuckDB connections are not shared across threads)."""
        with self._lock:
            return self.con.cursor()


@dataclass
class Session:
    """The engine state behind one set of inputs; workers use `cursor()` per thread."""

    case: Case
    paths: tuple[str, ...]
    report: Any  # tui.engine.ingest.load.LoadReport (a findings folder's: `folder.CaseReport`)
    annotation: Any  # tui.engine.case.annotate.Annotation
    folder: Any = None  # the findings folder opened (`folder.CaseFolder`, `open_case`); None: the evidence
    _cursors: Cursors = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._cursors = Cursors(self.con)

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The case's connection (workers take a `cursor()` of it)."""
        return self.case.con

    @property
    def options(self) -> Options:
        """The case's options."""
        return self.case.options

    @classmethod
    def open(
        cls,
        paths: Sequence[str],
        options: Options,
        progress: Progress | None = None,
        con: duckdb.DuckDBPyConnection | None = None,
        *,
        materialise_events: bool = True,
        previewed: Callable[[bool], object] | None = None,
    ) -> Session:
        """Load, detect and annotate every input; raises nothing for bad files (they are reported).

        Pass `con` (from `connect()`) to be able to `interrupt()` a long open from another thread.
        Without `materialise_events` the `events` view joins each row's annotations as it is read
        (events_view.materialise_events stores them later): `triage scan` never needs them stored.
        With `previewed`, the tokens are decoded before the rows are stored and a first `tokens`
        table is built from them (`tui.engine.case.preview`); `previewed(checking)` is called once it
        exists: with `checking` True while a key list's keys still check signatures, then again.
        """
        from tui.engine.case.annotate import annotate
        from tui.engine.case.preview import build_preview
        from tui.engine.ingest.load import load

        case = Case.start(options, con)
        con = case.con

        def loading(done: int, total: int, text: str) -> None:
            if progress is not None:
                progress(text, 0.5 * done / max(total, 1))

        def annotating(text: str, done: float) -> None:
            if progress is not None:
                progress(text, 0.5 + 0.5 * done)

        decoded: tuple[str, ...] | None = None

        def tokens_ready(c: duckdb.DuckDBPyConnection, found: tuple[Path, ...]) -> None:
            nonlocal case, decoded
            case = case.with_key_lists(found)
            loading(0, 1, "decoding the tokens")

            def shown(checking: bool) -> None:
                if previewed is not None:
                    previewed(checking)
                loading(0, 1, "checking the signatures" if checking else "reading the events")

            decoded = build_preview(c, case, shown)

        ready = tokens_ready if previewed is not None else None
        report = load(con, list(paths), options, loading, materialise=True, tokens_ready=ready)
        case = case.with_key_lists(report.jwks_files)
        annotation = annotate(
            case, report, annotating, materialise_events=materialise_events, decoded=decoded
        )
        case = case.with_org(annotation.org)
        return cls(case=case, paths=tuple(paths), report=report, annotation=annotation)

    @classmethod
    def open_case(cls, path: Path, options: Options, con: duckdb.DuckDBPyConnection | None = None) -> Session:
        """Open a findings folder (`triage scan --out DIR`'s, SPEC §9) instead of the evidence: its
        case/ tables copied into the connection under the names the panes read (`folder.load`), the
        scan's organisation and drift split, no ingest or annotation run. Raises
        `folder.CaseFolderError` (one line) when the folder cannot be opened."""
        from tui.engine.case.annotate import Annotation
        from tui.engine.case.folder import load, org_of, read_folder, report_of, split_of

        found = read_folder(path)
        doc = found.document
        said = doc.get("annotation") or {}
        org = org_of(doc)
        annotation = Annotation(
            org=org,
            split=split_of(doc),
            intel_version=str(said.get("intel_version") or ""),
            jwks_files=(),
            key_lists_used=tuple(Path(p) for p in said.get("key_lists_used") or ()),
            tokens=int(said.get("tokens") or 0),
            malformed=int(said.get("malformed") or 0),
            signatures=tuple((str(s), int(n)) for s, n in said.get("signatures") or ()),
            indicator_counts=tuple((str(c), int(n)) for c, n in said.get("indicator_counts") or ()),
            notes=tuple(str(n) for n in said.get("notes") or ()),
        )
        case = Case.start(options, con).with_org(org)
        load(case.con, found)
        return cls(
            case=case, paths=(str(path),), report=report_of(found), annotation=annotation, folder=found
        )

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for one worker thread (DuckDB connections are not shared across threads)."""
        return self._cursors.cursor()

    def query(
        self,
        name: str,
        params: Sequence[object] | dict[str, object] = (),
        con: duckdb.DuckDBPyConnection | None = None,
    ) -> pa.Table:
        """Run a named query from `queries/` with parameters and return Arrow."""
        cur = con or self.cursor()
        return cur.sql(named_query(name).sql, params=params or None).to_arrow_table()

    def close(self) -> None:
        """Release the connection (and with it the spill files, and annotate's work database)."""
        work = self.con.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = 'triage_work' AND path IS NOT NULL"
        ).fetchall()
        self.con.close()
        for (name,) in work:
            path = Path(name)
            for leftover in (path, path.with_name(path.name + ".wal")):
                leftover.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                path.parent.rmdir()
