"""The status bar: which index is served (documents, chunks, embedder), filters, and the last answer's time.

It fits its one line to the width it has: first closer separators and no embedder, then the filter's names cut
with "…", then whatever comes before the time of the last answer, which keeps its unit.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from assistant.i18n import t

WIDE, NARROW = "  |  ", " | "


def ellipsis(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, its end replaced by "…" when cut."""
    if len(text) <= width:
        return text
    return text[: max(0, width - 1)] + "…" if width > 0 else ""


def fit(width: int, info: list[str], filter_label: str, filters: str, last_label: str, last_value: str,
        min_names: int = 12) -> str:
    """The status line in ``width`` characters (see the module's docstring for what goes first)."""
    last = f"{last_label}: {last_value}" if last_value else ""

    def line(head: str, sep: str, names: str) -> str:
        return sep.join(p for p in (head, f"{filter_label}: {names}" if filters else "", last) if p)

    heads = (" · ".join(info), " · ".join(info[:2]))
    for head in heads:  # everything whole
        for sep in (WIDE, NARROW):
            if len(text := line(head, sep, filters)) <= width:
                return text
    for head in heads:  # the filter's names cut
        room = width - len(line(head, NARROW, ""))
        if filters and room >= min(len(filters), min_names):
            return line(head, NARROW, ellipsis(filters, room))
    lead = NARROW.join(p for p in (heads[1], f"{filter_label}: …" if filters else "") if p)
    for tail in (last, last_value):  # what goes before the time is cut; the time keeps its unit
        if tail and lead and width - len(NARROW) - len(tail) >= 4:
            return ellipsis(lead, width - len(NARROW) - len(tail)) + NARROW + tail
    if last_value:
        return last if len(last) <= width else ellipsis(last_value, width)
    return ellipsis(lead, width)


class StatusBar(Static):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._line: tuple = ("", "", [], "", "", "", "")  # error: label, text; info; filter: label, names; time

    def show(self, info: dict | None, lang: str, last_ms: float | None, filters: str = "",
             error: str = "") -> None:
        parts = []
        if info:
            parts = [f"{info.get('documents', '?')} {t(lang, 'docs')}",
                     f"{info.get('chunks', '?')} {t(lang, 'chunks')}", f"{info.get('embedder', '?')}"]
        last = f"{last_ms:.0f} ms" if last_ms is not None else ""
        self._line = (f"{t(lang, 'error')}:" if error else "", error, parts, t(lang, "filter_on"), filters,
                      t(lang, "last"), last)
        self.refresh()

    def render(self) -> Text:
        label, error, info, filter_label, filters, last_label, last = self._line
        width = max(1, self.size.width)
        if label:
            text = Text.assemble((label, "bold"), " ", error)
            text.truncate(width, overflow="ellipsis")
            return text
        return Text(fit(width, info, filter_label, filters, last_label, last))
