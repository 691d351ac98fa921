"""Helpers for driving the real chat app with Textual's Pilot."""

from __future__ import annotations

import pytest


async def ask(pilot, question: str, timeout_s: float = 30.0) -> None:
    """Type a question, press Enter and wait until the answer (or an error) is complete."""
    screen = pilot.app.screen
    n = len(screen.exchanges)
    screen.query_one("#question").value = question
    screen.query_one("#question").focus()
    await pilot.press("enter")
    for _ in range(int(timeout_s / 0.05)):
        await pilot.pause(0.05)
        if len(screen.exchanges) > n and (screen.exchanges[n].answer or "error" in
                                          screen.query_one("#conversation").children[-1].classes):
            await pilot.pause(0.05)
            return
    raise AssertionError(f"no answer to {question!r} within {timeout_s} s")


@pytest.fixture()
def tui_settings(shipped_settings):
    return shipped_settings


def burst(pilot, raw: str) -> None:
    """``raw`` as a terminal sends it, all at once: a fast typist's keys, or a paste (unbracketed: its lines
    with Enter or Ctrl+J between them; bracketed: one Paste event). Nothing waits for the app in between."""
    from textual._xterm_parser import XTermParser

    driver = pilot.app._driver
    for event in XTermParser().feed(raw):
        driver.process_message(event)


async def settle(pilot, until, timeout_s: float = 30.0) -> None:
    """Wait until ``until()`` holds."""
    for _ in range(int(timeout_s / 0.05)):
        await pilot.pause(0.05)
        if until():
            await pilot.pause(0.05)
            return
    raise AssertionError("the app did not settle")


def placeholders(screen) -> list:
    """Answers still saying they search the documents."""
    from assistant.i18n import t

    return [v for v in screen.query("MessageView") if v.role == "answer" and t(screen.lang, "thinking") in v.body]
