"""What the TUI needs from Textual and textual-fastdatatable that neither offers as public API.

Everything else in `tui/screens` and `tui/widgets` uses their public API; the private attributes
below are touched here and nowhere else, and `tests/test_textual_adapter.py` pins the behaviour
each function relies on, so an upgrade that changes it fails there, by name (pyproject.toml pins
`textual<9` and `textual-fastdatatable<0.20` for the same reason).

- `node_bindings`: one node's own bindings with the app's keymap applied. Textual keeps them in
  `DOMNode._bindings` and `App._keymap`; its public `Screen.active_bindings` gives the merged chain
  of the focused widget, not one node's. `InOrderInput` runs them as a key arrives (Textual #6605).
- `redraw_table`: a fastdatatable `DataTable` whose rows changed under it (pages arrived, marks
  changed) or whose `backend` was replaced (a new filter). The table caches the columns it derived
  from its backend (`_ordered_columns`), measures its size only when `_require_update_dimensions`
  is set, and keys its rendered lines on `_update_count` (`_clear_caches` empties them).
  fastdatatable's own answer to new data is to mount a new table ("Unmount this table and mount a
  new one instead"), which would lose the focus and the scroll and flicker on every filter.
"""

from __future__ import annotations

from textual.binding import BindingsMap
from textual.dom import DOMNode
from textual_fastdatatable import DataTable


def node_bindings(node: DOMNode) -> BindingsMap:
    """A copy of `node`'s own bindings (its class's and inherited ones), the app's keymap applied."""
    bindings = node._bindings.copy()
    keymap = node.app._keymap
    if keymap:
        bindings.apply_keymap(keymap)
    return bindings


def redraw_table(table: DataTable, *, new_backend: bool = False) -> None:
    """Draw `table` again from its backend: forget rendered lines and measure again on idle.

    `new_backend`: `table.backend` was replaced, so the columns it derived from the old one go too."""
    if new_backend:
        table._ordered_columns = None
    table._clear_caches()
    table._update_count += 1
    table._require_update_dimensions = True
    table.check_idle()
    table.refresh()
