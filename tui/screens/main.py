"""The main screen: header, pane tabs and filter chips, the four panes, the detail panel, the footer.

The screen opens the session in a worker (`tui.screens.opening`: load → the Tokens preview →
annotate → one analysis table at a time, each pane switched on as soon as its table exists), then
routes what the panes ask for: filters, drills
(with a stack that `escape` walks back), and saving findings through a dialog.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, Input

from tui.engine.analyses.filter import FilterError, add_term, parse_terms, remove_term
from tui.engine.analyses.marks import Mark
from tui.engine.analyses.pane_specs import PANES
from tui.engine.analyses.panes import Order
from tui.engine.core import timefmt
from tui.engine.core.options import Options
from tui.engine.core.safe import inert_cell
from tui.screens.opening import Opening
from tui.screens.saving import Saving
from tui.screens.time_controls import TimeControls
from tui.screens.workflow import Workflow
from tui.widgets.detail_panel import DetailPanel
from tui.widgets.filter_bar import FilterBar
from tui.widgets.filter_chips import FilterChips
from tui.widgets.header_line import HeaderLine
from tui.widgets.pane_tabs import PaneTabs
from tui.widgets.pane_view import PaneView
from tui.widgets.timeline import TimelineStrip
from tui.widgets.worker_errors import ReportsWorkerErrors

PANES_GROUP = Binding.Group("panes", compact=True)


class MainScreen(Opening, Workflow, TimeControls, Saving, ReportsWorkerErrors, Screen[None]):
    """Everything the analyst works in; holds the session once the loader worker has opened it."""

    AUTO_FOCUS = "#table-tokens"

    BINDINGS = [
        Binding("1", "pane('tokens')", "Tokens pane", id="main.pane.tokens", group=PANES_GROUP),
        Binding("2", "pane('mailboxes')", "Mailboxes pane", id="main.pane.mailboxes", group=PANES_GROUP),
        Binding("3", "pane('drift')", "Drift pane", id="main.pane.drift", group=PANES_GROUP),
        Binding("4", "pane('events')", "Events pane", id="main.pane.events", group=PANES_GROUP),
        Binding("5", "pane('sessions')", "Sessions pane", id="main.pane.sessions", group=PANES_GROUP),
        Binding("slash", "filter", "Filter", id="main.filter", priority=True),
        Binding("escape", "back", "Back/clear", id="main.back"),
        Binding("backspace", "drop_last_term", "Drop last term", id="main.drop_last", show=False),
        Binding("ctrl+s", "save", "Save", id="main.save", priority=True),
        Binding("t", "timeline", "Timeline", id="main.timeline", show=False),
        Binding("z", "zoom", "Widen detail panel (again: back)", id="main.zoom", show=False),
        Binding("J", "detail_scroll(1)", "Detail panel down", id="main.detail_down", show=False),
        Binding("K", "detail_scroll(-1)", "Detail panel up", id="main.detail_up", show=False),
        Binding("n", "flagged(True)", "Next flagged event (Events)", id="main.flagged_next", show=False),
        Binding(
            "N", "flagged(False)", "Previous flagged event (Events)", id="main.flagged_previous", show=False
        ),
        Binding(
            "left_square_bracket",
            "split(-1)",
            "Split −1 day",
            id="main.split_earlier",
            key_display="[",
            show=False,
        ),
        Binding(
            "right_square_bracket",
            "split(1)",
            "Split +1 day",
            id="main.split_later",
            key_display="]",
            show=False,
        ),
    ]

    # The app's keys that lead the footer. Textual lists the focused table's keys first and the app's
    # last, so at 80 columns the footer was cut after `/ Filter` and the two keys a first-time user
    # needs (how to get help, how to leave) were the ones not on screen.
    FOOTER_FIRST = ("help", "quit")

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """Textual's active bindings (what the footer shows, in its order), `? Help` and `q Quit` first."""
        found = super().active_bindings
        first = {k: b for a in self.FOOTER_FIRST for k, b in found.items() if b.binding.action == a}
        return first | {k: b for k, b in found.items() if k not in first}

    def __init__(self, paths: list[str], options: Options) -> None:
        super().__init__()
        self.paths = paths
        self.options = options
        self.session = None
        self.current = "tokens"
        # (pane to return to, pane drilled into, that pane's filter before): escape on the second goes back
        self.drill_stack: list[tuple[str, str, str]] = []
        self.marks: dict[str, dict[str, Mark]] = {spec.name: {} for spec in PANES}
        self.init_workflow()
        self.init_opening()
        self.init_time_controls()
        timefmt.set_zone(options.tz)

    def compose(self) -> ComposeResult:
        yield HeaderLine(id="header")
        yield TimelineStrip(id="timeline")
        with Horizontal(id="bar"):
            yield PaneTabs(id="tabs")
            yield FilterChips(id="chips")
        yield FilterBar(id="filter-bar")
        with Horizontal(id="main"):
            with ContentSwitcher(initial="pane-tokens", id="panes"):
                for spec in PANES:
                    yield PaneView(spec)
            yield DetailPanel(id="detail")
        yield Footer()

    def on_mount(self) -> None:
        for view in self.query(PaneView):
            view.marks = self.marks[view.spec.name]
            view.loading = True
        self.query_one(HeaderLine).busy("loading", 0.0)
        self._open_session()

    # ---- panes ------------------------------------------------------------------------------

    def pane(self, name: str | None = None) -> PaneView:
        return self.query_one(f"#pane-{name or self.current}", PaneView)

    def action_zoom(self) -> None:
        """`z`: the detail panel wide (long evidence, an original record's JSON), the table a strip
        beside it that still moves the cursor; `z` again gives the table its width back."""
        self.query_one("#main").toggle_class("-zoom")

    def action_detail_scroll(self, direction: int) -> None:
        """`J` / `K`: the detail panel half a screen down / up, the cursor staying in the table (which
        keeps the focus: its tab moves between cells, so the panel is never reached by focus)."""
        panel = self.query_one(DetailPanel)
        step = max(panel.scrollable_content_region.height // 2, 1)
        panel.scroll_relative(y=direction * step, animate=False)

    def action_flagged(self, forward: bool) -> None:
        """`n` / `N`: the next / previous flagged event on the Events pane (`FlaggedJumps`)."""
        self.pane().jump_flagged(forward)

    def action_pane(self, name: str) -> None:
        self.current = name
        self.query_one(ContentSwitcher).current = f"pane-{name}"
        self.query_one(PaneTabs).active = name
        view = self.pane()
        self._show_chips(view.filter_text)
        self.query_one(FilterBar).close()
        view.table.focus()
        table = view.table
        backend = table.paged
        self.query_one(DetailPanel).show(
            name,
            backend.raw_at(table.cursor_row) if backend else None,
            empty=backend is not None and not view.shown,
        )
        self.save_session_state()

    def action_timeline(self) -> None:
        self.query_one(TimelineStrip).focus()

    def action_split(self, days: int) -> None:
        self.move_split(days)

    def on_pane_tabs_switch(self, message: PaneTabs.Switch) -> None:
        self.action_pane(message.pane)

    def on_pane_view_loaded(self, message: PaneView.Loaded) -> None:
        tabs = self.query_one(PaneTabs)
        tabs.pending = tabs.pending - {message.pane}
        tabs.flags = {**tabs.flags, message.pane: message.flagged}
        view = self.pane(message.pane)
        saved = self.saved_filters.pop(message.pane, "")
        sort = self.saved_sorts.pop(message.pane, None)
        sorted_again = sort is not None and view.set_order(Order(*sort))
        if sort is not None and not sorted_again:
            self.notify(
                f"the saved sort on {inert_cell(sort[0])!r} is not restored: "
                f"the {view.spec.title} pane has no such column",
                severity="warning",
            )
        if (saved or sorted_again) and view.apply_filter(saved or view.filter_text) is not None:
            self.notify(f"the saved filter {inert_cell(saved)!r} no longer applies", severity="warning")
        if message.pane == "events":
            self.refresh_timeline()
        self.save_session_state()
        if message.pane == self.current:
            self._show_chips(message.filter_text)
            if self.focused is None:
                self.pane().table.focus()
        self._show_activity()

    def on_pane_view_query_failed(self, message: PaneView.QueryFailed) -> None:
        self._show_activity()
        self.notify(f"filter not applied: {message.message}", severity="error")
        if message.pane == self.current:
            bar = self.query_one(FilterBar)
            bar.open(message.filter_text)
            bar.show_error(message.message)

    def on_pane_view_row_chosen(self, message: PaneView.RowChosen) -> None:
        if message.pane == self.current:
            self.query_one(DetailPanel).show(message.pane, message.row, empty=message.empty)

    # ---- filtering --------------------------------------------------------------------------

    def _apply(self, view: PaneView, text: str) -> str | None:
        error = view.apply_filter(text)
        self._show_activity()
        return error

    def _show_chips(self, text: str) -> None:
        try:
            labels = [term.chip() for term in parse_terms(text)]
        except FilterError:
            labels = [inert_cell(text)]
        self.query_one(FilterChips).show(labels)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`/` is a priority binding (run as the app reads the key, so the keys typed after it in the
        same burst reach the filter input, not the table's bindings); inside an input it is text."""
        if action == "filter" and isinstance(self.focused, Input):
            return False
        return True

    def action_filter(self) -> None:
        if not self.pane().ready:
            self.notify("this pane is still loading", severity="warning")
            return
        self.query_one(FilterBar).open(self.pane().filter_text)

    def on_filter_bar_edited(self, message: FilterBar.Edited) -> None:
        _, error = self.pane().check_filter(message.text)
        self.query_one(FilterBar).show_error(error)

    def on_filter_bar_submitted(self, message: FilterBar.Submitted) -> None:
        bar = self.query_one(FilterBar)
        error = self._apply(self.pane(), message.text)
        if error is not None:
            bar.show_error(error)
            return
        bar.close()
        self.pane().table.focus()

    def on_filter_bar_cancelled(self, message: FilterBar.Cancelled) -> None:
        self.query_one(FilterBar).close()
        self.pane().table.focus()

    def on_filter_chips_removed(self, message: FilterChips.Removed) -> None:
        view = self.pane()
        self._apply(view, remove_term(view.filter_text, message.index))

    def action_drop_last_term(self) -> None:
        view = self.pane()
        terms = parse_terms(view.filter_text)
        if terms:
            self._apply(view, remove_term(view.filter_text, len(terms) - 1))

    def on_pane_view_term_wanted(self, message: PaneView.TermWanted) -> None:
        view = self.pane(message.pane)
        try:
            text = add_term(view.filter_text, message.column, "=", message.value, negate=message.negate)
        except FilterError as exc:
            self.notify(exc.message, severity="warning")
            return
        error = self._apply(view, text)
        if error:
            self.notify(error, severity="warning")

    def on_pane_view_drill_wanted(self, message: PaneView.DrillWanted) -> None:
        """`enter`: a token, mailbox or user → its events; an event → its token on the Tokens pane
        (its uses, users, IPs and countries together), `escape` back to the event."""
        into = "tokens" if message.pane == "events" else "events"
        target = self.pane(into)
        if not target.ready:
            self.notify(f"the {target.spec.title} pane is still loading", severity="warning")
            return
        self.drill_stack.append((message.pane, into, target.filter_text))
        self._apply(target, add_term("", message.field, "=", message.value))
        self.action_pane(into)

    def action_back(self) -> None:
        """Escape: step back out of a drill, else clear the current pane's filter."""
        if self.drill_stack and self.current == self.drill_stack[-1][1]:
            back_to, into, text = self.drill_stack.pop()
            self._apply(self.pane(into), text)
            self.action_pane(back_to)
            return
        view = self.pane()
        if view.filter_text:
            self._apply(view, "")
