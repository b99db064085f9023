"""The five panes as data (SPEC §5, §10): each pane's table, named queries, row key, drill field and
the columns it shows first — what `tui.engine.analyses.panes` pages and the TUI lays out."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PaneSpec:
    """One pane: its table, its named queries, how its rows are keyed, drilled and shown."""

    name: str
    title: str
    key_sql: str  # SQL (from code, never input) giving the row key a mark refers to
    drill_field: str | None  # the column whose value drills to the pane's events
    lead: tuple[str, ...]  # columns shown first, in this order
    hidden: tuple[str, ...]  # fetched for keys and details, not shown
    widths: tuple[tuple[str, int], ...] = ()  # fixed widths, whatever the first page holds
    no_drill: str = "enter drills from a token, mailbox or user to its events"  # a row without the field

    @property
    def page_query(self) -> str:
        return f"{self.name}_page"

    @property
    def count_query(self) -> str:
        return f"{self.name}_count"


PANES: tuple[PaneSpec, ...] = (
    PaneSpec(
        "tokens",
        "Tokens",
        key_sql="tkey",
        drill_field="tkey",
        lead=(
            "severity",
            "indicators",
            "first_seen",
            "uses",
            "upn",
            "ips",
            "countries",
            "users",
            "mailboxes",
            "last_seen",
            "appid",
            "kid",
            "alg",
            "sig",
            "iss",
            "tid",
            "aud",
            "verdict",
            "note",
        ),
        hidden=("sev_rank", "evidence", "mark"),
        widths=(
            ("tkey", 18),
            ("tok_sha256", 16),
            ("users", 30),
            ("mailboxes", 30),
            ("iss", 30),
            ("verdict", 14),
            ("note", 30),
        ),
    ),
    PaneSpec(
        "mailboxes",
        "Mailboxes",
        key_sql="mailbox",
        drill_field="mailbox",
        lead=(
            "severity",
            "mailbox",
            "flagged_accesses",
            "flagged_tokens",
            "accesses",
            "items",
            "folders",
            "first_access",
            "last_access",
            "indicators",
            "actions",
            "identities",
            "ips",
            "app_ids",
            "verdict",
            "note",
        ),
        hidden=("sev_rank", "mark"),
        widths=(("folders", 30), ("verdict", 14), ("note", 30)),
    ),
    PaneSpec(
        "drift",
        "Drift",
        key_sql='"user"',
        drill_field="user",
        lead=(
            "user",
            "severity",
            "anomaly_score",
            "anomalies",
            "drift_score",
            "reasons",
            "new_countries",
            "new_ips",
            "new_app_ids",
            "new_client_app_ids",
            "new_user_agents",
            "off_hours_share",
            "volume_ratio",
            "baseline_events",
            "window_events",
            "verdict",
            "note",
        ),
        hidden=("mark", "sev_rank"),
        widths=(("anomalies", 48), ("reasons", 40), ("verdict", 14), ("note", 30)),
    ),
    PaneSpec(
        "events",
        "Events",
        key_sql="source || '#' || CAST(source_row AS VARCHAR)",
        drill_field="tkey",  # an event → its token on the Tokens pane
        lead=(
            "ts",
            "severity",
            "indicators",
            "anomaly",
            "kind",
            "operation",
            "user",
            "mailbox",
            "client_ip",
            "country",
            "user_agent",
            "app_id",
            "client_app_id",
            "status",
            "items",
            "verdict",
            "note",
        ),
        hidden=("sev_rank", "mark", "rn"),
        widths=(
            ("indicators", 36),
            ("user", 30),
            ("mailbox", 30),
            ("operation", 24),
            ("client_ip", 15),
            ("user_agent", 30),
            ("tkey", 18),
            ("tok_sha256", 16),
            ("verdict", 14),
            ("note", 30),
        ),
        no_drill="this event names no token to go to",
    ),
    PaneSpec(
        "sessions",
        "Sessions",
        key_sql="session_id",
        drill_field="session_id",
        lead=(
            "severity",
            "user",
            "mfa",
            "indicators",
            "first_seen",
            "last_seen",
            "events",
            "signins",
            "tokens",
            "ips",
            "countries",
            "devices",
            "user_agents",
            "apps",
            "session_id",
            "verdict",
            "note",
        ),
        hidden=("sev_rank", "evidence", "mark"),
        widths=(
            ("user", 30),
            ("indicators", 36),
            ("user_agents", 30),
            ("session_id", 18),
            ("verdict", 14),
            ("note", 30),
        ),
    ),
)
PANE_BY_NAME = {p.name: p for p in PANES}


__all__ = ["PANES", "PANE_BY_NAME", "PaneSpec"]
