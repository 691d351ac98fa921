"""The conversation pane: questions and answers with their [n] markers; clicking an answer, or moving to it with
up/down while the pane has the focus, selects it (its sources are listed and 1–9 open them)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
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
    """All turns of the chat, newest at the bottom; the selected answer is marked."""

    BINDINGS = [Binding("up", "move(-1)", show=False), Binding("down", "move(1)", show=False)]
    can_focus = True

    @dataclass
    class Selected(Message):
        """Up or down chose another answer: show its sources."""

        index: int

    def answers(self) -> list[MessageView]:
        return [view for view in self.query(MessageView) if view.role != "question"]

    def mark(self, index: int | None) -> None:
        """Mark the answer ``index`` as the selected one."""
        for view in self.answers():
            view.set_class(view.index == index, "-selected")

    def action_move(self, step: int) -> None:
        answers = self.answers()
        if not answers:
            return
        now = next((i for i, view in enumerate(answers) if view.has_class("-selected")), len(answers) - 1)
        target = answers[max(0, min(len(answers) - 1, now + step))]
        self.mark(target.index)  # at once: the next key of a burst moves on from here
        self.scroll_to_widget(target, animate=False)  # here only: a new answer scrolls the pane to its end
        self.post_message(self.Selected(target.index))

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

    def show_answer(self, index: int, text: str, label: str, amber: bool) -> None:
        """The answer ``index`` as ``text`` under ``label``, amber when the documents had none, never red (an error
        shown before is gone); its other classes stay (-selected: the chosen answer)."""
        view = self.answer_view(index)
        if view is not None:
            view.remove_class("error").set_class(amber, "abstained")
            view.set_text(text, label)

    def show_failure(self, index: int, text: str, label: str) -> None:
        """The answer ``index`` as ``text`` under ``label``, in red: it failed or was stopped."""
        view = self.answer_view(index)
        if view is not None:
            view.remove_class("abstained").add_class("error")
            view.set_text(text, label)

    def extend_answer(self, index: int, piece: str) -> None:
        """``piece`` added to the answer ``index`` as it streams in; the pane scrolls to its end."""
        view = self.answer_view(index)
        if view is not None:
            view.append(piece)
            self.scroll_end(animate=False)

    def clear(self) -> None:
        self.remove_children()
