"""The detail panel's identity sections (SPEC §10): a session's indicators and MFA provenance, a
token's MFA chain (token → the sign-in that issued it → its session's first interactive sign-in,
each step with its method and result), the sessions that read a mailbox, and the actions (SPEC §10's
changes: rules, forwarding, permissions, roles…) done in a session or to a mailbox.

Sign-ins are read from `events_t` (a session's are few; every row of them is its own record, so the
token-filled columns of `events` are not needed), the sessions from the `sessions` table.
"""

from __future__ import annotations

from typing import Any

import duckdb

from tui.engine.analyses import detail_sources
from tui.engine.analyses.actions import ACTIONS_ORDER
from tui.engine.analyses.panes import display_value
from tui.engine.core.schema import Kind

Row = tuple[str, str, str]  # label, text, style: explain.Line's fields (explain builds the Lines)
SIGNINS_SHOWN = 8
ACTIONS_SHOWN = 12
# the panel prints a severity style's name beside the text: MFA facts are plain, `unknown` dim
_MFA_STYLE = {"performed": "", "by_claim": "", "single_factor": "", "no_issuance_record": ""}
_SIGNIN = f"""SELECT ts, category, client_ip, country, device_id, mfa, auth_steps, request_id, status,
    incoming_token_type, auth_protocol
    FROM events_t WHERE kind = '{Kind.SIGNIN}'"""


def _t(value: object) -> str:
    return str(display_value(value))


def _signin_rows(fetched: list[tuple[Any, ...]]) -> list[Row]:
    out: list[Row] = []
    for ts, category, ip, country, device, mfa, steps, request, status, incoming, protocol in fetched:
        what = ", ".join(
            _t(v)
            for v in (
                category,
                ip,
                country,
                f"device {device}" if device else "no device id",
                f"error {status}" if status not in (None, "0") else None,
                f"incoming {incoming}" if incoming not in (None, "none") else None,
                f"protocol {protocol}" if protocol not in (None, "none") else None,
            )
            if v
        )
        out.append((_t(ts), f"{what}; request {_t(request)}", ""))
        out.append(
            (
                "  mfa",
                f"{_t(mfa)}: {_t(steps) if steps else 'no steps in the record'}",
                _MFA_STYLE.get(mfa, "dim"),
            )
        )
    return out


def session_rows(con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> list[tuple[str, list[Row]]]:
    """The sections of a Sessions-pane row: why flagged, MFA provenance with its sign-ins, the usage."""
    sid = row.get("session_id")
    why: list[Row] = [("severity", _t(row.get("severity")), _t(row.get("severity")))]
    for part in str(row.get("evidence") or "").split(" | "):
        code, _, text = part.partition(": ")
        if code:
            why.append((code, text, ""))
    facts = con.execute(
        "SELECT mfa, signin_ts, device, os, browser, country, covered FROM session_facts WHERE sid = ?", [sid]
    ).fetchone()
    mfa: list[Row] = [("mfa", _t(row.get("mfa")), _MFA_STYLE.get(str(row.get("mfa")), "dim"))]
    if facts is not None and facts[1] is not None:
        own = facts[2] or " ".join(v for v in (facts[3], facts[4]) if v) or "unknown"
        mfa.append(("own device", f"{_t(own)} in {_t(facts[5])}, first signed in {_t(facts[1])}", ""))
    signins = con.execute(
        f"{_SIGNIN} AND session_id = ? ORDER BY NOT coalesce(interactive, false), ts LIMIT {SIGNINS_SHOWN}",
        [sid],
    ).fetchall()
    mfa += _signin_rows(signins) or [("sign-ins", "none of this session is loaded", "dim")]
    use = [
        (name, _t(row.get(name)), "")
        for name in (
            "events",
            "signins",
            "tokens",
            "first_seen",
            "last_seen",
            "ips",
            "countries",
            "devices",
            "user_agents",
            "apps",
        )
        if row.get(name) not in (None, "", [])
    ]
    return [
        ("why flagged", why),
        ("MFA provenance: the session's sign-ins, interactive first", mfa),
        (
            "actions done in it (rules, forwarding, permissions, roles, consents…)",
            session_action_rows(con, sid),
        ),
        ("seen", use),
    ]


def token_mfa_rows(con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> list[Row]:
    """A token's MFA chain: its `amr`, the sign-in that issued it (its uti), its session's first
    interactive sign-in."""
    out: list[Row] = [("mfa", _t(row.get("mfa")), _MFA_STYLE.get(str(row.get("mfa")), "dim"))]
    if row.get("amr"):
        out.append(("amr", _t(row.get("amr")), ""))
    uti, sid = row.get("uti"), row.get("session_id")
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'events_t'").fetchone()[0]:  # type: ignore[index]
        return [*out, ("sign-ins", "still loading (the Tokens preview)", "dim")]
    issued = con.execute(f"{_SIGNIN} AND token_id = ? ORDER BY ts LIMIT 1", [uti]).fetchall() if uti else []
    out.append(
        (
            "issued by",
            "the sign-in with its uti" if issued else "no loaded sign-in names its uti",
            "" if issued else "dim",
        )
    )
    out += _signin_rows(issued)
    if sid:
        first = con.execute(
            f"{_SIGNIN} AND session_id = ? ORDER BY NOT coalesce(interactive, false), ts LIMIT 1", [sid]
        ).fetchall()
        out.append(
            (
                "session",
                f"{_t(sid)}: " + ("its first interactive sign-in" if first else "no sign-in of it is loaded"),
                "",
            )
        )
        out += _signin_rows(first)
    return out


def mailbox_session_rows(con: duckdb.DuckDBPyConnection, mailbox: object) -> list[Row]:
    """The sessions that read a mailbox, worst first (from its reads' session ids)."""
    fetched = con.execute(
        f"""SELECT s.session_id, s."user", s.severity, s.sev_rank, s.mfa, m.n
        FROM ({detail_sources.mailbox_sessions_sql(con)}) m JOIN sessions s USING (session_id)
        ORDER BY s.sev_rank DESC, m.n DESC, s.session_id LIMIT 10""",
        [str(mailbox)],
    ).fetchall()
    return [
        (_t(sid), f"{_t(user)}: {n:,} accesses, mfa {_t(mfa)}, {_t(severity)}", _t(severity) if rank else "")
        for sid, user, severity, rank, mfa, n in fetched
    ]


def _action_rows(fetched: list[tuple[Any, ...]], total: int) -> list[Row]:
    out = [
        (f"{_t(ts)} {code}", f"{_t(user)}: {_t(evidence)}", _t(severity))
        for ts, code, severity, user, evidence in fetched
    ]
    if total > len(fetched):
        out.append(
            ("more", f"{total - len(fetched):,} more in actions.csv (or filter code= on Events)", "dim")
        )
    return out


def _select(con: duckdb.DuckDBPyConnection, where: str, value: object) -> list[Row]:
    total = con.execute(f"SELECT count(*) FROM actions WHERE {where}", [value]).fetchone()[0]  # type: ignore[index]
    fetched = con.execute(
        f"""SELECT ts, code, severity, "user", evidence FROM actions WHERE {where}
        ORDER BY {ACTIONS_ORDER} LIMIT {ACTIONS_SHOWN}""",
        [value],
    ).fetchall()
    return _action_rows(fetched, int(total))


def mailbox_action_rows(con: duckdb.DuckDBPyConnection, mailbox: object) -> list[Row]:
    """The rules, forwarding, permissions and audit changes set on a mailbox, in time order."""
    return _select(con, "mailbox = lower(?)", str(mailbox))


def session_action_rows(con: duckdb.DuckDBPyConnection, session_id: object) -> list[Row]:
    """The actions done in a session, in time order."""
    return _select(con, "session_id = ?", str(session_id)) if session_id is not None else []


def event_hit_rows(con: duckdb.DuckDBPyConnection, source: object, source_row: object) -> list[Row]:
    """An event's own indicator hits (an action's, a sign-in's) with their evidence, worst first."""
    if source is None or source_row is None:
        return []
    fetched = con.execute(
        "SELECT code, severity, evidence FROM row_indicators WHERE source = ? AND source_row = ? "
        "ORDER BY sev_rank DESC, code",
        [str(source), int(source_row)],  # type: ignore[call-overload]
    ).fetchall()
    return [(code, _t(evidence), _t(severity)) for code, severity, evidence in fetched]


__all__ = [
    "event_hit_rows",
    "mailbox_action_rows",
    "mailbox_session_rows",
    "session_action_rows",
    "session_rows",
    "token_mfa_rows",
]
