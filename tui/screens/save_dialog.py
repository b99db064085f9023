"""Ask where to save findings; refuse a path inside an evidence folder before anything is written."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.engine.panes import manifest_path, save_refusal
from tui.engine.safe import inert_cell


class SaveDialog(ModalScreen[Path | None]):
    """`ctrl+s`: the CSV path (default in the working directory); dismisses with the path or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="save.cancel")]

    def __init__(self, default: Path, evidence: Sequence[Path], what: str) -> None:
        super().__init__()
        self.default = default
        self.evidence = tuple(evidence)
        self.what = what
        self._confirm_overwrite: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="save-box"):
            yield Static(f"Save {inert_cell(self.what)} as findings CSV", id="save-title", markup=False)
            yield Input(str(self.default), id="save-path", select_on_focus=False)
            yield Static("", id="save-note", markup=False)
            yield Static("enter save · escape cancel", id="save-keys", markup=False)

    def on_mount(self) -> None:
        path = self.query_one(Input)
        path.cursor_position = len(path.value)
        path.focus()
        self._note(f"a manifest is written next to it ({manifest_path(self.default).name})")

    def _note(self, text: str, error: bool = False) -> None:
        note = self.query_one("#save-note", Static)
        note.update(text)
        note.set_class(error, "-error")

    @on(Input.Changed, "#save-path")
    def _changed(self, event: Input.Changed) -> None:
        self._confirm_overwrite = None
        refusal = (
            save_refusal(Path(event.value).expanduser(), self.evidence) if event.value else "give a path"
        )
        self._note(
            refusal or f"a manifest is written next to it ({manifest_path(Path(event.value)).name})",
            error=refusal is not None,
        )

    @on(Input.Submitted, "#save-path")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        path = Path(event.value).expanduser()
        refusal = save_refusal(path, self.evidence) if event.value else "give a path"
        if refusal:
            self._note(refusal, error=True)
            return
        path = Path(os.path.realpath(path))
        if path.exists() and self._confirm_overwrite != path:
            self._confirm_overwrite = path
            self._note(f"{inert_cell(path.name)} exists: enter again to overwrite it", error=True)
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
