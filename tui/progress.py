"""Progress of a long headless command (`triage scan`, `triage inspect`) on the terminal.

The engine reports progress as it does to the TUI's header: a callback `(stage, fraction done 0..1)`
(`tui.engine.case.session.Progress`). Here that callback drives one line of `rich`'s progress on
stderr, redrawn in place (the stage, a bar, the fraction and the time elapsed) and removed when the
command ends, so what stays on the terminal is what was printed on stdout. Nothing is drawn when
stderr is not a terminal (a pipe, a file, CI) or with `--quiet`, as `curl` and `pip` do; stdout is
never written to here, so the findings and the summary are byte-identical either way.

`rich` is imported only when a bar is drawn: a scan piped to a file starts as fast as before.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Say = Callable[[str, float], None]


def wanted(quiet: bool, stream: Any = None) -> bool:
    """Draw progress: not `--quiet`, and stderr is a terminal."""
    stream = sys.stderr if stream is None else stream
    if quiet:
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


@contextmanager
def terminal_progress(quiet: bool) -> Iterator[Say | None]:
    """A `(stage, fraction)` callback drawing on stderr, or None when nothing is to be drawn.

    The bar never moves back: a stage that restarts its own count (the loader's files, then
    the tokens) keeps the furthest fraction reached."""
    if not wanted(quiet):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    from tui.engine.core.safe import inert_cell

    console = Console(file=sys.stderr, highlight=False, markup=False, emoji=False)
    bar = Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,  # the line goes when the command ends; stdout's text is what stays
        redirect_stdout=False,  # stdout is the findings' summary: never touched
        redirect_stderr=False,
        refresh_per_second=5,  # the elapsed time ticks while one long query runs
    )
    task = bar.add_task("starting", total=1.0)
    furthest = 0.0

    def say(stage: str, fraction: float) -> None:
        nonlocal furthest
        stage = inert_cell(stage)  # a file's name is data: it never acts on the terminal
        furthest = max(furthest, min(max(float(fraction), 0.0), 1.0))
        bar.update(task, description=stage, completed=furthest, refresh=True)  # every stage is seen

    with bar:
        yield say
