"""The Textual app behind `triage open`: one screen, the global keys, one place errors surface."""

from __future__ import annotations

import asyncio
import glob
import signal
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual_fastdatatable import DataTable

from tui.engine.core import timefmt
from tui.engine.core.options import Options
from tui.engine.core.safe import inert_cell
from tui.engine.core.secrets import mask_text
from tui.screens.commands import triage_commands
from tui.screens.help import HelpScreen, binding_rows
from tui.screens.main import MainScreen
from tui.widgets.filter_bar import FilterBar
from tui.widgets.pane_table import PaneTable
from tui.widgets.timeline import TimelineStrip
from tui.widgets.worker_errors import ReportsWorkerErrors

NAVIGATION = {
    "up": "Row up",
    "down": "Row down",
    "left": "Column left",
    "right": "Column right",
    "pageup": "Page up",
    "pagedown": "Page down",
    "home": "First row",
    "end": "Last row",
    "ctrl+home": "First row, first column",
    "ctrl+end": "Last row, last column",
}


class TriageApp(App[int]):
    """Opens the inputs on the main screen; `q` quits, `?` lists every key."""

    CSS_PATH = "triage.tcss"
    TITLE = "triage"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help", key_display="?"),
    ]

    def __init__(self, paths: list[str], options: Options) -> None:
        super().__init__()
        self.paths = paths
        self.options = options
        self.stopped_by: int | None = None  # the signal that ended the app (SIGTERM, SIGHUP)
        timefmt.set_zone(options.tz)  # displayed times only; stored and saved times stay UTC

    def on_mount(self) -> None:
        self.push_screen(MainScreen(self.paths, self.options))
        # SIGTERM (`kill`) and SIGHUP (the terminal or ssh connection gone) end the app as `q` does,
        # from the event loop, so the terminal is given back and the cache cleaned (tui.cli.STOPS).
        try:
            loop = asyncio.get_running_loop()
            for signum in STOP_SIGNALS:
                loop.add_signal_handler(signum, self._stop_by_signal, signum)
        except (NotImplementedError, RuntimeError, ValueError):  # not POSIX, or not the main thread
            pass

    def on_unmount(self) -> None:
        try:
            loop = asyncio.get_running_loop()
            for signum in STOP_SIGNALS:
                loop.remove_signal_handler(signum)
        except (NotImplementedError, RuntimeError, ValueError):
            pass

    def _stop_by_signal(self, signum: int) -> None:
        self.stopped_by = signum
        self._quit(128 + signum)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        navigation = [
            Binding(b.key, b.action, NAVIGATION[b.key])
            for b in DataTable.BINDINGS
            if isinstance(b, Binding) and b.key in NAVIGATION
        ]
        rows = binding_rows(
            [
                ("everywhere", self.BINDINGS),
                ("main screen", MainScreen.BINDINGS),
                ("table", PaneTable.BINDINGS),
                ("table", navigation),
                ("filter bar", FilterBar.BINDINGS),
                ("timeline (t)", TimelineStrip.BINDINGS),
            ],
            display=self.get_key_display,
        )
        self.push_screen(HelpScreen(rows))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from triage_commands(self, screen)
        yield from super().get_system_commands(screen)

    async def action_quit(self) -> None:
        self._quit(0)

    def _quit(self, code: int) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                screen.stop_queries()
        self.exit(code)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification is plain text, whatever the caller asks (`markup` is ignored).

        Messages carry file paths, DuckDB errors and filter text. Read as Textual markup, a path
        through a folder named `a[` to a file `b].parquet` raised MarkupError and ended the app, and
        `[@click=app.quit]` in a name would have made a clickable action."""
        # …and a raw token in one (a DuckDB error quoting a value) is shown by its key (core.secrets)
        super().notify(mask_text(message), title=title, severity=severity, timeout=timeout, markup=False)

    def on_reports_worker_errors_failed(self, message: ReportsWorkerErrors.Failed) -> None:
        self.notify(
            inert_cell(f"{message.error}"), title=f"error while {message.where}", severity="error", timeout=15
        )


# The signals that end `triage open` as cleanly as `q`, with the exit code 128 + the signal's number.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


def missing_inputs(paths: list[str]) -> list[str]:
    """Paths that name nothing (no file, folder or glob match): a usage error before any UI starts."""
    return [p for p in paths if not Path(p).exists() and not glob.glob(p, recursive=True)]


def findings_folder_refusal(paths: list[str]) -> str:
    """Why a findings folder among `paths` cannot be opened ("" when none is, or it can): it opens
    alone, and its case/ must be one this triage reads (`tui.engine.case.folder.read_folder`)."""
    from tui.engine.case.folder import CASE_DIR, CaseFolderError, is_findings_folder, read_folder

    for p in paths:  # case/ alone would be read as evidence: its tables as logs
        if is_findings_folder(Path(p).parent) and Path(p).resolve() == (Path(p).parent / CASE_DIR).resolve():
            return f"{p} is the case/ of a findings folder: open the folder (triage open {Path(p).parent})"
    folders = [p for p in paths if is_findings_folder(Path(p))]
    if not folders:
        return ""
    if len(paths) > 1:
        return f"{folders[0]} is a findings folder: open it alone (triage open {folders[0]})"
    try:
        read_folder(Path(folders[0]))
    except CaseFolderError as exc:
        return str(exc)
    return ""


def run_app(paths: list[str], options: Options) -> int:
    """Run the TUI over the inputs; 0 on a clean quit, 2 when an input does not exist."""
    missing = missing_inputs(paths)
    if missing:
        print(inert_cell(f"triage open: no such file or directory: {', '.join(missing)}"))
        return 2
    refusal = findings_folder_refusal(paths)
    if refusal:
        print(inert_cell(f"triage open: {refusal}"))
        return 2
    warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
    app = TriageApp(paths, options)
    code = app.run()
    stopped = app.stopped_by
    if stopped is not None:
        try:  # after SIGHUP the terminal may be gone
            print(f"triage open: stopped by {signal.Signals(stopped).name}", file=sys.stderr, flush=True)
        except OSError:
            pass
        return 128 + stopped
    return code if isinstance(code, int) else (app.return_code or 0)
