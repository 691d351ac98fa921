"""The status bar: which index is served (documents, chunks, embedder), filters, and the last answer's time."""

from __future__ import annotations

from textual.widgets import Static

from assistant.i18n import t


class StatusBar(Static):
    def show(self, info: dict | None, lang: str, last_ms: float | None, filters: str = "",
             error: str = "") -> None:
        if error:
            self.update(f"[b]{t(lang, 'error')}:[/b] {error}")
            return
        parts = []
        if info:
            parts.append(f"{info.get('documents', '?')} {t(lang, 'docs')} · {info.get('chunks', '?')} "
                         f"{t(lang, 'chunks')} · {info.get('embedder', '?')}")
        if filters:
            parts.append(f"{t(lang, 'filter_on')}: {filters}")
        if last_ms is not None:
            parts.append(f"{t(lang, 'last')}: {last_ms:.0f} ms")
        self.update("  |  ".join(parts))
