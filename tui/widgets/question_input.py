"""The input line: a history of earlier questions on up/down, the question length limit, and pasted lines.

A pasted text keeps its words apart: its line breaks become spaces. A bracketed paste arrives whole (a Paste
event); without bracketed paste a terminal sends the lines as keys with Enter (or Ctrl+J) between them, so Enter
submits only after a short pause in which no further character arrives: a character hard on its heels makes that
Enter a line break of a paste, and several Enters in a row send the question once.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input

PASTE_GAP_S = 0.05  # a key this soon after Enter is part of the same paste: no one types that fast


def one_line(text: str) -> str:
    """Pasted text on one line: each line break (and the blank lines between paragraphs) one space."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


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
        self._submit_timer: Timer | None = None

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

    # --- pasted text ----------------------------------------------------------------------
    def _on_paste(self, event: events.Paste) -> None:
        """All lines of a bracketed paste, joined by spaces (Input keeps only the first)."""
        event.stop()
        event.prevent_default()
        text = one_line(event.text)
        if text:
            self.replace(text, *sorted(self.selection))

    def action_line_break(self) -> None:
        """A line break in pasted text (Ctrl+J is a bare LF): a space between the words, not nothing."""
        before = self.value[:self.cursor_position]
        if before and not before[-1].isspace():
            self.insert_text_at_cursor(" ")

    async def action_submit(self) -> None:
        """Submit after a pause: a character that follows at once makes this Enter a pasted line break."""
        if self._submit_timer is not None:  # Enter again before the first was sent: the question goes once
            self._submit_timer.stop()
        self._submit_timer = self.set_timer(PASTE_GAP_S, lambda: self.call_later(self._submit_now))

    async def _submit_now(self) -> None:
        if self._submit_timer is None:  # a character came first (this call queued behind it): it was a paste
            return
        self._submit_timer = None
        await super().action_submit()

    async def _on_key(self, event: events.Key) -> None:
        """Enter and Ctrl+J here, not as bindings: those run once the key has bubbled up to the app, after the
        characters that follow it in a paste, which would run the lines together."""
        if event.key in ("enter", "ctrl+j"):
            event.stop()
            event.prevent_default()
            if event.key == "enter":
                await self.action_submit()
            else:
                self.action_line_break()
            return
        if event.is_printable and self._submit_timer is not None:
            self._submit_timer.stop()
            self._submit_timer = None
            self.action_line_break()
        await super()._on_key(event)

    # --- history --------------------------------------------------------------------------
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
