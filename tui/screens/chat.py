"""The chat screen: conversation, sources, passage viewer, input and status bar; answers come from a worker."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header

from assistant.types import Citation, Filters
from ingest.language import detect_language
from tui.backend import BackendError, ChatBackend
from tui.i18n import t
from tui.screens.filter import FilterScreen
from tui.screens.help import HelpScreen
from tui.widgets.conversation import ConversationView, MessageView
from tui.widgets.passage import PassageView
from tui.widgets.question_input import QuestionInput
from tui.widgets.sources import SourcesList


@dataclass
class Exchange:
    question: str
    answer: str = ""
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    lang: str = "sv"


def _citation(d: dict) -> Citation:
    return Citation(n=d["n"], doc_id=d["doc_id"], title=d["title"], file=d["file"], page=d["page"], text=d["text"],
                    score=d["score"], quote=d.get("quote", ""), heading=d.get("section", ""),
                    page_label=d.get("page_label") or "", ocr=bool(d.get("ocr", False)))


class ChatScreen(Screen):
    BINDINGS = [
        Binding("f1", "help", "Help"), Binding("ctrl+f", "filter", "Filter"),
        Binding("ctrl+l", "clear", "Clear"), Binding("ctrl+s", "save", "Save"),
        *[Binding(str(n), f"open_citation({n})", show=False) for n in range(1, 10)],
    ]

    class Citations(Message):
        def __init__(self, index: int, citations: list[Citation], abstained: bool) -> None:
            super().__init__()
            self.index, self.citations, self.abstained = index, citations, abstained

    class Delta(Message):
        def __init__(self, index: int, text: str) -> None:
            super().__init__()
            self.index, self.text = index, text

    class Done(Message):
        def __init__(self, index: int, answer: dict, elapsed_ms: float) -> None:
            super().__init__()
            self.index, self.answer, self.elapsed_ms = index, answer, elapsed_ms

    class Failed(Message):
        def __init__(self, index: int, error: BackendError) -> None:
            super().__init__()
            self.index, self.error = index, error

    def __init__(self, backend: ChatBackend | None, error: BackendError | None, ui_lang: str | None,
                 server_url: str | None, show_timings: bool = True) -> None:
        super().__init__()
        self.backend, self.startup_error, self.fixed_lang = backend, error, ui_lang
        self.server_url, self.show_timings = server_url, show_timings
        self.lang = ui_lang or "sv"
        self.exchanges: list[Exchange] = []
        self.selected: int | None = None
        self.filters = Filters()
        self.session_id = f"tui-{uuid.uuid4().hex[:12]}"
        self.last_ms: float | None = None
        self.info = backend.info() if backend else None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Horizontal(id="main"):
            yield ConversationView(id="conversation")
            with Vertical(id="side"):
                yield SourcesList(id="sources")
                yield PassageView(id="passage")
        yield QuestionInput(placeholder=t(self.lang, "placeholder"), id="question")
        from tui.widgets.status_bar import StatusBar

        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.title = t(self.lang, "title")
        self.query_one("#conversation").border_title = "sesam"
        self.query_one(SourcesList).border_title = t(self.lang, "sources")
        self.query_one(PassageView).show_hint(self.lang)
        self.refresh_status()
        self.query_one(QuestionInput).focus()
        if self.startup_error is not None:
            self.show_error(self.startup_error)

    # --- helpers ------------------------------------------------------------------------
    def error_text(self, error: BackendError) -> str:
        if error.kind == "no_index":
            return t(self.lang, "no_index")
        if error.kind == "unreachable":
            return t(self.lang, "unreachable", url=self.server_url or "")
        return t(self.lang, "failed", detail=error.detail or str(error))

    def show_error(self, error: BackendError) -> None:
        message = self.error_text(error)
        self.query_one("#status").show(None, self.lang, None, error=message)
        self.notify(message, title=t(self.lang, "error"), severity="error", timeout=10)

    def refresh_status(self) -> None:
        parts = list(self.filters.doc_ids) + list(self.filters.languages)
        self.query_one("#status").show(self.info, self.lang, self.last_ms if self.show_timings else None,
                                       ", ".join(parts))

    # --- asking -------------------------------------------------------------------------
    def on_input_submitted(self, event: QuestionInput.Submitted) -> None:
        question = event.value.strip()
        if not question:
            return
        box = self.query_one(QuestionInput)
        box.remember(question)
        box.value = ""
        if self.backend is None:
            self.show_error(self.startup_error or BackendError("no_index"))
            return
        if self.fixed_lang is None:
            detected = detect_language(question)
            if detected in ("sv", "en") and detected != self.lang:
                self.lang = detected
                self.title = t(self.lang, "title")
                box.placeholder = t(self.lang, "placeholder")
                self.query_one(PassageView).show_hint(self.lang)
        index = len(self.exchanges)
        self.exchanges.append(Exchange(question, lang=self.lang))
        conversation = self.query_one(ConversationView)
        conversation.add("question", t(self.lang, "you"), question, index)
        conversation.add("answer", t(self.lang, "sesam"), t(self.lang, "thinking"), index)
        self.ask(index, question)

    @work(thread=True, exclusive=True)
    def ask(self, index: int, question: str) -> None:
        started = time.perf_counter()
        try:
            for event in self.backend.ask_stream(question, filters=self.filters or None,
                                                 session_id=self.session_id, lang=self.fixed_lang):
                if event.kind == "citations":
                    self.post_message(self.Citations(index, [_citation(c) for c in event.data["citations"]],
                                                     event.data["abstained"]))
                elif event.kind == "delta":
                    self.post_message(self.Delta(index, event.data["text"]))
                elif event.kind == "done":
                    self.post_message(self.Done(index, event.data["answer"], (time.perf_counter() - started) * 1000))
        except BackendError as exc:
            self.post_message(self.Failed(index, exc))

    def on_chat_screen_citations(self, message: Citations) -> None:
        ex = self.exchanges[message.index]
        ex.citations, ex.abstained = message.citations, message.abstained
        view = self.query_one(ConversationView).answer_view(message.index)
        if view is not None:
            view.set_classes("answer abstained" if ex.abstained else "answer")
            view.set_text("", t(ex.lang, "abstained") if ex.abstained else t(ex.lang, "sesam"))
        self.select(message.index)

    def on_chat_screen_delta(self, message: Delta) -> None:
        view = self.query_one(ConversationView).answer_view(message.index)
        if view is not None:
            view.append(message.text)
            self.query_one(ConversationView).scroll_end(animate=False)

    def on_chat_screen_done(self, message: Done) -> None:
        ex = self.exchanges[message.index]
        ex.answer = message.answer["answer"]
        view = self.query_one(ConversationView).answer_view(message.index)
        if view is not None:
            view.set_text(ex.answer)
        self.last_ms = message.elapsed_ms
        self.refresh_status()

    def on_chat_screen_failed(self, message: Failed) -> None:
        view = self.query_one(ConversationView).answer_view(message.index)
        if view is not None:
            view.set_classes("answer error")
            view.set_text(self.error_text(message.error), t(self.lang, "error"))
        self.show_error(message.error)

    # --- sources and passages -----------------------------------------------------------
    def select(self, index: int) -> None:
        self.selected = index
        ex = self.exchanges[index]
        self.query_one(SourcesList).show(ex.citations, ex.abstained, ex.lang)

    def on_message_view_selected(self, message: MessageView.Selected) -> None:
        if message.index < len(self.exchanges):
            self.select(message.index)

    def on_sources_list_chosen(self, message: SourcesList.Chosen) -> None:
        c = message.citation
        try:
            page_text = self.backend.page_text(c.doc_id, c.page) if self.backend else ""
        except BackendError as exc:
            self.show_error(exc)
            page_text = ""
        self.query_one(PassageView).show(c, page_text, self.lang)

    def action_open_citation(self, n: int) -> None:
        self.query_one(SourcesList).open_number(n)

    # --- commands -----------------------------------------------------------------------
    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.lang))

    def action_filter(self) -> None:
        if self.backend is None:
            return
        def apply(result: Filters | None) -> None:
            if result is not None:
                self.filters = result
                self.refresh_status()
        self.app.push_screen(FilterScreen(self.backend.documents(), self.filters, self.lang), apply)

    def action_clear(self) -> None:
        self.exchanges.clear()
        self.selected = None
        self.session_id = f"tui-{uuid.uuid4().hex[:12]}"
        self.query_one(ConversationView).clear()
        self.query_one(SourcesList).show([], False, self.lang)
        self.query_one(PassageView).show_hint(self.lang)
        self.notify(t(self.lang, "cleared"))

    def action_save(self, directory: Path | None = None) -> Path | None:
        done = [e for e in self.exchanges if e.answer]
        if not done:
            self.notify(t(self.lang, "nothing"))
            return None
        path = (directory or Path.cwd()) / time.strftime("sesam-samtal-%Y%m%d-%H%M%S.md")
        lines = [f"# {t(self.lang, 'title')}", ""]
        for e in done:
            lines += [f"## {e.question}", "", e.answer, "", f"**{t(e.lang, 'related' if e.abstained else 'sources')}**", ""]
            for c in e.citations:
                lines.append(f"{c.n}. {c.title}, {t(e.lang, 'page')} {c.page} ({c.file})")
                if c.quote:
                    lines.append(f"   > {' '.join(c.quote.split())}")
            lines.append("")
        path.write_text("\n".join(lines), encoding="utf-8")
        self.notify(t(self.lang, "saved", path=str(path)))
        return path
