"""The analyst's marks and verdicts as a small DuckDB table joined into every pane's rows.

`marks(pane, key, verdict, note, marked_at)` holds one row per marked row, keyed as the panes key
them: `tkey` (tokens), the lower-case mailbox (mailboxes), the lower-case user (drift) and
`source#source_row` (events). Views `<pane>_marked` add `verdict`, `note` and `mark` (where the
mark came from: token, mailbox, user or event) so a filter such as `verdict=finding` works on
every pane; an event inherits its own mark first, then its token's, mailbox's and user's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

VERDICTS = ("finding", "false_positive", "needs_review")
VERDICT_LABELS = {"finding": "finding", "false_positive": "false positive", "needs_review": "needs review"}
GLYPHS = {None: "✓", "finding": "!", "false_positive": "✗", "needs_review": "?"}
MARK_COLUMNS = {"verdict": "VARCHAR", "note": "VARCHAR", "mark": "VARCHAR"}
ENTITY = {
    "tokens": "token",
    "mailboxes": "mailbox",
    "drift": "user",
    "events": "event",
    "sessions": "session",
}
_KEY = {"tokens": "tkey", "mailboxes": "mailbox", "drift": '"user"', "sessions": "session_id"}


@dataclass(frozen=True)
class Mark:
    """One marked row: plain (`verdict` None) or with a verdict, and the analyst's note."""

    pane: str
    key: str
    verdict: str | None = None
    note: str = ""
    marked_at: str = ""  # ISO-8601 UTC

    @property
    def glyph(self) -> str:
        return GLYPHS.get(self.verdict, "✓")


def _own_view(pane: str) -> str:
    return f"""CREATE OR REPLACE VIEW {pane}_marked AS
        SELECT t.*, m.verdict, m.note, CASE WHEN m.key IS NOT NULL THEN '{ENTITY[pane]}' END AS mark
        FROM {pane} t LEFT JOIN marks m ON m.pane = '{pane}' AND m.key = t.{_KEY[pane]}"""


# Every join key is a stored column: the marked tokens are resolved to their integer `tok_key` (or uti)
# once, and `user`/`mailbox` are stored lower-case by the loader (normalise.py; the token fill is
# `lower(upn)`), so no per-row `tkey` text or `lower()` runs — it cost every Events filter ~40 ms
# at 10M rows even with no mark at all. A row matches at most one of `mk` (raw token) and `mi` (uti).
_EVENTS_VIEW = """CREATE OR REPLACE VIEW events_marked AS
    WITH me AS (
        SELECT regexp_extract(key, '^(.*)#([0-9]+)$', 1) AS source,
               CAST(regexp_extract(key, '^(.*)#([0-9]+)$', 2) AS BIGINT) AS source_row, verdict, note
        FROM marks WHERE pane = 'events'
    ),
    mk AS (
        SELECT c.tok_key, m.key, m.verdict, m.note
        FROM marks m JOIN token_claims c ON c.tok_sha256 = substr(m.key, 8)
        WHERE m.pane = 'tokens' AND m.key LIKE 'sha256:%'
    ),
    mi AS (
        SELECT substr(key, 5) AS uti, key, verdict, note FROM marks WHERE pane = 'tokens' AND key LIKE 'uti:%'
    )
    SELECT e.*,
        coalesce(me.verdict, mk.verdict, mi.verdict, mm.verdict, mu.verdict) AS verdict,
        CASE WHEN me.verdict IS NOT NULL THEN me.note
             WHEN coalesce(mk.verdict, mi.verdict) IS NOT NULL THEN coalesce(mk.note, mi.note)
             WHEN mm.verdict IS NOT NULL THEN mm.note WHEN mu.verdict IS NOT NULL THEN mu.note
             ELSE coalesce(me.note, mk.note, mi.note, mm.note, mu.note) END AS note,
        CASE WHEN me.source IS NOT NULL THEN 'event' WHEN coalesce(mk.key, mi.key) IS NOT NULL THEN 'token'
             WHEN mm.key IS NOT NULL THEN 'mailbox' WHEN mu.key IS NOT NULL THEN 'user' END AS mark
    FROM events_rows e  -- `events` without the token text: no page shows it, and its join cost every filter
    LEFT JOIN me ON me.source = e.source AND me.source_row = e.source_row
    LEFT JOIN mk ON mk.tok_key = e.tok_key
    LEFT JOIN mi ON mi.uti = e.token_id AND e.tok_key IS NULL
    LEFT JOIN marks mm ON mm.pane = 'mailboxes' AND mm.key = e.mailbox
    LEFT JOIN marks mu ON mu.pane = 'drift' AND mu.key = e."user"
"""


def ensure_marks(con: duckdb.DuckDBPyConnection) -> None:
    """Create the marks table (once) and the `<pane>_marked` view of every pane table that exists."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS marks "
        "(pane VARCHAR, key VARCHAR, verdict VARCHAR, note VARCHAR, marked_at TIMESTAMP)"
    )
    present = {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_name IN "
            "('tokens', 'mailboxes', 'drift', 'events', 'sessions')"
        ).fetchall()
    }
    for pane in ("tokens", "mailboxes", "drift", "sessions"):
        if pane in present:
            con.execute(_own_view(pane))
    if "events" in present:
        con.execute(_EVENTS_VIEW)


def write_marks(con: duckdb.DuckDBPyConnection, marks: Iterable[Mark]) -> None:
    """Replace the marks table with these marks, in one transaction (readers never see it half done)."""
    rows = [(m.pane, m.key, m.verdict, m.note or None, m.marked_at or None) for m in marks]
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM marks")
        if rows:
            con.executemany("INSERT INTO marks VALUES (?, ?, ?, ?, CAST(? AS TIMESTAMP))", rows)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
