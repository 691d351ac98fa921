"""The passage viewer: a cited passage in the context of its page, the quoted sentence highlighted."""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from assistant.types import Citation
from assistant.i18n import t


class PassageView(VerticalScroll):
    can_focus = True

    def compose(self):
        yield Static(id="passage-text")

    def show_hint(self, lang: str) -> None:
        self.border_title = t(lang, "passage")
        self.query_one("#passage-text", Static).update(t(lang, "no_source"))

    def show(self, citation: Citation, page_text: str, lang: str) -> None:
        self.border_title = f"[{citation.n}] {citation.title}, {t(lang, 'page')} {citation.page} ({citation.file})"
        text = Text(page_text or citation.text)
        start = (page_text or citation.text).find(citation.text)
        if start >= 0:
            text.stylize("bold", start, start + len(citation.text))
            if citation.quote:
                q = citation.text.find(citation.quote)
                if q >= 0:
                    text.stylize("black on yellow", start + q, start + q + len(citation.quote))
        self.query_one("#passage-text", Static).update(text)
        self.scroll_home(animate=False)
