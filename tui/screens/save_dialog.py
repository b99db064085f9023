"""Ask where to save findings; refuse a path inside an evidence folder before anything is written."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.engine.core.safe import inert_cell
from tui.engine.findings.save_view import manifest_path, save_refusal
from tui.widgets.in_order_input import InOrderInput, run_binding_now


class SaveDialog(ModalScreen[Path | None]):
    """`ctrl+s`: the CSV path (default in the working directory); dismisses with the path or None.

    Where a key typed right after ctrl+s goes depends on when the App reads it: the App sends each key
    to the focused widget of the top screen at the moment it reads it.
    - Before the ctrl+s binding has run (ctrl+s first travels from the table up to the App): to the
      table of the main screen. It comes back up to the App once this dialog is on top, so the main
      screen's bindings (1-4, t, space…) no longer match: it is dropped, never a pane switch, but a
      bound key in the same burst (ctrl+u, enter) then acts on this input. Only a priority binding
      for ctrl+s (run as the App reads it) closes that window: main.py binds it so.
    - After the dialog is pushed but before it has composed (nothing focused yet): to this screen,
      where Textual dropped printable keys; `on_key` now hands them to the input, in order.
    - Once the input has the focus: to the input, in order thanks to InOrderInput (the retyping the
      tests did was for this: tmux's C-u then the path came in one read and C-u erased the path).
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="save.cancel")]
    AUTO_FOCUS = "#save-path"

    def __init__(self, default: Path, evidence: Sequence[Path], what: str) -> None:
        super().__init__()
        self.default = default
        self.evidence = tuple(evidence)
        self.what = what
        self._confirm_overwrite: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="save-box"):
            yield Static(f"Save {inert_cell(self.what)} as findings CSV", id="save-title", markup=False)
            yield InOrderInput(str(self.default), id="save-path", select_on_focus=False)
            yield Static("", id="save-note", markup=False)
            yield Static("enter save · escape cancel", id="save-keys", markup=False)

    def on_mount(self) -> None:
        path = self.query_one(InOrderInput)
        path.cursor_position = len(path.value)
        self.set_focus(path)  # now, not later: AUTO_FOCUS is skipped while the terminal reports no focus
        self._note(f"a manifest is written next to it ({manifest_path(self.default).name})")

    async def on_key(self, event: events.Key) -> None:
        """A key sent to the screen while nothing had the focus still reaches the path; escape acts now."""
        if await self.query_one(InOrderInput).take_key(event) or await run_binding_now(self, event.key):
            event.stop()

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
