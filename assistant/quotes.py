"""Which passages an answer quotes, and which of their lines: the best window, widened to its list or heading,
chosen by similarity, the question's rare words and the kind of answer wanted. Quotes are verbatim substrings."""

from __future__ import annotations

import re

from assistant.kinds import ANY, COMPARISON, Wanted, without_urls
from assistant.retrieval import Query
from assistant.types import Hit
from ingest.stemming import stem_tokens
from ingest.windows import units

PASSAGE_WINDOW = 0.03  # a further passage is quoted when its score is this close to the best
WINDOW_MARGIN = 0.015  # ...and its best lines score this close to the best lines quoted
QUOTE_WORDS = 0.08  # weight of shared words (stems) beside similarity when choosing the lines to quote
QUOTE_KIND = 0.04  # ...and of holding the kind of answer asked for (a figure, a date)
KIND_REACH = 0.05  # lines holding that kind are quoted instead of the best lines when this close to them
MAX_PASSAGES = 4  # 3 left out the fourth of four near-ties (development and unseen sets: one question each)
MAX_QUOTE_CHARS = 420  # a quotation grows past its best lines (list, heading) up to this length
MAX_LIST_CHARS = 1000  # ...and up to this length to hold the list its lines announce
WHOLE_PASSAGE_CHARS = 260  # a passage this short is quoted whole
MIN_QUOTE_CHARS = 80  # a quotation shorter than this (a heading) takes in the lines that follow it


def _best_lines(hit: Hit) -> float:
    return hit.windows[0][2] if hit.windows else (hit.dense_score or 0.0)


def answer_passages(hits: tuple[Hit, ...]) -> list[Hit]:
    """The best passage, and the next ones when they score nearly as well and so do their best lines (or their
    latent terms match the question better than the first's): a passage whose best lines do not address the
    question is left out."""
    first = hits[0]
    return [first] + [h for h in hits[1:MAX_PASSAGES] if h.score >= first.score - PASSAGE_WINDOW
                      and (_best_lines(h) >= _best_lines(first) - WINDOW_MARGIN or _latent_prefers(h, first))]


def _latent_prefers(hit: Hit, first: Hit) -> bool:
    """Whether the latent terms (ingest/latent.py) match ``hit`` better than the passage ranked first: the two
    signals disagree about a near-tie, so both passages are shown."""
    return hit.latent_score is not None and first.latent_score is not None and hit.latent_score > first.latent_score


def _overlap(text: str, query: Query) -> float:
    """The share of the question's words (weighted by rarity: "ohälsa" counts, "kommun" hardly) in ``text``."""
    stems = stems_of(text)
    total = sum(w for _, w in query.weighted)
    return sum(w for found, w in query.weighted if holds(found, stems)) / total if total else 0.0


def holds(forms: frozenset[str], stems: set[str]) -> bool:
    """A word's stems in a text's, or one of them (5 letters or more) starting a longer stem of the text:
    the stemmer leaves "ohälsan" whole while "ohälsa" becomes "ohäls"."""
    return bool(forms & stems) or any(t.startswith(f) for f in forms if len(f) >= 5 for t in stems)


def select_quote(hit: Hit, query: Query, want: Wanted = ANY) -> str:
    """The lines of a passage that answer, verbatim: the best window (by similarity, with shared words and
    holding the kind of answer wanted breaking near-ties), widened to the whole list when it is part of one,
    and to its heading line."""
    text = hit.text
    if len(text.strip()) <= WHOLE_PASSAGE_CHARS or (len(text.strip()) <= MAX_QUOTE_CHARS
                                                     and COMPARISON.search(query.question)):
        return trim_tail(text.strip())
    spans = units(text)
    if not spans:
        return trim_tail(text[:MAX_QUOTE_CHARS])
    if hit.windows:
        has_kind = {w: bool(want.kind) and want.found(without_urls(text[w[0]:w[1]])) for w in hit.windows}
        total = {w: w[2] + QUOTE_WORDS * _overlap(text[w[0]:w[1]], query) + QUOTE_KIND * has_kind[w]
                 for w in hit.windows}
        best = max(hit.windows, key=lambda w: (total[w], -w[0]))
        if want.kind and not has_kind[best]:  # lines without the figure or date asked for would abstain: lines
            kinds = [w for w in hit.windows if has_kind[w] and total[w] >= total[best] - KIND_REACH]  # with it
            best = max(kinds, key=lambda w: (total[w], -w[0]), default=best)  # may answer
        start, end, _ = best
    else:  # two units at most: the one sharing most words with the question
        start, end = max(spans, key=lambda u: (_overlap(text[u[0]:u[1]], query), -u[0]))
    first = next(i for i, u in enumerate(spans) if u[0] <= start < u[1] or u[0] >= start)
    last = max(i for i, u in enumerate(spans) if u[0] < end)
    if text[spans[first][0]:spans[last][1]].rstrip().endswith(":"):  # the lines announce a list: it is part
        while last + 1 < len(spans) and _is_item(text, spans[last + 1]) \
                and spans[last + 1][1] - spans[first][0] <= MAX_LIST_CHARS:  # of the answer
            last += 1
    if _is_item(text, spans[first]) or any(_is_item(text, spans[i]) for i in range(first, last + 1)):
        while first > 0 and _is_item(text, spans[first - 1]) \
                and spans[last][1] - spans[first - 1][0] <= MAX_QUOTE_CHARS:  # the list from its start...
            first -= 1
        while last + 1 < len(spans) and _is_item(text, spans[last + 1]) \
                and spans[last + 1][1] - spans[first][0] <= MAX_QUOTE_CHARS:  # ...to its end, if it fits
            last += 1
    while last + 1 < len(spans) and _short_lines(text, spans[last + 1]) \
            and spans[last + 1][1] - spans[first][0] <= MAX_QUOTE_CHARS:  # a column of names continues it
        last += 1
    headed = _opens_list(text, spans[first]) and not _is_item(text, spans[first])  # lines opening with a heading
    if first > 0 and not headed and _opens_list(text, spans[first - 1]) \
            and spans[last][1] - spans[first - 1][0] <= MAX_QUOTE_CHARS:  # need no other line to introduce them
        first -= 1
    while spans[last][1] - spans[first][0] < MIN_QUOTE_CHARS and last + 1 < len(spans) \
            and spans[last + 1][1] - spans[first][0] <= MAX_QUOTE_CHARS:  # a heading alone says nothing: what
        last += 1  # follows it does ("SESI / Social ekonomi, social innovation" → its bullet)
    return trim_tail(text[spans[first][0]:spans[last][1]])


_URL_TAIL = re.compile(r"(?:\s+https?://\S+)+\s*$")
_MARKS = "”“\"«»"  # quotation marks, Swedish (”…”) and English (“…”) alike
_LABEL_TAIL = re.compile(r"\n[^\S\n]*([^\n]{2,40})[^\S\n]*$")


def _is_label(line: str) -> bool:
    """Words in capitals, two at least ("IOP" or "EU SKR" may be the answer itself)."""
    return line.upper() == line and len(line.split()) >= 2 and sum(c.isalpha() for c in line) >= 8


def trim_tail(quote: str) -> str:
    """A quotation without what only ends it on the slide: links pasted after the last sentence, a running label in
    capitals ("VAD ÄR SOCIAL EKONOMI?") after the last line, and a quotation mark at either end whose partner lies
    outside the lines quoted (the answer's own marks would double it: "…styrning””); still a verbatim substring."""
    while True:
        cut = _URL_TAIL.sub("", quote)
        label = _LABEL_TAIL.search(cut)
        if label and _is_label(label.group(1)):
            cut = cut[:label.start()]
        cut = _unpaired_mark(cut.rstrip())
        if cut == quote or not cut:
            return quote
        quote = cut


def _unpaired_mark(quote: str) -> str:
    """``quote`` without a quotation mark that ends (or opens) it when the marks in it do not pair up."""
    if sum(quote.count(m) for m in _MARKS) % 2:
        if quote[-1:] in _MARKS:
            return quote[:-1].rstrip()
        if quote[:1] in _MARKS:
            return quote[1:].lstrip()
    return quote


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


def stems_of(text: str) -> set[str]:
    return set(stem_tokens(text, None))  # None: Swedish and English stems
