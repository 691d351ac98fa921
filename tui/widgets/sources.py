"""The sources pane: the citations of the selected answer (title, page, score)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from assistant.types import Citation
from assistant.i18n import t


class SourcesList(OptionList):
    """Citations as options; Enter or a click opens one. With the focus here, one is always highlighted."""

    @dataclass
    class Chosen(Message):
        citation: Citation

    def __init__(self, show_scores: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.citations: list[Citation] = []
        self.show_scores = show_scores

    def show(self, citations: Sequence[Citation], abstained: bool, lang: str) -> None:
        self.citations = list(citations)
        # an abstention lists the closest passages as possibly related; an off-topic one lists none
        self.border_title = t(lang, "related" if abstained and citations else "sources")
        self.clear_options()
        self.add_options([Option(f"[{c.n}] {c.title}, {c.place(lang)}" + self._score(c, lang), id=str(c.n))
                          for c in self.citations])
        if self.has_focus:
            self._highlight_first()

    def _score(self, citation: Citation, lang: str) -> str:
        return f"  ({t(lang, 'score')} {citation.score:.2f})" if self.show_scores else ""

    def _highlight_first(self) -> None:
        """Enter opens a source at once, without an arrow key first."""
        if self.highlighted is None and self.option_count:
            self.highlighted = 0

    def on_focus(self) -> None:
        self._highlight_first()

    def open_number(self, n: int) -> bool:
        for i, c in enumerate(self.citations):
            if c.n == n:
                self.highlighted = i
                self.post_message(self.Chosen(c))
                return True
        return False

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.open_number(int(event.option.id))
