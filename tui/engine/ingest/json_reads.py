"""Members of JSON text columns read once per row, for the event SELECT (`normalise.events_select`)."""

from __future__ import annotations

from collections.abc import Collection

from tui.engine.core.sql import ident, literal


class JsonReads:
    """The members an event SELECT reads from JSON text columns, each column parsed once per row.

    `try(json_extract_string(text, path))` parses the whole text for every member it reads, and a
    Purview record's `AuditData` (1–2 KB) was parsed 77 times a row (21 members, some read in
    several branches: the time by each of its formats). `events_select` computes one list per
    column, `try(json_extract_string(text, [path, …]))`, in a projection under the event columns,
    and a member is an element of it: the same values (a list of NULLs where the text is not
    JSON), 2.0 → 0.6 s for a 56k-record Purview export's rows.
    """

    def __init__(self, taken: Collection[str]) -> None:
        self._taken = {t.lower() for t in taken}
        self._columns: dict[str, tuple[str, str, list[str]]] = {}  # column → (alias, text, paths)
        self._once: dict[str, tuple[str, int]] = {}  # expression → (alias, layer)

    def _alias(self, stem: str, n: int) -> str:
        alias = f"__{stem}_{n}"
        while alias.lower() in self._taken:
            alias = "_" + alias
        return alias

    def member(self, column: str, text: str, path: str) -> str:
        """The element of `column`'s list that holds `path` (a JSON path without wildcards)."""
        if column not in self._columns:
            self._columns[column] = (self._alias("json", len(self._columns)), text, [])
        alias, _, paths = self._columns[column]
        if path not in paths:
            paths.append(path)
        return f"{ident(alias)}[{paths.index(path) + 1}]"

    def once(self, expr: str) -> str:
        """`expr` computed once per row (a column of a projection above the lists, `layers`), however
        many times the event columns use it: a sign-in's `authenticationDetails` parsed into steps is
        read by `auth_steps` and by `mfa`, each several times (1 in place of ~8 parses a row). An
        expression that reads another `once` column is computed in a projection above that one."""
        if any(expr == ident(alias) for alias, _ in self._once.values()):
            return expr  # already a `once` column
        if expr not in self._once:
            below = [layer for alias, layer in self._once.values() if ident(alias) in expr]
            self._once[expr] = (self._alias("once", len(self._once)), 1 + max(below, default=0))
        return ident(self._once[expr][0])

    def layers(self) -> list[str]:
        """The `once` columns, one projection per layer, lowest first (empty when none)."""
        top = max((layer for _, layer in self._once.values()), default=0)
        return [
            ", ".join(
                f"{expr} AS {ident(alias)}" for expr, (alias, layer) in self._once.items() if layer == n
            )
            for n in range(1, top + 1)
        ]

    def projection(self) -> str:
        """The lists, as columns to add to the source's own (empty when nothing is read from JSON)."""
        return ", ".join(
            f"try(json_extract_string({text}, [{', '.join(literal(p) for p in paths)}])) AS {ident(alias)}"
            for alias, text, paths in self._columns.values()
        )


__all__ = ["JsonReads"]
