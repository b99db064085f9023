"""Make data inert: nothing from an input may act on a terminal or a spreadsheet (SPEC §8)."""

from __future__ import annotations

import re

# C0 controls except tab/newline, DEL, C1 controls, and the Unicode bidi / isolate controls
# that can reorder what an analyst reads (Trojan Source).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")
_CONTROL_CELL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(text: str) -> str:
    """Show control and bidi characters as visible escapes; keep newlines and tabs."""
    return _CONTROL.sub(_escape, text)


def inert_cell(value: object) -> str:
    """One table cell on one line: every control character, newlines included, escaped."""
    if value is None:
        return ""
    return _CONTROL_CELL.sub(_escape, str(value))


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: str) -> str:
    """Prefix a cell a spreadsheet would evaluate with a quote (OWASP CSV injection advice)."""
    if value and value.startswith(FORMULA_START):
        return "'" + value
    return value
