"""The Textual application: opens the backend (in-process or HTTP) and shows the chat screen."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App

from ingest.settings import Settings
from tui.backend import BackendError, ChatBackend, open_backend
from tui.screens.chat import ChatScreen


class SesamApp(App):
    CSS_PATH = ["sesam.tcss"]
    TITLE = "sesam"
    ENABLE_COMMAND_PALETTE = False  # its commands and footer label would be English only

    def __init__(self, settings: Settings, backend_factory: Callable[[Settings], ChatBackend] = open_backend,
                 show_timings: bool = True) -> None:
        super().__init__()
        self.settings = settings
        self.backend_factory = backend_factory
        self.show_timings = show_timings

    def on_mount(self) -> None:
        backend, error = None, None
        try:
            backend = self.backend_factory(self.settings)
        except BackendError as exc:
            error = exc
        self.push_screen(ChatScreen(backend, error, self.settings.ui_lang, self.settings.server_url,
                                    show_timings=self.show_timings, connect=lambda: self.backend_factory(self.settings),
                                    max_chars=self.settings.max_question_chars))


def run_chat(settings: Settings) -> int:
    SesamApp(settings).run()
    return 0
