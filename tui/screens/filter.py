"""The filter dialog: restrict answers to some documents (chosen by title) and/or languages."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, SelectionList

from assistant.types import Filters
from assistant.i18n import t
from ingest.language import LANGUAGES


class FilterScreen(ModalScreen[Filters | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, documents: list[dict], current: Filters, lang: str) -> None:
        super().__init__()
        self.documents, self.current, self.lang = documents, current, lang

    def compose(self) -> ComposeResult:
        with Vertical(id="filter-box"):
            yield Label(f"[b]{t(self.lang, 'filter')}[/b]")
            yield Label(t(self.lang, "filter_doc"))
            yield SelectionList[str](*[(d["title"], d["doc_id"], d["doc_id"] in self.current.doc_ids)
                                       for d in sorted(self.documents, key=lambda d: d["title"].casefold())],
                                     id="filter-doc")
            yield Label(t(self.lang, "filter_lang"))
            yield SelectionList[str](*[(t(self.lang, f"lang_{code}"), code, code in self.current.languages)
                                       for code in LANGUAGES], id="filter-lang")
            with Horizontal(id="filter-buttons"):
                yield Button(t(self.lang, "apply"), id="filter-apply", variant="primary")
                yield Button(t(self.lang, "cancel"), id="filter-cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "filter-apply":
            self.dismiss(None)
            return
        docs = self.query_one("#filter-doc", SelectionList).selected
        languages = self.query_one("#filter-lang", SelectionList).selected
        self.dismiss(Filters(doc_ids=tuple(docs), languages=tuple(languages)))

    def action_cancel(self) -> None:
        self.dismiss(None)
