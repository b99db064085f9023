"""The inputs the analyst named: files, folders walked recursively, globs; what is left out and why."""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path

# Found while walking a directory, these are documentation, archives, the checksums and signatures
# evidence is handed over with, or what Windows and macOS leave in folders: listed, not read (each
# was an "unreadable" input, which makes `scan` exit 2).
SKIP_SUFFIXES = frozenset(
    ".md .markdown .rst .yaml .yml .toml .ini .cfg .py .ps1 .sh .bat .html .htm .pdf .png .jpg .jpeg .gif "
    ".svg .zip .7z .rar .tar .exe .dll .docx .xlsx .pptx .pem .crt .key "
    ".sha256 .sha1 .sha512 .md5 .asc .sig .p7s .lnk .url".split()
)
SKIP_NAMES = frozenset({"thumbs.db", "ehthumbs.db"})  # (a Mac's `._*` and `.DS_Store` are hidden files)


def expand(paths: Sequence[str]) -> tuple[list[Path], list[tuple[Path, str]], list[str]]:
    """Files to read, files skipped in directories (with why), and arguments that matched nothing."""
    files: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    missing: list[str] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = _real(path)
        if key not in seen:
            seen.add(key)
            files.append(path)

    for arg in paths:
        if "://" in arg:
            missing.append(f"{arg} (only local paths are read)")
            continue
        path = Path(arg).expanduser()
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if not p.is_dir()):
                rel = child.relative_to(path)
                if any(part.startswith(".") for part in rel.parts):
                    continue
                if any(part.lower() in SKIP_NAMES for part in rel.parts):
                    if _real(child) not in seen:
                        seen.add(_real(child))
                        skipped.append((child, "skipped: left by the operating system, not a log"))
                    continue
                if not child.is_file():  # a FIFO would block the reader; say why it is left out
                    if _real(child) not in seen:
                        seen.add(_real(child))
                        skipped.append((child, f"skipped: {_not_regular(child)}"))
                    continue
                if child.suffix.lower() in SKIP_SUFFIXES:
                    if _real(child) not in seen:
                        seen.add(_real(child))
                        skipped.append((child, f"skipped: {child.suffix.lower()} is not a log format"))
                    continue
                add(child)
        elif path.exists() or path.is_symlink():
            add(path)
        else:
            matches = sorted(glob.glob(str(path), recursive=True))
            found = [Path(m) for m in matches if Path(m).is_file()]
            if not found:
                missing.append(f"{arg} (no such file)")
            for match in found:
                add(match)
    return files, skipped, missing


def _real(path: Path) -> Path:
    """The resolved path for de-duplication; unlike Path.resolve() it does not raise on a symlink loop."""
    return Path(os.path.realpath(path))


def _not_regular(path: Path) -> str:
    """Why a directory entry that is neither a file nor a folder is not read."""
    if path.is_symlink() and not path.exists():
        return "dangling symlink"
    if path.is_fifo():
        return "a named pipe (FIFO), not a regular file"
    if path.is_socket():
        return "a socket, not a regular file"
    return "not a regular file"


__all__ = ["SKIP_NAMES", "SKIP_SUFFIXES", "expand"]
