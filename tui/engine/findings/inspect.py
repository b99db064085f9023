"""`triage inspect`: before any analysis, say what each file is and what the evidence can answer."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from tui.engine.core.db import connect
from tui.engine.core.options import Options
from tui.engine.core.safe import inert, inert_cell
from tui.engine.core.schema import Kind
from tui.engine.ingest.gaps import GAPS_LISTED, Gap, time_gaps
from tui.engine.ingest.load import TRUNCATION_SIZES, FileReport, LoadReport, load
from tui.engine.ingest.load_report import odd_values
from tui.engine.ingest.repeats import Repeats, repeated_records

# A token is used for its lifetime (60–90 min by default) after the sign-in that issued it, so a
# sign-in log ending an hour before the last mail access still covers it.
SIGNIN_SLACK = timedelta(hours=2)


def run_inspect(
    paths: list[str], options: Options, as_json: bool, progress: Callable[[str, float], None] | None = None
) -> tuple[str, int]:
    """Load the inputs and describe them; exit code 2 when an input is unreadable or nothing was found.

    `progress` hears (stage, fraction done): reading the files is the first 80%, the time gaps and
    the repeated records the rest."""

    def say(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    con = connect()
    try:
        report = load(con, paths, options, lambda done, total, text: say(text, 0.8 * done / max(total, 1)))
        say("looking for time gaps", 0.8)
        gaps = time_gaps(con) if any(f.loaded for f in report.files) else {}
        say("looking for repeated records", 0.9)
        repeats = repeated_records(con, report.files)
    finally:
        con.close()
    found = [f for f in report.files if f.loaded or f.error is not None or f.note]
    code = 2 if report.errors or report.missing or not found else 0
    if as_json:
        return inert(json.dumps(to_json(report, gaps, repeats), indent=2, ensure_ascii=True)), code
    return inert(to_text(report, options, gaps, repeats)), code


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None else ts.isoformat(sep=" ", timespec="seconds")


def _when(ts: datetime | None, tz: str) -> str:
    if ts is None:
        return "?"
    text = f"{_iso(ts)}"
    if tz != "UTC":
        try:
            local = ts.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz))
        except OverflowError:  # 9999-12-31 east of UTC is past the calendar: UTC alone
            return text
        text += f" ({local.isoformat(sep=' ', timespec='seconds')} {tz})"
    return text


def answers(report: LoadReport) -> dict[str, Any]:
    """What the loaded evidence can and cannot answer, across all files."""
    loaded = [f for f in report.files if f.loaded]

    def total(key: str) -> int:
        return sum(int(f.counts.get(key, 0)) for f in loaded)

    signins = [f for f in loaded if f.kind in Kind.ISSUANCE and f.ts_min is not None]
    others = [f for f in loaded if f.kind not in Kind.ISSUANCE and f.ts_min is not None]
    coverage: dict[str, Any] = {"sign_in_rows": sum(f.rows for f in signins)}
    if signins:
        s_min = min(f.ts_min for f in signins if f.ts_min)
        s_max = max(f.ts_max for f in signins if f.ts_max)
        coverage.update(sign_ins_from=_iso(s_min), sign_ins_to=_iso(s_max))
        if others:
            e_min = min(f.ts_min for f in others if f.ts_min)
            e_max = max(f.ts_max for f in others if f.ts_max)
            coverage.update(events_from=_iso(e_min), events_to=_iso(e_max))
            if s_min <= e_min + SIGNIN_SLACK and s_max >= e_max - SIGNIN_SLACK:
                coverage["verdict"] = (
                    "sign-ins cover the whole period of the other events "
                    "(to within 2 h: a token is used for 60-90 min after its sign-in)"
                )
            elif s_max < e_min or s_min > e_max:
                coverage["verdict"] = "sign-ins do not overlap the other events"
            else:
                coverage["verdict"] = "sign-ins cover only part of the period of the other events"
        else:
            coverage["verdict"] = "only sign-ins were loaded"
    else:
        coverage["verdict"] = "no sign-in logs: tokens cannot be matched to their issuance"
    truncated = [str(f.path) for f in loaded if f.likely_truncated]
    return {
        **identity_answers(loaded),
        "raw_tokens": total("tokens"),
        "token_ids": total("token_ids"),
        "mail_items_accessed": total("mail_items_accessed"),
        "sign_ins": coverage,
        "likely_truncated": truncated,
        "rows_without_time": total("rows_without_time"),
        "bad_rows": sum(f.bad_rows for f in report.files),
    }


SIGNIN_CATEGORIES = ("interactiveUser", "nonInteractiveUser", "servicePrincipal", "managedIdentity")


def identity_answers(loaded: list[FileReport]) -> dict[str, Any]:
    """What the identity evidence can answer (SPEC §10): sign-ins per category, the events that
    carry a session id or a uti per kind (what the joins can reach), and whether sign-ins list their
    authentication steps (an absent step is then missing data, not an absent MFA)."""
    categories: dict[str, int] = {}
    joins: dict[str, dict[str, int]] = {}
    auth = {"sign_ins": 0, "with_steps": 0, "mfa_unknown": 0, "unreadable": 0, "read_in_part": 0}
    facets = [c for f in loaded for c in f.facets]
    for f in loaded:
        for c in f.facets:
            j = joins.setdefault(c.kind, {"rows": 0, "session_ids": 0, "token_ids": 0})
            j["rows"] += c.rows
            j["session_ids"] += c.session_ids
            j["token_ids"] += c.token_ids
            if c.kind in Kind.ISSUANCE:
                name = c.category or "unnamed"
                categories[name] = categories.get(name, 0) + c.rows
                auth["sign_ins"] += c.rows
                auth["with_steps"] += c.with_steps
                auth["mfa_unknown"] += c.mfa_unknown
                auth["unreadable"] += c.unreadable_steps
                auth["read_in_part"] += c.partial_steps
    return {
        "sign_in_categories": categories,
        "join_coverage": dict(sorted(joins.items())),
        "authentication_details": auth,
        # values outside the known ones, kept as written (`signin_values`): rows and examples per field
        "unknown_values": {
            name: {"rows": o.rows, "examples": list(o.examples)} for name, o in odd_values(facets).items()
        },
    }


def _identity_text(a: dict[str, Any]) -> list[str]:
    """`sign-in categories:`, `session ids / uti:` and `auth details:` lines."""
    cats: dict[str, int] = a["sign_in_categories"]
    if not cats:
        lines = ["  sign-in categories: no sign-ins: who signed in, and how, cannot be seen"]
    else:
        found = ", ".join(f"{name} {cats[name]:,}" for name in sorted(cats, key=lambda n: -cats[n]))
        absent = [c for c in SIGNIN_CATEGORIES if c not in cats]
        tail = f"; no {', '.join(absent)}: not loaded, not proof of none" if absent else ""
        lines = [f"  sign-in categories: {found}{tail}"]
    joins = a["join_coverage"]
    label = "  session ids / uti:  "
    for n, (kind, j) in enumerate(joins.items()):
        lines.append(
            f"{label if n == 0 else ' ' * 22}{kind}: {j['session_ids']:,} of {j['rows']:,} "
            f"with a session id, {j['token_ids']:,} with a uti"
        )
    auth = a["authentication_details"]
    if auth["sign_ins"]:
        text = (
            f"{auth['with_steps']:,} of {auth['sign_ins']:,} sign-ins list their steps; "
            f"MFA unknown for {auth['mfa_unknown']:,} (no steps: missing data, not 'no MFA')"
        )
        if auth["unreadable"]:
            text += f"; {auth['unreadable']:,} unreadable (shown as `unreadable:` in auth_steps)"
        if auth["read_in_part"]:
            text += f"; {auth['read_in_part']:,} read in part"
        lines.append(f"  auth details:       {text}")
    odd = a["unknown_values"]
    for n, (name, o) in enumerate(odd.items()):
        label = "  unknown values:     " if n == 0 else " " * 22
        examples = " / ".join(inert_cell(e) for e in o["examples"])
        what = (
            "session ids that are not GUIDs (kept; sessions group by them)"
            if name == "session_id"
            else "values triage does not know (kept as written; no indicator reads them)"
        )
        lines.append(f"{label}{name}: {o['rows']:,} {what}, e.g. {examples}")
    return lines


def _file_json(f: FileReport) -> dict[str, Any]:
    return {
        "path": str(f.path),
        "format": f.format,
        "compression": f.compression,
        "kind": f.kind,
        "rows": f.rows,
        "bad_rows": f.bad_rows,
        "bad_examples": list(f.bad_examples),
        "error": f.error,
        "note": f.note,
        "loaded": f.loaded,
        "view": f.view,
        "ts_min": _iso(f.ts_min),
        "ts_max": _iso(f.ts_max),
        "time_format": f.time_format,
        "mapping": dict(f.mapping),
        "counts": dict(f.counts),
        "likely_truncated": f.likely_truncated,
        "kinds": [{"kind": k, "rows": n} for k, n in f.kinds],
        "parts": [
            {
                "kind": p.kind,
                "rows": p.rows,
                "named": list(p.values),
                "mapping": dict(p.mapping),
                "time_format": p.time_format,
            }
            for p in f.parts
        ],
    }


Gaps = dict[str, list[Gap]]


def to_json(
    report: LoadReport, gaps: Gaps | None = None, repeats: list[Repeats] | None = None
) -> dict[str, Any]:
    """The inspect report as plain JSON data (times are UTC)."""
    return {
        "repeated_records": [
            {"kind": r.kind, "copies": r.copies, "files": [str(p) for p in r.files]} for r in repeats or ()
        ],
        "gaps": {
            kind: [
                {"from": _iso(g.start), "to": _iso(g.end), "hours": g.hours, "hours_others_active": g.others}
                for g in found
            ]
            for kind, found in (gaps or {}).items()
        },
        "files": [_file_json(f) for f in report.files],
        "rows": report.rows,
        "ts_min": _iso(report.ts_min),
        "ts_max": _iso(report.ts_max),
        "errors": [{"path": str(f.path), "reason": f.error} for f in report.errors],
        "missing": list(report.missing),
        "jwks_files": [str(p) for p in report.jwks_files],
        "answers": answers(report),
    }


def _gaps_text(gaps: Gaps, tz: str) -> list[str]:
    """`gaps:` lines: per kind its longest collection gaps (`GAP`)."""
    if not gaps:
        return ["  gaps:               none: no kind of evidence is silent for a day while the others go on"]
    lines = []
    for n, (kind, found) in enumerate(sorted(gaps.items())):
        shown = "; ".join(_gap_text(g, tz) for g in found[:GAPS_LISTED])
        more = len(found) - GAPS_LISTED
        tail = f"; {more} more (inspect --json lists all)" if more > 0 else ""
        label = "  gaps:               " if n == 0 else " " * 22
        lines.append(f"{label}{kind} has no event {shown}{tail}")
    return lines


def _gap_text(gap: Gap, tz: str) -> str:
    return f"{_when(gap.start, tz)} .. {_when(gap.end, tz)} ({gap.hours:g} h{gap.others_text})"


def _yes(n: int, what: str) -> str:
    return f"yes, {n:,} rows" if n else f"no {what}"


def _file_text(f: FileReport, tz: str) -> list[str]:
    name = inert_cell(str(f.path))
    fmt = (f.format or "?") + (f" ({f.compression})" if f.compression else "")
    if f.error is not None:
        return [f"{name}", f"  UNREADABLE ({fmt}): {inert_cell(f.error)}"]
    if not f.loaded:
        return [f"{name}", f"  not loaded ({fmt if f.format else 'not read'}): {inert_cell(f.note or '')}"]
    lines = [
        name,
        f"  format: {fmt}   kind: {f.kind}   rows: {f.rows:,}   rows that failed to parse: {f.bad_rows:,}",
        f"  time (UTC): {_when(f.ts_min, tz)} .. {_when(f.ts_max, tz)}   as written: {f.time_format}",
    ]
    lines += [f"    failed: {inert_cell(e)}" for e in f.bad_examples]
    no_time = int(f.counts.get("rows_without_time", 0))
    if no_time:
        lines.append(f"  {no_time:,} rows have no readable time")
    if f.parts:
        kinds = ", ".join(f"{p.kind} {p.rows:,}" for p in f.parts)
        lines.append(f"  kinds (each record's own category): {kinds}")
        for p in f.parts:
            named = ", ".join(p.values) or "no table named"
            lines.append(f"  mapping of {p.kind} ({inert_cell(named)}; times as written: {p.time_format}):")
            lines += [f"    {field:<16} <- {inert_cell(col)}" for field, col in p.mapping.items()]
    else:
        lines.append("  mapping:")
        lines += [f"    {field:<16} <- {inert_cell(col)}" for field, col in f.mapping.items()]
    lines.append(
        f"  evidence: raw tokens {f.counts.get('tokens', 0):,}; "
        f"token ids (uti) {f.counts.get('token_ids', 0):,}; "
        f"MailItemsAccessed {f.counts.get('mail_items_accessed', 0):,}"
    )
    if f.likely_truncated:
        lines.append(f"  WARNING: exactly {f.rows:,} rows, the export/search page size: likely truncated")
    if f.note:
        lines.append(f"  note: {inert_cell(f.note)}")
    return lines


def to_text(
    report: LoadReport, options: Options, gaps: Gaps | None = None, repeats: list[Repeats] | None = None
) -> str:
    """The human report: one block per file, then what the evidence can answer."""
    out: list[str] = []
    for f in report.files:
        out += _file_text(f, options.tz)
        out.append("")
    loaded = [f for f in report.files if f.loaded]
    a = answers(report)
    out.append(
        f"{len(loaded)} file(s) loaded, {len(report.errors)} unreadable, "
        f"{len(report.files) - len(loaded) - len(report.errors)} skipped; {report.rows:,} events, "
        f"{_when(report.ts_min, options.tz)} .. {_when(report.ts_max, options.tz)} UTC"
    )
    out.append("What the evidence can answer:")
    out.append(
        "  raw bearer tokens:  "
        + _yes(a["raw_tokens"], "raw tokens: signatures and claims cannot be checked")
    )
    out.append(
        f"  token ids (uti):    {_yes(a['token_ids'], 'token ids: audit rows cannot be tied to tokens')}"
    )
    out.append(
        "  MailItemsAccessed:  "
        + _yes(a["mail_items_accessed"], "MailItemsAccessed: mail reads are not visible")
    )
    cov = a["sign_ins"]
    span = f" ({cov['sign_ins_from']} .. {cov['sign_ins_to']})" if "sign_ins_from" in cov else ""
    out.append(f"  sign-ins:           {cov['verdict']}{span}")
    out += _identity_text(a)
    if a["likely_truncated"]:
        out.append(
            f"  truncation:         likely in {len(a['likely_truncated'])} file(s) with exactly "
            f"{' or '.join(f'{n:,}' for n in TRUNCATION_SIZES)} rows"
        )
    else:
        out.append("  truncation:         no file has exactly 5,000 or 50,000 rows")
    out += _gaps_text(gaps or {}, options.tz)
    if repeats:
        for n, r in enumerate(repeats):
            label = "  repeated records:   " if n == 0 else " " * 22
            out.append(f"{label}{r.said()}")
    else:
        out.append("  repeated records:   none: no audit or sign-in record appears twice")
    if a["bad_rows"]:
        out.append(f"  unparseable rows:   {a['bad_rows']:,} (counted per file above)")
    if report.jwks_files:
        out.append(
            "Key lists found (used for signature checks): " + ", ".join(str(p) for p in report.jwks_files)
        )
    for miss in report.missing:
        out.append(f"NOT FOUND: {miss}")
    if not report.files and not report.missing:
        out.append("NOT FOUND: no input files")
    return "\n".join(out)
