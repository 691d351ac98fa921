"""The conversation's record, one ``Exchange`` a question, and its Markdown transcript as Ctrl+S saves it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.i18n import t
from assistant.types import Citation


@dataclass
class Exchange:
    question: str
    answer: str = ""
    citations: tuple[Citation, ...] = ()
    abstained: bool = False
    lang: str = "sv"
    reply: bool = False  # a greeting, thanks, … got a friendly line: no "no answer in the documents" label
    settled: bool = False  # answered, or failed: no longer "searching the documents"


def save(exchanges: Sequence[Exchange], lang: str, directory: Path | None = None) -> Path | None:
    """The answered exchanges as a Markdown file in ``directory`` (the working directory if none), headed in
    ``lang``; None, and nothing written, when no question has an answer yet."""
    done = [e for e in exchanges if e.answer]
    if not done:
        return None
    path = (directory or Path.cwd()) / time.strftime("sesam-samtal-%Y%m%d-%H%M%S.md")
    lines = [f"# {t(lang, 'title')}", ""]
    for e in done:
        lines += [f"## {e.question}", "", *markdown(e.answer), ""]
        if e.citations:  # a greeting's reply, or an off-topic question's, has no passages to head
            lines += [f"**{t(e.lang, 'related' if e.abstained else 'sources')}**", ""]
        for c in e.citations:  # placed as the sources pane places it: the printed page label, OCR, or a section
            lines.append(f"{c.n}. {c.title}, {c.place(e.lang)} ({c.file})")
            if c.quote:
                lines.append(f"   > {' '.join(c.quote.split())}")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def markdown(text: str) -> list[str]:
    """An answer as Markdown lines: its bullets a list, its other line breaks kept (not run together)."""
    out: list[str] = []
    for line in text.split("\n"):
        stripped = line.strip()
        bullet = stripped[:1] in ("•", "·", "▪", "–", "-") and stripped[1:2] == " "
        if bullet:
            if out and out[-1] and not out[-1].startswith("- "):
                out[-1] = out[-1].rstrip("\\")
                out.append("")
            out.append("- " + stripped[2:].strip())
        elif not stripped:
            if out and out[-1].endswith("\\"):
                out[-1] = out[-1][:-1]
            out.append("")
        else:
            if out and out[-1].startswith("- "):
                out.append("")
            out.append(stripped + "\\")  # a hard line break
    if out and out[-1].endswith("\\"):
        out[-1] = out[-1][:-1]
    return out
