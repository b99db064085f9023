"""An analyst's work on a set of inputs (filters, marks, notes, pane, drift split), kept between sessions.

The state is keyed by the inputs' *content* — the sorted SHA-256 of every input file — so a copy
of the evidence in another folder finds its marks, and a file whose bytes changed starts clean.
Each state file lists path → hash, which is how a changed file is named on reopen. Hashing a
large file is done once: the hash is cached under (path, size, mtime) in the cache directory.
State lives in `db.state_dir()`, never next to the evidence. Event marks are stored against the
file's hash (`sha256:<hex>#<row>`), not its path, so they survive a moved folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tui.engine.analyses.marks import Mark
from tui.engine.core.db import cache_dir, state_dir

STATE_VERSION = 1
HASH_CACHE = "input-hashes.json"
CHUNK = 1 << 20


@dataclass(frozen=True)
class InputFile:
    """One input file and the SHA-256 of its content."""

    path: str  # absolute
    sha256: str


@dataclass(frozen=True)
class SavedState:
    """Everything that comes back on reopen."""

    key: str
    inputs: tuple[InputFile, ...]
    pane: str = "tokens"
    filters: Mapping[str, str] = field(default_factory=dict)
    sorts: Mapping[str, tuple[str, bool]] = field(default_factory=dict)  # pane → (column, descending)
    marks: tuple[Mark, ...] = ()  # event keys portable: `sha256:<file hash>#<row>`
    split: tuple[str, str, str, str] | None = None  # ISO bounds; None = the default split
    saved_at: str = ""


@dataclass(frozen=True)
class Restored:
    """What reopening found: the state (None: start clean) and why not, when an input changed."""

    state: SavedState | None
    changed: tuple[str, ...] = ()  # paths whose content differs from the last session on them
    last_saved: str = ""


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def file_sha256(path: Path | str, cache: Path | None = None) -> str:
    """SHA-256 of a file's bytes, streamed; reused while the file's (path, size, mtime) are unchanged."""
    path = Path(os.path.realpath(path))  # not resolve(): a symlink loop must not raise
    stat = path.stat()
    stamp = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    cache = cache or cache_dir() / HASH_CACHE
    known = _read_json(cache)
    known = known if isinstance(known, dict) else {}
    entry = known.get(str(path))
    if isinstance(entry, dict) and all(entry.get(k) == v for k, v in stamp.items()) and entry.get("sha256"):
        return str(entry["sha256"])
    digest = sha256_of(path)
    known[str(path)] = {**stamp, "sha256": digest}
    try:
        _atomic_write(cache, json.dumps(known, indent=1, sort_keys=True))
    except OSError:
        pass  # a cache that cannot be written only means hashing the file again next time
    return digest


def sha256_of(path: Path | str) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks so evidence of any size fits in memory; never
    cached (`triage scan`'s manifest pins the bytes read now)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def hash_in_background(
    paths: Iterable[Path | str], hasher: Callable[[Path | str], str] = file_sha256
) -> dict[str, Future[str]]:
    """Start hashing the files in a thread of their own; realpath → the SHA-256 to come.

    The inputs are hashed while the engine loads them (hashlib and file reads release the GIL), not
    after: the TUI needs the hashes only to find the saved state, `triage scan` only for the manifest
    (a 566 MB Parquet takes 0.4 s, a multi-GB export seconds).
    """
    futures: dict[str, Future[str]] = {os.path.realpath(p): Future() for p in paths if Path(p).is_file()}

    def run() -> None:
        for path, future in futures.items():
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(hasher(path))
                except BaseException as exc:  # handed to whoever asks for this hash
                    future.set_exception(exc)

    # A daemon thread, not an executor's: quitting while a big input is hashed must not wait for it.
    threading.Thread(target=run, name="triage-hash", daemon=True).start()
    return futures


def input_files(
    paths: Iterable[Path | str], started: Mapping[str, Future[str]] | None = None
) -> tuple[InputFile, ...]:
    """Each input file with its content hash, sorted by path (from `started` when it is there).

    A file that cannot be read (permission denied, gone since) is left out: none of its content is
    in the session, and the loader reports it. (Hashing it raised, and ended the TUI's opening.)"""
    unique = sorted({os.path.realpath(p) for p in paths})
    hashes = started or {}
    files = []
    for p in unique:
        try:
            files.append(InputFile(p, hashes[p].result() if p in hashes else file_sha256(p)))
        except OSError:
            continue
    return tuple(files)


def inputs_key(files: Iterable[InputFile]) -> str:
    """The state key: a hash of the sorted content hashes (paths play no part)."""
    joined = "\n".join(sorted(f.sha256 for f in files))
    return hashlib.sha256(joined.encode("ascii")).hexdigest()


def state_path(key: str, directory: Path | None = None) -> Path:
    return (directory or state_dir()) / f"session-{key}.json"


def portable_marks(marks: Iterable[Mark], sha_of_source: Mapping[str, str]) -> tuple[Mark, ...]:
    """Event marks re-keyed from `<source path>#row` to `sha256:<file hash>#row` (others unchanged)."""
    out = []
    for mark in marks:
        if mark.pane == "events":
            source, _, row = mark.key.rpartition("#")
            sha = sha_of_source.get(source)
            if sha is None:
                continue  # a row of a file that is not an input any more
            mark = Mark(mark.pane, f"sha256:{sha}#{row}", mark.verdict, mark.note, mark.marked_at)
        out.append(mark)
    return tuple(out)


def local_marks(marks: Iterable[Mark], source_of_sha: Mapping[str, str]) -> tuple[Mark, ...]:
    """The inverse of `portable_marks` for this session's source paths."""
    out = []
    for mark in marks:
        if mark.pane == "events":
            ident, _, row = mark.key.rpartition("#")
            source = source_of_sha.get(ident.removeprefix("sha256:"))
            if source is None:
                continue
            mark = Mark(mark.pane, f"{source}#{row}", mark.verdict, mark.note, mark.marked_at)
        out.append(mark)
    return tuple(out)


def _to_json(state: SavedState) -> str:
    document = {
        "version": STATE_VERSION,
        "key": state.key,
        "saved_at": state.saved_at or datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "inputs": [{"path": f.path, "sha256": f.sha256} for f in state.inputs],
        "pane": state.pane,
        "filters": dict(state.filters),
        "sorts": {pane: {"column": c, "descending": d} for pane, (c, d) in state.sorts.items()},
        "split": list(state.split) if state.split else None,
        "marks": [
            {"pane": m.pane, "key": m.key, "verdict": m.verdict, "note": m.note, "marked_at": m.marked_at}
            for m in state.marks
        ],
    }
    return json.dumps(document, indent=1, ensure_ascii=False)


def _from_json(document: Any) -> SavedState | None:
    if not isinstance(document, dict) or document.get("version") != STATE_VERSION:
        return None
    try:
        split = document.get("split")
        return SavedState(
            key=str(document["key"]),
            inputs=tuple(InputFile(str(i["path"]), str(i["sha256"])) for i in document["inputs"]),
            pane=str(document.get("pane") or "tokens"),
            filters={str(k): str(v) for k, v in (document.get("filters") or {}).items()},
            sorts=_sorts(document.get("sorts")),
            marks=tuple(
                Mark(
                    str(m["pane"]),
                    str(m["key"]),
                    m.get("verdict"),
                    str(m.get("note") or ""),
                    str(m.get("marked_at") or ""),
                )
                for m in document.get("marks") or ()
            ),
            split=(str(split[0]), str(split[1]), str(split[2]), str(split[3])) if split else None,
            saved_at=str(document.get("saved_at") or ""),
        )
    except (KeyError, TypeError, IndexError):
        return None


def _sorts(value: Any) -> dict[str, tuple[str, bool]]:
    """The panes' sorts; absent in earlier files, and an entry that is not one is passed over (a
    sort is not worth the marks a stricter reading would throw away)."""
    if not isinstance(value, dict):
        return {}
    return {
        str(pane): (v["column"], bool(v.get("descending")))
        for pane, v in value.items()
        if isinstance(v, dict) and isinstance(v.get("column"), str)
    }


def save_state(state: SavedState, directory: Path | None = None) -> Path:
    """Write the state file for `state.key` (atomically: a crash never leaves half a file)."""
    path = state_path(state.key, directory)
    _atomic_write(path, _to_json(state))
    return path


def load_state(files: Sequence[InputFile], directory: Path | None = None) -> Restored:
    """The saved state for these inputs, or why there is none when one of them has changed since."""
    directory = directory or state_dir()
    key = inputs_key(files)
    state = _from_json(_read_json(state_path(key, directory)))
    if state is not None and state.key == key:
        return Restored(state)
    ours = {f.path: f.sha256 for f in files}
    latest: tuple[str, tuple[str, ...]] | None = None
    for candidate in directory.glob("session-*.json"):
        other = _from_json(_read_json(candidate))
        if other is None:
            continue
        changed = tuple(sorted(i.path for i in other.inputs if i.path in ours and ours[i.path] != i.sha256))
        if changed and (latest is None or other.saved_at > latest[0]):
            latest = (other.saved_at, changed)
    return Restored(None, latest[1], latest[0]) if latest else Restored(None)
