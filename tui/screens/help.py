"""The help screen: every key and what it does."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from assistant.i18n import t


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(f"[b]{t(self.lang, 'help_title')}[/b]", id="help-title")
            yield Static(t(self.lang, "help"), id="help-text")
            yield Button(t(self.lang, "close"), id="help-close", variant="primary")

    def on_button_pressed(self) -> None:
        self.dismiss(None)
