"""Saving a pane's view as findings (SPEC §6): where by default, where never, and what is written.

The marked rows, or the whole filtered view, go to a CSV with a manifest beside it; never inside an
evidence folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from tui.engine.analyses import tables as analyses
from tui.engine.analyses.pane_specs import PaneSpec
from tui.engine.analyses.panes import count_rows, display_columns
from tui.engine.analyses.tables import Where
from tui.engine.core.safe import inert_cell
from tui.engine.core.secrets import mask_text, redacted

SAVE_LIMIT = 1_000_000  # a bigger view goes through `triage scan`, not an in-memory Arrow table


def default_save_path(pane: str, now: datetime | None = None, cwd: Path | None = None) -> Path:
    """`./triage-findings-<pane>-<UTC timestamp>.csv` in the working directory."""
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return (cwd or Path.cwd()) / f"triage-findings-{pane}-{moment.strftime('%Y%m%dT%H%M%SZ')}.csv"


def save_refusal(path: Path, evidence: Iterable[Path]) -> str | None:
    """Why findings may not be written to `path` (inside an evidence folder, not a CSV…), or None."""
    if not path.name or path.is_dir():
        return f"{inert_cell(path)} is a folder; give a file name"
    if path.suffix.lower() != ".csv":
        return "the findings file name must end in .csv"
    target = Path(os.path.realpath(path.expanduser()))  # not resolve(): loops must not raise
    for folder in evidence:
        try:
            target.relative_to(os.path.realpath(folder))
        except ValueError:
            continue
        return f"{inert_cell(target)} is inside the evidence folder {inert_cell(folder)}; choose another"
    if not target.parent.is_dir():
        return f"no such folder: {inert_cell(target.parent)}"
    return None


def manifest_path(csv_path: Path) -> Path:
    """The manifest written next to a saved CSV (`<name>.manifest.json`, so saves never clobber)."""
    return csv_path.with_name(csv_path.stem + ".manifest.json")


@dataclass(frozen=True)
class Saved:
    """What a save wrote."""

    csv: Path
    manifest: Path
    rows: int
    marked: bool


def save_view(
    con: duckdb.DuckDBPyConnection,
    spec: PaneSpec,
    where: Where,
    filter_text: str,
    marked: Sequence[str],
    path: Path,
    *,
    inputs: list[dict[str, object]],
    options: Any,
    filters: dict[str, str] | None = None,
    order: str = "",
    order_label: str = "",
) -> Saved:
    """Write the marked rows (or the whole filtered view) as findings CSV with its manifest."""
    from tui.engine.findings.export import write_csv, write_manifest

    if marked:
        chosen = Where(f"list_contains(?, {spec.key_sql})", (list(marked),))
        total = len(marked)
    else:
        chosen, total = where, count_rows(con, spec, where)
        if total > SAVE_LIMIT:
            raise ValueError(
                f"the view has {total:,} rows; narrow the filter or mark rows "
                f"(the TUI saves at most {SAVE_LIMIT:,}; `triage scan` writes everything)"
            )
    table = analyses.run(con, spec.page_query, [total, 0], chosen, order)
    shown = display_columns(spec, table.column_names)
    table = table.select([*shown, *(c for c in table.column_names if c not in shown)])
    secrets = bool(getattr(options, "include_secrets", False))
    if not secrets:  # a raw token in any cell, whatever its column, is shown by its key (core.secrets)
        cur = con.cursor()
        try:
            table = redacted(cur.from_arrow(table)).to_arrow_table()
        finally:
            cur.close()
        filter_text = mask_text(filter_text)
        filters = {pane: mask_text(text) for pane, text in (filters or {spec.name: filter_text}).items()}
    rows = write_csv(table, path, include_secrets=secrets)
    manifest = manifest_path(path)
    write_manifest(
        manifest,
        inputs=inputs,
        options=options,
        outputs=[path.name],
        extra={
            "view": {
                "pane": spec.name,
                "filter": filter_text,
                "selection": "marked rows" if marked else "current view",
                "order": order_label or "the pane's own",
                "rows": rows,
            },
            "filters": filters or {spec.name: filter_text},
        },
    )
    return Saved(path, manifest, rows, bool(marked))
