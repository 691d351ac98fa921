"""`sesam eval`: retrieval, abstention and shown-answer quality on a question set, per language and kind, plus latency."""

from __future__ import annotations

import json
import math
import re
import statistics
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from assistant.conversation import continued_passages
from ingest.errors import QueryError
from ingest.settings import MAX_QUESTION_CHARS, too_long


@dataclass(frozen=True)
class Item:
    id: str
    lang: str
    question: str
    gold: tuple[str, ...]
    kind: str
    answerable: bool
    history: tuple[str, ...] = ()  # earlier questions of the same conversation (follow-up items)


@dataclass(frozen=True)
class Outcome:
    item: Item
    rank: int | None  # 1-based rank of the first retrieved passage holding a gold string
    abstained: bool
    latency_ms: float
    answer_text: str = ""  # what the user reads
    answer_hit: bool = False  # the shown answer contains a gold string
    ranking_score: float | None = None  # the top passage's ranking score (cosine + bonuses); None: nothing searched
    reason: str = ""  # why it abstained
    judged_score: float | None = None  # the best cosine the engine compared with the abstention floor
    judged_floor: float | None = None  # the floor it was compared with (same- or cross-language pair)

    def as_dict(self) -> dict:
        def r4(v):
            return None if v is None else round(v, 4)
        return {"id": self.item.id, "lang": self.item.lang, "kind": self.item.kind,
                "answerable": self.item.answerable, "question": self.item.question, "rank": self.rank,
                "abstained": self.abstained, "reason": self.reason, "judged_score": r4(self.judged_score),
                "judged_floor": r4(self.judged_floor), "ranking_score": r4(self.ranking_score),
                "answer_hit": self.answer_hit, "answer_chars": len(self.answer_text),
                "latency_ms": round(self.latency_ms, 2)}


_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))  # soft hyphen, zero-width


def normalize(text: str) -> str:
    """Gold and answer/passage text are compared in this one form: NFKC (composed letters, ligatures expanded),
    soft hyphens and zero-width characters dropped, whitespace collapsed, lower case."""
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    return re.sub(r"\s+", " ", text).strip().lower()


_RECORD = ('write one question per line as a JSON object with a unique string "id" and a "question" (and lang, '
           'a list of strings gold, kind, answerable true or false, a list of strings history), as in eval/dev.jsonl.')


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _question_problem(text: object, max_chars: int) -> str | None:
    """Why ``text`` cannot be asked (the engine's own limits), or None."""
    if not isinstance(text, str):
        return f"must be a string, not {'null' if text is None else type(text).__name__}"
    if not text.strip():
        return "is empty"
    if too_long(text, max_chars) is not None:
        return f"is {len(text)} characters long; the limit is {max_chars} characters"
    return None


def _row_problems(row: dict, max_chars: int) -> list[str]:
    """What is wrong with one parsed line, one sentence per problem."""
    problems = []
    missing = [key for key in ("id", "question") if key not in row]
    if missing:
        problems.append(f" has no {' and no '.join(repr(k) for k in missing)} field")
    if "id" in row and not (isinstance(row["id"], str) and row["id"].strip()):
        problems.append("id must be a non-empty string")
    name = f" of {row['id']!r}" if isinstance(row.get("id"), str) else ""
    if "question" in row and (why := _question_problem(row["question"], max_chars)):
        problems.append(f"the question{name} {why}")
    for key in ("lang", "kind"):
        if row.get(key) is not None and not isinstance(row[key], str):
            problems.append(f"{key} must be a string")
    if not isinstance(row.get("answerable", True), bool):
        problems.append(f"answerable must be true or false, not {json.dumps(row['answerable'])}")
    for key in ("gold", "history"):
        if row.get(key) is not None and not _strings(row[key]):
            problems.append(f"{key} must be a list of strings")
    if _strings(row.get("history")):
        for turn, text in enumerate(row["history"], start=1):
            if why := _question_problem(text, max_chars):
                problems.append(f"history question {turn}{name} {why}")
    if row.get("answerable", True) is True and _strings(row.get("gold") or []) \
            and not any(g.strip() for g in row.get("gold") or []):
        problems.append("an answerable question needs a non-empty gold list")
    return problems


def load_items(path: Path, *, max_chars: int = MAX_QUESTION_CHARS) -> list[Item]:
    """The questions of a JSONL file, checked strictly: every problem is reported with its file and line, and
    nothing is asked when there is one. ``max_chars``: the engine's question limit (``max_question_chars``)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")  # a BOM from a Windows editor is accepted
    except OSError as exc:
        raise QueryError(f"Cannot read the question file {path} ({exc.strerror or exc}).") from exc
    except UnicodeDecodeError as exc:
        raise QueryError(f"Cannot read the question file {path} (not UTF-8 text: byte {exc.start}).") from exc
    items, errors, seen = [], [], {}
    # JSON lines end at "\n" only: U+2028, U+0085 and the like may stand raw inside a JSON string
    for n, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        where = f"{path}, line {n}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{where} is not valid JSON ({exc.msg})")
            continue
        if not isinstance(row, dict):
            errors.append(f"{where} must be a JSON object, not {type(row).__name__}")
            continue
        problems = _row_problems(row, max_chars)
        if isinstance(row.get("id"), str):
            if row["id"] in seen:
                problems.append(f"the id {row['id']!r} is already used on line {seen[row['id']]}")
            seen.setdefault(row["id"], n)
        if problems:
            errors.extend(f"{where}{p}" if p.startswith(" ") else f"{where}: {p}" for p in problems)
            continue
        items.append(Item(row["id"], row.get("lang") or "und", row["question"], tuple(row.get("gold") or ()),
                          row.get("kind") or "unknown", row.get("answerable", True), tuple(row.get("history") or ())))
    if errors:
        raise QueryError("\n".join(errors) + f"\n(One problem a line; {_RECORD})")
    if not items:
        raise QueryError(f"The question file {path} holds no questions; {_RECORD}")
    return items


def first_hit(texts: Iterable[str], gold: Iterable[str]) -> int | None:
    golds = [g for g in map(normalize, gold) if g]
    for rank, text in enumerate(texts, start=1):
        t = normalize(text)
        if any(g in t for g in golds):
            return rank
    return None


WARMUP = ("Vad handlar dokumenten om?", "What are the documents about?")  # asked untimed before the set


def run(assistant, items: list[Item], *, k: int = 10, mode: str = "hybrid") -> list[Outcome]:
    """Ask every question in-process, bypassing the answer cache, and record the rank of the first gold
    passage (for the question as searched, i.e. after follow-up resolution), abstention, the answer shown,
    what abstention was judged on, and latency. A follow-up item's earlier questions are asked first in the same
    session. The ``WARMUP`` questions are asked untimed first (one per language, uncached), so the latency of the
    first items is that of answering, not of loading the model and the index's pages."""
    for text in WARMUP:
        assistant.ask(text, k=k, mode=mode, use_cache=False)
    outcomes = []
    for item in items:
        try:
            outcomes.append(_ask(assistant, item, k=k, mode=mode))
        except QueryError as exc:  # load_items checks what it can; name the item whatever the engine refuses
            raise QueryError(f"Question {item.id!r}: {exc}") from exc
    return outcomes


def _ask(assistant, item: Item, *, k: int, mode: str) -> Outcome:
    session = f"eval-{item.id}" if item.history else None
    try:
        for earlier in item.history:
            assistant.ask(earlier, k=k, session_id=session, mode=mode)
        history = assistant.sessions.history(session) if session else []
        start = time.perf_counter()
        answer = assistant.ask(item.question, k=k, session_id=session, mode=mode, use_cache=False)
        latency = (time.perf_counter() - start) * 1000
    finally:
        if session:
            assistant.sessions.clear(session)
    shown = answer.text if not answer.abstained else ""
    rank, ranking = None, None
    if answer.judged_score is not None:  # the engine searched (not a greeting, an errand or gibberish)
        searched = answer.resolved_question or item.question
        prefer = continued_passages(history, item.question, searched, assistant.index.path.name)
        hits = assistant.search(searched, k=max(k, 10), mode=mode, prefer=prefer,
                                asked=item.question if history else searched)  # as the engine searched it
        rank = first_hit((h.text for h in hits), item.gold)
        ranking = hits[0].score if hits else None
    return Outcome(item, rank, answer.abstained, latency, answer_text=shown,
                   answer_hit=first_hit([shown], item.gold) is not None, ranking_score=ranking, reason=answer.reason,
                   judged_score=answer.judged_score, judged_floor=answer.judged_floor)


def metrics(outcomes: list[Outcome]) -> dict:
    answerable = [o for o in outcomes if o.item.answerable]
    unanswerable = [o for o in outcomes if not o.item.answerable]
    n = len(answerable)

    def share(cond, rows):
        return round(sum(1 for o in rows if cond(o)) / len(rows), 4) if rows else None

    return {
        "n": len(outcomes), "n_answerable": n, "n_unanswerable": len(unanswerable),
        "recall@1": share(lambda o: o.rank == 1, answerable),
        "recall@5": share(lambda o: o.rank is not None and o.rank <= 5, answerable),
        "mrr@10": round(sum(1 / o.rank for o in answerable if o.rank and o.rank <= 10) / n, 4) if n else None,
        "abstain_recall": share(lambda o: o.abstained, unanswerable),
        "false_abstain_rate": share(lambda o: o.abstained, answerable),
        "answer_recall": share(lambda o: o.answer_hit, answerable),
        "answer_chars_p50": _median([len(o.answer_text) for o in answerable if not o.abstained]),
    }


def _median(values: list[float]) -> float | None:
    """The median (the mean of the two middle values of an even count); None when there are no values."""
    return round(statistics.median(values), 2) if values else None


def _percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank percentile ``q`` (the smallest value with at least q % of the values at or below it)."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)], 2)


def report(outcomes: list[Outcome], *, details: bool = False) -> dict:
    """The object `sesam eval --json` prints (with ``details``, a ``questions`` list, one row per item)."""
    out = metrics(outcomes)
    out["by_lang"] = {lang: metrics([o for o in outcomes if o.item.lang == lang])
                      for lang in sorted({o.item.lang for o in outcomes})}
    out["by_kind"] = {kind: metrics([o for o in outcomes if o.item.kind == kind])
                      for kind in sorted({o.item.kind for o in outcomes})}
    latencies = [o.latency_ms for o in outcomes]
    out["latency_ms"] = {"p50": _median(latencies), "p95": _percentile(latencies, 95),
                         "warmup_questions": len(WARMUP)}  # asked untimed before the set
    if details:
        out["questions"] = [o.as_dict() for o in outcomes]
    return out


def format_table(rep: dict) -> str:
    keys = ("recall@1", "recall@5", "mrr@10", "abstain_recall", "false_abstain_rate", "answer_recall",
            "answer_chars_p50")
    rows = [("all", rep)] + [(f"lang {k}", v) for k, v in rep["by_lang"].items()] + \
        [(f"kind {k}", v) for k, v in rep["by_kind"].items()]

    def cell(v):
        return "-" if v is None else f"{v:.3f}" if isinstance(v, float) and v <= 1 else f"{v:.0f}"

    lines = [f"{'':22} {'n':>3} " + " ".join(f"{k:>{max(8, len(k))}}" for k in keys)]
    for name, m in rows:
        lines.append(f"{name:22} {m['n']:>3} " + " ".join(f"{cell(m[k]):>{max(8, len(k))}}" for k in keys))
    lat = rep["latency_ms"]

    def ms(v):
        return "-" if v is None else f"{v:.1f}"

    lines.append(f"latency ms: p50 {ms(lat['p50'])}, p95 {ms(lat['p95'])} "
                 f"(after {lat['warmup_questions']} untimed warm-up questions)")
    for q in rep.get("questions", []):
        verdict = f"abstained ({q['reason']})" if q["abstained"] else "answered"
        gold = "" if not q["answerable"] else f" rank {q['rank'] or '-'}, answer {'has' if q['answer_hit'] else 'lacks'} gold,"
        scores = "not searched" if q["judged_score"] is None else \
            f"judged cosine {q['judged_score']:.3f} vs floor {q['judged_floor']:.3f}"
        if q["ranking_score"] is not None:
            scores += f", ranking score {q['ranking_score']:.3f}"
        lines.append(f"{q['id']:>8} {q['lang']:>3} {q['kind']:<13}{gold} {verdict}, {scores}, "
                     f"{q['answer_chars']} chars — {q['question']}")
    return "\n".join(lines)
