"""`m`: choose a verdict for the row (finding / false positive / needs review) and write a note."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tui.engine.analyses.marks import GLYPHS, VERDICT_LABELS, VERDICTS
from tui.engine.core.safe import inert_cell
from tui.widgets.in_order_input import InOrderInput, run_binding_now

PLAIN = "plain"  # marked, no verdict
REMOVE = "remove"
CHOICES = (*VERDICTS, PLAIN, REMOVE)


@dataclass(frozen=True)
class VerdictChoice:
    """What the analyst decided: a verdict (None: a plain mark) and a note, or to remove the mark."""

    verdict: str | None
    note: str
    remove: bool = False


class VerdictDialog(ModalScreen[VerdictChoice | None]):
    """Type the note while up/down pick the verdict; enter saves, escape cancels.

    The note has the focus throughout, so nothing typed quickly after `m` is lost to a focus change;
    it is an InOrderInput and keys that reach the screen before it has the focus are handed to it, as
    in SaveDialog (whose docstring says where such keys went).
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="verdict.cancel"),
        Binding("up", "choose(-1)", "Previous verdict", id="verdict.up", show=False),
        Binding("down", "choose(1)", "Next verdict", id="verdict.down", show=False),
    ]
    AUTO_FOCUS = "#verdict-note"

    def __init__(self, what: str, verdict: str | None, note: str, marked: bool) -> None:
        super().__init__()
        self.what = what
        self.verdict = verdict
        self.note = note
        self.marked = marked

    def compose(self) -> ComposeResult:
        options = [Option(f"{GLYPHS[v]}  {VERDICT_LABELS[v]}", id=v) for v in VERDICTS] + [
            Option(f"{GLYPHS[None]}  marked, no verdict", id=PLAIN),
            Option("   remove the mark", id=REMOVE),
        ]
        with Vertical(id="verdict-box"):
            yield Static(f"Verdict for {inert_cell(self.what)}", id="verdict-title", markup=False)
            choice = OptionList(*options, id="verdict-choice")
            choice.can_focus = False
            yield choice
            yield InOrderInput(self.note, placeholder="note (why, ticket, who)", id="verdict-note")
            yield Static("↑↓ verdict · type a note · enter save · escape cancel", id="verdict-keys")

    def on_mount(self) -> None:
        choice = self.query_one(OptionList)
        current = self.verdict if self.verdict in VERDICTS else (PLAIN if self.marked else VERDICTS[0])
        choice.highlighted = CHOICES.index(current)
        self.set_focus(self.query_one(InOrderInput))  # AUTO_FOCUS is skipped while the terminal has no focus

    async def on_key(self, event: events.Key) -> None:
        """A key sent to the screen while nothing had the focus still reaches the note; up/down/escape act
        now, not after a bubble to the App, or a `down` typed before enter would miss the verdict saved."""
        if await self.query_one(InOrderInput).take_key(event) or await run_binding_now(self, event.key):
            event.stop()

    @property
    def chosen(self) -> str:
        index = self.query_one(OptionList).highlighted
        return CHOICES[index if index is not None else 0]

    def action_choose(self, step: int) -> None:
        choice = self.query_one(OptionList)
        index = choice.highlighted if choice.highlighted is not None else 0
        choice.highlighted = (index + step) % len(CHOICES)

    @on(OptionList.OptionSelected, "#verdict-choice")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()  # a click picks the verdict; the note keeps the focus
        self.query_one(Input).focus()

    @on(Input.Submitted, "#verdict-note")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        chosen = self.chosen
        if chosen == REMOVE:
            self.dismiss(VerdictChoice(None, "", remove=True))
            return
        self.dismiss(VerdictChoice(None if chosen == PLAIN else chosen, event.value.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)
