"""The one DuckDB connection the engine owns, bounded in memory and kept off the network, and the
cache folders it and the loader write into: each process's own entries, named `<pid>-…`, removed at
its exit and, when it could not (SIGKILL, an out-of-memory kill, a power cut), by the next run."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import duckdb
import platformdirs

DEFAULT_MEMORY_LIMIT = "1200MB"
# Inputs this large (in bytes, all files together) keep the session's tables in a database file in
# the spill folder instead of in memory (`connect(tables_on_disk=True)`, `tables_on_disk_for`).
TABLES_ON_DISK_BYTES = 2 * 2**30
# Cache folders whose entries belong to one process and are named `<pid>-…`: DuckDB's spill files and
# work database (`spill`), and the copies of inputs DuckDB cannot read as they are
# (`tui.engine.ingest.cache_copies`: decompressed, transcoded to UTF-8, a document's record list
# unwrapped). The copies hold the inputs' raw bearer tokens, the spill files may.
SPILL_FOLDER = "spill"
COPY_FOLDERS = ("decompressed", "transcoded", "unwrapped")
PER_PROCESS_FOLDERS = (SPILL_FOLDER, *COPY_FOLDERS)
_OWN: list[Path] = []  # this process's entries, removed at its exit


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

    What processes that no longer run left in the cache is removed first (`prune_dead`).
    """
    prune_dead()
    base = cache_dir() / SPILL_FOLDER
    base.mkdir(parents=True, exist_ok=True)
    return own(Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=base)))


def own(path: Path) -> Path:
    """Register a cache entry of this process (named `<pid>-…`) to be removed at its exit."""
    _OWN.append(path)
    return path


def prune_dead() -> list[Path]:
    """Remove every per-process cache entry whose process no longer runs; returns what was removed.

    A run removes its own entries at exit, Ctrl-C, SIGTERM and SIGHUP included (`_remove_own`), but
    nothing runs after SIGKILL or an out-of-memory kill: a 10M-row session leaves ~1 GB of work
    database and spill files, and a `.gz` input its decompressed copy with every raw token in it.
    Every command starts by calling this (`tui.cli.main`), and so does every new connection. An
    entry's owner is the `<pid>` its name starts with; one of another user's processes counts as
    running (we may not signal it), and a name without a pid prefix is left alone.
    """
    removed = []
    root = cache_dir()
    for folder in PER_PROCESS_FOLDERS:
        base = root / folder
        if not base.is_dir():
            continue
        for child in base.iterdir():
            owner = child.name.split("-", 1)[0]
            if not owner.isdigit() or running(int(owner)):
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
            removed.append(child)
    return removed


@atexit.register
def _remove_own() -> None:
    """This process's spill folders and copies of inputs, at any exit Python gets to run (a normal
    end, Ctrl-C, and SIGTERM / SIGHUP, which `tui.cli` turns into the same clean stop)."""
    for path in reversed(_OWN):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    _OWN.clear()


def running(pid: int) -> bool:
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


# The DuckDB settings every connection the product opens has, and keeps (tests/test_network.py reads
# them back on the connections of a scan, an open and their cursors). DuckDB reaches the network only
# to fetch an extension (`INSTALL`, or a reader or function that would autoload one: `https://` paths
# need httpfs, which is not built in): no extension is installed or loaded on its own, none from the
# community or unsigned, and an explicit INSTALL looks in a repository that is not one (the null
# device) instead of extensions.duckdb.org. `lock_configuration` then keeps any statement from
# changing a setting back; only `preserve_insertion_order`, which the loader sets per statement,
# stays open. `enable_external_access = false` is not used: it also stops DuckDB reading local
# files, the evidence and the work database in the cache.
NO_NETWORK: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "custom_extension_repository": os.devnull,
    "autoinstall_extension_repository": os.devnull,
}
CHANGEABLE = ("preserve_insertion_order",)


def tables_on_disk_for(paths: list[Path] | list[str]) -> bool:
    """Whether inputs this large should keep the session's tables on disk (`connect`): their size
    together reaches `TABLES_ON_DISK_BYTES`; `TRIAGE_TABLES_ON_DISK=1` (or `0`) decides instead."""
    forced = os.environ.get("TRIAGE_TABLES_ON_DISK")
    if forced in ("0", "1"):
        return forced == "1"
    total = 0
    for path in paths:
        try:
            total += os.stat(path).st_size
        except OSError:  # the loader names an unreadable input; it adds nothing here
            continue
    return total >= TABLES_ON_DISK_BYTES


def connect(
    memory_limit: str | None = None,
    threads: int | None = None,
    step_progress: bool = False,
    tables_on_disk: bool = False,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB with a memory cap, a spill directory, no extension downloads and its configuration
    locked (`NO_NETWORK`); the connection's cursors share all of it. `step_progress`: DuckDB keeps the
    running statement's progress for `query_progress()` (`tui.engine.core.steps`), still printing
    nothing.

    The session's tables live in memory, and what passes the cap is written to the spill folder as
    it is, uncompressed, and kept there to the end of the run. With `tables_on_disk` they live in a
    database file in that folder instead (`main.duckdb`, removed with it), which DuckDB compresses:
    on the benchmark's 10M-row file the folder's peak fell from 2.8 to 1.6 GiB and the peak RSS from
    1.53 to 1.46 GiB, for ~12% more CPU (15% at 1M rows, where nothing spills: bench/RESULTS.md,
    "Session 16"), so only inputs past `TABLES_ON_DISK_BYTES` use it (`tables_on_disk_for`). TEMP
    tables stay in memory either way."""
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": memory_limit or os.environ.get("TRIAGE_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT),
        "temp_directory": str(spill_dir()),
        **NO_NETWORK,
        "preserve_insertion_order": False,
        "allowed_configs": list(CHANGEABLE),
    }
    if threads:
        config["threads"] = int(threads)
    database = ":memory:"
    if tables_on_disk:
        database = str(Path(str(config["temp_directory"])) / "main.duckdb")
    con = duckdb.connect(database, config=config)
    if tables_on_disk:  # the file is removed at exit: writing it out whole at close would be waste
        con.execute("PRAGMA disable_checkpoint_on_shutdown")
    # GLOBAL: a cursor (every worker's) starts from the global value, which was the machine's own zone:
    # on a laptop in Berlin a cursor read TIMESTAMPTZ '… 00:00+00' as 02:00. (An ICU setting, so not
    # one the config above knows.)
    con.execute("SET GLOBAL TimeZone = 'UTC'")
    # DuckDB draws a progress bar on stdout for a query that runs over 2 s (a session setting, which
    # the connection's cursors inherit): it would land in `triage scan`'s output or a pipe.
    con.execute("SET enable_progress_bar = false")
    if step_progress:  # the estimate without the drawing
        con.execute("SET enable_progress_bar_print = false")
        con.execute("SET enable_progress_bar = true")
    con.execute("SET lock_configuration = true")
    return con
