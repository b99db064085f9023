"""One catalogue entry (`Indicator`) and the severities, shared by both halves of the catalogue."""

from __future__ import annotations

from dataclasses import dataclass

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

    @property
    def rank(self) -> int:
        """1 (info) … 5 (critical)."""
        return SEVERITY_RANK[self.severity]


__all__ = ["SEVERITIES", "SEVERITY_RANK", "Indicator"]
