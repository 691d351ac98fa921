"""Snowball stemming for Swedish and English, shared by indexing (FTS5 text) and querying (MATCH expressions)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import Stemmer

_TOKEN = re.compile(r"[0-9]+(?:[.,:][0-9]+)*|[^\W\d_]+(?:[-'][^\W\d_]+)*", re.UNICODE)
_LANG = {"sv": "swedish", "en": "english"}


@lru_cache(maxsize=4)
def _stemmer(lang: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(_LANG[lang])


def tokenize(text: str) -> list[str]:
    """Lowercased word and number tokens; hyphenated words are split into their parts too."""
    out: list[str] = []
    for tok in _TOKEN.findall(text.lower()):
        if "-" in tok:
            out.extend(p for p in tok.split("-") if p)
        else:
            out.append(tok)
    return out


def langs_for(lang: str | None) -> tuple[str, ...]:
    """Which stemmers to apply: the language's own, or both when it is unknown."""
    return (lang,) if lang in _LANG else ("sv", "en")


def stem_tokens(text: str, lang: str | None) -> list[str]:
    """Stems of ``text`` in ``lang`` ("und"/None: Swedish and English stems, both)."""
    tokens = tokenize(text)
    stems: list[str] = []
    for code in langs_for(lang):
        stems.extend(_stemmer(code).stemWords(tokens))
    return stems


def index_text(text: str, lang: str | None) -> str:
    """The text stored in the FTS5 column: space-separated stems."""
    return " ".join(stem_tokens(text, lang))


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def match_expression(terms: Iterable[str], langs: Iterable[str] = ("sv", "en")) -> str:
    """A safe FTS5 MATCH expression: every stem of every term in every language, quoted and OR-ed.

    ``terms`` are words or phrases written by a user; FTS5 syntax in them has no effect because
    each stem is quoted. Multi-word phrases become quoted phrases of their stems.
    """
    parts: list[str] = []
    seen: set[str] = set()
    for term in terms:
        tokens = tokenize(term)
        if not tokens:
            continue
        for code in langs:
            stems = _stemmer(code if code in _LANG else "sv").stemWords(tokens)
            expr = _quote(" ".join(stems))
            if expr not in seen:
                seen.add(expr)
                parts.append(expr)
    return " OR ".join(parts)
