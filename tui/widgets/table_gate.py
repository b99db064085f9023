"""The gate between the queries that read the analysis tables and the drift-split recompute that
rebuilds them: readers share it, the recompute holds it alone, so no pane, detail panel, timeline
or save ever reads a table the recompute has half built.

Why a gate and not a transaction: the recompute (`tui.screens.time_controls.recompute`) deletes and
re-inserts the split's indicator hits, rebuilds the severity tables, the stored events
(`events_a`, in the attached work database) and the pane tables (`mailboxes` in two statements:
its rows, then its `actions` column). A DuckDB transaction may write to one attached database
only, so no single transaction can swap all of them in; behind the gate a reader sees every table
as it was before the recompute or as it is after, never a mixture, and the panes query again once
it is done. What the analyst sees meanwhile: the panes keep their rows (their pages already held
stay on screen), a new filter or a page not yet held waits, and the header says `recomputing…`.

Writers go first: once a recompute waits, new readers wait behind it, so a stream of page fetches
cannot hold it off. A reader that waits can be told to give up (`stop`: its filter was superseded,
the app is quitting); it then raises `Superseded`, which the workers treat like DuckDB's interrupt.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

POLL_S = 0.05  # how often a waiting reader or writer checks whether it should give up


class Superseded(Exception):
    """A query gave up waiting at the gate: a newer one replaced it, or the app is closing."""


class TableGate:
    """A readers-writer lock with writer preference and abandonable waits."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextmanager
    def reading(self, stop: Callable[[], bool] = lambda: False) -> Iterator[None]:
        """Hold the gate with other readers while no recompute runs or waits."""
        with self._cond:
            while self._writing or self._writers_waiting:
                if stop():
                    raise Superseded
                self._cond.wait(POLL_S)
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def writing(self, stop: Callable[[], bool] = lambda: False) -> Iterator[None]:
        """Hold the gate alone, once the readers inside have finished."""
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writing or self._readers:
                    if stop():
                        raise Superseded
                    self._cond.wait(POLL_S)
            finally:
                self._writers_waiting -= 1
                self._cond.notify_all()
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()

    @property
    def busy(self) -> bool:
        """A recompute holds the gate or waits for it (readers would wait)."""
        with self._cond:
            return self._writing or self._writers_waiting > 0


# One gate for the app's analysis tables (like `SPLIT_LOCK`, one writer of them at a time).
TABLES = TableGate()
