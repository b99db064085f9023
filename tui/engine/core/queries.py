"""Named SQL from `queries/` (one file per query, `-- returns:` on top, values as `?`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import tui


def queries_dir() -> Path:
    """`tui/queries` in an installed wheel, the repository's `queries/` in a checkout."""
    here = Path(tui.__file__).parent
    for candidate in (here / "queries", here.parent / "queries"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("queries/ directory not found next to the tui package")


@dataclass(frozen=True)
class NamedQuery:
    """One `.sql` file: its name, what it returns, and its text."""

    name: str
    returns: str
    sql: str


@cache
def named_query(name: str) -> NamedQuery:
    """Read `queries/<name>.sql`; the name comes from code, never from user input."""
    path = queries_dir() / f"{name}.sql"
    text = path.read_text(encoding="utf-8")
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    if not first.startswith("-- returns:"):
        raise ValueError(f"{path.name}: first line must be '-- returns: …'")
    return NamedQuery(name=name, returns=first.removeprefix("-- returns:").strip(), sql=text)


def all_query_names() -> list[str]:
    """Every named query shipped with the package."""
    return sorted(p.stem for p in queries_dir().glob("*.sql"))
