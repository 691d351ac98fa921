"""The chat screen: conversation, sources, passage viewer, input and status bar; answers come from a worker."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input
from textual.worker import Worker, WorkerState, get_current_worker

from assistant.types import Citation, Filters
from ingest.language import DEFAULT_LANGUAGE, LANGUAGES, detect_language
from ingest.settings import MAX_QUESTION_CHARS
from tui.backend import BackendError, ChatBackend, Finished, Piece, Sources, error_text
from assistant.i18n import t
from tui.screens.filter import FilterScreen
from tui.screens.help import HelpScreen
from tui.transcript import Exchange, save as save_transcript
from tui.widgets.conversation import ConversationView, MessageView
from tui.widgets.passage import PassageView
from tui.widgets.question_input import QuestionInput
from tui.widgets.sources import SourcesList
from tui.widgets.status_bar import StatusBar

KEY_LABELS = {"help": "key_help", "filter": "key_filter", "clear": "key_clear", "save": "key_save"}


class ChatScreen(Screen):
    BINDINGS = [
        Binding("f1", "help", "Help"), Binding("ctrl+f", "filter", "Filter"),
        Binding("ctrl+l", "clear", "Clear"), Binding("ctrl+s", "save", "Save"),
        *[Binding(str(n), f"open_citation({n})", show=False) for n in range(1, 10)],
    ]

    @dataclass
    class Connected(Message):
        backend: ChatBackend
        info: dict

    @dataclass
    class Answering(Message):
        """From the worker answering question ``index`` of the conversation ``generation`` (one more at each Ctrl+L):
        what the worker of a cleared conversation still sends is dropped, as the new one numbers its questions
        from 0 again."""
        generation: int
        index: int

    @dataclass
    class Citations(Answering):
        citations: tuple[Citation, ...]
        abstained: bool
        reply: bool = False

    @dataclass
    class Delta(Answering):
        text: str

    @dataclass
    class Done(Answering):
        text: str
        elapsed_ms: float
        reply: bool = False

    @dataclass
    class Failed(Answering):
        question: str
        error: BackendError

    @dataclass
    class PageFetched(Message):
        """The page of ``citation`` fetched by ``fetch_page``, to show if that source is still the one opened."""
        citation: Citation
        page_text: str

    @dataclass
    class DocumentsFetched(Message):
        """The indexed documents fetched by ``fetch_documents``: the filter dialog opens with them."""
        documents: list[dict]

    FETCHING = ("page", "documents")  # the groups of the workers that fetch for a pane or a dialog

    def __init__(self, backend: ChatBackend | None, error: BackendError | None, ui_lang: str | None,
                 server_url: str | None, show_timings: bool = True, show_scores: bool = True,
                 connect: Callable[[], ChatBackend] | None = None, max_chars: int = MAX_QUESTION_CHARS,
                 index_dir: Path | None = None) -> None:
        super().__init__()
        self.backend, self.startup_error, self.fixed_lang = backend, error, ui_lang
        self.server_url, self.show_timings, self.connect, self.max_chars = server_url, show_timings, connect, max_chars
        self.index_dir, self.show_scores = index_dir, show_scores
        self.lang = ui_lang or DEFAULT_LANGUAGE
        self.exchanges: list[Exchange] = []
        self.generation = 0  # the conversation's: one more at each clear
        self.selected: int | None = None
        self.answering: int | None = None  # the question being answered: Enter sends no other meanwhile
        self.asking: dict[Worker, int] = {}  # the workers answering, and the question each answers
        self.passage_of: int | None = None  # the answer whose source the passage pane shows
        self.opening: Citation | None = None  # the source whose page is being fetched, to show when it comes
        self.filters = Filters()
        self.titles: dict[str, str] = {}
        self.session_id = f"tui-{uuid.uuid4().hex[:12]}"
        self.last_ms: float | None = None
        self.info = None
        if backend is not None:
            try:
                self.info = backend.info()
            except BackendError as exc:  # shown on mount; the next question connects again
                self.backend, self.startup_error = None, error or exc

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Horizontal(id="main"):
            yield ConversationView(id="conversation")
            with Vertical(id="side"):
                yield SourcesList(id="sources", show_scores=self.show_scores)
                yield PassageView(id="passage")
        yield QuestionInput(placeholder=t(self.lang, "placeholder"), max_length=self.max_chars, id="question")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#conversation").border_title = "sesam"
        self.set_language(self.lang)
        self.refresh_status()
        self.query_one(QuestionInput).focus()
        if self.startup_error is not None:
            self.show_error(self.startup_error)

    # --- language -----------------------------------------------------------------------
    def set_language(self, lang: str) -> None:
        """Every text of the screen in ``lang``, the footer's key labels included."""
        self.lang = lang
        self.title = t(lang, "title")
        self.query_one(QuestionInput).placeholder = t(lang, "placeholder")
        self.query_one(SourcesList).border_title = t(lang, "sources")
        self.query_one(PassageView).show_hint(lang)
        for key, bindings in list(self._bindings.key_to_bindings.items()):
            self._bindings.key_to_bindings[key] = [
                replace(b, description=t(lang, KEY_LABELS[b.action])) if b.action in KEY_LABELS else b
                for b in bindings]
        self.refresh_bindings()

    # --- helpers ------------------------------------------------------------------------
    def show_error(self, error: BackendError) -> None:
        self.log.error(f"sesam chat: {error.kind}: {error.detail}")  # the details, for the developer console
        message = error_text(error, self.lang, self.server_url, self.index_dir)
        self.query_one("#status").show(None, self.lang, None, error=message)
        self.notify(message, title=t(self.lang, "error"), severity="error", timeout=10)

    def refresh_status(self) -> None:
        parts = sorted((self.titles.get(d, d) for d in self.filters.doc_ids), key=str.casefold)
        parts += [t(self.lang, f"lang_{code}") for code in self.filters.languages]
        self.query_one("#status").show(self.info, self.lang, self.last_ms if self.show_timings else None,
                                       ", ".join(parts))

    # --- asking -------------------------------------------------------------------------
    def on_input_submitted(self, event: QuestionInput.Submitted) -> None:
        question = event.value.strip()
        box = self.query_one(QuestionInput)
        if not question or not box.value.strip():  # empty, or sent already (an Enter queued behind the first)
            return
        if self.answering is not None:  # one question at a time: this one stays in the input line
            self.notify(t(self.lang, "wait_answer"), severity="warning", timeout=4)
            return
        box.remember(question)
        box.value = ""
        if self.fixed_lang is None:
            detected = detect_language(question)
            if detected in LANGUAGES and detected != self.lang:
                self.set_language(detected)
        index = len(self.exchanges)
        self.exchanges.append(Exchange(question, lang=self.lang))
        conversation = self.query_one(ConversationView)
        conversation.add("question", t(self.lang, "you"), question, index)
        conversation.add("answer", t(self.lang, "sesam"), t(self.lang, "thinking"), index)
        self.answering = index
        self.asking[self.ask(self.generation, index, question)] = index

    @work(thread=True, exclusive=True, exit_on_error=False)
    def ask(self, generation: int, index: int, question: str) -> None:
        """Stream the answer to ``index`` of the conversation ``generation`` as messages; how the worker ends settles
        its placeholder (see ``on_worker_state_changed``), so none is left "searching" after a cancellation or an
        unexpected error. A cancelled worker posts nothing more, its error neither."""
        started = time.perf_counter()
        try:
            backend = self.backend
            if backend is None:  # not there at start (no index, server down): try again now
                if self.connect is None:
                    raise self.startup_error or BackendError("no_index")
                backend = self.connect()
                self.post_message(self.Connected(backend, backend.info()))
            worker = get_current_worker()
            for event in backend.ask_stream(question, filters=self.filters or None, session_id=self.session_id,
                                            lang=self.fixed_lang):
                if worker.is_cancelled:  # its placeholder says so already; what comes late is not shown
                    return
                if isinstance(event, Sources):
                    self.post_message(self.Citations(generation, index, event.citations, event.abstained,
                                                     event.reply))
                elif isinstance(event, Piece):
                    self.post_message(self.Delta(generation, index, event.text))
                elif isinstance(event, Finished):
                    self.post_message(self.Done(generation, index, event.text,
                                                (time.perf_counter() - started) * 1000, event.reply))
        except BackendError as exc:
            if not get_current_worker().is_cancelled:
                self.post_message(self.Failed(generation, index, question, exc))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group in self.FETCHING and event.state == WorkerState.ERROR:
            error = event.worker.error
            self.show_error(error if isinstance(error, BackendError) else BackendError("failed", repr(error)))
            return
        index = self.asking.get(event.worker)
        if index is None or not event.worker.is_finished:
            return
        del self.asking[event.worker]
        if self.answering == index:
            self.answering = None
        if event.state == WorkerState.ERROR:
            self.log.error(f"sesam chat: the answer broke off: {event.worker.error!r}")
        if index < len(self.exchanges) and not self.exchanges[index].settled:  # cancelled before it ran, or broke
            self.exchanges[index].settled = True
            why = "stopped" if event.state == WorkerState.CANCELLED else "failed"
            self.query_one(ConversationView).show_failure(index, t(self.lang, why), t(self.lang, "error"))

    def on_chat_screen_connected(self, message: Connected) -> None:
        self.backend, self.info, self.startup_error = message.backend, message.info, None
        self.refresh_status()

    def current(self, message: Answering) -> bool:
        """Whether ``message`` is about a question of this conversation, not of one cleared meanwhile."""
        return message.generation == self.generation and message.index < len(self.exchanges)

    def on_chat_screen_citations(self, message: Citations) -> None:
        if not self.current(message):
            return
        ex = self.exchanges[message.index]
        ex.citations, ex.abstained, ex.reply = message.citations, message.abstained, message.reply
        self.label_answer(message.index, "")
        self.select(message.index)

    def label_answer(self, index: int, text: str) -> None:
        """The answer's look and label: amber "no answer in the documents" for an abstention, not for a reply to a
        greeting, thanks or gibberish (an intent, not a question the documents failed)."""
        ex = self.exchanges[index]
        amber = ex.abstained and not ex.reply
        self.query_one(ConversationView).show_answer(index, text, t(ex.lang, "abstained" if amber else "sesam"), amber)

    def on_chat_screen_delta(self, message: Delta) -> None:
        if self.current(message):
            self.query_one(ConversationView).extend_answer(message.index, message.text)

    def on_chat_screen_done(self, message: Done) -> None:
        if not self.current(message):
            return
        ex = self.exchanges[message.index]
        ex.answer, ex.settled, ex.reply = message.text, True, ex.reply or message.reply
        self.label_answer(message.index, ex.answer)
        self.last_ms = message.elapsed_ms
        self.refresh_status()

    def on_chat_screen_failed(self, message: Failed) -> None:
        if not self.current(message):  # the question is gone with its conversation: not put back, not notified
            return
        self.exchanges[message.index].settled = True
        self.query_one(ConversationView).show_failure(
            message.index, error_text(message.error, self.lang, self.server_url, self.index_dir), t(self.lang, "error"))
        box = self.query_one(QuestionInput)
        if not box.value:  # the question stays, to be sent again with Enter
            box.value = message.question
            box.cursor_position = len(box.value)
        self.show_error(message.error)

    def on_question_input_limit_reached(self, message: QuestionInput.LimitReached) -> None:
        self.notify(t(self.lang, "too_long", n=str(message.limit)), severity="warning", timeout=4)

    def route_typing(self, event: events.Key | events.Paste) -> None:
        """Called by the app before it forwards a key or a paste: text typed or pasted while another pane has the
        focus goes to the question. The focus moves at once, so the keys after it go there too, in order. Digits
        1–9 there still open sources (typing that starts with one of them is taken as opening a source)."""
        box = self.query_one(QuestionInput)
        if self.focused is box or isinstance(self.focused, Input):
            return
        if isinstance(event, events.Key) and (not event.is_printable or not event.character
                                              or event.character in "123456789"):
            return
        self.set_focus(box)

    # --- sources and passages -----------------------------------------------------------
    def select(self, index: int) -> None:
        self.selected = index
        self.query_one(ConversationView).mark(index)
        ex = self.exchanges[index]
        self.query_one(SourcesList).show(ex.citations, ex.abstained, ex.lang)
        if self.passage_of != index:  # the passage shown belongs to another answer: no longer relevant
            self.passage_of = self.opening = None
            self.query_one(PassageView).show_hint(self.lang)

    def on_message_view_selected(self, message: MessageView.Selected) -> None:
        if message.index < len(self.exchanges):
            self.select(message.index)

    def on_conversation_view_selected(self, message: ConversationView.Selected) -> None:
        if message.index < len(self.exchanges):
            self.select(message.index)

    def on_sources_list_chosen(self, message: SourcesList.Chosen) -> None:
        """The cited passage at once; its whole page when ``fetch_page`` has it (over HTTP, a request that may take
        a while: the interface does not wait for it)."""
        c = message.citation
        self.query_one(PassageView).show(c, "", self.lang)
        self.passage_of = self.selected
        self.opening = c
        if self.backend is not None:
            self.fetch_page(self.backend, c)

    @work(thread=True, exclusive=True, group="page", exit_on_error=False)
    def fetch_page(self, backend: ChatBackend, citation: Citation) -> None:
        """The page of ``citation``, posted back unless another source was opened meanwhile; a failure is shown
        (``on_worker_state_changed``)."""
        page_text = backend.page_text(citation.doc_id, citation.page)
        if not get_current_worker().is_cancelled:
            self.post_message(self.PageFetched(citation, page_text))

    def on_chat_screen_page_fetched(self, message: PageFetched) -> None:
        if message.citation is self.opening:  # still the source opened (not another, nor a cleared conversation's)
            self.opening = None
            self.query_one(PassageView).show(message.citation, message.page_text, self.lang)

    def action_open_citation(self, n: int) -> None:
        self.query_one(SourcesList).open_number(n)

    # --- commands -----------------------------------------------------------------------
    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.lang))

    def action_filter(self) -> None:
        """The filter dialog, once ``fetch_documents`` has the documents to choose from."""
        if self.backend is not None:
            self.fetch_documents(self.backend)

    @work(thread=True, exclusive=True, group="documents", exit_on_error=False)
    def fetch_documents(self, backend: ChatBackend) -> None:
        """The indexed documents (over HTTP, a request that may take a while), posted back; a failure is shown
        (``on_worker_state_changed``)."""
        documents = backend.documents()
        if not get_current_worker().is_cancelled:
            self.post_message(self.DocumentsFetched(documents))

    def on_chat_screen_documents_fetched(self, message: DocumentsFetched) -> None:
        documents = message.documents
        self.titles = {d["doc_id"]: d["title"] for d in documents}

        def apply(result: Filters | None) -> None:
            if result is not None:
                self.filters = result
                self.refresh_status()

        self.app.push_screen(FilterScreen(documents, self.filters, self.lang), apply)

    def action_clear(self) -> None:
        for worker in self.asking:  # an answer still coming belongs to the conversation cleared
            worker.cancel()
        self.asking.clear()
        self.answering = None
        self.generation += 1  # what the workers cancelled still send is dropped
        self.exchanges.clear()
        self.selected = self.passage_of = self.opening = None
        self.session_id = f"tui-{uuid.uuid4().hex[:12]}"
        self.query_one(ConversationView).clear()
        self.query_one(SourcesList).show([], False, self.lang)
        self.query_one(PassageView).show_hint(self.lang)
        self.notify(t(self.lang, "cleared"))

    def action_save(self, directory: Path | None = None) -> Path | None:
        path = save_transcript(self.exchanges, self.lang, directory)
        self.notify(t(self.lang, "saved", path=str(path)) if path is not None else t(self.lang, "nothing"))
        return path
