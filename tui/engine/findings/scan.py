"""`triage scan`: the whole analysis headless, written as the findings files of SPEC §6.

The files are written from the same tables the TUI's panes read (`tui.engine.analyses.tables`), in a
fixed row order, so two runs over the same inputs give byte-identical CSVs. The manifest differs
only in its run start time (fixed too when `SOURCE_DATE_EPOCH` is set), so no duration is recorded.

The files are one set (`write_findings`): an `--out` that held an earlier run's findings holds either
that set or the new one, never a new `tokens.csv` beside an old `manifest.json`. The set includes
`case/` (`case_export`): the analysis tables and the flagged events as Parquet, for `triage open DIR`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
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
from tui.engine.core.secrets import mask_text, redacted
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
    annotation: object = None,
) -> list[str]:
    """Write the findings files (`FINDINGS`: tokens, mailboxes, drift, sessions, actions), the case/
    folder `triage open DIR` reads (`case_export.write_case`; with the scan's `annotation`, else
    none) and manifest.json into `out`, as one set.

    Every file is first written whole into a staging folder inside `out` (`.triage-<pid>-…`, so the
    renames below stay on one file system), which is what a stop during the minutes of writing
    leaves behind, removed on the way out (and, after a SIGKILL, by the next scan into `out`): the
    earlier set in `out` is untouched until all of the new one exists. Then the swap (`_swap`):
    the old manifest.json goes first, each file is renamed over its old self, and the new
    manifest.json comes last, so a manifest only ever sits beside the files written with it. The
    swap is a few renames; Ctrl-C, SIGTERM and SIGHUP wait for its end (`stops_deferred`), so a stop
    leaves the old set or the new one. Only a SIGKILL or power loss inside those microseconds could
    leave new files beside old ones, and then without a manifest.json. Anything else in `out` (the
    analyst's notes, an earlier `--include-secrets` copy saved under another name) is left as it is.
    case/ is one of the set's entries: in the same swap the old one is renamed aside into the
    staging folder (removed with it) and the new one in.

    `hashes`: the inputs' SHA-256 being computed since the scan started (`state.hash_in_background`)."""
    from tui.engine.findings.export import BATCH_ROWS, write_csv, write_manifest

    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    _remove_dead_staging(out)
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=out))
    done = False
    try:
        written = []
        for name, sql in FINDINGS.items():
            secret = (  # the raw token lives once, in token_text
                ", (SELECT t.token FROM token_text t WHERE t.tok_key = tokens.tok_key) AS token"
                if options.include_secrets and name == "tokens.csv"
                else ""
            )
            cur = con.cursor()
            try:
                rel = cur.sql(sql.replace("{secret}", secret))
                if not options.include_secrets:  # a raw token in any cell, whatever its column
                    rel = redacted(rel)
                reader = rel.to_arrow_reader(BATCH_ROWS)
                write_csv(reader, staging / name, include_secrets=options.include_secrets)
            finally:
                cur.close()
            written.append(name)
            if len(written) == 1:
                _test_pause("staged")
        if annotation is not None:
            from tui.engine.case.folder import CASE_DIR
            from tui.engine.findings.case_export import write_case

            write_case(con, staging / CASE_DIR, report, annotation)
            written.append(CASE_DIR)
        write_manifest(
            staging / "manifest.json",
            inputs=manifest_inputs(report, hashes),
            options=options,
            outputs=[name for name in written if name in FINDINGS],  # case/ describes itself (case.json)
            started_at=started,
        )
        files = [*written, "manifest.json"]
        _swap(staging, out, files)
        done = True
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if created and not done:  # a stopped first run leaves no empty folder behind
            with contextlib.suppress(OSError):
                out.rmdir()
    return files


# The staging folders of `write_findings` inside `--out`: `.triage-<pid>-…`.
STAGING_PREFIX = ".triage-"


def _remove_dead_staging(out: Path) -> None:
    """Staging folders a killed scan left in `out` (its pid no longer runs)."""
    from tui.engine.core.db import running

    for child in out.glob(f"{STAGING_PREFIX}*"):
        owner = child.name.removeprefix(STAGING_PREFIX).split("-", 1)[0]
        if owner.isdigit() and not running(int(owner)) and child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)


def _swap(staging: Path, out: Path, files: list[str]) -> None:
    """Move the staged set into `out` over the old one: manifest.json out first, in last."""
    manifest = files[-1]
    with stops_deferred():
        (out / manifest).unlink(missing_ok=True)
        for i, name in enumerate(files[:-1]):
            if (staging / name).is_dir() and ((out / name).exists() or (out / name).is_symlink()):
                # a folder is not renamed over another (nor over a file): the old one goes aside
                os.replace(out / name, staging / f"{name}.old")
            os.replace(staging / name, out / name)
            if i == 0:
                _test_pause("swap")
        os.replace(staging / manifest, out / manifest)


@contextmanager
def stops_deferred() -> Iterator[None]:
    """Hold Ctrl-C, SIGTERM and SIGHUP until the block ends, then let the first one through.

    For steps that must not be cut in two (the findings' swap: a few renames). Only the main
    thread may set signal handlers; elsewhere (a TUI worker) the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    names = ("SIGINT", "SIGTERM", "SIGHUP")
    signums = [getattr(signal, n) for n in names if hasattr(signal, n)]
    pending: list[int] = []
    previous = {s: signal.getsignal(s) for s in signums}
    for s in signums:
        signal.signal(s, lambda signum, _frame: pending.append(signum))
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if pending:
            signal.raise_signal(pending[0])  # to the handler in force again (tui.cli's stop)


def _test_pause(step: str) -> None:
    """A test-only hook to stop a scan at a known point of its write (tests/test_interrupts.py).

    With `TRIAGE_TEST_PAUSE=<step>:<file>` in the environment, the scan creates `<file>` when it
    reaches `<step>` — `staged` (the first findings file written into the staging folder) or
    `swap` (the first file renamed into `--out`) — and waits there until the file is removed
    (at most 60 s). Unset, as it always is outside the tests, this does nothing."""
    step_name, _, marker = os.environ.get("TRIAGE_TEST_PAUSE", "").partition(":")
    if step_name != step or not marker:
        return
    flag = Path(marker)
    flag.touch()
    deadline = time.monotonic() + 60
    while flag.exists() and time.monotonic() < deadline:
        time.sleep(0.02)


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
    shown = [f"{name}/" if (out / name).is_dir() else name for name in files]  # case/
    lines.append(f"wrote {', '.join(shown)} to {out}")
    # data cells were escaped one by one above, newlines included; a raw token in a user or reason
    # (a column mapped from the wrong header) is shown by its key, as in the files
    return inert(mask_text("\n".join(lines)))


def run_scan(
    paths: list[str], out: Path, options: Options, progress: Progress | None = None
) -> tuple[str, int]:
    """Load, annotate, analyse and write the findings; exit 2 if an input was unreadable or none found.

    `progress` hears (stage, fraction of the scan): the open is the first 80% (reading the inputs,
    decoding the tokens, the indicators), the analyses the next 17%, the findings files the rest."""
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
    from tui.engine.case.session import Session
    from tui.engine.core.db import connect, tables_on_disk_for
    from tui.engine.core.steps import watch_steps

    # Drawn, the line also says how far the running statement is (one runs for minutes at 100M
    # rows); the thread asking is stopped before the session's connection is closed.
    con = connect(step_progress=progress is not None, tables_on_disk=tables_on_disk_for(found))
    watched = contextlib.nullcontext(progress) if progress is None else watch_steps(con, progress)
    session: Session | None = None
    try:
        with watched as said:
            # three grouped passes, no paging
            session = Session.open(paths, options, _part(said, 0.0, 0.8), con, materialise_events=False)
            report = session.report
            if not report.files:
                return inert(f"triage scan: no input files found in {', '.join(paths)}"), 2
            # The split annotate computed: asking `events_base` again would now join every row's
            # token text (a 300k × 1.3 KB hash table at 10M rows, 2.6 GB at 2M all-distinct tokens).
            analyses.build(con, session.annotation.split, _part(said, 0.8, 0.97))
            if said is not None:
                said(f"writing the findings to {out}", 0.97)
            files = write_findings(con, out, options, report, started, hashes, session.annotation)
            text = summary(con, report, out, files, session.annotation)
            return text, 2 if report.errors else 0
    finally:
        if session is not None:
            session.close()
        else:
            con.close()
