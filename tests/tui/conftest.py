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
