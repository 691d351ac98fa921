"""Snapshots of the main screens (pytest-textual-snapshot); regenerate with --snapshot-update."""

from __future__ import annotations

from tests.tui.conftest import ask
from tui.app import SesamApp


# nothing on screen may depend on the machine: timings, and a score's last digit (the engine's kernels differ
# between CPUs), are left out


def still(pilot) -> None:
    """No blinking cursor: whether it is on or off at the moment of the picture is chance."""
    pilot.app.screen.query_one("#question").cursor_blink = False


def test_answer_with_open_citation(snap_compare, shipped_settings) -> None:
    async def run_before(pilot) -> None:
        still(pilot)
        await ask(pilot, "Vad är ett arbetsintegrerande socialt företag?")
        await pilot.press("tab", "1")
        await pilot.pause(0.2)

    assert snap_compare(SesamApp(shipped_settings, show_timings=False, show_scores=False), terminal_size=(120, 36), run_before=run_before)


def test_help_screen(snap_compare, shipped_settings) -> None:
    async def run_before(pilot) -> None:
        still(pilot)
        await pilot.press("f1")
        await pilot.pause(0.1)

    assert snap_compare(SesamApp(shipped_settings, show_timings=False, show_scores=False), terminal_size=(120, 36), run_before=run_before)


def test_abstention(snap_compare, shipped_settings) -> None:
    async def run_before(pilot) -> None:
        still(pilot)
        await ask(pilot, "What is the weather in Paris tomorrow?")
        await pilot.pause(0.3)  # the footer redraws its keys in English after the question switched the language

    assert snap_compare(SesamApp(shipped_settings, show_timings=False, show_scores=False), terminal_size=(120, 36), run_before=run_before)
