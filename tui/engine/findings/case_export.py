"""`scan --out DIR` writes `DIR/case/` (SPEC §9): the analysis tables and the flagged events as Parquet,
for `triage open DIR` (`tui.engine.case.folder` says what the folder holds and how it is opened).

Written by `write_case` into the scan's staging folder (`findings.scan.write_findings`), so case/
is part of the findings set: a stopped scan leaves the old case/ or the new one. Each table is written
by DuckDB's Parquet writer (COPY … TO … (FORMAT parquet), zstd) from the scan's own tables through
`core.secrets.redacted`: no raw token in any file, whatever `--include-secrets` says.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from tui.engine.analyses.detail_sources import BASELINE_VALUES, EXPORTS, TOKEN_CLAIMS_EXPORT
from tui.engine.analyses.model import teach
from tui.engine.analyses.model_features import GROUP
from tui.engine.analyses.tables import split_params
from tui.engine.case.folder import CASE_FORMAT, CASE_JSON, CASE_VERSION, TABLES
from tui.engine.core.schema import Kind
from tui.engine.core.secrets import mask_text, redacted
from tui.engine.core.sql import ident

FLAGGED_RANK = 3  # medium or worse: what the panes call flagged (`analyses.panes.FLAGGED_RANK`)
SIGNINS_SHOWN = 8  # a session's sign-ins the detail panel lists (`explain_identity.SIGNINS_SHOWN`)

# The events case/ holds (`case.folder`'s docstring says why these).
SELECTION = (
    "every event with an indicator of any severity (its own, its token's or its token id's), every "
    "event of a session at severity medium or worse, and the sign-in that issued a token at medium or worse"
)
_CHOSEN = f"""
    e.sev_rank >= 1
    OR e.session_id IN (SELECT session_id FROM sessions WHERE sev_rank >= {FLAGGED_RANK})
    OR (e.kind = '{Kind.SIGNIN}'
        AND e.token_id IN (SELECT uti FROM tokens WHERE sev_rank >= {FLAGGED_RANK} AND uti IS NOT NULL))"""
# The chosen events' places, numbered again in the Events pane's order: sorting the keys alone (a
# window over the wide rows took 28 s of a 1M-row scan, this 0.4 s).
_KEYS_SQL = f"""
    CREATE OR REPLACE TEMP TABLE _case_keys AS
    SELECT rn AS scan_rn, row_number() OVER (ORDER BY rn) - 1 AS rn FROM events_rows e WHERE {_CHOSEN}"""
_KEYS = " AND ".join(f"c.{k} IS NOT DISTINCT FROM m.{k}" for k in GROUP.split(", "))
# the chosen events' model features (the detail panel's "how unusual"), numbered as exported
_MODEL = """
    CREATE OR REPLACE TEMP TABLE _case_model AS
    SELECT m.* EXCLUDE (rn), k.rn
    FROM model_events m JOIN _case_keys k ON k.scan_rn = m.rn"""
_SCORES = f"""
    CREATE OR REPLACE TEMP TABLE _case_scores AS
    SELECT m.rn, s.anomaly
    FROM _case_model m JOIN model_combos c ON {_KEYS} JOIN model_scores s ON s.cid = c.cid"""
# The behaviour model's combinations numbered by what they are, not as the scan's threads met them
# (`row_number() OVER ()`): two scans of the same evidence write the same case/ tables.
_CIDS = f"""
    CREATE OR REPLACE TEMP TABLE _case_cids AS
    SELECT cid, row_number() OVER (ORDER BY {GROUP}) AS new FROM model_combos"""
# the chosen events, every column, numbered and scored (the filter repeated: it is what DuckDB
# pushes into the rows' scan; the join alone read every row)
_EVENTS = f"""
    SELECT e.* REPLACE (k.rn AS rn, s.anomaly AS anomaly)
    FROM events_rows e JOIN _case_keys k ON k.scan_rn = e.rn LEFT JOIN _case_scores s ON s.rn = k.rn
    WHERE {_CHOSEN}"""
# each session's first sign-ins, interactive first, and the sign-in that names each token's uti
_SIGNINS = f"""
    SELECT * EXCLUDE (_s, _u) FROM (
        SELECT *,
               row_number() OVER (PARTITION BY session_id
                                  ORDER BY NOT coalesce(interactive, false), ts) AS _s,
               row_number() OVER (PARTITION BY token_id ORDER BY ts) AS _u
        FROM events_t WHERE kind = '{Kind.SIGNIN}')
    WHERE (session_id IS NOT NULL AND _s <= {SIGNINS_SHOWN})
       OR (_u = 1 AND token_id IN (SELECT uti FROM tokens WHERE uti IS NOT NULL))"""

_SOURCES: dict[str, str] = {
    "token_claims": TOKEN_CLAIMS_EXPORT,
    "model_events": "SELECT * FROM _case_model",
    # `rn` is the scan's place of the row, not the exported events' (renumbered): left out
    "row_indicators": "SELECT * EXCLUDE (rn) FROM row_indicators",
    "model_combos": "SELECT c.* REPLACE (m.new AS cid) FROM model_combos c JOIN _case_cids m USING (cid)",
    "model_scores": "SELECT s.* REPLACE (m.new AS cid) FROM model_scores s JOIN _case_cids m USING (cid)",
    "signins": _SIGNINS,
    "events": _EVENTS,
    **{name: sql for name, (sql, _) in EXPORTS.items()},
}


def write_case(con: duckdb.DuckDBPyConnection, target: Path, report: Any, annotation: Any) -> int:
    """Write case/ into `target` (a new folder) from the scan's tables; returns the events exported.

    The behaviour model first scores the baseline's combinations too (`model.teach`, as the TUI does
    before it scores every event), so every exported event has its score."""
    target.mkdir()
    teach(con)
    cur = con.cursor()
    try:
        for step in (_KEYS_SQL, _MODEL, _SCORES, _CIDS):
            cur.execute(step).fetchall()
        tables: dict[str, dict[str, object]] = {}
        for name in TABLES:
            sql = _SOURCES.get(name, f"SELECT * FROM {name}")
            takes = EXPORTS.get(name, ("", ""))[1]
            params = [*split_params(annotation.split)[:2], BASELINE_VALUES] if takes == "baseline" else None
            file = f"{name}.parquet"
            # the temporary tables above are this cursor's own: every table is written on it
            rel = _storable(redacted(cur.sql(sql, params=params)))
            rel.write_parquet(str(target / file), compression="zstd")
            ((rows,),) = cur.execute("SELECT count(*) FROM read_parquet(?)", [str(target / file)]).fetchall()
            tables[name] = {"file": file, "rows": int(rows)}
        ((total,),) = cur.execute("SELECT count(*) FROM events_t").fetchall()
        exported = int(tables["events"]["rows"])  # type: ignore[call-overload]
    finally:
        for temp in ("_case_keys", "_case_model", "_case_scores", "_case_cids"):
            cur.execute(f"DROP TABLE IF EXISTS {temp}").fetchall()
        cur.close()
    document = {
        "format": CASE_FORMAT,
        "version": CASE_VERSION,
        "tables": tables,
        "events": {"exported": exported, "total": int(total), "selection": SELECTION},
        "split": dict(
            zip(
                ("baseline_start", "baseline_end", "window_start", "window_end"),
                split_params(annotation.split),
                strict=True,
            )
        ),
        "org": {
            "tenants": list(annotation.org.tenants),
            "domains": list(annotation.org.domains),
            "inferred": annotation.org.inferred,
            "evidence": annotation.org.evidence,
        },
        "annotation": {
            "notes": list(annotation.notes),
            "intel_version": annotation.intel_version,
            "key_lists_used": [str(p) for p in annotation.key_lists_used],
            "tokens": annotation.tokens,
            "malformed": annotation.malformed,
            "signatures": [list(s) for s in annotation.signatures],
            "indicator_counts": [list(c) for c in annotation.indicator_counts],
        },
        "report": {
            "rows": report.rows,
            "ts_min": report.ts_min,
            "ts_max": report.ts_max,
            "files": [
                {
                    "path": str(f.path),
                    "format": f.format,
                    "kind": f.kind,
                    "rows": f.rows,
                    "bad_rows": f.bad_rows,
                    "error": f.error,
                    "note": f.note,
                    "ts_min": f.ts_min,
                    "ts_max": f.ts_max,
                }
                for f in report.files
            ],
        },
    }
    text = json.dumps(document, indent=1, sort_keys=True, ensure_ascii=True, default=_iso) + "\n"
    (target / CASE_JSON).write_text(mask_text(text), encoding="utf-8")  # a token in a note: its key
    return exported


def _storable(rel: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """`rel` with its 128-bit integers (a SUM of BIGINT counts: a mailbox's items) as BIGINT: Parquet
    has no such type and DuckDB would write a DOUBLE, shown back as `644.0`."""
    if not any(str(t) in ("HUGEINT", "UHUGEINT") for t in rel.types):
        return rel
    cols = [
        f"CAST({ident(n)} AS BIGINT) AS {ident(n)}" if str(t) in ("HUGEINT", "UHUGEINT") else ident(n)
        for n, t in zip(rel.columns, rel.types, strict=True)
    ]
    return rel.project(", ".join(cols))


def _iso(value: object) -> str:
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    raise TypeError(f"not JSON: {type(value).__name__}")


__all__ = ["SELECTION", "write_case"]
