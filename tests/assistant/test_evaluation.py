"""`sesam eval` (assistant/evaluation.py): strict question files, gold matching, metrics, and what a row reports."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from assistant.evaluation import WARMUP, Item, Outcome, first_hit, format_table, load_items, metrics, report, run
from assistant.types import Answer, Hit
from ingest.errors import QueryError

GOOD = {"id": "a", "lang": "sv", "question": "Vad är IOP?", "gold": ["IOP"], "kind": "fact", "answerable": True}


def _file(tmp_path: Path, *rows, raw: bytes | None = None) -> Path:
    path = tmp_path / "q.jsonl"
    if raw is not None:
        path.write_bytes(raw)
    else:
        path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                        encoding="utf-8")
    return path


def _refused(path: Path, *said: str, **kwargs) -> str:
    with pytest.raises(QueryError) as err:
        load_items(path, **kwargs)
    message = str(err.value)
    assert str(path) in message and all(s in message for s in said), message
    return message


@pytest.mark.parametrize("field,value", [("gold", "IOP"), ("gold", {"x": 1}), ("gold", [1, 2]), ("gold", ["a", None]),
                                         ("history", "Vad är SESI?"), ("history", [3])])
def test_gold_and_history_must_be_lists_of_strings(tmp_path: Path, field: str, value) -> None:
    """F1/F2: a string gold became ('I', 'O', 'P') (recall 1.0), a string history 12 one-letter questions; [1, 2]
    crashed with AttributeError mid-run."""
    _refused(_file(tmp_path, GOOD, {**GOOD, "id": "b", field: value}), f"line 2: {field} must be a list of strings")


def test_other_field_values_are_checked(tmp_path: Path) -> None:
    """F4: "false" counted as answerable, null was asked as "None", ids repeated, answerable items had no gold."""
    _refused(_file(tmp_path, {**GOOD, "answerable": "false"}), 'line 1: answerable must be true or false, not "false"')
    _refused(_file(tmp_path, {**GOOD, "question": None}), "line 1: the question of 'a' must be a string, not null")
    _refused(_file(tmp_path, GOOD, {**GOOD, "id": "b"}, GOOD), "line 3: the id 'a' is already used on line 1")
    _refused(_file(tmp_path, {**GOOD, "gold": []}), "line 1: an answerable question needs a non-empty gold list")
    _refused(_file(tmp_path, {**GOOD, "id": 7}), "line 1: id must be a non-empty string")
    assert load_items(_file(tmp_path, {**GOOD, "answerable": False, "gold": []}))[0].answerable is False


def test_every_problem_is_named_with_its_line(tmp_path: Path) -> None:
    message = _refused(_file(tmp_path, {**GOOD, "gold": "x"}, GOOD, {**GOOD, "id": "c", "answerable": 1}),
                       "line 1: gold", "line 2: the id 'a'", "line 3: answerable")
    assert len(message.splitlines()) == 4 and message.splitlines()[-1].startswith("(One problem a line; write")


def test_questions_the_engine_refuses_are_refused_up_front(tmp_path: Path) -> None:
    """F9: a blank question aborted the run after the earlier items ("The question is empty"), naming nothing."""
    _refused(_file(tmp_path, GOOD, {**GOOD, "id": "b", "question": "   "}), "line 2: the question of 'b' is empty")
    _refused(_file(tmp_path, {**GOOD, "question": "x" * 41}), "line 1: the question of 'a' is 41 characters long; "
             "the limit is 40", max_chars=40)
    _refused(_file(tmp_path, {**GOOD, "history": ["Vad är SESI?", " "]}), "line 1: history question 2 of 'a' is empty")


def test_encoding_bom_and_line_separators(tmp_path: Path) -> None:
    """F3: not UTF-8 was a traceback and a BOM "not valid JSON"; F5: U+2028 inside a string split the line."""
    _refused(_file(tmp_path, raw=b'\xff\xfe{"id"\n'), "Cannot read the question file", "not UTF-8")
    assert load_items(_file(tmp_path, raw=b"\xef\xbb\xbf" + json.dumps(GOOD).encode() + b"\r\n"))[0].id == "a"
    for sep in ("\u2028", "\u2029", "\u0085", "\x0c"):
        text = json.dumps({**GOOD, "question": f"Vad {sep}är IOP?"}, ensure_ascii=False) + "\n" + \
            json.dumps({**GOOD, "id": "b"})
        items = load_items(_file(tmp_path, raw=text.encode()))
        assert [i.id for i in items] == ["a", "b"] and sep in items[0].question


def test_gold_and_text_are_normalised_alike() -> None:
    """F6: NFD, ligatures, soft hyphens and zero-width spaces in a gold never matched."""
    assert first_hit(["Umeå, Hudiksvall"], [unicodedata.normalize("NFD", "umeå")]) == 1
    assert first_hit(["offentlig finansiering"], ["oﬀentlig ﬁnansiering"]) == 1
    assert first_hit(["arbets\u00adintegrerande"], ["arbetsintegrerande"]) == 1
    assert first_hit(["3000  Kronor"], ["3\u200b000 kronor"]) == 1
    assert first_hit(["x"], ["\u200b", " "]) is None  # a gold of nothing matches nothing


def _outcome(chars: int, abstained: bool = False) -> Outcome:
    return Outcome(Item("x", "sv", "q", ("g",), "fact", True), 1, abstained, 1.0, answer_text="a" * chars)


def test_answer_chars_p50_is_the_median_and_none_without_answers() -> None:
    """F10: [100, 200] gave 100, [1..4] gave 3; all abstained gave 0.0 ("0.000" in the table)."""
    assert metrics([_outcome(100), _outcome(200)])["answer_chars_p50"] == 150
    assert metrics([_outcome(n) for n in (1, 2, 3, 4)])["answer_chars_p50"] == 2.5
    none = report([_outcome(0, abstained=True)])
    assert none["answer_chars_p50"] is None
    assert format_table(none).splitlines()[1].split()[-1] == "-"


class _Stub:
    """An assistant that answers from a script; records what it was asked."""

    def __init__(self, answers: dict[str, Answer], hits: list[Hit]) -> None:
        self.answers, self.hits, self.asked, self.searched = answers, hits, [], []
        self.sessions = type("S", (), {"history": lambda s, sid: [], "clear": lambda s, sid: None})()
        self.index = type("I", (), {"path": Path("v1")})()

    def ask(self, question: str, **kwargs) -> Answer:
        self.asked.append((question, kwargs.get("use_cache", True)))
        return self.answers.get(question) or Answer(question, "Svar.", False, (), "sv", judged_score=0.9,
                                                    judged_floor=0.8)

    def search(self, query: str, **kwargs) -> list[Hit]:
        self.searched.append(query)
        return self.hits


def _hit(text: str, score: float, dense: float) -> Hit:
    return Hit(1, "d", "t", "f.pdf", "p", 1, 1, 0, len(text), text, "sv", score, dense_score=dense)


def test_no_rank_or_score_when_the_engine_did_not_search() -> None:
    """F11: "Hej" (a greeting, nothing retrieved) got rank 4 and a score, crediting recall@5 and MRR."""
    greeting = Answer("Hej", "Hej!", True, (), "sv", reason="greeting")
    stub = _Stub({"Hej": greeting}, [_hit("sociala företag", 0.9, 0.85)])
    item = Item("x1", "sv", "Hej", ("sociala företag",), "fact", True)
    [out] = run(stub, [item])
    assert out.rank is None and out.ranking_score is None and out.judged_score is None and not stub.searched
    assert metrics([out])["recall@5"] == 0.0
    row = report([out], details=True)["questions"][0]
    assert row["rank"] is None and "not searched" in format_table(report([out], details=True))


def test_warm_up_questions_are_asked_untimed_first() -> None:
    """F13: the first items were timed with the model and pages loading (p95 of 30 items = the cold start)."""
    stub = _Stub({}, [_hit("IOP", 1.0, 0.9)])
    run(stub, [Item("a", "sv", "Vad är IOP?", ("IOP",), "fact", True)])
    assert [q for q, _ in stub.asked] == [*WARMUP, "Vad är IOP?"] and all(not cached for _, cached in stub.asked)
    rep = report(run(stub, [Item("a", "sv", "Vad är IOP?", ("IOP",), "fact", True)]))
    assert rep["latency_ms"]["warmup_questions"] == len(WARMUP)
    assert f"after {len(WARMUP)} untimed warm-up questions" in format_table(rep)


def test_the_judged_score_is_shown_beside_the_ranking_score() -> None:
    """F17: `score` was the fused ranking score (1.092 for pub-004) while abstention judged the cosine (0.926)."""
    judged = Answer("Vad är IOP?", "Svar.", False, (), "sv", judged_score=0.926, judged_floor=0.84)
    stub = _Stub({"Vad är IOP?": judged}, [_hit("IOP", 1.092, 0.91)])
    [out] = run(stub, [Item("a", "sv", "Vad är IOP?", ("IOP",), "fact", True)])
    row = report([out], details=True)["questions"][0]
    assert (row["judged_score"], row["judged_floor"], row["ranking_score"]) == (0.926, 0.84, 1.092)
    assert "score" not in row
    assert "judged cosine 0.926 vs floor 0.840, ranking score 1.092" in format_table(report([out], details=True))


def test_a_question_the_engine_refuses_is_named_by_its_id() -> None:
    class Refusing(_Stub):
        def ask(self, question: str, **kwargs) -> Answer:
            if question == "bad":
                raise QueryError("The question is 5000 characters long; the limit is 1000 characters.")
            return super().ask(question, **kwargs)

    with pytest.raises(QueryError, match="Question 'q7': The question is 5000"):
        run(Refusing({}, []), [Item("q7", "sv", "bad", ("x",), "fact", True)])


def test_the_engine_reports_the_cosine_it_judged(assistant) -> None:
    """F17 end to end: the Answer carries the best passage's cosine and the floor of its pair; a "weak"
    abstention is one whose cosine is under its floor, and a reply searched nothing."""
    answered = assistant.ask("Vad är ett arbetsintegrerande socialt företag, ASF?", use_cache=False)
    assert answered.judged_score is not None and answered.judged_score >= answered.judged_floor
    assert 0 < answered.judged_score <= 1.0
    weak = assistant.ask("Hur bokar jag tid för att förnya mitt körkort?", use_cache=False)
    if weak.reason == "weak":
        assert weak.judged_score < weak.judged_floor
    assert assistant.ask("Hej!", use_cache=False).judged_score is None
