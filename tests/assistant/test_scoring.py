"""A page's dense score from its own vector and its windows': the best window lifts it, a second one adds to that."""

from __future__ import annotations

import numpy as np

from assistant.scoring import SECOND_LIFT, WINDOW_LIFT, combine


def _gold_in(answer, gold: str) -> bool:
    return gold in " ".join(answer.text.lower().split())


def test_a_second_window_above_the_chunk_adds_to_the_lift() -> None:
    chunk = np.array([0.84, 0.84, 0.84], dtype=np.float32)
    best = np.array([0.88, 0.88, 0.80], dtype=np.float32)
    second = np.array([0.87, 0.80, -1.0], dtype=np.float32)  # -1: no second window
    out = combine(chunk, best, second)
    assert np.allclose(out, [0.84 + WINDOW_LIFT * 0.04 + SECOND_LIFT * 0.03, 0.84 + WINDOW_LIFT * 0.04, 0.84])
    assert int(np.argmax(out)) == 0  # two lines that speak of the question beat one as close
    assert np.allclose(combine(chunk, best), chunk + WINDOW_LIFT * np.maximum(best - chunk, 0))


def test_a_page_whose_matter_spans_several_lines_is_answered(assistant) -> None:
    """Questions from the development sets (dev 10, dev 11) that lost the answering page or abstained when only
    the best window counted: the surplus bullet of the EU definition, one testimonial of a long slide."""
    surplus = assistant.ask("Om en förening går med plus, ska pengarna delas ut till ägarna eller vad gör man med dem?",
                            use_cache=False)
    assert not surplus.abstained
    assert _gold_in(surplus, "återinvestering av hela eller större delen av vinsterna")
    doctor = assistant.ask("How did a patient get the doctor's information in their own language?", use_cache=False)
    assert not doctor.abstained, doctor.reason
    assert _gold_in(doctor, "översatt till mitt hemspråk")
