"""One catalogue entry (`Indicator`), the severities, and what an entry needs loaded to fire (`NEEDS`),
shared by every part of the catalogue."""

from __future__ import annotations

from dataclasses import dataclass

from tui.engine.core.schema import Kind


class Need:
    """What an indicator needs loaded to fire at all (`Indicator.needs`); `NEEDS` holds the query
    that returns a row when it is there. `run.run_catalogue` asks each need once per run and does
    not run an indicator one of whose needs is absent: its SQL returns no row then (each part of the
    catalogue says why; tests/test_indicator_needs.py runs them anyway on each sample log alone).
    One definition for both engines: DuckDB saves little, Spark a lot (planning an action
    indicator's SQL took 15-20 s on a gateway-only input, where `action_facts` holds no row)."""

    TOKENS = "tokens"  # a decoded bearer token (`token_claims`, which `_tok` is)
    SIGNINS = "signins"  # a sign-in record (`_signins`, the sign-in rows of `_iev`)
    RISKS = "risks"  # an Identity Protection risk detection
    ACTIONS = "actions"  # a change operation (`action_facts`)


NEEDS = {
    Need.TOKENS: "SELECT 1 FROM token_claims LIMIT 1",
    Need.SIGNINS: "SELECT 1 FROM _signins LIMIT 1",
    Need.RISKS: f"SELECT 1 FROM events_t WHERE kind = '{Kind.RISK}' LIMIT 1",
    Need.ACTIONS: "SELECT 1 FROM action_facts LIMIT 1",
}

SEVERITIES = ("info", "low", "medium", "high", "critical")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES, start=1)}


@dataclass(frozen=True)
class Indicator:
    """One catalogue entry; `sql` holds one or more SELECTs producing the scope's columns."""

    code: str
    severity: str
    scope: str  # "token" or "row"
    description: str
    sql: tuple[str, ...]
    graded: bool = False  # the SQL's last column names each hit's severity (NULL: `severity`)
    # `NEEDS` names, each of which must be loaded for any of `sql` to return a row: each SELECT
    # reads the relation by an inner join (or filters on what only it holds)
    needs: tuple[str, ...] = ()

    @property
    def rank(self) -> int:
        """1 (info) … 5 (critical)."""
        return SEVERITY_RANK[self.severity]


__all__ = ["NEEDS", "SEVERITIES", "SEVERITY_RANK", "Indicator", "Need"]
