"""`[1 Tokens 72⚑] [2 Mailboxes 5⚑] [3 Drift] [4 Events]`: the panes, their flags, which is shown."""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from tui.engine.analyses.pane_specs import PANES


class PaneTabs(Widget):
    """The pane switcher line; the screen sets `active` and `flags`; a click asks to switch."""

    # `layout=True`: the line is as wide as its labels (`width: auto`), and the flag counts arrive
    # after the first layout; without it `[4 Events]` stayed hidden under the filter hint at 10M rows.
    active: reactive[str] = reactive("tokens")
    flags: reactive[dict[str, int | None]] = reactive(dict, always_update=True, layout=True)
    pending: reactive[frozenset[str]] = reactive(frozenset(p.name for p in PANES), layout=True)

    @dataclass
    class Switch(Message):
        """The analyst clicked a tab."""

        pane: str

    def render(self) -> Text:
        line = Text(" ", no_wrap=True)
        for number, spec in enumerate(PANES, start=1):
            flagged = self.flags.get(spec.name)
            label = f"[{number} {spec.title}"
            if flagged:
                label += f" {flagged:,}⚑"
            if spec.name in self.pending:
                label += " …"
            label += "]"
            style = "bold reverse" if spec.name == self.active else ""
            line.append(
                label,
                style=Style.parse(style) + Style(meta={"pane": spec.name})
                if style
                else Style(meta={"pane": spec.name}),
            )
            line.append(" ")
        return line

    def on_click(self, event: events.Click) -> None:
        pane = event.style.meta.get("pane")
        if pane:
            self.post_message(self.Switch(pane))
