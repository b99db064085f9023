"""The DuckDB cursors of one pane's running workers, and the generation they work for.

The one piece of a pane's state that two threads touch: a worker registers the cursor it queries
on, and the UI thread interrupts it when a newer filter (or quitting) makes its result moot. Both
happen under one lock, together with the generation check: a worker registers its cursor only
while its generation is still the current one, so a newer filter either finds the cursor and
interrupts it, or the worker sees itself superseded and does not start. Everything else of the
pane stays on the UI thread (`tui.widgets.pane_view`).
"""

from __future__ import annotations

import threading
from typing import Protocol

import duckdb


class CursorSource(Protocol):
    """Where a pane's workers take their cursors: the `Session`, or the Tokens preview's `Cursors`."""

    def cursor(self) -> duckdb.DuckDBPyConnection: ...


class PaneCursors:
    """Running workers' cursors by kind (`query`, `pages`, `jump`) and the current generation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cursors: dict[str, duckdb.DuckDBPyConnection] = {}
        self._generation = 0

    @property
    def generation(self) -> int:
        """The generation whose results the pane shows (the UI thread's to move on)."""
        with self._lock:
            return self._generation

    def supersede(self, *kinds: str) -> int:
        """A new generation (UI thread): older results are dropped, the `kinds` workers interrupted."""
        with self._lock:
            self._generation += 1
            stopped = [c for c in (self._cursors.pop(k, None) for k in kinds) if c is not None]
            generation = self._generation
        for cursor in stopped:
            _interrupt(cursor)
        return generation

    def interrupt(self, kind: str) -> None:
        """Stop the `kind` worker's query, if one runs (UI thread)."""
        with self._lock:
            cursor = self._cursors.pop(kind, None)
        if cursor is not None:
            _interrupt(cursor)

    def take(self, kind: str, source: CursorSource, generation: int) -> duckdb.DuckDBPyConnection | None:
        """A worker's cursor, registered so the UI thread can interrupt it; None (and no cursor)
        when `generation` is already superseded."""
        cursor = source.cursor()
        with self._lock:
            if generation == self._generation:
                self._cursors[kind] = cursor
                return cursor
        cursor.close()
        return None

    def release(self, kind: str, cursor: duckdb.DuckDBPyConnection) -> None:
        """The worker is done with its cursor (its own thread)."""
        with self._lock:
            if self._cursors.get(kind) is cursor:
                self._cursors.pop(kind, None)
        cursor.close()


def _interrupt(cursor: duckdb.DuckDBPyConnection) -> None:
    try:
        cursor.interrupt()
    except duckdb.Error:
        pass  # it finished and closed in the meantime: nothing left to stop
