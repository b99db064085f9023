"""What the main screen's parts share through `self`, declared once so mypy checks every use.

`MainScreen` is `Opening + Workflow + TimeControls + Saving` (one file each) over a Textual `Screen`.
They share state (the session, the marks, the current pane, the filters and sorts a restored
session gives back) and call each other (`pane`, `action_pane`, `save_session_state`, `_show_split`…).
Each part derives from `MainScreenBase`: for mypy, a `Screen[None]` that declares that state and
those methods with their types, so a part's use of another's attribute, and each definition of it
(mypy checks the definitions in `MainScreen` and the parts against these), is type-checked; at run
time it is `object` and adds nothing to the MRO.

Threads: the parts' workers (`@work(thread=True)`) never write this state; they read what they
were handed as arguments (or the session, which is set once on the UI thread before any worker
that reads it starts) and answer with messages, which run on the UI thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping
    from concurrent.futures import Future

    import duckdb
    from textual.screen import Screen

    from tui.engine.analyses.marks import Mark
    from tui.engine.case.session import Session
    from tui.engine.case.state import InputFile
    from tui.engine.core.options import Options
    from tui.widgets.pane_view import PaneView

    class MainScreenBase(Screen[None]):
        """The shared state and the methods one part calls on another (defined where noted)."""

        # MainScreen
        paths: list[str]
        options: Options
        session: Session | None  # None until the opening worker has loaded the inputs
        current: str  # the pane on screen
        drill_stack: list[tuple[str, str, str]]
        marks: dict[str, dict[str, Mark]]  # pane → key → mark: the analyst's book
        # Workflow (init_workflow)
        files: tuple[InputFile, ...]
        saved_filters: dict[str, str]  # restored filters not yet applied (their pane still loading)
        saved_sorts: dict[str, tuple[str, bool]]
        saved_pane: str | None

        # MainScreen
        def pane(self, name: str | None = None) -> PaneView: ...
        def action_pane(self, name: str) -> None: ...
        def _apply(self, view: PaneView, text: str) -> str | None: ...

        # Opening
        def _show_activity(self, fraction: float | None = None) -> None: ...

        # Workflow
        def save_session_state(self) -> None: ...
        def restore_in_worker(
            self,
            con: duckdb.DuckDBPyConnection,
            session: Session,
            hashes: Mapping[str, Future[str]] | None = None,
        ) -> None: ...

        # TimeControls
        def _show_split(self, busy: bool = False) -> None: ...
        def refresh_timeline(self) -> None: ...
        def stop_resplit(self) -> None: ...

else:
    MainScreenBase = object

__all__ = ["MainScreenBase"]
