"""The behaviour model's side of the detail panel (SPEC §11): why an event scored what it did — each
feature's bits with the counts behind them — and what the model says of a user. Plain text lines
(label, text, style) for `tui.engine.analyses.explain`; every string is made inert there.
"""

from __future__ import annotations

from typing import Any

import duckdb

from tui.engine.analyses.model_features import FEATURES, GROUP

# bits at or above which a feature's line is styled as a surprise (P ≤ 1/256)
SURPRISE_BITS = 8.0


def _n(value: object) -> str:
    return f"{int(value):,}" if isinstance(value, int | float) else "0"


def _ready(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() "
        "WHERE table_name IN ('model_scores', 'model_bits', 'model_peers')"
    ).fetchone()
    return bool(row and row[0] == 3)


def event_lines(con: duckdb.DuckDBPyConnection, rn: object) -> list[tuple[str, str, str]]:
    """Each feature of the event at `rn` with its bits and counts, the recency of its network, and what
    it was scored against; [] when the model has not scored it (no user features, a detection)."""
    if rn is None or not _ready(con):
        return []
    keys = " AND ".join(f"c.{k} IS NOT DISTINCT FROM e.{k}" for k in GROUP.split(", "))
    cols = ", ".join(f"c.{c}" for c, _ in FEATURES)
    row = con.execute(
        f"""SELECT c.u, c.learn, c.failed, c.phase, s.anomaly, s.basis, s.b_recency, r.gap, r.ge, r.total,
                   c.net, p.events, p.grp, p.peers, {cols}
            FROM model_events e
            JOIN model_combos c ON {keys}
            JOIN model_scores s ON s.cid = c.cid
            LEFT JOIN model_recency r ON r.u = c.u AND r.net = c.net AND c.phase = 'w'
            LEFT JOIN model_peers p ON p.u = c.u
            WHERE e.rn = ?""",
        [rn],
    ).fetchone()
    if row is None:
        return []
    u, learn, failed, phase, anomaly, basis, b_rec, gap, ge, total, net, events, grp, peers = row[:14]
    values = dict(zip((c for c, _ in FEATURES), row[14:], strict=True))
    vals = {f: v for f, v in values.items() if v is not None}
    lines: list[tuple[str, str, str]] = [("anomaly", f"{anomaly:.1f} bits", _style(anomaly, 40.0))]
    lines.append(("scored against", _basis(basis, events, grp, peers), "dim"))
    if failed:
        lines.append(("failed sign-in", "an attempt against the user: scored, never learned from", "dim"))
    elif learn:
        lines.append(("baseline event", "scored leave-one-out: against everything but itself", "dim"))
    found = {  # every feature's bits and counts in one read of model_bits
        r[0]: r[1:]
        for r in con.execute(
            """SELECT b.f, b.bits, b.nu, b.nun, b.ng, b.ngn, b.nt, b.ntn
               FROM model_bits b
               JOIN (SELECT unnest(?::VARCHAR[]) AS f, unnest(?::VARCHAR[]) AS v) w ON w.f = b.f AND w.v = b.v
               WHERE b.u = ? AND b.learn = ?""",
            [list(vals), [str(v) for v in vals.values()], u, learn],
        ).fetchall()
    }
    for f, name in FEATURES:
        if f in vals and f in found:
            b, nu, nun, ng, ngn, nt, ntn = found[f]
            lines.append((f"{name} {vals[f]}", _counts(b, nu, nun, ng, ngn, nt, ntn, basis), _style(b)))
    if b_rec and gap is not None:
        text = (
            f"{b_rec:.1f} bits: last used {gap} days before the window; {_n(ge)} of {_n(total)} baseline "
            "reuses of a network waited that long"
        )
        lines.append((f"recency {net}", text, _style(b_rec)))
    missing = [name for f, name in FEATURES if f not in vals and f not in ("device", "mbx", "capp")]
    if missing:
        lines.append(("not in the record", ", ".join(missing) + " (no bits)", "dim"))
    return lines


def _counts(b: float, nu: int, nun: int, ng: int, ngn: int, nt: int, ntn: int, basis: str) -> str:
    user = "" if basis != "user" else f"{_n(nu)} of {_n(nun)} of this user's events, "
    if basis == "user" and nu == 0:
        user = f"never for this user (0 of {_n(nun)}), "
    peers = "" if basis == "no user" else f"{_n(ng)} of {_n(ngn)} peer events, "
    return f"{b:.1f} bits: {user}{peers}{_n(nt)} of {_n(ntn)} tenant events"


def _basis(basis: str, events: object, grp: object, peers: object) -> str:
    group = (
        f"peers: the {_n(peers)} other users of {grp}"
        if grp
        else f"peers: the {_n(peers)} other users no app or mailbox sets apart"
    )
    if basis == "no user":
        return "the tenant (the record names no user)"
    if basis == "learning":
        return f"peers and tenant (learning: {_n(events)} events to learn from); {group}"
    return f"this user ({_n(events)} events to learn from), then {group}, then the tenant"


def _style(bits: float | None, high: float = SURPRISE_BITS) -> str:
    return "high" if bits is not None and bits >= high else ""


def user_lines(con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> list[tuple[str, str, str]]:
    """What the model says of a Drift row's user: score, basis, peers and each top reason."""
    user = row.get("user")
    if user is None or not _ready(con):
        return []
    found = con.execute(
        """SELECT m.anomaly_score, m.max_anomaly, m.scored_events, p.learning, p.events, p.grp, p.peers
           FROM model_users m LEFT JOIN model_peers p ON p.u = m."user" WHERE m."user" = ?""",
        [str(user)],
    ).fetchone()
    if found is None:
        return [("anomaly score", "no successful events in the window", "dim")]
    score, top, scored, learning, events, grp, peers = found
    k = con.execute("SELECT top_k FROM model_options").fetchone()
    lines = [
        (
            "anomaly score",
            f"{score:.1f} bits: the sum of the {k[0] if k else '?'} highest window events",
            _style(score, 100.0),
        ),
        ("highest event", f"{top:.1f} bits of {_n(scored)} successful window events", ""),
        ("scored against", _basis("learning" if learning else "user", events, grp, peers), "dim"),
    ]
    for reason in str(row.get("anomalies") or "").split("; "):
        if reason:
            lines.append(("reason", reason, "high"))
    return lines


__all__ = ["SURPRISE_BITS", "event_lines", "user_lines"]
