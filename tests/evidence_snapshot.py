"""A snapshot of an evidence folder that any change to it fails: each entry's content and metadata,
each folder's own included (one definition for every test that proves the inputs untouched).

Every folder, the evidence folder itself first, is recorded with its listing, inode, mode, size,
mtime and ctime, so a temporary file created and removed beside the evidence (or inside a
subfolder) changes that folder's mtime and ctime even though no file differs; restoring the mtime
with `utime` still leaves the ctime, which nothing but the kernel sets. Every file is recorded with
its content hash, inode (a file replaced by a rename gets another), mode, size, mtime and ctime; a
symlink with its target; anything else (a FIFO) by its kind. Access times are left out: reading
is what triage does. Symlinks are not followed.

The times change only as fast as the kernel's clock ticks (a few milliseconds): a change made in
the same tick as the snapshot is invisible in them. A run of triage starts later than that.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

Entry = tuple[object, int, int, int, int, int]


def snapshot(folder: Path) -> dict[str, Entry]:
    """Relative path (`.` for the folder) → (content, inode, mode, size, mtime ns, ctime ns)."""
    out: dict[str, Entry] = {}
    for top, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        for path in [Path(top), *(Path(top) / name for name in sorted(files + dirs))]:
            rel = str(path.relative_to(folder)) if path != folder else "."
            if rel in out:
                continue
            st = path.lstat()
            content: object
            if stat.S_ISDIR(st.st_mode):
                content = tuple(sorted(os.listdir(path)))
            elif stat.S_ISREG(st.st_mode):
                content = hashlib.sha256(path.read_bytes()).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                content = os.readlink(path)
            else:
                content = stat.S_IFMT(st.st_mode)
            out[rel] = (content, st.st_ino, st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    return out
