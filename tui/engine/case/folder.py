"""A findings folder's `case/` (SPEC §9): what it holds, how `triage open DIR` recognises it, and how
its Parquet files become the tables the TUI's panes and detail panel read.

`triage scan --out DIR` writes `DIR/case/` beside the findings CSVs (`tui.engine.findings.case_export`),
from the same tables the panes read, so a findings folder — from the DuckDB engine or any other that
writes this layout — opens on a laptop without the evidence and without re-running the analysis:

- `case.json`: `format` ("triage-case"), `version` (`CASE_VERSION`), the tables with their file and
  row count, the events' selection (`exported` of `total`), the scan's annotation (organisation,
  drift split, notes) and its load report (each input's path, format, kind, rows, time range).
- one Parquet file per table (`TABLES`): the pane tables `tokens`, `mailboxes`, `drift`, `sessions`,
  `actions`; what the detail panel reads — `token_indicators`, `row_indicators`, `token_claims`
  (with the decoded `header_json` / `claims_json`, never the token's text), `session_facts`, the
  behaviour model's `model_*` tables, `signins` (each session's first sign-ins and each token's
  issuing one), and the `case_*` tables of `analyses.detail_sources` (a mailbox's tokens and
  sessions, a drift user's baseline values, over every event); and `events`: the exported events.

The exported events are the *flagged* ones: every event with an indicator of any severity (its own,
its token's or its token id's: `sev_rank >= 1`), every event of a session at severity medium or
worse (its sign-ins and requests, whatever their own severity), and the sign-in that issued a token
at medium or worse (its uti). They keep every event column and their annotations, and are numbered
`rn` 0… again in the Events pane's order (time, file, row); each carries its behaviour-model score.

No file of case/ holds a raw token, with or without `--include-secrets` (every text cell goes
through `core.secrets.redacted`): the TUI never shows one, so the folder needs none.

Opening (`load`) copies each file into the session's in-memory DuckDB (spilling to the cache folder,
as any open does) and reads nothing else from the folder: the folder is evidence too, never written.
The events become `case_events`, seen as `events_rows` and `events`; the sign-ins `events_t` (what
the detail panel's sign-in reads use); `case_info` says the connection holds a folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from tui.engine.analyses.detail_sources import CASE_INFO, EXPORTS
from tui.engine.analyses.marks import ensure_marks
from tui.engine.core.sql import file_literal, ident
from tui.engine.indicators.org import Org
from tui.engine.indicators.split import Split
from tui.engine.ingest.load_report import FileReport

CASE_DIR = "case"
CASE_JSON = "case.json"
CASE_FORMAT = "triage-case"
CASE_VERSION = 1
MANIFEST = "manifest.json"

# The tables of case/, each in `<name>.parquet`, in the order they are written.
TABLES = (
    "tokens",
    "mailboxes",
    "drift",
    "sessions",
    "actions",
    "token_indicators",
    "row_indicators",
    "token_claims",
    "session_facts",
    "model_options",
    "model_peers",
    "model_users",
    "model_bits",
    "model_combos",
    "model_scores",
    "model_recency",
    "model_events",
    "signins",
    *EXPORTS,
    "events",
)
# Where a table lands in the session when its name there differs from its file's.
LOADED_AS = {"events": "case_events", "signins": "events_t"}


class CaseFolderError(Exception):
    """A path that is a findings folder `triage open` cannot open (one line: why)."""


def is_findings_folder(path: Path) -> bool:
    """A folder `triage scan` wrote into: it holds a manifest.json naming triage as its tool, or a
    case/case.json (whose folder lost its manifest: `read_folder` says so)."""
    manifest = path / MANIFEST
    if not path.is_dir():
        return False
    if (path / CASE_DIR / CASE_JSON).is_file():
        return True
    if not manifest.is_file():
        return False
    try:
        document = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(document, dict) and (document.get("tool") or {}).get("name") == "triage"


@dataclass(frozen=True)
class CaseFolder:
    """A findings folder whose case/ this triage can open."""

    path: Path
    document: dict[str, Any]  # case/case.json
    manifest: dict[str, Any]  # manifest.json

    @property
    def case_dir(self) -> Path:
        return self.path / CASE_DIR

    def files(self) -> list[Path]:
        """The folder's files the session reads: manifest.json, case.json and every table's file."""
        tables = [self.case_dir / t["file"] for t in self.document["tables"].values()]
        return [self.path / MANIFEST, self.case_dir / CASE_JSON, *tables]

    def inputs(self) -> list[dict[str, Any]]:
        """The scan's inputs as its manifest pins them (path, sha256, format, kind, rows…)."""
        return [dict(i) for i in self.manifest.get("inputs") or () if isinstance(i, dict)]

    def sha_of_source(self) -> dict[str, str]:
        """An event's `source` (an input's path as the scan read it) → that input's SHA-256."""
        return {str(i["path"]): str(i["sha256"]) for i in self.inputs() if i.get("sha256") and i.get("path")}


def read_folder(path: Path) -> CaseFolder:
    """The findings folder at `path`, checked: raises CaseFolderError saying why it cannot be opened."""
    case_json = path / CASE_DIR / CASE_JSON
    if not is_findings_folder(path) or not (path / MANIFEST).is_file():
        raise CaseFolderError(f"{path} is not a findings folder (no manifest.json written by triage scan)")
    if not case_json.is_file():
        raise CaseFolderError(
            f"{path} holds findings but no {CASE_DIR}/{CASE_JSON} (an older triage scan wrote it): "
            "scan the evidence again to open it"
        )
    try:
        document = json.loads(case_json.read_text(encoding="utf-8"))
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CaseFolderError(f"{case_json} cannot be read: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != CASE_FORMAT:
        raise CaseFolderError(f"{case_json} is not a triage case description")
    if document.get("version") != CASE_VERSION:
        raise CaseFolderError(
            f"{path}: case/ has schema version {document.get('version')!r}; this triage reads version "
            f"{CASE_VERSION}"
        )
    tables = document.get("tables")
    if not isinstance(tables, dict) or set(tables) != set(TABLES):
        raise CaseFolderError(f"{case_json} does not list the tables of version {CASE_VERSION}")
    for name, entry in tables.items():
        file = path / CASE_DIR / str((entry or {}).get("file", ""))
        if not isinstance(entry, dict) or Path(str(entry.get("file"))).name != entry.get("file"):
            raise CaseFolderError(f"{case_json}: the table {name} names no file of case/")
        if not file.is_file():
            raise CaseFolderError(f"{path}: {CASE_DIR}/{entry['file']} is missing")
    return CaseFolder(path, document, manifest)


def load(con: duckdb.DuckDBPyConnection, folder: CaseFolder) -> None:
    """Copy every table of the folder into `con` under the names the TUI reads, and make the views
    the panes query (`events_rows`, `events`, the `<pane>_marked` ones)."""
    for name, entry in folder.document["tables"].items():
        target = ident(LOADED_AS.get(name, name))
        path = folder.case_dir / entry["file"]
        con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM read_parquet({file_literal(path)})")
    con.execute("CREATE OR REPLACE VIEW events_rows AS SELECT * FROM case_events")
    con.execute("CREATE OR REPLACE VIEW events AS SELECT * FROM case_events")
    events = folder.document.get("events") or {}
    con.execute(
        f"CREATE OR REPLACE TABLE {CASE_INFO} AS SELECT ?::VARCHAR AS folder, ?::INTEGER AS version, "
        "?::BIGINT AS exported_events, ?::BIGINT AS total_events",
        [str(folder.path), CASE_VERSION, events.get("exported"), events.get("total")],
    )
    ensure_marks(con)


def _time(value: object) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


@dataclass(frozen=True)
class CaseReport:
    """The scan's load report as case.json keeps it: what the header, the notes and a saved view's
    manifest say of the inputs (no file is read: `view` is None for each)."""

    files: tuple[FileReport, ...]
    folder: Path
    rows: int
    ts_min: datetime | None
    ts_max: datetime | None
    exported: int
    jwks_files: tuple[Path, ...] = ()
    missing: tuple[str, ...] = ()

    @property
    def errors(self) -> tuple[FileReport, ...]:
        return tuple(f for f in self.files if f.error is not None)


def report_of(folder: CaseFolder) -> CaseReport:
    """The folder's `CaseReport`, from case.json."""
    report = folder.document.get("report") or {}
    files = tuple(
        FileReport(
            path=Path(str(f.get("path"))),
            format=f.get("format"),
            kind=f.get("kind"),
            rows=int(f.get("rows") or 0),
            bad_rows=int(f.get("bad_rows") or 0),
            error=f.get("error"),
            note=f.get("note"),
            ts_min=_time(f.get("ts_min")),
            ts_max=_time(f.get("ts_max")),
        )
        for f in report.get("files") or ()
    )
    return CaseReport(
        files=files,
        folder=folder.path,
        rows=int(report.get("rows") or 0),
        ts_min=_time(report.get("ts_min")),
        ts_max=_time(report.get("ts_max")),
        exported=int((folder.document.get("events") or {}).get("exported") or 0),
    )


def split_of(document: dict[str, Any]) -> Split:
    """The drift split the scan used (a findings folder has only that one)."""
    bounds = document.get("split") or {}
    return Split(
        *(_time(bounds.get(k)) for k in ("baseline_start", "baseline_end", "window_start", "window_end"))
    )


def org_of(document: dict[str, Any]) -> Org:
    """The organisation the scan used (given or inferred)."""
    org = document.get("org") or {}
    return Org(
        tenants=tuple(org.get("tenants") or ()),
        domains=tuple(org.get("domains") or ()),
        inferred=bool(org.get("inferred")),
        evidence=str(org.get("evidence") or ""),
    )


__all__ = [
    "CASE_DIR",
    "CASE_FORMAT",
    "CASE_JSON",
    "CASE_VERSION",
    "TABLES",
    "CaseFolder",
    "CaseFolderError",
    "CaseReport",
    "is_findings_folder",
    "load",
    "org_of",
    "read_folder",
    "report_of",
    "split_of",
]
