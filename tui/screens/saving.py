"""Saving findings from the main screen: the dialog, the worker, the notification (a mixin of MainScreen)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.message import Message

from tui.engine.analyses.pane_specs import PaneSpec
from tui.engine.analyses.tables import Where
from tui.engine.core.safe import inert_cell
from tui.engine.findings.save_view import Saved, default_save_path, save_view
from tui.screens.save_dialog import SaveDialog
from tui.screens.shared import MainScreenBase
from tui.widgets.pane_view import PaneView
from tui.widgets.table_gate import TABLES

if TYPE_CHECKING:
    from tui.engine.case.session import Session


@dataclass(frozen=True)
class _Request:
    """What to save: the pane's view as the analyst confirmed the dialog."""

    spec: PaneSpec
    where: Where
    filter_text: str
    marked: list[str]
    path: Path
    filters: dict[str, str]  # every pane's filter, for the manifest
    order: str
    order_label: str


class Saving(MainScreenBase):
    """`ctrl+s`: marked rows (with verdict and note) or the current view, plus the manifest."""

    @dataclass
    class _Saved(Message):
        """A save finished (or failed with `error`)."""

        saved: Saved | None
        error: str | None = None

    def action_save(self) -> None:
        view = self.pane()
        if self.session is None or not view.ready:
            self.notify("nothing to save yet: this pane is still loading", severity="warning")
            return
        marked = sorted(view.marks)
        what = (
            f"{len(marked):,} marked row{'s' if len(marked) != 1 else ''} of {view.spec.title}"
            if marked
            else f"the current {view.spec.title} view ({view.shown:,} rows)"
        )
        from tui.engine.findings.scan import evidence_folders

        evidence = evidence_folders(self.session.report)
        if self.session.folder is not None:  # a findings folder is evidence too
            evidence.append(self.session.folder.path)
        dialog = SaveDialog(default_save_path(view.spec.name), evidence, what)

        session = self.session

        def chosen(path: Path | None) -> None:
            if path is None:
                return
            # the view as it is now, read here on the UI thread: the worker never reads the widgets
            self._save(
                session,
                _Request(
                    view.spec,
                    view.where,
                    view.filter_text,
                    marked,
                    path,
                    filters={v.spec.name: v.filter_text for v in self.query(PaneView)},
                    order=view.order_sql,
                    order_label=view.order.label() if view.order is not None else "",
                ),
            )

        self.app.push_screen(dialog, chosen)

    @work(thread=True, exclusive=True, group="save", exit_on_error=False, name="saving findings")
    def _save(self, session: Session, request: _Request) -> None:
        from tui.engine.findings.scan import manifest_inputs

        cursor = session.cursor()
        try:
            with TABLES.reading():  # a save waits out a split recompute: its rows are all of one split
                saved = save_view(
                    cursor,
                    request.spec,
                    request.where,
                    request.filter_text,
                    request.marked,
                    request.path,
                    inputs=_inputs(session, manifest_inputs),
                    options=self.options,
                    filters=request.filters,
                    order=request.order,
                    order_label=request.order_label,
                )
        except (ValueError, OSError) as exc:
            self.post_message(self._Saved(None, inert_cell(str(exc))))
            return
        finally:
            cursor.close()
        self.post_message(self._Saved(saved))

    def on_saving__saved(self, message: Saving._Saved) -> None:
        if message.saved is None:
            self.notify(f"not saved: {message.error}", severity="error", timeout=10)
            return
        saved = message.saved
        self.notify(
            f"saved {saved.rows:,} {'marked ' if saved.marked else ''}rows to {inert_cell(saved.csv)} "
            f"(+ {inert_cell(saved.manifest.name)})",
            title="findings saved",
            timeout=8,
        )


def _inputs(session: Session, of_report: Callable[[Any], list[dict[str, object]]]) -> list[dict[str, object]]:
    """A saved view's manifest inputs: the evidence's files hashed (`of_report`), or for a findings
    folder the inputs its scan pinned and the folder's own manifest.json with its hash."""
    if session.folder is None:
        return of_report(session.report)
    from tui.engine.case.state import sha256_of

    manifest = session.folder.path / "manifest.json"
    return [
        *session.folder.inputs(),
        {"path": str(manifest), "sha256": sha256_of(manifest), "kind": "findings"},
    ]
