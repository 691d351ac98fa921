"""The Textual application: opens the backend (in-process or HTTP) and shows the chat screen."""

from __future__ import annotations

from collections.abc import Callable

from textual import events
from textual.app import App

from ingest.settings import Settings
from tui.backend import BackendError, ChatBackend, open_backend
from tui.screens.chat import ChatScreen


class SesamApp(App):
    CSS_PATH = ["sesam.tcss"]
    TITLE = "sesam"
    ENABLE_COMMAND_PALETTE = False  # its commands and footer label would be English only

    def __init__(self, settings: Settings, backend_factory: Callable[[Settings], ChatBackend] = open_backend,
                 show_timings: bool = True, show_scores: bool = True) -> None:
        """``show_timings`` and ``show_scores`` off: nothing on screen depends on the machine (snapshot tests;
        the last digits of a score differ between CPUs, as the engine's kernels do)."""
        super().__init__()
        self.settings = settings
        self.backend_factory = backend_factory
        self.show_timings, self.show_scores = show_timings, show_scores

    async def on_event(self, event: events.Event) -> None:
        """A key or paste from the terminal goes by the screen first, which may move the focus to the question: the
        app forwards each to the widget focused when its turn comes, so a fast typist's keys all arrive, in order."""
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            route = getattr(self.screen, "route_typing", None)
            if route is not None:
                route(event)
        await super().on_event(event)

    def on_mount(self) -> None:
        backend, error = None, None
        try:
            backend = self.backend_factory(self.settings)
        except BackendError as exc:
            error = exc
        self.push_screen(ChatScreen(backend, error, self.settings.ui_lang, self.settings.server_url,
                                    show_timings=self.show_timings, show_scores=self.show_scores,
                                    connect=lambda: self.backend_factory(self.settings),
                                    max_chars=self.settings.max_question_chars, index_dir=self.settings.index_dir))


def run_chat(settings: Settings) -> int:
    SesamApp(settings).run()
    return 0
