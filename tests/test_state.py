"""The saved analyst state (tui.engine.case.state), the timeline folding, the display zone: no UI,
no DuckDB."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from tui.engine.analyses.marks import Mark
from tui.engine.analyses.timeline import fold
from tui.engine.case.state import (
    HASH_CACHE,
    Restored,
    SavedState,
    file_sha256,
    hash_in_background,
    input_files,
    inputs_key,
    load_state,
    local_marks,
    portable_marks,
    save_state,
    state_path,
)
from tui.engine.core import timefmt


@pytest.fixture(autouse=True)
def _dirs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRIAGE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path / "cache"))


def evidence(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    a = folder / "gateway.csv"
    b = folder / "signins.json"
    a.write_bytes(b"time,client\n2023-06-01T04:00:00Z,1.2.3.4:55\n")
    b.write_bytes(b'{"value": [{"id": "x"}]}')
    return [a, b]


def test_file_hash_is_sha256_and_cached_by_path_size_mtime(tmp_path: Path) -> None:
    path = evidence(tmp_path / "ev")[0]
    real = hashlib.sha256(path.read_bytes()).hexdigest()
    assert file_sha256(path) == real
    cache = tmp_path / "cache" / HASH_CACHE
    entry = json.loads(cache.read_text())[str(path.resolve())]
    assert entry["sha256"] == real and entry["size"] == path.stat().st_size
    # While (path, size, mtime) are unchanged the cached hash is trusted, so a 5 GB file is read once.
    known = json.loads(cache.read_text())
    known[str(path.resolve())]["sha256"] = "f" * 64
    cache.write_text(json.dumps(known))
    assert file_sha256(path) == "f" * 64
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert file_sha256(path) == real


def test_key_follows_content_not_path(tmp_path: Path) -> None:
    first = input_files(evidence(tmp_path / "case"))
    moved = tmp_path / "elsewhere"
    shutil.copytree(tmp_path / "case", moved)
    second = input_files(sorted(moved.iterdir()))
    assert [f.path for f in first] != [f.path for f in second]
    assert inputs_key(first) == inputs_key(second)
    (moved / "gateway.csv").write_bytes(b"time,client\n")
    assert inputs_key(input_files(sorted(moved.iterdir()))) != inputs_key(first)


def test_hashes_started_in_the_background_are_each_files_own(tmp_path: Path) -> None:
    paths = evidence(tmp_path / "case")
    started = hash_in_background([*paths, tmp_path / "missing.csv"])
    assert sorted(started) == sorted(os.path.realpath(p) for p in paths)  # a missing file is not started
    for p in paths:
        assert started[os.path.realpath(p)].result(timeout=10) == hashlib.sha256(p.read_bytes()).hexdigest()
    assert input_files(paths, started) == input_files(paths)

    def broken(path: object) -> str:
        raise PermissionError(f"cannot read {path}")

    failed = hash_in_background(paths, broken)
    assert input_files(paths, failed) == ()  # what cannot be read is not part of the session


@pytest.mark.unprivileged  # root reads a chmod-000 file (tests/unprivileged.py)
def test_an_input_that_cannot_be_read_is_left_out_of_the_state_key(tmp_path: Path) -> None:
    """It used to raise PermissionError, which ended the TUI's opening worker: the app never loaded."""
    paths = evidence(tmp_path / "case")
    locked, *readable = paths
    locked.chmod(0)
    files = input_files(paths, hash_in_background(paths))
    assert [f.path for f in files] == sorted(os.path.realpath(p) for p in readable)
    assert files == input_files(paths) == input_files(readable)
    assert [f.sha256 for f in files] == [
        hashlib.sha256(Path(f.path).read_bytes()).hexdigest() for f in files
    ]


def test_state_round_trip_outside_the_evidence(tmp_path: Path) -> None:
    files = input_files(evidence(tmp_path / "case"))
    state = SavedState(
        key=inputs_key(files),
        inputs=files,
        pane="mailboxes",
        filters={"tokens": "severity>=high", "events": 'note:"IR 42"'},
        sorts={"mailboxes": ("accesses", True), "tokens": ("first_seen", False)},
        marks=(
            Mark("tokens", "sha256:ab", "finding", "forged key — IR-42", "2026-01-02T03:04:05+00:00"),
            Mark("drift", "adele@contoso.com"),
        ),
        split=("2023-05-01T00:00:00", "2023-05-29T00:00:00", "2023-05-29T00:00:00", "2023-06-11T00:00:00"),
    )
    path = save_state(state)
    assert path == state_path(state.key) and path.parent == tmp_path / "state"
    assert sorted(p.name for p in (tmp_path / "case").iterdir()) == ["gateway.csv", "signins.json"]
    restored = load_state(files)
    assert restored.changed == ()
    back = restored.state
    assert back is not None
    assert (back.pane, dict(back.filters), back.marks, back.split, dict(back.sorts)) == (
        "mailboxes",
        {"tokens": "severity>=high", "events": 'note:"IR 42"'},
        state.marks,
        state.split,
        {"mailboxes": ("accesses", True), "tokens": ("first_seen", False)},
    )
    # a state file of an earlier version (no sorts) or with a sort that is not one keeps its marks
    document = json.loads(path.read_text())
    document["sorts"] = {"tokens": "uses", "drift": {"column": "drift_score"}}
    path.write_text(json.dumps(document))
    back = load_state(files).state
    assert (
        back is not None
        and back.marks == state.marks
        and dict(back.sorts) == {"drift": ("drift_score", False)}
    )
    del document["sorts"]
    path.write_text(json.dumps(document))
    back = load_state(files).state
    assert back is not None and back.marks == state.marks and dict(back.sorts) == {}


def test_changed_input_starts_clean_and_names_the_file(tmp_path: Path) -> None:
    paths = evidence(tmp_path / "case")
    files = input_files(paths)
    save_state(SavedState(inputs_key(files), files, marks=(Mark("tokens", "sha256:ab"),)))
    paths[1].write_bytes(b'{"value": [{"id": "y"}]}')  # same size, other bytes
    stat = paths[1].stat()
    os.utime(paths[1], ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    restored = load_state(input_files(paths))
    assert restored.state is None
    assert restored.changed == (str(paths[1].resolve()),)
    # An unrelated set of inputs has no state and names nothing.
    (tmp_path / "other-case").mkdir()
    (tmp_path / "other-case" / "gateway.csv").write_bytes(b"x")
    assert load_state(input_files([tmp_path / "other-case" / "gateway.csv"])) == Restored(None)


def test_event_marks_survive_a_moved_folder() -> None:
    marks = (
        Mark("events", "old/dir/gateway.parquet#17", "needs_review", "odd UA"),
        Mark("events", "old/dir/gone.csv#3"),
        Mark("tokens", "sha256:ab", "finding"),
    )
    portable = portable_marks(marks, {"old/dir/gateway.parquet": "aa11"})
    assert [m.key for m in portable] == ["sha256:aa11#17", "sha256:ab"]
    local = local_marks(portable, {"aa11": "new/place/gateway.parquet"})
    assert local == (
        Mark("events", "new/place/gateway.parquet#17", "needs_review", "odd UA"),
        Mark("tokens", "sha256:ab", "finding"),
    )


def test_timeline_folds_hours_into_whole_hour_cells() -> None:
    hours = [
        (datetime(2023, 6, 1, 0), 10, 0),
        (datetime(2023, 6, 1, 1), 30, 2),
        (datetime(2023, 6, 1, 5), 80, 0),
        (datetime(2023, 6, 1, 9), 4, 4),
    ]
    strip = fold(hours, width=4)  # 10 hours into 4 cells → 3 hours per cell, 4 cells
    assert strip.hours_per_cell == 3
    assert [(c.start.hour, c.end.hour, c.events, c.flagged) for c in strip.cells] == [
        (0, 3, 40, 2),
        (3, 6, 80, 0),
        (6, 9, 0, 0),
        (9, 12, 4, 4),
    ]
    assert strip.bars() == "▄█ ▁"
    assert fold(hours, width=100).bars() == "▁▃   █   ▁"


def test_the_timeline_folds_the_first_and_last_representable_hours() -> None:
    """A row dated 9999-12-31 (a "never" some exports write) and one at year 1: the last cell ends at
    the last representable time instead of raising OverflowError (which ended the TUI)."""
    hours = [(datetime(1, 1, 1), 1, 0), (datetime(2023, 6, 1), 2, 1), (datetime(9999, 12, 31, 23), 1, 0)]
    strip = fold(hours, width=100)
    assert [c.events for c in strip.cells if c.events] == [1, 2, 1]
    assert strip.cells[0].start == datetime(1, 1, 1) and strip.cells[-1].end == datetime.max
    assert strip.cells[-1].start <= datetime(9999, 12, 31, 23) < strip.cells[-1].end


def test_times_at_the_ends_of_the_calendar_are_shown() -> None:
    try:
        timefmt.set_zone("Asia/Tokyo")  # east of UTC: 9999-12-31 23:59 would pass year 9999
        assert timefmt.show(datetime(9999, 12, 31, 23, 59, 59)) == "9999-12-31 23:59:59 +00:00"
        assert timefmt.show(datetime(2023, 6, 1, 4, 5, 3)) == "2023-06-01 13:05:03 +09:00"
        timefmt.set_zone("UTC")
        assert timefmt.show(datetime(1, 1, 1)) == "0001-01-01 00:00:00 UTC"  # strftime wrote `1-01-01`
    finally:
        timefmt.set_zone("UTC")


def test_displayed_times_carry_their_zone() -> None:
    moment = datetime(2023, 5, 30, 6, 8, 15)  # naive = UTC, as DuckDB stores it
    try:
        timefmt.set_zone("UTC")
        assert timefmt.show(moment) == "2023-05-30 06:08:15 UTC"
        timefmt.set_zone("Europe/Paris")
        assert timefmt.show(moment) == "2023-05-30 08:08:15 +02:00"
        assert timefmt.show(datetime(2023, 1, 5, 6, 8, 15), "%H:%M") == "07:08 +01:00"
        timefmt.set_zone("America/New_York")
        assert timefmt.show(moment) == "2023-05-30 02:08:15 -04:00"
    finally:
        timefmt.set_zone("UTC")
