"""The one DuckDB connection the engine owns, bounded in memory and kept off the network."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import duckdb
import platformdirs

DEFAULT_MEMORY_LIMIT = "1200MB"


def cache_dir() -> Path:
    """The user's cache directory for triage (never next to the evidence)."""
    path = Path(os.environ.get("TRIAGE_CACHE_DIR") or platformdirs.user_cache_dir("triage"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def state_dir() -> Path:
    """The user's state directory for triage (sessions, marks, notes)."""
    path = Path(os.environ.get("TRIAGE_STATE_DIR") or platformdirs.user_state_dir("triage"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def spill_dir() -> Path:
    """A fresh per-process spill directory under the cache, so parallel runs never share one.

    Directories left by processes that no longer run (killed, crashed: a 10M-row session leaves
    ~1 GB of work database and spill files) are removed first; each is named `<pid>-…`.
    """
    base = cache_dir() / "spill"
    base.mkdir(parents=True, exist_ok=True)
    for child in base.iterdir():
        owner = child.name.split("-", 1)[0]
        if child.is_dir() and owner.isdigit() and not _running(int(owner)):
            shutil.rmtree(child, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=base))


def _running(pid: int) -> bool:
    """Whether a process with this id exists (one of another user's counts as running)."""
    if os.name != "posix":
        return True  # on Windows os.kill(pid, 0) sends CTRL_C_EVENT: never prune there
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def connect(memory_limit: str | None = None, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with a memory cap, a spill directory and no extension downloads."""
    con = duckdb.connect(
        ":memory:",
        config={
            "memory_limit": memory_limit or os.environ.get("TRIAGE_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT),
            "temp_directory": str(spill_dir()),
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "preserve_insertion_order": False,
        },
    )
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("SET TimeZone = 'UTC'")
    # DuckDB draws a progress bar on stdout for a query that runs over 2 s (a session setting, which
    # the connection's cursors inherit): it would land in `triage scan`'s output or a pipe.
    con.execute("SET enable_progress_bar = false")
    return con
