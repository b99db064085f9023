"""Tell a file's format from its first bytes, never from its name alone, reading only a bounded prefix."""

from __future__ import annotations

import csv
import gzip
import json
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import zstandard

PREFIX_BYTES = 64 * 1024

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
PARQUET_MAGIC = b"PAR1"
ZIP_MAGIC = b"PK\x03\x04"

# A JSON object whose list member holds the records (Graph `value`, Azure diagnostics `records`),
# a HAR (`log.entries`) or a key list (`keys`): a document, not one JSON Lines record.
W3C_DIRECTIVE = re.compile(r"#(Software|Version|Date|Fields|Remark|Log-type):")
# A JSON document's record list, by the shape it names: Graph's `{"value": […]}`, Azure's
# `{"records": […]}` / `{"Records": […]}`, a HAR's entries, Defender's advanced hunting API
# (`{"Schema": …, "Results": […]}`) and Graph's runHuntingQuery (`{"schema": …, "results": […]}`),
# checked in this order. Log Analytics' query API (`{"tables": [{"columns", "rows"}]}`) and a key
# list (`{"keys": […]}`) are read apart (readers._document_shape).
RECORD_LISTS = {
    "value": "$.value",
    "records": "$.records",
    "Records": "$.Records",
    "har": "$.log.entries",
    "Results": "$.Results",
    "results": "$.results",
}
# The top-level members that make a one-line object a document, not a JSON Lines record.
CONTAINER_KEYS = (*(path.split(".")[1] for path in RECORD_LISTS.values()), "tables", "keys")

DELIMITERS = (",", "\t", ";", "|")


class UnreadableError(Exception):
    """The file cannot be read as any supported format; the message says why, for the analyst."""


@dataclass(frozen=True)
class Sniffed:
    """What the first bytes say: container format, compression and, for text tables, the dialect."""

    format: str  # parquet | csv | tsv | json | jsonl
    compression: str | None = None  # gzip | zstd
    delimiter: str | None = None
    encoding: str = "utf-8"
    note: str | None = None
    array: bool = False  # JSON whose top level is an array: every element is a record
    bom: bool = False  # the text starts with a UTF-8 byte-order mark (PowerShell's `-Encoding UTF8`)
    skip: int = 0  # lines before a table's header (PowerShell's `#TYPE …` line)
    fields: tuple[str, ...] = ()  # a W3C extended log's `#Fields:` (IIS, Exchange)
    # JSON (an array) or JSON Lines: the member names of the first record, when it fits the prefix;
    # a table: its header's names. Files alike in this are read together (`tui.engine.ingest.load_groups`).
    first_keys: tuple[str, ...] | None = None
    # a JSON document whose top-level member (a RECORD_LISTS name) holds the records, when the prefix
    # shows it: `value` for Graph's `{"@odata.context": …, "value": […]}`
    member: str | None = None
    member_at: int = 0  # where the list's first element starts, in bytes of the (decompressed) content


def read_prefix(path: Path) -> tuple[bytes, str | None]:
    """The first PREFIX_BYTES of the (decompressed) content and the compression found."""
    _require_regular(path)
    try:
        with path.open("rb") as raw:
            head = raw.read(PREFIX_BYTES)
            if head.startswith(GZIP_MAGIC):
                raw.seek(0)
                try:
                    with gzip.GzipFile(fileobj=raw) as gz:
                        return _read_upto(gz), "gzip"
                except (OSError, EOFError) as exc:
                    raise UnreadableError(f"corrupt gzip data ({exc})") from exc
            if head.startswith(ZSTD_MAGIC):
                raw.seek(0)
                try:
                    with zstandard.ZstdDecompressor().stream_reader(raw) as zs:
                        return _read_upto(zs), "zstd"
                except zstandard.ZstdError as exc:
                    raise UnreadableError(f"corrupt zstd data ({exc})") from exc
            return head, None
    except PermissionError as exc:
        raise UnreadableError("permission denied") from exc
    except IsADirectoryError as exc:
        raise UnreadableError("is a directory") from exc
    except OSError as exc:
        raise UnreadableError(f"cannot open: {exc.strerror or exc}") from exc


def _require_regular(path: Path) -> None:
    """Refuse pipes, sockets and devices before opening: opening a FIFO blocks until a writer comes."""
    try:
        mode = path.stat().st_mode
    except PermissionError as exc:
        raise UnreadableError("permission denied") from exc
    except OSError as exc:
        what = "dangling symlink" if path.is_symlink() else f"cannot open: {exc.strerror or exc}"
        raise UnreadableError(what) from exc
    if stat.S_ISDIR(mode):
        raise UnreadableError("is a directory")
    if not stat.S_ISREG(mode):
        kind = (
            "a named pipe (FIFO)"
            if stat.S_ISFIFO(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "a device"
        )
        raise UnreadableError(f"{kind}, not a regular file")


def _read_upto(stream: object) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < PREFIX_BYTES:
        chunk = stream.read(PREFIX_BYTES - size)  # type: ignore[attr-defined]
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def sniff(path: Path) -> Sniffed:
    """Detect format, compression, delimiter and encoding from a bounded prefix of the content."""
    head, compression = read_prefix(path)
    if not head:
        raise UnreadableError("empty file" if compression is None else "empty after decompression")
    if head.startswith(PARQUET_MAGIC):
        return Sniffed("parquet", compression)
    if head.startswith(ZIP_MAGIC):
        raise UnreadableError("zip archive: extract it first")
    text, encoding = _decode(head)
    if text is None:
        raise UnreadableError("binary data, not a supported log format")
    body = text.lstrip("\ufeff \t\r\n")
    bom = head.startswith(b"\xef\xbb\xbf")
    if body.startswith("["):
        keys = _first_keys(body, body.index("[") + 1)
        return Sniffed("json", compression, encoding=encoding, array=True, bom=bom, first_keys=keys)
    if body.startswith("{"):
        kind = _json_kind(body)
        if kind == "jsonl":
            return Sniffed(kind, compression, encoding=encoding, bom=bom, first_keys=_first_keys(body, 0))
        member, start = _record_list(body)
        keys = _first_keys(body, start) if member is not None else None
        at = len(text[: len(text) - len(body) + start].encode("utf-8")) if member is not None else 0
        return Sniffed(
            kind, compression, encoding=encoding, bom=bom, first_keys=keys, member=member, member_at=at
        )
    if W3C_DIRECTIVE.match(body):
        return _w3c(body, compression, encoding)
    header, _, rest = body.partition("\n")
    skip = 0
    if header.startswith("#TYPE "):  # Windows PowerShell's Export-Csv without -NoTypeInformation
        header, skip = rest.partition("\n")[0], 1
    delimiter = _delimiter(header)
    if delimiter is None:
        raise UnreadableError("text without a table header or JSON, not a supported log format")
    fmt = "tsv" if delimiter == "\t" else "csv"
    note = None if encoding == "utf-8" else f"text is {encoding}, not UTF-8"
    names = tuple(next(csv.reader([header.rstrip("\r")], delimiter=delimiter), []))
    return Sniffed(
        fmt,
        compression,
        delimiter=delimiter,
        encoding=encoding,
        note=note,
        skip=skip,
        bom=bom,
        first_keys=names,
    )


def _w3c(body: str, compression: str | None, encoding: str) -> Sniffed:
    """A W3C extended log (IIS, Exchange's HTTP logs): `#` directives, then space-separated fields
    named by the `#Fields:` line (which may follow `#Software:`, `#Version:` and `#Date:`); with
    comma-separated names (Exchange's HttpProxy logs) a CSV table whose header is that line."""
    for n, line in enumerate(body.splitlines()):
        if line.startswith("#Fields:"):
            names = line[8:].strip()
            if "," in names and " " not in names:
                # Exchange's own logs (HttpProxy, …): the same directives over a CSV table
                fields = tuple(f.strip() for f in names.split(","))
                return Sniffed(
                    "csv",
                    compression,
                    delimiter=",",
                    encoding=encoding,
                    skip=n + 1,
                    fields=fields,
                    first_keys=fields,
                )
            return Sniffed("w3c", compression, delimiter=" ", encoding=encoding, fields=tuple(names.split()))
        if not line.startswith("#"):
            break
    raise UnreadableError("a W3C extended log without a #Fields line before its first entry")


def _decode(head: bytes) -> tuple[str | None, str]:
    """Text and its encoding, or None when the bytes look binary."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="replace"), "utf-16"
    if head.count(b"\x00") > len(head) // 100:  # a few NULs in a text log are damage, not a binary file
        return None, ""
    try:
        return head.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a multi-byte character cut by the prefix boundary
            return head[: exc.start].decode("utf-8"), "utf-8"
    text = head.decode("latin-1")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\r\n\t")
    if controls > len(text) // 100:
        return None, ""
    return text, "latin-1"


def _json_kind(body: str) -> str:
    """`jsonl` when the first line is a whole record object; `json` for a document."""
    first, newline, _rest = body.partition("\n")
    if not newline and len(body.encode()) >= PREFIX_BYTES - 4:
        # The first line does not fit the prefix: a JSON Lines record never starts with a
        # container member, a one-line document usually does.
        head = re.match(r'\{\s*"([^"]*)"', body)
        return "json" if head and head.group(1) in (*CONTAINER_KEYS, "@odata.context") else "jsonl"
    try:
        obj = json.loads(first)
    except (ValueError, RecursionError):  # RecursionError: a line nested thousands of levels deep
        return "json"
    if isinstance(obj, dict) and not any(k in obj for k in CONTAINER_KEYS):
        return "jsonl"
    return "json"


def _first_keys(body: str, start: int) -> tuple[str, ...] | None:
    """The member names of the JSON object starting at `start` (after blanks); None when it is not
    an object or does not end within the prefix."""
    try:
        obj, _end = json.JSONDecoder().raw_decode(body, len(body) - len(body[start:].lstrip()))
    except (ValueError, RecursionError):
        return None
    return tuple(obj) if isinstance(obj, dict) else None


def _record_list(body: str) -> tuple[str | None, int]:
    """The top-level member of a JSON document that opens a record list (`value`, `records`…; not a
    HAR's `log`), and where its first element starts; (None, 0) when the prefix does not show one.

    The members before it are skipped by parsing them, so a `"value": [` nested in an earlier member
    is not taken for the list."""
    decoder = json.JSONDecoder()
    names = {path[2:] for path in RECORD_LISTS.values() if path.count(".") == 1}
    at = 1
    try:
        while True:
            at = len(body) - len(body[at:].lstrip())
            key, at = decoder.raw_decode(body, at)
            at = len(body) - len(body[at:].lstrip())
            if not isinstance(key, str) or body[at : at + 1] != ":":
                return None, 0
            at = len(body) - len(body[at + 1 :].lstrip())
            if key in names and body[at : at + 1] == "[":
                return key, at + 1
            _value, at = decoder.raw_decode(body, at)
            at = len(body) - len(body[at:].lstrip())
            if body[at : at + 1] != ",":
                return None, 0
            at += 1
    except (ValueError, RecursionError):  # cut by the prefix, or not JSON
        return None, 0


def _delimiter(header: str) -> str | None:
    """The delimiter occurring most often outside quotes in the header line."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else None
