"""Snowball stemming for Swedish and English, shared by indexing (the FTS5 stem text) and querying."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

from ingest.language import LANGUAGES

_TOKEN = re.compile(r"[0-9]+(?:[.,:][0-9]+)*|[^\W\d_]+(?:[-'][^\W\d_]+)*", re.UNICODE)
_SNOWBALL = {"sv": "swedish", "en": "english"}  # the Snowball stemmer of each of LANGUAGES


@lru_cache(maxsize=4)
def _stemmer(lang: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(_SNOWBALL[lang])


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
    """Which stemmers to apply: the language's own, or all of them when it is unknown."""
    return (lang,) if lang in LANGUAGES else LANGUAGES


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
