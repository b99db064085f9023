"""Saving findings from the main screen: the dialog, the worker, the notification (a mixin of MainScreen)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.message import Message

from tui.engine.core.safe import inert_cell
from tui.engine.findings.save_view import Saved, default_save_path, save_view
from tui.screens.save_dialog import SaveDialog
from tui.widgets.pane_view import PaneView

if TYPE_CHECKING:
    from textual.screen import Screen

    _Screen = Screen[None]
else:
    _Screen = object


class Saving(_Screen):
    """`ctrl+s`: marked rows (with verdict and note) or the current view, plus the manifest."""

    if TYPE_CHECKING:
        session: Any
        options: Any

        def pane(self, name: str | None = None) -> PaneView: ...

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

        dialog = SaveDialog(default_save_path(view.spec.name), evidence_folders(self.session.report), what)

        def chosen(path: Path | None) -> None:
            if path is not None:
                self._save(view, marked, path)

        self.app.push_screen(dialog, chosen)

    @work(thread=True, exclusive=True, group="save", exit_on_error=False, name="saving findings")
    def _save(self, view: PaneView, marked: list[str], path: Path) -> None:
        from tui.engine.findings.scan import manifest_inputs

        cursor = self.session.cursor()
        try:
            saved = save_view(
                cursor,
                view.spec,
                view.where,
                view.filter_text,
                marked,
                path,
                inputs=manifest_inputs(self.session.report),
                options=self.options,
                filters={v.spec.name: v.filter_text for v in self.query(PaneView)},
                order=view.order_sql,
                order_label=view.order.label() if view.order is not None else "",
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
