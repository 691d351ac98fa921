"""The conversation pane: questions and answers with their [n] markers; clicking an answer selects it."""

from __future__ import annotations

from dataclasses import dataclass

from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static


class MessageView(Static):
    """One question or one answer."""

    @dataclass
    class Selected(Message):
        """An answer was clicked: show its sources."""

        index: int

    def __init__(self, role: str, label: str, text: str, index: int) -> None:
        super().__init__(classes=role)
        self.role, self.label, self.body, self.index = role, label, text, index
        self._render_body()

    def _render_body(self) -> None:
        self.update(f"[b]{self.label}[/b]\n{_escape(self.body)}")

    def set_text(self, text: str, label: str | None = None) -> None:
        self.body = text
        if label is not None:
            self.label = label
        self._render_body()

    def append(self, piece: str) -> None:
        self.body += piece
        self._render_body()

    def on_click(self) -> None:
        if self.role != "question":
            self.post_message(self.Selected(self.index))


def _escape(text: str) -> str:
    return text.replace("[", r"\[")


class ConversationView(VerticalScroll):
    """All turns of the chat, newest at the bottom."""

    can_focus = True

    def add(self, role: str, label: str, text: str, index: int) -> MessageView:
        view = MessageView(role, label, text, index)
        self.mount(view)
        self.scroll_end(animate=False)
        return view

    def answer_view(self, index: int) -> MessageView | None:
        for view in self.query(MessageView):
            if view.index == index and view.role != "question":
                return view
        return None

    def clear(self) -> None:
        self.remove_children()
