"""The widget against a scripted service (tests/localserver.py) that sends what a real one rarely does: a stream
cut off, ended without its answer, an `error` event, a page that is not a stream, an answer that takes long.
The scripted server also serves the host page, so the widget is same-origin here (CORS is test_widget.py's)."""

from __future__ import annotations

import json
import threading
import time

import pytest

from assistant.api.routers.widget import _script
from tests.browser.test_widget import ask, browser  # noqa: F401  (the module's chromium fixture)
from tests.browser.test_widget import pytestmark  # noqa: F401
from tests.localserver import Replying, local_server

PAGE = ('<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Kommunen</title></head><body>'
        '<script src="/widget.js" data-lang="sv" defer></script></body></html>').encode()
CITATIONS = {"citations": [{"n": 1, "doc_id": "d", "title": "Dokumentet", "page": 2, "text": "Lite text här.",
                            "quote": "text"}], "abstained": False, "lang": "sv", "reason": "", "reply": False}
PLACES = {"citations": [  # a web page's section, and a PDF page with a printed label
    {"n": 1, "doc_id": "stod", "title": "Stöd", "page": 3, "text": "Startbidrag ges.", "quote": "Startbidrag ges.",
     "kind": "html", "section": "Startbidrag"},
    {"n": 2, "doc_id": "plan", "title": "Planen", "page": 5, "text": "Förord.", "quote": "Förord.", "kind": "pdf",
     "page_label": "iv"}], "abstained": False, "lang": "sv", "reason": "", "reply": False}
DOLLARS = {**CITATIONS, "citations": [{**CITATIONS["citations"][0], "title": "Rapport $` och $& och $'"}]}
BROKEN = "Svaret avbröts. Försök igen."
WAIT = 5_000


class Scripted(Replying):
    """Answers a question by what it says: the question names the script (see ``do_POST``)."""

    protocol_version = "HTTP/1.1"
    asked: list[dict] = []
    slow_done = threading.Event()

    def do_GET(self) -> None:
        if self.path == "/widget.js":
            self.reply(200, "text/javascript; charset=utf-8", _script())
        elif self.path.startswith("/v1/"):
            self.reply(200, "application/json", b'{"documents": [], "status": "ok"}')
        else:
            self.reply(200, "text/html; charset=utf-8", PAGE)

    def chunk(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def event(self, kind: str, data: dict) -> None:
        self.chunk(f"event: {kind}\ndata: {json.dumps(data)}\n\n")

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.asked.append(body)
        question = body["question"]
        if question == "portal":  # a captive portal's or a proxy's page, with a 200
            return self.reply(200, "text/html", b"<html><body>Log in to the wifi</body></html>")
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            if question == "slow":  # answers after the widget has moved on
                time.sleep(1.5)
            lang = "en" if question == "english" else "sv"
            scripts = {"places": PLACES, "dollars": DOLLARS}
            self.event("citations", scripts.get(question, {**CITATIONS, "lang": lang}))
            if question == "garbled":
                self.chunk("event: delta\ndata: {not json\n\n")
            self.event("delta", {"text": "Halva svaret "})
            if question == "cut":  # the connection closes in the middle of the chunked body
                time.sleep(0.2)
                self.close_connection = True
                return
            if question == "error":
                self.event("error", {"detail": "the model failed", "code": "internal"})
            elif question != "nodone":
                self.event("done", {"answer": {"answer": "Halva svaret [1].", "session_id": question + "-session"}})
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # the widget went away
        finally:
            if question == "slow":
                Scripted.slow_done.set()


@pytest.fixture(scope="module")
def scripted():
    with local_server(Scripted) as base:
        yield base


def open_widget(browser, base):  # noqa: F811
    page = browser.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    page.goto(base + "/")
    return page, page.locator(".sesam-widget"), console


def settled(box) -> None:
    box.page.wait_for_function("!document.querySelector('.sesam-widget').shadowRoot.querySelector('button.ask')"
                               ".disabled", timeout=WAIT)


@pytest.mark.parametrize("question", ["nodone", "portal", "error"])
def test_an_answer_that_never_completes_is_broken_off_and_the_question_stays(browser, scripted, question) -> None:  # noqa: F811
    page, box, console = open_widget(browser, scripted)
    ask(box, question)
    box.locator(".error").filter(has_text=BROKEN).wait_for(timeout=WAIT)
    settled(box)
    assert box.get_by_label("Din fråga").input_value() == question  # to be sent again
    assert box.locator("li.turn").count() == 0  # no half answer that looks like one, no busy text left behind
    assert box.get_by_role("button", name="Ny fråga").is_hidden()
    page.close()


@pytest.mark.parametrize("question", ["cut", "garbled"])
def test_a_stream_that_breaks_is_not_blamed_on_the_network_or_cors(browser, scripted, question) -> None:  # noqa: F811
    page, box, console = open_widget(browser, scripted)
    ask(box, question)
    box.locator(".error").filter(has_text=BROKEN).wait_for(timeout=WAIT)
    assert box.get_by_label("Din fråga").input_value() == question
    page.wait_for_timeout(300)  # the CORS check was a request of its own
    assert not any("cors_origins" in line or "cannot be reached" in line for line in console), console
    assert any("broke off" in line for line in console)
    page.close()


def test_a_new_question_abandons_the_pending_answer(browser, scripted) -> None:  # noqa: F811
    Scripted.slow_done.clear()
    page, box, console = open_widget(browser, scripted)
    ask(box, "slow")
    box.locator("li.turn").wait_for(timeout=WAIT)
    box.get_by_role("button", name="Ny fråga").click()
    ask(box, "quick")  # asked at once, not after the first answer
    settled(box)
    assert box.locator("li.turn").count() == 1 and box.locator("li.turn .q").inner_text() == "quick"
    assert [body["question"] for body in Scripted.asked[-2:]] == ["slow", "quick"]
    assert Scripted.slow_done.wait(5)  # the first answer's events came too late: they change nothing
    page.wait_for_timeout(200)
    assert box.locator(".error").is_hidden() and box.locator("li.turn").count() == 1
    ask(box, "follow-up")
    box.locator("li.turn").nth(1).locator("a.ref").wait_for(timeout=WAIT)
    assert Scripted.asked[-1] == {"question": "follow-up", "session_id": "quick-session"}
    page.close()


def test_the_answer_is_marked_with_its_language(browser, scripted) -> None:  # noqa: F811
    page, box, console = open_widget(browser, scripted)
    assert page.evaluate("document.querySelector('.sesam-widget').lang") == "sv"
    ask(box, "english")
    box.locator("li.turn a.ref").wait_for(timeout=WAIT)
    assert box.locator("li.turn .a").get_attribute("lang") == "en"  # an English answer in a Swedish widget
    page.close()


def test_a_source_is_placed_as_the_answer_places_it(browser, scripted) -> None:  # noqa: F811
    """A web page or Word document has sections, not pages: the list said "s. 3" and opened "#page=3" while the
    answer said "avsnitt ”Startbidrag”"; a PDF's printed page label ("iv") was ignored."""
    page, box, console = open_widget(browser, scripted)
    ask(box, "places")
    box.locator("li.turn a.ref").first.wait_for(timeout=WAIT)
    cites = box.locator("li.turn button.cite")
    assert cites.nth(0).inner_text() == "[1] Stöd, avsnitt ”Startbidrag”"
    assert cites.nth(1).inner_text() == "[2] Planen, s. iv"
    opens = box.locator("li.turn a.open")
    assert opens.nth(0).inner_text() == "Öppna dokumentet (avsnitt ”Startbidrag”)"
    assert opens.nth(0).get_attribute("href").endswith("/v1/documents/stod/file")  # no page to jump to
    assert opens.nth(1).get_attribute("href").endswith("/v1/documents/plan/file#page=5")  # the file's 5th page
    page.close()


def test_a_title_is_named_literally_for_screen_readers(browser, scripted) -> None:  # noqa: F811
    """The citation's accessible name was built with String.replace, which reads "$`", "$&" and "$'" in a
    replacement as patterns: "Rapport $` 2021" was announced as "Rapport Källa 1:  2021"."""
    page, box, console = open_widget(browser, scripted)
    ask(box, "dollars")
    box.locator("li.turn a.ref").first.wait_for(timeout=WAIT)
    assert box.locator("li.turn a.ref").first.get_attribute("aria-label") == "Källa 1: Rapport $` och $& och $', s. 2"
    page.close()
