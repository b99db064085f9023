"""Copies in the cache of inputs DuckDB cannot read as they are — decompressed Parquet, text
transcoded to UTF-8, a large document's record list — never next to the evidence.

Each copy is named `<pid>-…-<input name>` in its folder of `tui.engine.core.db.COPY_FOLDERS` and
holds what the input holds, raw bearer tokens included: it is removed at the process's exit
(`db.own`), and when the process was killed before it could, by the next run (`db.prune_dead`).
"""

from __future__ import annotations

import codecs
import gzip
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

import zstandard

from tui.engine.ingest.formats import PREFIX_BYTES, UnreadableError

Stream = BinaryIO | gzip.GzipFile | zstandard.ZstdDecompressionReader


def _cache_file(path: Path, folder: str) -> tuple[int, Path]:
    """A new file (descriptor, path) in the cache's `folder`, named after the input, removed at exit."""
    from tui.engine.core.db import COPY_FOLDERS, cache_dir, own

    assert folder in COPY_FOLDERS  # the folders db.prune_dead looks in
    target_dir = cache_dir() / folder
    target_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f"{os.getpid()}-", suffix="-" + path.name, dir=target_dir)
    return fd, own(Path(name))


def _content(raw: BinaryIO, compression: str | None) -> Stream:
    """The file's content, decompressed as it is read."""
    if compression == "gzip":
        return gzip.GzipFile(fileobj=raw)
    if compression == "zstd":
        return zstandard.ZstdDecompressor().stream_reader(raw)
    return raw


def decompress_to_cache(path: Path, compression: str) -> Path:
    """Stream-decompress into the cache (never next to the evidence) for readers that need a plain file."""
    fd, target = _cache_file(path, "decompressed")
    with path.open("rb") as raw, os.fdopen(fd, "wb") as dst:
        shutil.copyfileobj(_content(raw, compression), dst, 1 << 20)
    return target


def transcode_to_cache(path: Path, compression: str | None, encoding: str) -> tuple[Path, int]:
    """A UTF-8 copy in the cache of text DuckDB refuses to decode, and how many characters were replaced.

    DuckDB's Latin-1 reader rejects bytes 0x80-0x9F (Windows-1252 quotes, the euro sign) and its JSON
    readers fail a whole file on one invalid UTF-8 byte; here Latin-1 maps every byte and invalid
    UTF-8 becomes U+FFFD, streamed in chunks, so the rows stay visible and the count is reported.
    """
    fd, target = _cache_file(path, "transcoded")
    decoder = codecs.getincrementaldecoder(encoding if encoding != "utf-8" else "utf-8-sig")(errors="replace")
    replaced = 0
    with path.open("rb") as raw, os.fdopen(fd, "wb") as dst:
        src = _content(raw, compression)
        while chunk := src.read(1 << 20):
            text = decoder.decode(chunk)
            replaced += text.count("\ufffd")
            dst.write(text.encode("utf-8"))
        text = decoder.decode(b"", final=True)
        replaced += text.count("\ufffd")
        dst.write(text.encode("utf-8"))
    return target, replaced


# What may follow a document's record list: more members with plain values (Graph's
# `"@odata.nextLink": "…"`), then the closing brace.
_AFTER_LIST = re.compile(
    rb'\]\s*(?:,\s*"(?:[^"\\]|\\.)*"\s*:\s*(?:"(?:[^"\\]|\\.)*"|-?[0-9.eE+]+|true|false|null)\s*)*\}\s*$'
)


def unwrap_to_cache(path: Path, compression: str | None, at: int) -> Path:
    """A copy in the cache of a JSON document's record list alone, as a JSON array.

    DuckDB reads a document in one piece (384 MB at most here) but an array element by element, so a
    larger `{"value": [...]}` export is read from this copy: `[`, then the content from `at` (the first
    element) up to the list's closing bracket. Raises UnreadableError when what follows the list is
    more than plain members and the closing brace.
    """
    fd, target = _cache_file(path, "unwrapped")
    with path.open("rb") as raw, os.fdopen(fd, "w+b") as dst:
        src = _content(raw, compression)
        skip = at
        while skip > 0:
            skipped = len(src.read(min(skip, 1 << 20)))
            if not skipped:
                break
            skip -= skipped
        dst.write(b"[")
        while chunk := src.read(1 << 20):
            dst.write(chunk)
        size = dst.tell()
        dst.seek(max(size - PREFIX_BYTES, 0))
        tail = dst.read()
        end = _AFTER_LIST.search(tail)
        if end is None:
            raise UnreadableError(
                "a JSON document too large to read in one piece, with more after its record list"
            )
        dst.truncate(size - len(tail) + end.start() + 1)
    return target
