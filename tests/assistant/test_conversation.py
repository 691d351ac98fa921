"""Follow-up resolution without a conversation: a question that opens with a conjunction is searched without it."""

from __future__ import annotations

import pytest

from assistant.conversation import resolve, without_opener


@pytest.mark.parametrize(("asked", "searched"), [
    ("Och SESI då?", "SESI då?"),
    ("och, vilka kommuner deltar?", "vilka kommuner deltar?"),
    ("And what is SESI?", "what is SESI?"),
    ("Men IOP?", "IOP?"),
    ("Och?", "Och?"),  # nothing of its own left: kept as asked
    ("Och då?", "Och då?"),
    ("Ochre paint", "Ochre paint"),  # a word that only starts like one
    ("Vad är NIA och SESI?", "Vad är NIA och SESI?"),
])
def test_a_leading_conjunction_is_dropped_when_words_of_its_own_remain(asked, searched) -> None:
    assert without_opener(asked) == searched
    assert resolve(asked, []) == searched


def test_a_first_question_that_opens_with_och_is_answered(assistant) -> None:
    """The "och" cost "Och SESI då?" enough cosine to fall below the floor (a widget's visitor, a new session)."""
    answer = assistant.ask("Och SESI då?")
    assert not answer.abstained and answer.resolved_question == "SESI då?"
    assert "Främja samverkan" in answer.citations[0].quote
