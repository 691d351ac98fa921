"""The embeddable widget, end to end in Debian's headless Chromium: a host page on one origin embeds the widget
from a live sesam service on another, as a municipality's site would."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from assistant.api.app import create_app
from tests.assistant.api.conftest import live_server
from tests.conftest import CORPUS, make_settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"]
WAIT = 20_000


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api",
                                     reason="playwright is not installed (pip install -e '.[test]')")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def host() -> Iterator[tuple[str, dict]]:
    """The embedding site: serves whatever page a test puts into ``pages``, on its own origin."""
    pages: dict[str, str] = {}

    async def page(request):
        return HTMLResponse(pages.get(request.path_params["name"], "not here"), 200 if request.path_params["name"] in pages else 404)

    with live_server(Starlette(routes=[Route("/{name}", page)])) as origin:
        yield origin, pages


@contextmanager
def service(host_origin: str, **overrides) -> Iterator[str]:
    overrides.setdefault("rate_limit_per_minute", 0)
    with live_server(create_app(make_settings(cors_origins=[host_origin], **overrides))) as base:
        yield base


@pytest.fixture(scope="module")
def api(host, shipped_index: Path) -> Iterator[str]:
    with service(host[0], index_dir=shipped_index) as base:
        yield base


def embed(host, name: str, base: str, attrs: str = 'data-lang="sv"', lang: str = "sv", head: str = "") -> str:
    origin, pages = host
    pages[name] = (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">{head}'
                   '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Kommunen</title></head>'
                   f'<body><h1>Kommunen</h1><script src="{base}/widget.js" {attrs} defer></script></body></html>')
    return f"{origin}/{name}"


def ask(box, question: str, field: str = "Din fråga") -> None:
    box.get_by_label(field).fill(question)
    box.get_by_label(field).press("Enter")


def answered(box, n: int):
    """The n-th turn (1-based), once its answer is complete (the ask button is enabled again)."""
    box.page.wait_for_function(
        "n => { const r = document.querySelector('.sesam-widget').shadowRoot;"
        " return r.querySelectorAll('li.turn').length >= n && !r.querySelector('button.ask').disabled; }",
        arg=n, timeout=WAIT)
    return box.locator("li.turn").nth(n - 1)


def screenshot(page, name: str, tmp_path: Path) -> None:
    """Into tmp_path, or into $SESAM_SCREENSHOTS to look at them."""
    folder = Path(os.environ.get("SESAM_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


def test_a_conversation_of_three_turns_then_a_new_question(browser, host, api: str, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(embed(host, "conversation", api))
    assert page.evaluate("location.origin") != api  # the widget is cross-origin
    box = page.locator(".sesam-widget")
    assert box.get_by_role("button", name="Ny fråga").is_hidden()
    ask(box, "Vad gör SKR:s utvecklingsnätverk för sociala företag?")
    first = answered(box, 1)
    ask(box, "och vilka kommuner deltar?")
    second = answered(box, 2)
    ask(box, "Vad är ett arbetsintegrerande socialt företag?")
    third = answered(box, 3)
    assert box.locator("li.turn").count() == 3
    assert "SKR:s utvecklingsnätverk" in first.locator(".q").inner_text()  # earlier turns stay visible
    assert "Hudiksvall" in second.locator(".sources").text_content()  # the follow-up was resolved in the session
    assert third.locator(".a").inner_text().startswith("Enligt")
    assert box.get_by_label("Din fråga").input_value() == ""
    # the [n] markers are links that open their source
    ref = third.locator(".a a.ref").first
    n = ref.inner_text().strip("[]")
    assert ref.get_attribute("href") == f"#sesam-3-{n}"
    ref.click()
    cite = third.locator(f"#sesam-3-{n} button.cite")
    assert cite.get_attribute("aria-expanded") == "true" and third.locator(f"#sesam-3-{n} .passage").is_visible()
    assert third.locator(f"#sesam-3-{n} .passage mark").count() == 1
    assert page.evaluate("document.activeElement.shadowRoot.activeElement.className") == "cite"
    screenshot(page, "widget-desktop.png", tmp_path)
    # a new question starts over: an empty conversation and a new session (the follow-up no longer resolves)
    box.get_by_role("button", name="Ny fråga").click()
    assert box.locator("li.turn").count() == 0 and box.get_by_role("button", name="Ny fråga").is_hidden()
    ask(box, "och vilka kommuner deltar?")
    again = answered(box, 1)
    assert "Hudiksvall" not in again.locator(".sources").text_content()


def test_a_source_opens_the_pdf_at_its_page(browser, host, api: str) -> None:
    page = browser.new_page()
    page.goto(embed(host, "pdf", api))
    box = page.locator(".sesam-widget")
    ask(box, "Vilka former av social upphandling kan en kommun använda?")
    turn = answered(box, 1)
    link = turn.locator("ol.cites a.open").first
    assert link.inner_text().startswith("Öppna dokumentet (s. ")
    href = link.get_attribute("href")
    page_no = turn.locator("ol.cites button.cite").first.inner_text().rsplit("s. ", 1)[1]
    assert re.fullmatch(rf"{re.escape(api)}/v1/documents/[\w\-/]+/file#page={page_no}", href), href
    response = page.request.get(href.split("#")[0])
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.body()[:5] == b"%PDF-"
    with page.context.expect_page() as opened:
        link.click()
    assert opened.value.url == href  # a new tab at the cited page


def test_the_publishers_own_address_overrides_the_served_copy(browser, host, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    sources = corpus / "sources.toml"
    sources.write_text(sources.read_text(encoding="utf-8").replace(
        'title = "Den sociala ekonomin"', 'title = "Den sociala ekonomin"\nurl = "https://coompanion.example/social-ekonomi.pdf"'),
        encoding="utf-8")
    from ingest.pipeline import run_ingest

    settings = make_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    run_ingest(settings, progress=False)
    with service(host[0], corpus_dir=corpus, index_dir=tmp_path / "index") as base:
        page = browser.new_page()
        page.goto(embed(host, "publisher", base))
        box = page.locator(".sesam-widget")
        ask(box, "Vad är ett arbetsintegrerande socialt företag?")
        turn = answered(box, 1)
        hrefs = [a.get_attribute("href") for a in turn.locator("ol.cites a.open").all()]
        titles = [b.inner_text() for b in turn.locator("ol.cites button.cite").all()]
        for href, title in zip(hrefs, titles, strict=True):
            if "Den sociala ekonomin" in title:
                assert href == f"https://coompanion.example/social-ekonomi.pdf#page={title.rsplit('s. ', 1)[1]}"
            else:
                assert href.startswith(f"{base}/v1/documents/")


def test_attributes_of_the_embedding_page_are_applied(browser, host, api: str) -> None:
    attrs = ('data-lang="en" data-title="Ask the municipality" data-accent="#7a1f5c" '
             'data-placeholder="Your question about social enterprises" '
             'data-disclaimer="Answers come from the municipality\'s documents only." '
             'data-contact="Call us on 010-123 45 67" data-contact-url="https://kommun.example/contact"')
    page = browser.new_page()
    page.goto(embed(host, "attributes", api, attrs, lang="sv"))
    box = page.locator(".sesam-widget")
    assert box.locator("h2").inner_text() == "Ask the municipality"
    assert box.get_attribute("lang") == "en"  # read with English speech rules on a Swedish page
    assert box.locator(".disclaimer").inner_text() == "Answers come from the municipality's documents only."
    field = box.get_by_label("Your question")
    assert field.get_attribute("placeholder") == "Your question about social enterprises"
    assert box.locator("button.ask").inner_text() == "Ask"
    assert box.locator("button.ask").evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(122, 31, 92)"
    ask(box, "What is the weather in Paris tomorrow?", field="Your question")
    turn = answered(box, 1)
    assert "abstained" in turn.get_attribute("class")
    assert turn.locator(".a").get_attribute("lang") == "en"
    contact = turn.locator(".contact")
    assert contact.inner_text() == "Can't find the answer? Call us on 010-123 45 67"
    assert contact.locator("a").get_attribute("href") == "https://kommun.example/contact"
    assert "I answer questions about the social economy" in turn.inner_text()  # off-topic: what sesam covers...
    assert turn.locator(".sources li").count() == 0  # ...and no passages
    assert box.get_by_role("button", name="New question").is_visible()
    ask(box, "Hello!", field="Your question")  # a greeting gets a friendly line: no amber, no "can't find the answer?"
    greeting = answered(box, 2)
    assert "abstained" not in greeting.get_attribute("class") and greeting.locator(".contact").count() == 0


def test_too_many_questions_shows_the_servers_wait(browser, host, shipped_index: Path) -> None:
    with service(host[0], index_dir=shipped_index, rate_limit_per_minute=1) as base:
        page = browser.new_page()
        page.goto(embed(host, "limit", base))
        box = page.locator(".sesam-widget")
        ask(box, "Vad är IOP?")
        answered(box, 1)
        # waited for, not collected by a listener: the page can show the error before the listener has run
        with page.expect_response(lambda r: r.status == 429, timeout=WAIT) as refused:
            ask(box, "Vad är social ekonomi?")
        waits = [refused.value.header_value("retry-after")]
        error = box.locator(".error")
        error.wait_for(timeout=WAIT)
        assert int(waits[0]) > 30  # one question a minute: about a minute, not the old fallback of 30
        assert error.inner_text() == (f"Du har ställt många frågor på kort tid. Vänta {waits[0]} sekunder "
                                      "och försök igen.")
        assert box.get_by_label("Din fråga").input_value() == "Vad är social ekonomi?"  # kept, to ask again
        assert box.locator("li.turn").count() == 1


def ask_with_console(browser, url: str, question: str) -> tuple:
    """Open ``url``, ask, and collect what the page writes to the console."""
    page = browser.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    page.goto(url)
    box = page.locator(".sesam-widget")
    ask(box, question)
    return page, box, console


def test_without_an_index_the_message_is_swedish_and_plain(browser, host, tmp_path: Path) -> None:
    with service(host[0], index_dir=tmp_path / "none") as base:
        page, box, console = ask_with_console(browser, embed(host, "noindex", base), "Vad är IOP?")
        error = box.locator(".error")
        error.wait_for(timeout=WAIT)
        assert error.inner_text() == "Tjänsten är inte redo än. Försök igen om en stund."
        assert "ingest" not in box.inner_text() and "index" not in box.inner_text().lower()
        assert any("503" in line for line in console)  # the service's own words are for developers


def test_a_refused_origin_leaves_developers_a_hint(browser, host, shipped_index: Path) -> None:
    with live_server(create_app(make_settings(index_dir=shipped_index, cors_origins=["https://other.example"],
                                              rate_limit_per_minute=0))) as base:
        page, box, console = ask_with_console(browser, embed(host, "refused", base), "Vad är IOP?")
        box.locator(".error").filter(has_text="går inte att nå").wait_for(timeout=WAIT)
        origin = page.evaluate("location.origin")
        for _ in range(50):
            if any("cors_origins" in line for line in console):
                break
            page.wait_for_timeout(100)
        hint = next(line for line in console if "cors_origins" in line)
        assert origin in hint and base in hint


def test_phone_layout_and_keyboard(browser, host, api: str, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(embed(host, "phone", api))
    box = page.locator(".sesam-widget")
    page.keyboard.press("Tab")  # the question field is the first stop
    assert page.evaluate("document.activeElement.shadowRoot.activeElement.id") == "q"
    page.keyboard.type("Vad är ett arbetsintegrerande socialt företag?")
    page.keyboard.press("Enter")
    turn = answered(box, 1)
    cite = turn.locator("button.cite").first
    cite.focus()
    page.keyboard.press("Enter")
    assert cite.get_attribute("aria-expanded") == "true"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no horizontal scrolling on a phone
    screenshot(page, "widget-phone.png", tmp_path)
    page.route("**/v1/ask/stream", lambda route: route.abort())
    ask(box, "Vad är IOP?")
    box.locator(".error").filter(has_text="går inte att nå").wait_for(timeout=WAIT)
    assert box.get_by_label("Din fråga").input_value() == "Vad är IOP?"


def test_a_host_page_with_a_strict_csp(browser, host, api: str) -> None:
    """`style-src 'self'` blocks an inline <style>; the widget's constructable stylesheet still applies, and the
    script-src and connect-src entries docs/http.md names are enough to ask."""
    csp = f"default-src 'self'; script-src {api}; connect-src {api}; style-src 'self'"
    page = browser.new_page()
    violations: list[str] = []
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
    page.goto(embed(host, "csp", api, head=f'<meta http-equiv="Content-Security-Policy" content="{csp}">'))
    box = page.locator(".sesam-widget")
    assert box.locator("button.ask").evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(11, 92, 173)"
    ask(box, "Vad är IOP?")
    assert answered(box, 1).locator(".sources li").count() > 0
    assert not violations, violations
    # a browser without adoptedStyleSheets gets a <style> element instead
    old = browser.new_page()
    old.add_init_script("delete ShadowRoot.prototype.adoptedStyleSheets")
    old.goto(embed(host, "old-browser", api))
    button = old.locator(".sesam-widget button.ask")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(11, 92, 173)"
    assert old.evaluate("document.querySelector('.sesam-widget').shadowRoot.querySelectorAll('style').length") == 1


def test_screen_readers_get_each_answer_once_and_named_links(browser, host, api: str) -> None:
    page = browser.new_page()
    page.goto(embed(host, "a11y", api))
    box = page.locator(".sesam-widget")
    box.locator("button.ask").wait_for()
    # the turn enters the log region aria-busy, every change of its answer comes while it is, and then busy ends:
    # a screen reader announces the complete turn once instead of word by word and then again whole
    page.evaluate("""() => { const log = document.querySelector('.sesam-widget').shadowRoot.querySelector('[role=log]');
      window.changes = [];
      new MutationObserver(ms => ms.forEach(m => {
        const node = m.target.nodeType === 1 ? m.target : m.target.parentElement;
        window.changes.push(m.type === 'attributes' ? 'busy ' + m.oldValue + ' -> ' + node.getAttribute('aria-busy')
          : [...m.addedNodes].some(n => n.nodeType === 1 && n.matches('li.turn')) ? 'turn added'
          : !node ? 'a text since replaced' : node.closest('li.turn') ? 'in the turn' : 'elsewhere ' + node.className);
      })).observe(log, {childList: true, subtree: true, characterData: true, attributes: true,
                        attributeFilter: ['aria-busy'], attributeOldValue: true}); }""")
    ask(box, "Vad är ett arbetsintegrerande socialt företag?")
    turn = answered(box, 1)
    changes = page.evaluate("window.changes")
    assert changes[0] == "turn added" and changes[-1] == "busy true -> null", changes
    assert set(changes[1:-1]) <= {"in the turn", "a text since replaced"}, changes
    assert turn.get_attribute("aria-busy") is None
    cdp = page.context.new_cdp_session(page)
    nodes = [n for n in cdp.send("Accessibility.getFullAXTree")["nodes"] if not n.get("ignored")]
    roles = [n.get("role", {}).get("value") for n in nodes]
    assert "log" in roles and roles.count("listitem") >= 1 + turn.locator("ol.cites li").count()  # turns too
    links = [n["name"]["value"] for n in nodes if n.get("role", {}).get("value") == "link"]
    title = turn.locator("ol.cites button.cite").first.inner_text().split("] ", 1)[1]
    assert any(name == f"Källa 1: {title}" for name in links), links
    assert not any(name.startswith("[") for name in links), links
