"""The filter dialog: restrict answers to one document and/or one language."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Select

from assistant.types import Filters
from tui.i18n import t


class FilterScreen(ModalScreen[Filters | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, documents: list[dict], current: Filters, lang: str) -> None:
        super().__init__()
        self.documents, self.current, self.lang = documents, current, lang

    def compose(self) -> ComposeResult:
        doc = self.current.doc_ids[0] if self.current.doc_ids else Select.NULL
        language = self.current.languages[0] if self.current.languages else Select.NULL
        with Vertical(id="filter-box"):
            yield Label(f"[b]{t(self.lang, 'filter')}[/b]")
            yield Label(t(self.lang, "filter_doc"))
            yield Select([(d["title"], d["doc_id"]) for d in self.documents], value=doc, id="filter-doc",
                         prompt=t(self.lang, "all_docs"))
            yield Label(t(self.lang, "filter_lang"))
            yield Select([("svenska", "sv"), ("English", "en")], value=language, id="filter-lang",
                         prompt=t(self.lang, "all_langs"))
            with Horizontal(id="filter-buttons"):
                yield Button(t(self.lang, "apply"), id="filter-apply", variant="primary")
                yield Button(t(self.lang, "cancel"), id="filter-cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "filter-apply":
            self.dismiss(None)
            return
        doc = self.query_one("#filter-doc", Select).value
        language = self.query_one("#filter-lang", Select).value
        self.dismiss(Filters(doc_ids=(doc,) if isinstance(doc, str) else (),
                             languages=(language,) if isinstance(language, str) else ()))

    def action_cancel(self) -> None:
        self.dismiss(None)
