"""The input line: a history of earlier questions on up/down, and the question length limit."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class QuestionInput(Input):
    BINDINGS = [Binding("up", "history(-1)", show=False), Binding("down", "history(1)", show=False)]

    @dataclass
    class LimitReached(Message):
        """More text was typed or pasted than ``max_length`` allows; what fits was kept."""

        limit: int

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("select_on_focus", False)  # a letter typed elsewhere moves here and must not be replaced
        super().__init__(**kwargs)
        self.history: list[str] = []
        self._pos = 0

    def replace(self, text: str, start: int, end: int) -> None:
        """Like Input's, but a paste longer than the room left is cut to fit instead of refused whole."""
        if self.max_length:
            room = self.max_length - (len(self.value) - (end - start))
            if len(text) > room:
                text = text[: max(0, room)]
                self.post_message(self.LimitReached(self.max_length))
        super().replace(text, start, end)

    def restricted(self) -> None:
        """Typing at the limit: say why nothing appears (the screen shows it in the interface's language)."""
        self.post_message(self.LimitReached(self.max_length))

    def remember(self, question: str) -> None:
        if question and (not self.history or self.history[-1] != question):
            self.history.append(question)
        self._pos = len(self.history)

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self._pos = max(0, min(len(self.history), self._pos + step))
        self.value = self.history[self._pos] if self._pos < len(self.history) else ""
        self.cursor_position = len(self.value)
