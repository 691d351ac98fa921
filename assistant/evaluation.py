"""`sesam eval`: retrieval, abstention and shown-answer quality on a question set, per language and kind, plus latency."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from assistant.conversation import continued_passages
from ingest.errors import QueryError


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
    score: float = 0.0  # the best passage's score
    reason: str = ""  # why it abstained

    def as_dict(self) -> dict:
        return {"id": self.item.id, "lang": self.item.lang, "kind": self.item.kind,
                "answerable": self.item.answerable, "question": self.item.question, "rank": self.rank,
                "abstained": self.abstained, "reason": self.reason, "score": round(self.score, 4),
                "answer_hit": self.answer_hit, "answer_chars": len(self.answer_text),
                "latency_ms": round(self.latency_ms, 2)}


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip()


_RECORD = ('write one question per line as a JSON object with "id" and "question" (and lang, gold, kind, '
           'answerable), as in eval/dev.jsonl.')


def load_items(path: Path) -> list[Item]:
    items = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise QueryError(f"Cannot read the question file {path} ({exc.strerror or exc}).") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}, line {n}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise QueryError(f"{where} is not valid JSON ({exc.msg}); {_RECORD}") from exc
        if not isinstance(row, dict):
            raise QueryError(f"{where} must be a JSON object, not {type(row).__name__}; {_RECORD}")
        missing = [key for key in ("id", "question") if key not in row]
        if missing:
            raise QueryError(f"{where} has no {' and no '.join(repr(k) for k in missing)} field; {_RECORD}")
        try:
            items.append(Item(str(row["id"]), str(row.get("lang") or "und"), str(row["question"]),
                              tuple(row.get("gold") or ()), str(row.get("kind") or "unknown"),
                              bool(row.get("answerable", True)), tuple(row.get("history") or ())))
        except TypeError as exc:  # gold or history that is not a list
            raise QueryError(f"{where}: gold and history must be lists of strings ({exc}); {_RECORD}") from exc
    if not items:
        raise QueryError(f"The question file {path} holds no questions; {_RECORD}")
    return items


def first_hit(texts: Iterable[str], gold: Iterable[str]) -> int | None:
    golds = [_norm(g) for g in gold if g.strip()]
    for rank, text in enumerate(texts, start=1):
        t = _norm(text)
        if any(g in t for g in golds):
            return rank
    return None


def run(assistant, items: list[Item], *, k: int = 10, mode: str = "hybrid") -> list[Outcome]:
    """Ask every question in-process, bypassing the answer cache, and record the rank of the first gold
    passage (for the question as searched, i.e. after follow-up resolution), abstention, the answer shown,
    and latency. A follow-up item's earlier questions are asked first in the same session."""
    outcomes = []
    for item in items:
        session = f"eval-{item.id}" if item.history else None
        for earlier in item.history:
            assistant.ask(earlier, k=k, session_id=session, mode=mode)
        history = assistant.sessions.history(session) if session else []
        start = time.perf_counter()
        answer = assistant.ask(item.question, k=k, session_id=session, mode=mode, use_cache=False)
        latency = (time.perf_counter() - start) * 1000
        searched = answer.resolved_question or item.question
        prefer = continued_passages(history, item.question, searched, assistant.index.path.name)
        hits = assistant.search(searched, k=max(k, 10), mode=mode, prefer=prefer,
                                asked=item.question if history else searched)  # as the engine searched it
        shown = answer.text if not answer.abstained else ""
        outcomes.append(Outcome(item, first_hit((h.text for h in hits), item.gold), answer.abstained, latency,
                                answer_text=shown, answer_hit=first_hit([shown], item.gold) is not None,
                                score=hits[0].score if hits else 0.0, reason=answer.reason))
        if session:
            assistant.sessions.clear(session)
    return outcomes


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
        "answer_chars_p50": _percentile([len(o.answer_text) for o in answerable if not o.abstained], 50)
        if answerable else None,
    }


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[pos], 2)


def report(outcomes: list[Outcome], *, details: bool = False) -> dict:
    """The object `sesam eval --json` prints (with ``details``, a ``questions`` list, one row per item)."""
    out = metrics(outcomes)
    out["by_lang"] = {lang: metrics([o for o in outcomes if o.item.lang == lang])
                      for lang in sorted({o.item.lang for o in outcomes})}
    out["by_kind"] = {kind: metrics([o for o in outcomes if o.item.kind == kind])
                      for kind in sorted({o.item.kind for o in outcomes})}
    latencies = [o.latency_ms for o in outcomes]
    out["latency_ms"] = {"p50": _percentile(latencies, 50), "p95": _percentile(latencies, 95)}
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
    lines.append(f"latency ms: p50 {rep['latency_ms']['p50']}, p95 {rep['latency_ms']['p95']}")
    for q in rep.get("questions", []):
        verdict = f"abstained ({q['reason']})" if q["abstained"] else "answered"
        gold = "" if not q["answerable"] else f" rank {q['rank'] or '-'}, answer {'has' if q['answer_hit'] else 'lacks'} gold,"
        lines.append(f"{q['id']:>8} {q['lang']:>3} {q['kind']:<13}{gold} {verdict}, score {q['score']:.3f}, "
                     f"{q['answer_chars']} chars — {q['question']}")
    return "\n".join(lines)
