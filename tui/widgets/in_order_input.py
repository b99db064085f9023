"""An Input that keeps every key in the order it was typed, and a helper to run a binding at once.

Used by the save and verdict dialogs and the filter bar: keys typed in one burst right after the
key that opens them (a fast typist, tmux, a paste of keystrokes) must all land in the input.
"""

from __future__ import annotations

from textual import events
from textual.dom import DOMNode
from textual.widgets import Input

from tui.widgets.textual_adapter import node_bindings


async def run_binding_now(node: DOMNode, key: str) -> bool:
    """Run `node`'s own binding for `key` as the key arrives, as the App would once the key had bubbled
    up to it (False: none applies); priority bindings already ran when the App read the key."""
    for binding in node_bindings(node).key_to_bindings.get(key, ()):
        if not binding.priority and await node.app.run_action(binding.action, node):
            return True
    return False


class InOrderInput(Input):
    """An Input that applies every key in the order it was typed, however fast the keys come.

    Textual's Input types a printable key as soon as it receives it, but runs a bound key (ctrl+u,
    backspace, left, home, enter…) only once that key has bubbled up to the App (Textual issue #6605).
    When keys arrive in one burst (a slow event loop under load, tmux, a paste of keystrokes), the
    characters typed after a bound key are inserted before its action runs: ctrl+u then a path left
    an empty input, `ab<backspace>c` gave `ab`, `a<enter>b` submitted `ab`. Here the input runs its
    own bindings as the key arrives; keys it does not bind (escape, tab, up/down) bubble to the
    dialog, which runs its bindings for them with `run_binding_now`, so they too keep their place.
    """

    async def on_key(self, event: events.Key) -> None:
        """Runs before Input's own key handler (this class comes first in the MRO)."""
        if not event.is_printable and await run_binding_now(self, event.key):
            event.stop()

    async def take_key(self, event: events.Key) -> bool:
        """Apply a key that reached the screen instead of this input, in order (False: not for the input)."""
        if event.is_printable and event.character is not None:
            selection = self.selection
            if selection.is_empty:
                self.insert_text_at_cursor(event.character)
            else:
                self.replace(event.character, *selection)
            return True
        return await run_binding_now(self, event.key)
