"""The languages sesam supports, and their detection from stopwords and letters (no model, microseconds).

``LANGUAGES`` is the one place that lists them: sources.toml's ``language``, the stemmers, the glossary's keys,
the language filter, the CLI's ``--lang`` and the API's ``lang`` all take their list from here."""

from __future__ import annotations

import re
from typing import Literal, get_args

Language = Literal["sv", "en"]  # for type hints and pydantic fields
LANGUAGES: tuple[Language, ...] = get_args(Language)  # ("sv", "en"): in this order wherever they are listed
DEFAULT_LANGUAGE: Language = "sv"  # of the interface, and of a question whose language is not clear

_WORD = re.compile(r"[a-zåäöéü]+", re.IGNORECASE)

SV_STOPWORDS = frozenset(
    """och att det som en är på för med av till den har de inte om ett var kan vi så men från
    eller ska vid sina sin sitt också hur vad vilka vilken vilket där när nu bara efter under mot
    genom alla andra ocskå detta dessa sig oss våra vår vårt ni dem deras hos mellan samt enligt
    inom utan finns får både än mer mycket många kommer skulle blir bli går""".split()
)
EN_STOPWORDS = frozenset(
    """the and of to in is that for it as with on by be are this which or from at an was have has
    not can will what how who their they we our its been were these those such also more than into
    other may should would about which when where does do there all any each between through under
    a me my you your us please tell""".split()
)


def detect_language(text: str) -> str:
    """Return ``"sv"``, ``"en"`` or ``"und"`` (too little evidence)."""
    words = [w.lower() for w in _WORD.findall(text[:20000])]
    if not words:
        return "und"
    sv = sum(w in SV_STOPWORDS for w in words)
    en = sum(w in EN_STOPWORDS for w in words)
    letters = sum(text.count(c) for c in "åäöÅÄÖ")
    sv_score = sv + 0.5 * min(letters, len(words))
    en_score = float(en)
    if sv_score == en_score:
        return "und" if sv_score == 0 else ("sv" if letters else "und")
    if max(sv_score, en_score) < 1:
        return "und"
    return "sv" if sv_score > en_score else "en"


ADDRESS = re.compile(r"\S*(?:https?://|www\.|@)\S*")  # a web or e-mail address ("www" is no English "w")

# Spellings one language has and the other hardly does, for a question without stopwords ("Reserved contracts",
# "Municipal parking fees" typed into a search box): "w", "th", "ee", English derivations and a final "y"; Swedish
# "sj"/"tj"/"kj", definite and plural endings. What both languages spell ("-tion", "-ing", "-ment", and "ph" or "sh"
# where a Swedish compound joins two words: "upp|handling", "hus|håll") is left out.
_EN_CUES = re.compile(r"w|th|ee|(?:ings|ness|ships?|ful|less|ous|ies|ied|ence|ance|pment|yment|nment|rement|eement|"
                      r"gement)$|^.{3,}(?:ed|y)$")
_SV_CUES = re.compile(r"^(?:sj|tj|kj|skj|stj)|(?:ningar|ningen|heten|heter|arna|erna|orna|skap|ligt?|liga|erade|"
                      r"ande|ende)$")


def detect_query_language(text: str) -> str:
    """``detect_language`` for what a user typed: keywords without stopwords are Swedish if they hold å, ä or ö, and
    otherwise of the language whose spellings more of them show; "und" when neither does. (Passages keep
    ``detect_language``: a slide without stopwords takes its document's language.)"""
    lang = detect_language(text)
    words = [w.lower() for w in _WORD.findall(ADDRESS.sub(" ", text[:20000]))]
    if lang != "und" or not words or any(w in SV_STOPWORDS or w in EN_STOPWORDS for w in words):
        return lang
    if any(c in text for c in "åäöÅÄÖ"):
        return "sv"
    sv_cues = sum(bool(_SV_CUES.search(w)) for w in words)
    en_cues = sum(bool(_EN_CUES.search(w)) for w in words)
    return "und" if sv_cues == en_cues else ("sv" if sv_cues > en_cues else "en")
