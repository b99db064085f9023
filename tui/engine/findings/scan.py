"""`triage scan`: the whole analysis headless, written as the findings files of SPEC §6.

The files are written from the same tables the TUI's panes read (`tui.engine.analyses.tables`), in a
fixed row order, so two runs over the same inputs give byte-identical CSVs. The manifest differs
only in its run start time (fixed too when `SOURCE_DATE_EPOCH` is set), so no duration is recorded.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from tui.engine.analyses import tables as analyses
from tui.engine.analyses.actions import ACTIONS_COLUMNS, ACTIONS_ORDER
from tui.engine.analyses.sessions import SESSIONS_ORDER
from tui.engine.analyses.tables import DRIFT_ORDER, TOKENS_ORDER
from tui.engine.core.options import Options
from tui.engine.core.safe import inert, inert_cell
from tui.engine.ingest.load_report import said_once

TOKENS_COLUMNS = (
    "tok_sha256, uti, severity, indicators, evidence, kid, alg, iss, tid, aud, appid, upn, oid, iat, exp, "
    "sig, first_seen, last_seen, uses, users, mailboxes, ips, countries, amr, mfa, session_id"
)
MAILBOXES_COLUMNS = (
    "mailbox, severity, indicators, accesses, items, flagged_accesses, flagged_tokens, first_access, "
    "last_access, identities, ips, app_ids"
)
DRIFT_COLUMNS = (
    '"user", drift_score, reasons, new_ips, new_countries, new_app_ids, new_user_agents, baseline_start, '
    "baseline_end, window_start, window_end, severity, indicators, anomaly_score, anomalies"
)
SESSIONS_COLUMNS = (
    'session_id, "user", severity, indicators, evidence, mfa, first_seen, last_seen, events, signins, '
    "tokens, "
    "ips, countries, user_agents, devices, apps"
)

# The findings files: name → the SELECT that produces them, in their committed row order.
FINDINGS = {
    "tokens.csv": f"SELECT {TOKENS_COLUMNS}{{secret}} FROM tokens ORDER BY {TOKENS_ORDER}",
    "mailboxes.csv": f"SELECT {MAILBOXES_COLUMNS} FROM mailboxes "
    "ORDER BY sev_rank DESC, flagged_accesses DESC, accesses DESC, mailbox",
    "drift.csv": f"SELECT {DRIFT_COLUMNS} FROM drift ORDER BY {DRIFT_ORDER}",
    "sessions.csv": f"SELECT {SESSIONS_COLUMNS} FROM sessions ORDER BY {SESSIONS_ORDER}",
    # SPEC §10: one row per action event and code, in time order (`analyses.actions`)
    "actions.csv": f"SELECT {ACTIONS_COLUMNS} FROM actions ORDER BY {ACTIONS_ORDER}",
}

Progress = Callable[[str, float], None]  # (stage, fraction done 0..1): `case.session.Progress`


def _part(progress: Progress | None, start: float, end: float) -> Progress | None:
    """`progress` for one part of the scan: that part's fractions 0..1 as `start`..`end`."""
    if progress is None:
        return None
    say = progress

    def scaled(stage: str, fraction: float) -> None:
        say(stage, start + (end - start) * fraction)

    return scaled


SEVERITIES = ("critical", "high", "medium", "low", "info", "none")


def _inside(path: Path, folder: Path) -> bool:
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(folder))
    except ValueError:
        return False
    return True


def evidence_folders(report: object) -> list[Path]:
    """The folders holding the inputs: findings and caches never go inside them."""
    # realpath, not resolve(): a skipped symlink loop among the inputs must not raise RuntimeError
    return sorted({Path(os.path.realpath(f.path)).parent for f in report.files})  # type: ignore[attr-defined]


def write_findings(
    con: duckdb.DuckDBPyConnection,
    out: Path,
    options: Options,
    report: object,
    started: datetime,
    hashes: Mapping[str, Future[str]] | None = None,
) -> list[str]:
    """Write the findings files (`FINDINGS`: tokens, mailboxes, drift, sessions, actions) and
    manifest.json into `out`.

    `hashes`: the inputs' SHA-256 being computed since the scan started (`state.hash_in_background`)."""
    from tui.engine.findings.export import BATCH_ROWS, write_csv, write_manifest

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, sql in FINDINGS.items():
        secret = (  # the raw token lives once, in token_text
            ", (SELECT t.token FROM token_text t WHERE t.tok_key = tokens.tok_key) AS token"
            if options.include_secrets and name == "tokens.csv"
            else ""
        )
        cur = con.cursor()
        try:
            reader = cur.sql(sql.replace("{secret}", secret)).to_arrow_reader(BATCH_ROWS)
            write_csv(reader, out / name, include_secrets=options.include_secrets)
        finally:
            cur.close()
        written.append(name)
    write_manifest(
        out / "manifest.json",
        inputs=manifest_inputs(report, hashes),
        options=options,
        outputs=written,
        started_at=started,
    )
    return [*written, "manifest.json"]


def manifest_inputs(
    report: object, hashes: Mapping[str, Future[str]] | None = None
) -> list[dict[str, object]]:
    """Each input with its SHA-256, kind, format and row counts (bad ones with their error)."""
    from tui.engine.case.state import sha256_of

    inputs = []
    for f in report.files:  # type: ignore[attr-defined]
        path = Path(f.path)
        started = (hashes or {}).get(os.path.realpath(path))
        try:
            sha256 = (started.result() if started else sha256_of(path)) if path.is_file() else None
        except OSError:  # unreadable (permission denied; its error says so): no bytes to pin
            sha256 = None
        entry: dict[str, object] = {
            "path": str(path),
            "sha256": sha256,
            "format": f.format,
            "kind": f.kind,
            "rows": f.rows,
            "bad_rows": f.bad_rows,
        }
        if f.error:
            entry["error"] = f.error
        inputs.append(entry)
    return inputs


def summary(
    con: duckdb.DuckDBPyConnection, report: object, out: Path, files: list[str], annotation: object = None
) -> str:
    """A short human summary: what could not be used, counts per severity, worst tokens, affected
    mailboxes, top drift. Notes (a `--map` column no file has, a key list without keys, an `--ioc`
    line skipped, a CSV dialect guessed) are listed under the inputs, as `triage inspect` shows them."""
    logs = [f for f in report.files if f.view]  # type: ignore[attr-defined]
    lines = [f"triage scan: {report.rows:,} events from {len(logs)} log file(s)"]  # type: ignore[attr-defined]
    keys = getattr(annotation, "key_lists_used", ())  # those that gave keys (one without: a note below)
    if keys:
        lines.append(f"key lists used for signatures: {inert_cell(', '.join(str(k) for k in keys))}")
    inputs: list[Any] = list(report.files)  # type: ignore[attr-defined]
    key_files = {Path(k) for k in getattr(report, "jwks_files", ())}
    noted = [f for f in inputs if f.note and not f.error and Path(f.path) not in key_files]  # keys: above
    for what, said in (
        ("unreadable", [(str(f.path), f.error) for f in inputs if f.error]),
        ("note", [(str(f.path), f.note) for f in noted if f.view]),
        # the walk's own notes say "skipped: …" already
        ("skipped", [(str(f.path), f.note.removeprefix("skipped: ")) for f in noted if not f.view]),
    ):
        lines += [f"  {what}: {inert_cell(who)}: {inert_cell(text)}" for who, text in said_once(said)]
    lines += [f"  note: {inert_cell(n)}" for n in getattr(annotation, "notes", ())]
    counts = dict(con.execute("SELECT severity, count(*) FROM tokens GROUP BY severity").fetchall())
    total = sum(counts.values())
    per = ", ".join(f"{s} {counts[s]:,}" for s in SEVERITIES if counts.get(s))
    lines.append(f"tokens: {total:,} ({per or 'none'})")
    worst = con.execute(
        "SELECT severity, indicators, coalesce(upn, array_to_string(users, ',')), uses, "
        "coalesce(tok_sha256, 'uti:' || uti) FROM tokens WHERE sev_rank >= 4 "
        f"ORDER BY {TOKENS_ORDER} LIMIT 5"
    ).fetchall()
    for sev, codes, who, uses, ident in worst:
        lines.append(
            f"  {sev:<8} {inert_cell(ident)[:16]:<16} {uses:>6} {'use ' if uses == 1 else 'uses'}"
            f"  {inert_cell(who) or '-'}  {codes}"
        )
    boxes = con.execute(
        "SELECT mailbox, severity, flagged_accesses, flagged_tokens FROM mailboxes WHERE sev_rank >= 3 "
        "ORDER BY sev_rank DESC, flagged_accesses DESC, accesses DESC, mailbox"
    ).fetchall()
    lines.append(f"affected mailboxes (severity medium or worse): {len(boxes)}")
    for mailbox, sev, acc, toks in boxes[:10]:
        accesses = f"{acc:,} flagged access{'' if acc == 1 else 'es'}"
        lines.append(
            f"  {sev:<8} {inert_cell(mailbox)}  {accesses} by {toks} token{'' if toks == 1 else 's'}"
        )
    drift = con.execute(
        f"SELECT severity, anomaly_score, \"user\", coalesce(nullif(anomalies, ''), reasons) FROM drift "
        f"ORDER BY {DRIFT_ORDER} LIMIT 5"
    ).fetchall()
    lines.append("top users (hard evidence first, then the behaviour model's bits):")
    for sev, score, user, why in drift:
        lines.append(f"  {sev:<8} {score:>7.1f}  {inert_cell(user)}  {inert_cell(why)}")
    lines.append(f"wrote {', '.join(files)} to {out}")
    return inert("\n".join(lines))  # data cells were escaped one by one above, newlines included


def run_scan(
    paths: list[str], out: Path, options: Options, progress: Progress | None = None
) -> tuple[str, int]:
    """Load, annotate, analyse and write the findings; exit 2 if an input was unreadable or none found.

    `progress` hears (stage, fraction of the scan): the open is the first 80% (reading the inputs,
    decoding the tokens, the indicators), the analyses the next 17%, the findings files the rest."""
    from tui.engine.case.session import Session
    from tui.engine.ingest.inputs import expand

    started = datetime.now(timezone.utc)
    # Refuse a findings folder inside the evidence before any work, not after minutes of it.
    found, skipped, missing = expand(paths)
    if missing:  # as `triage open` refuses them: a mistyped path is not an empty input
        return inert(f"triage scan: not found: {', '.join(missing)}"), 2
    for folder in sorted({Path(os.path.realpath(f)).parent for f in [*found, *(p for p, _ in skipped)]}):
        if _inside(out, folder):
            refusal = f"triage scan: --out {out} is inside the evidence folder {folder}; choose another"
            return inert(refusal), 2
    from tui.engine.case.state import hash_in_background, sha256_of

    hashes = hash_in_background(found, sha256_of)  # uncached: the manifest pins the bytes read now
    # three grouped passes, no paging
    session = Session.open(paths, options, _part(progress, 0.0, 0.8), materialise_events=False)
    try:
        report = session.report
        if not report.files:
            return inert(f"triage scan: no input files found in {', '.join(paths)}"), 2
        # The split annotate computed: asking `events_base` again would now join every row's token
        # text (a 300k × 1.3 KB hash table at 10M rows, 2.6 GB at 2M all-distinct tokens).
        analyses.build(session.con, session.annotation.split, _part(progress, 0.8, 0.97))
        if progress is not None:
            progress(f"writing the findings to {out}", 0.97)
        files = write_findings(session.con, out, options, report, started, hashes)
        text = summary(session.con, report, out, files, session.annotation)
        return text, 2 if report.errors else 0
    finally:
        session.close()
