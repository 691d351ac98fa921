"""The embeddable widget, end to end in Debian's headless Chromium against a live server."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.api.app import create_app
from tests.assistant.api.conftest import live_server
from tests.conftest import make_settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api",
                                     reason="playwright is not installed (pip install -e '.[test]')")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def url(shipped_index: Path):
    with live_server(create_app(make_settings(index_dir=shipped_index, rate_limit_per_minute=0))) as base:
        yield base


def test_ask_see_answer_and_open_a_citation(browser, url: str, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    page.goto(f"{url}/widget")
    box = page.locator(".sesam-widget")
    box.get_by_label("Din fråga").fill("Vad är ett arbetsintegrerande socialt företag?")
    box.get_by_label("Din fråga").press("Enter")
    answer = box.locator(".answer")
    answer.filter(has_text="Enligt").wait_for(timeout=20_000)
    assert "[1]" in answer.inner_text()
    cite = box.locator("button.cite").first
    assert "s." in cite.inner_text()
    assert cite.get_attribute("aria-expanded") == "false"
    cite.focus()
    page.keyboard.press("Enter")  # keyboard-accessible
    passage = box.locator(".passage").first
    passage.wait_for(state="visible")
    assert cite.get_attribute("aria-expanded") == "true"
    assert passage.locator("mark").count() == 1 and "ASF" in passage.inner_text()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # no horizontal scrolling on a phone
    page.screenshot(path=str(tmp_path / "widget-phone.png"), full_page=True)


def test_abstention_and_errors_in_plain_words(browser, url: str) -> None:
    page = browser.new_page()
    page.goto(f"{url}/widget")
    box = page.locator(".sesam-widget")
    box.get_by_label("Din fråga").fill("Vad blir det för väder i Paris i morgon?")
    box.get_by_role("button", name="Fråga").click()
    box.locator(".answer").filter(has_text="Dokumenten besvarar inte").wait_for(timeout=20_000)
    assert "abstained" in box.locator(".box").get_attribute("class")
    assert "Möjligen relaterade" in box.locator(".sources").inner_text()
    page.route("**/v1/ask/stream", lambda route: route.abort())
    box.get_by_label("Din fråga").fill("Vad är IOP?")
    box.get_by_role("button", name="Fråga").click()
    box.locator(".error").filter(has_text="går inte att nå").wait_for(timeout=10_000)
