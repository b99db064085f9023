"""Spill directories of processes that no longer run are removed; a running one's are kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui.engine.core.db import spill_dir


@pytest.mark.skipif(os.name != "posix", reason="pruning is POSIX-only")
def test_spill_dirs_of_dead_processes_are_pruned(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path))
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(gone.stdout)  # that process has exited
    base = tmp_path / "spill"
    dead = base / f"{dead_pid}-abc"
    alive = base / f"{os.getpid()}-def"
    other = base / "notes"
    for folder in (dead, alive, other):
        folder.mkdir(parents=True)
        (folder / "work.duckdb").write_bytes(b"x" * 10)
    fresh = spill_dir()
    assert not dead.exists()
    assert alive.exists() and other.exists() and fresh.is_dir()
    assert fresh.name.startswith(f"{os.getpid()}-")
