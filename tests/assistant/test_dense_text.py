"""What the embedder reads for a question: a question in another language than the documents carries the documents'
own names of its concepts (Retriever.dense_text)."""

from __future__ import annotations

import pytest

from assistant import retrieval
from assistant.engine import Assistant

REVENUE = "How large are the revenues for the municipalities according to Coompanion?"


def test_a_question_in_the_documents_language_is_read_as_asked(assistant: Assistant) -> None:
    retriever = assistant._state.retriever
    assert retriever.documents_language == "sv"
    question = "Hur stora är intäkterna för kommunerna enligt Coompanion?"
    assert retriever.dense_text(retriever.prepare(question)) == question


def test_an_english_question_carries_the_swedish_names_of_its_concepts(assistant: Assistant) -> None:
    retriever = assistant._state.retriever
    text = retriever.dense_text(retriever.prepare(REVENUE))
    assert text.startswith(REVENUE + " (") and text.endswith(")")
    names = text[len(REVENUE) + 2:-1].split(", ")
    assert "intäkter" in names  # revenues
    assert any(name.startswith("kommun") for name in names)  # municipalities
    assert 0 < len(names) <= retrieval.BRIDGE_NAMES


def test_at_most_the_rarest_names_are_added(assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    retriever = assistant._state.retriever
    monkeypatch.setattr(retrieval, "BRIDGE_NAMES", 1)
    text = retriever.dense_text(retriever.prepare(REVENUE))
    assert text == f"{REVENUE} (intäkter)"  # rarer in the documents than "kommun"


def test_the_names_bring_the_answering_page_first(assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    """"526 miljoner per år i intäkter till kommunerna" shares no word with the English question: without the
    Swedish names it ranks below broader slides about the municipalities."""
    def first_holds_the_figure() -> bool:
        return "526 miljoner" in assistant.search(REVENUE, k=5)[0].text
    assert first_holds_the_figure()
    monkeypatch.setattr(retrieval, "BRIDGE_NAMES", 0)
    assert not first_holds_the_figure()
