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

    def member(self, column: str, text: str, path: str) -> str:
        """The element of `column`'s list that holds `path` (a JSON path without wildcards)."""
        if column not in self._columns:
            alias = f"__json_{len(self._columns)}"
            while alias.lower() in self._taken:
                alias = "_" + alias
            self._columns[column] = (alias, text, [])
        alias, _, paths = self._columns[column]
        if path not in paths:
            paths.append(path)
        return f"{ident(alias)}[{paths.index(path) + 1}]"

    def projection(self) -> str:
        """The lists, as columns to add to the source's own (empty when nothing is read from JSON)."""
        return ", ".join(
            f"try(json_extract_string({text}, [{', '.join(literal(p) for p in paths)}])) AS {ident(alias)}"
            for alias, text, paths in self._columns.values()
        )


__all__ = ["JsonReads"]
