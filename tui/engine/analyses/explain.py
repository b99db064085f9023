"""Why a row is flagged: the text of the TUI's detail panel, built from the annotation tables.

For a token: every indicator with its severity and evidence, then the decoded header and claims.
For a mailbox: the tokens that read it, worst first, with their indicators. For a drifted user:
each new value with when it was first seen, next to the baseline values it was new against.
For an event: the event, its behaviour-model score feature by feature (`explain_model`) and its
token; for a user, the model's score and reasons above the fixed drift score's. Every string is
inert; nothing here knows about Textual.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import duckdb

from tui.engine.analyses import detail_sources, explain_identity, explain_model, original
from tui.engine.analyses.panes import display_value
from tui.engine.core.safe import inert_cell
from tui.engine.core.secrets import mask_text

SEVERITY_NAMES = ("none", "info", "low", "medium", "high", "critical")
TIME_CLAIMS = ("iat", "nbf", "exp", "auth_time")


@dataclass(frozen=True)
class Line:
    """One line of the panel: a label, its text, and a style name (a severity, "dim" or "")."""

    label: str
    text: str = ""
    style: str = ""


@dataclass(frozen=True)
class Section:
    """A titled group of lines."""

    title: str
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Detail:
    """Everything the panel shows for one row."""

    title: str
    sections: tuple[Section, ...]


def _text(value: object) -> str:
    return str(display_value(value))


def _sev(rank: object) -> str:
    return SEVERITY_NAMES[int(rank)] if isinstance(rank, int) and 0 <= rank < len(SEVERITY_NAMES) else ""


def explain(
    con: duckdb.DuckDBPyConnection, pane: str, row: dict[str, Any], report: Any = None, secrets: bool = False
) -> Detail:
    """The detail for one row of a pane; the analyst's verdict and note first when it is marked.

    With the session's load `report`, an event's detail ends with its original record
    (`tui.engine.analyses.original`; bearer tokens shown only with `secrets`)."""
    detail = _explain(con, pane, row)
    if pane == "events" and report is not None:
        found = original.record(con, report, row.get("source"), row.get("source_row"))
        if found is not None:
            shown = tuple(Line(label, text) for label, text in original.lines(*found, secrets=secrets))
            detail = Detail(detail.title, (*detail.sections, Section("original record", shown)))
        elif getattr(report, "folder", None) is not None:  # a findings folder holds the events, not the files
            where = f"{_text(row.get('source'))} row {_text(row.get('source_row'))}"
            shown = (
                Line("in", where),
                Line("not in a findings folder", "open the evidence to read it", "dim"),
            )
            detail = Detail(detail.title, (*detail.sections, Section("original record", shown)))
    if not row.get("mark"):
        return detail
    verdict = str(row.get("verdict") or "marked, no verdict").replace("_", " ")
    lines = [Line("verdict", verdict, "high" if row.get("verdict") == "finding" else "")]
    if row.get("note"):
        lines.append(Line("note", _text(row["note"])))
    if pane == "events" and row["mark"] != "event":
        lines.append(Line("from", f"its {_text(row['mark'])}'s mark", "dim"))
    return Detail(detail.title, (Section("your verdict", tuple(lines)), *detail.sections))


def _explain(con: duckdb.DuckDBPyConnection, pane: str, row: dict[str, Any]) -> Detail:
    if pane == "tokens":
        return Detail(_text(row.get("upn") or row.get("tkey")), _token_sections(con, row))
    if pane == "mailboxes":
        return Detail(_text(row.get("mailbox")), _mailbox_sections(con, row))
    if pane == "drift":
        return Detail(_text(row.get("user")), _drift_sections(con, row))
    if pane == "sessions":
        sections = explain_identity.session_rows(con, row)
        return Detail(
            f"session {_text(row.get('session_id'))}", tuple(_section(t, rows) for t, rows in sections)
        )
    return Detail(
        f"event {_text(row.get('source'))} row {_text(row.get('source_row'))}", _event_sections(con, row)
    )


def indicator_lines(con: duckdb.DuckDBPyConnection, tkey: object) -> tuple[Line, ...]:
    """Every indicator fired for a token subject, worst first, each with its evidence."""
    if tkey is None:
        return ()
    rows = con.execute(
        "SELECT code, severity, evidence FROM token_indicators WHERE tkey = ? ORDER BY sev_rank DESC, code",
        [str(tkey)],
    ).fetchall()
    return tuple(Line(_text(code), _text(evidence), _text(severity)) for code, severity, evidence in rows)


def _claim_lines(document: object) -> tuple[Line, ...]:
    """A decoded JSON object as key/value lines; times also shown in UTC."""
    if not isinstance(document, str) or not document:
        return ()
    try:
        parsed = json.loads(document)
    except RecursionError:  # a hostile token may nest its claims 10,000 deep
        return (Line("(nested too deeply to show)", inert_cell(document[:200]), "dim"),)
    except ValueError:
        return (Line("(not JSON)", inert_cell(document[:200]), "dim"),)
    if not isinstance(parsed, dict):
        return (Line("(not an object)", inert_cell(document[:200]), "dim"),)
    lines = []
    for key, value in parsed.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if key in TIME_CLAIMS and isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                when = datetime.fromtimestamp(int(value), timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
                text = f"{value} ({when})"
            except (OverflowError, OSError, ValueError):
                pass
        lines.append(Line(inert_cell(key), inert_cell(text)))
    return tuple(lines)


def token_sections(con: duckdb.DuckDBPyConnection, tkey: object, sha256: object) -> tuple[Section, ...]:
    """Why flagged, then what the token says about itself (header, claims, signature)."""
    why = indicator_lines(con, tkey)
    sections = [Section("why flagged", why or (Line("no indicator fired", "", "dim"),))]
    claims = None
    if sha256 is not None:
        claims = con.execute(detail_sources.token_json_sql(con), [str(sha256)]).fetchone()
    if claims is None:
        sections.append(
            Section("token", (Line("subject", _text(tkey)), Line("raw token", "not in the evidence", "dim")))
        )
        return tuple(sections)
    alg, kid, sig, error, header, body = claims
    facts = [Line("sha256", _text(sha256)), Line("signature", _text(sig) or "not checked")]
    if error:
        facts.append(Line("decode error", _text(error), "high"))
    sections.append(Section("token", tuple(facts)))
    sections.append(
        Section("header", _claim_lines(header) or (Line("alg", _text(alg)), Line("kid", _text(kid))))
    )
    sections.append(Section("claims", _claim_lines(body) or (Line("(none decoded)", "", "dim"),)))
    return tuple(sections)


def _use_lines(row: dict[str, Any], names: Iterable[str]) -> tuple[Line, ...]:
    return tuple(Line(n, _text(row.get(n))) for n in names if row.get(n) not in (None, "", []))


def _token_sections(con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> tuple[Section, ...]:
    use = _use_lines(
        row, ("uses", "first_seen", "last_seen", "users", "mailboxes", "ips", "countries", "uti")
    )
    mfa = _section("MFA: token → issuing sign-in → session", explain_identity.token_mfa_rows(con, row))
    return (*token_sections(con, row.get("tkey"), row.get("tok_sha256")), mfa, Section("seen", use))


def _section(title: str, rows: Iterable[tuple[str, str, str]]) -> Section:
    return Section(
        title, tuple(Line(label, text, style) for label, text, style in rows) or (Line("none", "", "dim"),)
    )


def _mailbox_sections(con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> tuple[Section, ...]:
    tokens = detail_sources.mailbox_tokens(con, str(row.get("mailbox")))
    sections = [
        Section(
            "why flagged",
            (
                Line("severity", _text(row.get("severity")), _text(row.get("severity"))),
                Line("indicators", _text(row.get("indicators")) or "none"),
            ),
        )
    ]
    lines: list[Line] = []
    for tkey, rank, n, first, last, folders in tokens:
        lines.append(Line(_text(tkey), f"{n:,} accesses {_text(first)} → {_text(last)}", _sev(rank)))
        if rank and rank >= 3:
            if folders:  # which of the mailbox's folders a suspect token read
                lines.append(Line("  folders", _text(folders)))
            lines.extend(Line("  " + i.label, i.text, i.style) for i in indicator_lines(con, tkey))
    sections.append(Section("tokens that read it, worst first", tuple(lines) or (Line("none", "", "dim"),)))
    sections.append(
        _section(
            "sessions that read it, worst first",
            explain_identity.mailbox_session_rows(con, row.get("mailbox")),
        )
    )
    sections.append(
        _section(
            "changes made to it (rules, forwarding, permissions, auditing)",
            explain_identity.mailbox_action_rows(con, row.get("mailbox")),
        )
    )
    sections.append(
        Section(
            "accesses",
            _use_lines(
                row,
                (
                    "accesses",
                    "items",
                    "folders",
                    "flagged_accesses",
                    "flagged_tokens",
                    "first_access",
                    "last_access",
                    "identities",
                    "ips",
                    "app_ids",
                ),
            ),
        )
    )
    return tuple(sections)


def _model_line(label: str, text: str, style: str) -> Line:
    """A behaviour-model line, inert, with any raw token in a feature's value shown by its key (a
    token mapped into a user-agent or operation column becomes a feature value)."""
    return Line(inert_cell(mask_text(label)), inert_cell(mask_text(text)), style)


def _drift_sections(con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> tuple[Section, ...]:
    new = [
        Line(label, _text(row.get(column)), "high")
        for label, column in (
            ("new countries", "new_countries"),
            ("new app ids", "new_app_ids"),
            ("new client apps", "new_client_app_ids"),
            ("new IPs", "new_ips"),
            ("new user agents", "new_user_agents"),
        )
        if row.get(column)
    ]
    why = (
        Line("drift score", _text(row.get("drift_score"))),
        Line("reasons", _text(row.get("reasons"))),
        *new,
    )
    start, end = row.get("baseline_start"), row.get("baseline_end")
    base: list[Line] = []
    if start is not None and end is not None:
        for dim, distinct, top, all_values in detail_sources.baseline_values(
            con, str(row.get("user")), start, end
        ):
            text = " ".join(all_values) if dim == "hours (UTC)" else ", ".join(top)
            more = f" (+{distinct - len(top)} more)" if dim != "hours (UTC)" and distinct > len(top) else ""
            base.append(Line(dim, inert_cell(text + more)))
    title = f"baseline {_text(start)} → {_text(end)}"
    volume = _use_lines(
        row,
        ("baseline_events", "window_events", "volume_ratio", "off_hours_share", "window_start", "window_end"),
    )
    model = tuple(_model_line(*line) for line in explain_model.user_lines(con, row))
    return (
        *((Section("behaviour model", model),) if model else ()),
        Section("why it drifted", why),
        Section(title, tuple(base) or (Line("no baseline activity", "", "dim"),)),
        Section("volume", volume),
    )


def _event_sections(con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> tuple[Section, ...]:
    event = _use_lines(
        row,
        (
            "ts",
            "severity",
            "indicators",
            "kind",
            "operation",
            "user",
            "mailbox",
            "client_ip",
            "country",
            "user_agent",
            "app_id",
            "client_app_id",
            "session_id",
            "token_id",
            "status",
            "items",
            "target",
            "params",
            "source",
            "source_row",
        ),
    )
    hits = explain_identity.event_hit_rows(con, row.get("source"), row.get("source_row"))
    own = (_section("why this record is flagged", hits),) if hits else ()
    model = tuple(_model_line(*line) for line in explain_model.event_lines(con, row.get("rn")))
    own = (*own, Section("how unusual (behaviour model)", model)) if model else own
    if row.get("tkey") is None:
        return (*own, Section("event", event))
    return (*own, *token_sections(con, row.get("tkey"), row.get("tok_sha256")), Section("event", event))
