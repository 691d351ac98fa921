"""Metadata and file names are data: one line of printable text before storing, escaped before a terminal.

A PDF's /Title, /Author or a file name can hold line breaks, terminal escape sequences (ESC [ …), bidi
overrides or bytes that are not UTF-8. Stored as they are, they forge report lines, move text outside the
quotation marks of an attribution, or drive the terminal. :func:`one_line` is applied before metadata is
stored; :func:`printable` before anything from a file or a document reaches a terminal.
"""

from __future__ import annotations

import re
import unicodedata

MAX_META_CHARS = 300
_SPACES = re.compile(r"\s+")


def _is_control(ch: str) -> bool:
    """C0/C1 controls, format characters (bidi overrides, zero-width), lone surrogates, unassigned, private."""
    return unicodedata.category(ch)[0] == "C"


def one_line(text: str | None, limit: int = MAX_META_CHARS) -> str:
    """``text`` as one line of printable text: every run of whitespace (line breaks included) becomes one
    space, other control and format characters are dropped, and the result is cut to ``limit`` characters."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    spaced = _SPACES.sub(" ", "".join(" " if ch.isspace() else ch for ch in text))
    clean = "".join(ch for ch in spaced if not _is_control(ch)).strip()
    if len(clean) > limit:
        clean = clean[: limit - 1].rstrip() + "…"
    return clean


def printable(text: object) -> str:
    """``text`` safe for a terminal: control, format and undecodable characters are shown as escapes
    (``\\n``, ``\\x1b``, ``\\udcff``), so nothing from a file name or a document can steer the terminal."""
    out = []
    for ch in str(text):
        if ch in " \u00a0" or not _is_control(ch) and not (ch.isspace() and ch != " "):
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii") if ord(ch) < 0xD800 or ord(ch) > 0xDFFF
                       else f"\\u{ord(ch):04x}")
    return "".join(out)


def printable_lines(text: object) -> str:
    """As :func:`printable`, but line breaks stay line breaks (for multi-line answers)."""
    return "\n".join(printable(line) for line in str(text).split("\n"))
