"""The original record behind an event, as its file holds it (SPEC §2: "the original columns stay
reachable"): the detail panel's last section on the Events pane.

An event keeps the fields every kind of log shares; the rest of what the analyst needs is in the
record itself — a mail read's `AuditData` (`Folders[].FolderItems[].InternetMessageId`: which
messages), `LogonType`, a request's URL, method and bytes. The record is read back from the file's
own view (`src_<i>`, the loader's: `source_row` is pushed into a Parquet read, a CSV or JSON file is
already a table), one row, on the panel's worker.

Every value is shown as inert text; JSON (an `AuditData` cell, a nested Parquet or JSON member) as
one line per leaf, `Folders[0].Path  \\Inbox`. Bearer tokens are never shown (SPEC §8): a JWT
anywhere in a value, and the whole value of the column the token was read from, become
`‹token sha256:…›` — the key the Tokens pane knows it by — unless the analyst asked for secrets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

import duckdb

from tui.engine.core.safe import inert_cell
from tui.engine.core.secrets import mask_text, token_mark

MAX_LINES = 300  # a record with more leaves (a huge AuditData) is cut, and says so
MAX_TEXT = 400  # characters of one value
# An OAuth token in a JSON member of that name (a token endpoint's response), JWT or opaque (an MSA
# `EwB…` ticket, a refresh token); in a URL (`#access_token=…`) and anywhere else, `core.secrets`
# finds it by its shape.
TOKEN_NAMES = ("access_token", "refresh_token", "id_token")


def record(
    con: duckdb.DuckDBPyConnection, report: Any, source: object, source_row: Any
) -> tuple[dict[str, Any], tuple[str, ...]] | None:
    """The record (column → value, in the file's column order) and the columns the token was read
    from; None when the file or row is not among the loaded inputs."""
    if source is None or source_row is None:
        return None
    for f in getattr(report, "files", ()):
        if f.view is None or str(f.path) != str(source):
            continue
        names = [r[0] for r in con.execute(f"DESCRIBE {f.view}").fetchall()]
        grouped = "source_file" in names
        where = "source_file = ? AND source_row = ?" if grouped else "source_row = ?"
        params = [str(source), int(source_row)] if grouped else [int(source_row)]
        cursor = con.execute(f"SELECT * FROM {f.view} WHERE {where} LIMIT 1", params)
        found = cursor.fetchone()
        if found is None:
            return None
        columns = [d[0] for d in cursor.description]
        values = {c: v for c, v in zip(columns, found, strict=True) if c not in ("source_row", "source_file")}
        # the columns the token field reads whole (a JSON path or an embedded token inside a longer
        # cell is found by the patterns instead, and the rest of that cell stays readable)
        mapped = [part.strip() for part in str(f.mapping.get("token", "")).split(" | ")]
        return values, tuple(part for part in mapped if part in values)
    return None


def lines(values: Mapping[str, Any], token_columns: tuple[str, ...], secrets: bool) -> list[tuple[str, str]]:
    """(label, text) lines for the panel: one per column, one per leaf of a JSON value."""
    out: list[tuple[str, str]] = []
    for column, value in values.items():
        if column in token_columns and value is not None and not secrets:
            out.append((inert_cell(column), _token_mark(str(value))))
            continue
        for path, leaf in _leaves(column, value):
            if len(out) >= MAX_LINES:
                out.append(("…", f"cut at {MAX_LINES} lines: the whole record is its file's row source_row"))
                return out
            text = _text(leaf)
            named = re.split(r"[.\[]", path)[-1].lower() in TOKEN_NAMES and leaf is not None
            if not secrets:
                text = _token_mark(text) if named else mask_text(text)
            if len(text) > MAX_TEXT and column not in token_columns:  # an asked-for token is whole
                text = text[: MAX_TEXT - 1] + "…"
            out.append((inert_cell(path), inert_cell(text)))
    return out


def _leaves(path: str, value: Any, depth: int = 0) -> Iterator[tuple[str, Any]]:
    """`(dotted path, value)` for each leaf; a text cell holding a JSON object or array is opened."""
    if isinstance(value, str) and value[:1] in ("{", "[") and depth < 8:
        try:
            value = json.loads(value)
        except ValueError:
            pass
    if isinstance(value, dict) and value and depth < 8:
        for key, inner in value.items():
            yield from _leaves(f"{path}.{key}", inner, depth + 1)
    elif isinstance(value, list) and value and depth < 8:
        for i, inner in enumerate(value):
            yield from _leaves(f"{path}[{i}]", inner, depth + 1)
    else:
        yield path, value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)  # empty, or nested too deep to open
    return str(value)


def _token_mark(text: str) -> str:
    """A token (with or without its `Bearer `), by the key the Tokens pane shows it under."""
    return token_mark(re.sub(r"(?i)^\s*bearer\s+", "", text).strip())
