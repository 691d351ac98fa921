"""`sesam chat --url` against a real local HTTP server that does not answer as sesam does (a proxy's HTML page while
sesam is down, a cut or changed body): always a BackendError the chat shows, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.conftest import make_settings
from tests.localserver import Replying, local_server
from tui.app import SesamApp
from tui.backend import BackendError, HttpBackend

PROXY_503 = (503, "text/html", "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>")
HEALTHY = (200, "application/json", json.dumps({"status": "ready", "version": "v", "detail": None}))
STATS = (200, "application/json", json.dumps({"index": {"documents": 1, "chunks": 1, "embedder": "x"}}))


@contextmanager
def serving(answers: dict[str, tuple[int, str, str]]) -> Iterator[str]:
    """A server on 127.0.0.1 that answers a GET or POST of a path in ``answers`` (the query left out) with its
    (status, content type, body), and any other path with ``answers["*"]``."""

    class Handler(Replying):
        def answer(self) -> None:
            status, kind, text = answers.get(self.path.split("?")[0], answers.get("*", PROXY_503))
            self.reply(status, kind, text.encode())

        def do_GET(self) -> None:
            self.answer()

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.answer()

    with local_server(Handler) as url:
        yield url


def test_a_proxys_html_503_at_connect_is_a_backend_error() -> None:
    with serving({"*": PROXY_503}) as url:
        with pytest.raises(BackendError) as raised:
            HttpBackend(url)
    assert raised.value.kind == "unreachable" and "503" in raised.value.detail


def test_sesams_own_503_is_still_no_index() -> None:
    with serving({"/v1/health": (503, "application/json",
                                 json.dumps({"status": "no_index", "version": None, "detail": "no index"}))}) as url:
        with pytest.raises(BackendError) as raised:
            HttpBackend(url)
    assert raised.value.kind == "no_index" and raised.value.detail == "no index"


@pytest.mark.parametrize("answer", [
    (200, "text/html", "<html>not json</html>"),  # a page where JSON was expected
    (200, "application/json", json.dumps({"something": "else"})),  # JSON without the fields read
    (200, "application/json", json.dumps(["a", "list"])),  # JSON of another shape
])
def test_an_answer_not_as_expected_is_a_backend_error(answer) -> None:
    with serving({"/v1/health": HEALTHY, "*": answer}) as url:
        backend = HttpBackend(url)
        for call in (backend.info, backend.documents, lambda: backend.page_text("doc", 1)):
            with pytest.raises(BackendError) as raised:
                call()
            assert raised.value.kind == "failed"


@pytest.mark.parametrize("stream", [
    "event: citations\ndata: <html>\n\n",  # not JSON
    "event: citations\ndata: {\"abstained\": false}\n\n",  # a field missing
    "event: done\ndata: {\"answer\": \"a string\"}\n\n",  # a field of another type
])
def test_a_stream_event_not_as_expected_is_a_backend_error(stream: str) -> None:
    with serving({"/v1/health": HEALTHY, "/v1/ask/stream": (200, "text/event-stream", stream)}) as url:
        backend = HttpBackend(url)
        with pytest.raises(BackendError) as raised:
            list(backend.ask_stream("Vad är IOP?", filters=None, session_id="s", lang=None))
    assert raised.value.kind == "failed"


async def test_the_chat_shows_a_proxys_503_page_and_does_not_crash(tmp_path) -> None:
    with serving({"*": PROXY_503}) as url:
        settings = make_settings(index_dir=tmp_path / "none", server_url=url)
        async with SesamApp(settings, show_timings=False).run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.1)
            screen = pilot.app.screen
            said = f"Servern {url} går inte att nå. Kontrollera adressen eller starta `sesam serve`."
            assert str(screen.query_one("#status").render()).startswith(f"Fel: Servern {url} går inte att nå")
            assert any(n.message == said for n in pilot.app._notifications)


async def test_stats_that_are_not_json_at_start_are_shown_not_raised(tmp_path) -> None:
    """The server answers its health but not its stats as sesam does: the chat opens and says the request failed."""
    with serving({"/v1/health": HEALTHY, "*": (200, "text/html", "<html>login</html>")}) as url:
        settings = make_settings(index_dir=tmp_path / "none", server_url=url)
        async with SesamApp(settings, show_timings=False).run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.1)
            said = "Frågan kunde inte besvaras. Försök igen om en stund."
            assert any(n.message == said for n in pilot.app._notifications)
            assert pilot.app.screen.backend is None  # the next question connects again
