"""Send a failed worker's error up to the app, which shows it as a notification.

`Worker.StateChanged` goes only to the node that started the worker, so every widget that runs
workers mixes this in; the app's one handler turns `Failed` into a notification instead of a
traceback on a broken terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

    _Node = MessagePump
else:
    _Node = object


class ReportsWorkerErrors(_Node):
    """Mixin for widgets and screens that run workers (for mypy, a `MessagePump`)."""

    @dataclass
    class Failed(Message):
        """A worker raised; `where` names it for the analyst."""

        where: str
        error: BaseException

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.post_message(ReportsWorkerErrors.Failed(event.worker.name or "work", event.worker.error))
