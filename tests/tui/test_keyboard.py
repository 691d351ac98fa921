"""Keys and pastes as a terminal sends them (fast, in bursts), one question at a time, and choosing an earlier
answer from the keyboard. The real app over the real index."""

from __future__ import annotations

import threading

from tests.tui.conftest import ask, burst, placeholders, settle
from tui.app import SesamApp
from tui.backend import BackendError, LocalBackend
from tui.widgets.passage import PassageView
from tui.widgets.sources import SourcesList

PASTE = "Vilka former av social\nupphandling\nkan en kommun använda?"
ONE_LINE = "Vilka former av social upphandling kan en kommun använda?"


def answered(screen, n: int):
    return lambda: len(screen.exchanges) >= n and all(e.answer for e in screen.exchanges) and not placeholders(screen)


async def test_enter_pressed_again_and_again_sends_the_question_once(tui_settings) -> None:
    async with SesamApp(tui_settings, show_timings=False).run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        burst(pilot, "Vad är IOP?\r\r\r\r")
        await settle(pilot, answered(screen, 1))
        await pilot.pause(0.3)  # any Enter still on its way would have sent again by now
        assert [e.question for e in screen.exchanges] == ["Vad är IOP?"] and screen.exchanges[0].answer
        assert not placeholders(screen) and len(screen.query("MessageView")) == 2


def slow_backend(gate: threading.Event) -> type[LocalBackend]:
    """The real backend, answering only once ``gate`` is set."""

    class Slow(LocalBackend):
        def ask_stream(self, question, **kwargs):
            gate.wait(20)
            yield from super().ask_stream(question, **kwargs)

    return Slow


async def test_enter_while_an_answer_is_coming_sends_nothing_and_keeps_the_question(tui_settings) -> None:
    gate = threading.Event()
    async with SesamApp(tui_settings, backend_factory=slow_backend(gate),
                        show_timings=False).run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        box = screen.query_one("#question")
        burst(pilot, "Vad är IOP?\r")
        await settle(pilot, lambda: placeholders(screen))
        burst(pilot, "Vad är social ekonomi?\r")
        await settle(pilot, lambda: any(n.message == "Vänta tills svaret är klart; frågan står kvar."
                                        for n in pilot.app._notifications))
        assert len(screen.exchanges) == 1 and box.value == "Vad är social ekonomi?"
        gate.set()
        await settle(pilot, answered(screen, 1))
        await pilot.press("enter")
        await settle(pilot, answered(screen, 2))
        assert [e.question for e in screen.exchanges] == ["Vad är IOP?", "Vad är social ekonomi?"]
        assert all(e.answer for e in screen.exchanges) and not placeholders(screen)


async def test_a_cancelled_answer_does_not_stay_searching(tui_settings) -> None:
    gate = threading.Event()
    async with SesamApp(tui_settings, backend_factory=slow_backend(gate),
                        show_timings=False).run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        burst(pilot, "Vad är IOP?\r")
        await settle(pilot, lambda: placeholders(screen))
        next(iter(screen.asking)).cancel()  # as an exclusive worker is by the next, before or while it runs
        await settle(pilot, lambda: not placeholders(screen))
        view = screen.query_one("#conversation").answer_view(0)
        assert "error" in view.classes and view.body == "Frågan avbröts."
        gate.set()  # the cancelled thread goes on; what it finds is not shown
        await pilot.pause(0.5)
        assert view.body == "Frågan avbröts." and not screen.exchanges[0].answer
        await ask(pilot, "Vad är social ekonomi?")  # and the next question is sent and answered
        assert screen.exchanges[1].answer and not placeholders(screen)


async def test_an_unbracketed_paste_of_several_lines_is_one_question(tui_settings) -> None:
    async with SesamApp(tui_settings, show_timings=False).run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        burst(pilot, PASTE.replace("\n", "\r") + "\r")  # a terminal sends the line breaks as Enter …
        await settle(pilot, answered(screen, 1))
        assert [e.question for e in screen.exchanges] == [ONE_LINE]
        burst(pilot, PASTE)  # … or as Ctrl+J (a bare LF)
        await pilot.pause(0.3)
        assert screen.query_one("#question").value == ONE_LINE
        await pilot.press("enter")
        await settle(pilot, answered(screen, 2))
        assert [e.question for e in screen.exchanges] == [ONE_LINE, ONE_LINE] and not placeholders(screen)


async def test_a_bracketed_paste_keeps_every_line_and_says_when_it_was_cut(tui_settings) -> None:
    async with SesamApp(tui_settings, show_timings=False).run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        box = screen.query_one("#question")
        burst(pilot, f"\x1b[200~{PASTE}\n\x1b[201~")
        await pilot.pause(0.2)
        assert box.value == ONE_LINE
        box.value = ""
        burst(pilot, "\x1b[200~" + "ord och ord\n" * 200 + "\x1b[201~")
        await settle(pilot, lambda: any(n.message == "En fråga får vara högst 1000 tecken."
                                        for n in pilot.app._notifications))
        assert len(box.value) == 1000 and "\n" not in box.value and "ordord" not in box.value


async def test_fast_typing_and_pastes_in_another_pane_reach_the_question_whole(tui_settings) -> None:
    async with SesamApp(tui_settings, show_timings=False).run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        box = screen.query_one("#question")
        for pane in ("#sources", "#conversation", "#passage"):
            box.value = ""
            screen.query_one(pane).focus()
            await pilot.pause(0.05)
            burst(pilot, "Vad hände 2021? Jo, 3 saker!")
            await pilot.pause(0.3)
            assert box.value == "Vad hände 2021? Jo, 3 saker!" and screen.focused is box, pane
            box.value = ""
            screen.query_one(pane).focus()
            await pilot.pause(0.05)
            burst(pilot, f"\x1b[200~{PASTE}\x1b[201~")
            await pilot.pause(0.3)
            assert box.value == ONE_LINE and screen.focused is box, pane


async def test_an_earlier_answer_is_chosen_with_the_arrows_and_digits_open_its_sources(tui_settings) -> None:
    async with SesamApp(tui_settings, show_timings=False).run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        await ask(pilot, "Vad är ett arbetsintegrerande socialt företag?")
        await ask(pilot, "Vilka former av social upphandling kan en kommun använda?")
        first, second = screen.exchanges
        assert first.citations[1] != second.citations[1]
        await ask(pilot, "Hej!")
        sources, passage, conversation = screen.query_one(SourcesList), screen.query_one(PassageView), \
            screen.query_one("#conversation")
        assert conversation.answer_view(2).has_class("-selected")  # the newest, to begin with
        assert conversation.scroll_y == conversation.max_scroll_y > 0  # and the pane shows it
        conversation.focus()
        await pilot.pause(0.05)
        burst(pilot, "\x1b[A\x1b[A")  # ↑↑ at once: two answers up
        await pilot.pause(0.3)
        assert screen.selected == 0 and sources.citations == list(first.citations)
        answer = screen.query_one("#conversation").answer_view(0)
        assert answer.has_class("-selected") and not screen.query_one("#conversation").answer_view(1).has_class(
            "-selected")
        await pilot.press("2")
        await pilot.pause(0.1)
        c = first.citations[1]
        assert passage.border_title.startswith(f"[2] {c.title}, s. {c.page}")
        await pilot.press("down")
        await pilot.pause(0.1)
        assert screen.selected == 1 and sources.citations == list(second.citations)
        assert passage.border_title == "Avsnitt"  # the passage of the other answer is gone


async def test_enter_in_the_sources_pane_opens_the_first_source_at_once(tui_settings) -> None:
    async with SesamApp(tui_settings, show_timings=False).run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        await ask(pilot, "Vad är ett arbetsintegrerande socialt företag?")
        await pilot.press("tab", "tab")  # input → conversation → sources
        assert screen.focused is screen.query_one(SourcesList)
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert screen.query_one(PassageView).border_title.startswith("[1] ")


async def test_what_a_cleared_conversations_worker_still_sends_is_dropped(tui_settings) -> None:
    """Ctrl+L while a question is pending: that worker's late failure does not land on the new conversation's first
    question (numbered 0 as the old one was): no error, no question put back, no notification."""
    old_gate, new_gate = threading.Event(), threading.Event()

    class Gated(LocalBackend):
        def ask_stream(self, question, **kwargs):
            if question.startswith("Vad är IOP"):
                old_gate.wait(20)
                raise BackendError("unreachable", "the server went away")
            new_gate.wait(20)
            yield from super().ask_stream(question, **kwargs)

    async with SesamApp(tui_settings, backend_factory=Gated, show_timings=False).run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        box = screen.query_one("#question")
        burst(pilot, "Vad är IOP?\r")
        await settle(pilot, lambda: placeholders(screen))
        await pilot.press("ctrl+l")
        burst(pilot, "Vad är social ekonomi?\r")
        await settle(pilot, lambda: placeholders(screen) and screen.exchanges)
        old_gate.set()  # the cleared question's worker fails now
        await pilot.pause(0.5)
        view = screen.query_one("#conversation").answer_view(0)
        assert screen.exchanges[0].question == "Vad är social ekonomi?" and not screen.exchanges[0].settled
        assert "error" not in view.classes and placeholders(screen) == [view]
        assert box.value == "" and not any(n.severity == "error" for n in pilot.app._notifications)
        new_gate.set()
        await settle(pilot, answered(screen, 1))
        assert screen.exchanges[0].answer and "error" not in view.classes and screen.answering is None


async def test_an_answer_shown_after_an_error_is_no_longer_red(tui_settings) -> None:
    async with SesamApp(tui_settings, show_timings=False).run_test(size=(120, 40)) as pilot:
        await ask(pilot, "Vad är IOP?")
        screen = pilot.app.screen
        conversation = screen.query_one("#conversation")
        conversation.show_failure(0, "Frågan avbröts.", "Fel")
        screen.label_answer(0, screen.exchanges[0].answer)
        await pilot.pause(0.1)
        view = conversation.answer_view(0)
        assert "error" not in view.classes and view.body == screen.exchanges[0].answer
