"""What a message is, before any search: a question, a greeting, thanks, a request to write something, or gibberish.

A public widget gets all of these. Greetings and thanks deserve a friendly line, a request to write a poem or
translate a phrase is not a question the documents can answer, and text with no word sesam knows cannot be
searched meaningfully. Everything else is a question and goes to retrieval. The rules are word lists in both
languages, matched on whole words; they never fire on a message that also asks something else ("Hej! Vad är
ASF?" is a question).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ingest.language import EN_STOPWORDS, SV_STOPWORDS

QUESTION = "question"
GREETING = "greeting"
THANKS = "thanks"
REQUEST = "request"  # write, translate, tell a joke: a task, not a question about the documents
GIBBERISH = "gibberish"
REPLIES = (GREETING, THANKS, REQUEST, GIBBERISH)  # what gets a one-line reply, not an answer


def is_reply(reason: str) -> bool:
    """Whether an answer's ``reason`` is one of ``REPLIES``: a friendly line, not a question the documents failed.
    The one spelling of that rule (the answer's ``reply`` flag, the stream's first event, session history)."""
    return reason in REPLIES

_SV_GREETING = {"hej", "hejsan", "hallå", "tjena", "tja", "tjenare", "morsning", "god", "morgon", "dag", "kväll",
                "middag", "hur", "mår", "du", "är", "läget", "där", "allihop", "på", "dig", "hopp", "det"}
_EN_GREETING = {"hi", "hello", "hey", "hiya", "good", "morning", "afternoon", "evening", "day", "how", "are", "you",
                "doing", "there", "greetings", "howdy", "what's", "up"}
_SV_THANKS = {"tack", "tackar", "så", "mycket", "för", "hjälpen", "svaret", "det", "okej", "ok", "bra", "toppen",
              "jättebra", "snällt", "hej", "då", "vad", "hejdå", "ha", "en", "fin", "dag", "var", "är", "verkligen",
              "hjälpsamt", "jättehjälpsamt", "användbart", "värdefullt", "informationen", "infon", "perfekt",
              "utmärkt", "kanon", "grymt", "strålande", "tusen", "stort", "supertack", "dig", "er", "precis", "jag",
              "behövde", "ett", "riktigt", "svar"}
_EN_THANKS = {"thanks", "thank", "you", "so", "much", "for", "the", "help", "answer", "that", "was", "useful",
              "helpful", "great", "ok", "okay", "cheers", "bye", "goodbye", "a", "lot", "very", "nice", "good",
              "really", "super", "it", "this", "is", "i", "appreciate", "your", "reply", "information", "info",
              "perfect", "awesome", "excellent", "brilliant", "wonderful", "lovely", "all", "have", "day", "indeed",
              "many", "kind", "of", "exactly", "needed", "what", "just"}
_GREETING_HEADS = {"hej", "hejsan", "hallå", "tjena", "tja", "tjenare", "morsning", "god", "hi", "hello", "hey",
                   "hiya", "good", "greetings", "howdy"}
_THANKS_HEADS = {"hej", "tack", "tackar", "thanks", "thank", "cheers", "hejdå", "bye", "goodbye",
                 "ok", "okej", "okay", "perfekt", "perfect", "toppen", "kanon", "utmärkt", "excellent", "great",
                 "awesome", "grymt"}  # an acknowledgement ("Ok", "Perfekt!") is thanks, not a follow-up to search
# words that ask: never gibberish, whatever else the message holds ("Vem vann fotbolls-VM 2018?")
_ASKING = {"vem", "vilken", "vilket", "vilka", "när", "var", "varför", "hur", "vad", "who", "which", "what", "when",
           "where", "why", "how", "whom", "whose"}
_SV_HEADS = {"hej", "hejsan", "hallå", "tjena", "tja", "tjenare", "morsning", "god", "tack", "tackar", "hejdå"}
# A request to produce text: a verb of writing at the start of the message (after "kan du", "please" …), or
# something to write ("en dikt", "a joke") anywhere; a story or a song only after a verb that makes one ("berätta
# en historia", "tell me a story": "Finns det en historia bakom Coompanion?" asks about the past). "Berätta om …" /
# "tell me about …" stay questions.
_LEAD = r"^\W*(?:(?:kan|kunde|skulle)\s+du\s+(?:snälla\s+)?|snälla,?\s+|please,?\s+|" \
        r"(?:can|could|would|will)\s+you\s+(?:please\s+)?|i\s+want\s+you\s+to\s+|jag\s+vill\s+att\s+du\s+)?" \
        r"(?:hjälpa?\s+mig\s+(?:med\s+)?(?:att\s+)?|help\s+me\s+(?:to\s+)?)?"
REQUEST_PATTERN = re.compile(
    _LEAD + r"(?:skriv|skriva|författa|formulera|dikta|översätt|översätta|rimma|sammanfatta|write|compose|"
    r"formulate|translate|draft|"
    r"summari[sz]e)\b"
    r"|\b(?:en|ett|a|an|some)\s+(?:rolig\s+|kort\s+|funny\s+|short\s+)?(?:dikt|vits|skämt|"
    r"haiku|limerick|novell|poem|joke|essay|cover\s+letter|personligt\s+brev)\b"
    r"|\b(?:berätta|skriv|hitta\s+på|sjung|tell|write|make\s+up|sing)\s+(?:\w+\s+)?(?:en|ett|a|an|some)\s+"
    r"(?:rolig\s+|kort\s+|funny\s+|short\s+)?(?:historia|saga|sång|story|song|tale)\b",
    re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", re.UNICODE)


@dataclass(frozen=True)
class Intent:
    kind: str  # QUESTION, GREETING, THANKS, REQUEST or GIBBERISH
    lang: str | None = None  # the language the message's own words show ("sv"/"en"), if they show one


# A word typed by running over the keys: no vowel in three Latin letters or more ("kjhg", "sdfsdf", "xqzt"), or a
# chunk typed twice ("werwer", "asdasd"); a word of the indexed text ("skr" in lower case), an acronym ("LSS", "HVB")
# and a word of another script ("что") are none
_MASH = re.compile(r"^[b-df-hj-np-tv-xz]{3,}$|^([a-zåäöéü]{2,4})\1+$")


def _only(words: list[str], vocabulary: set[str], heads: set[str]) -> bool:
    return any(w in heads for w in words) and all(w in vocabulary for w in words)


def classify(text: str, is_known: Callable[[Iterable[str]], bool]) -> Intent:
    """The intent of ``text``. ``is_known(words)`` says whether any of the words occurs in the indexed
    documents or the glossary; a message none of whose words is known, nor a common function word, is
    gibberish."""
    typed = _WORD.findall(text)
    words = [w.lower() for w in typed]
    for vocab_sv, vocab_en, heads, kind in ((_SV_GREETING, _EN_GREETING, _GREETING_HEADS, GREETING),
                                            (_SV_THANKS, _EN_THANKS, _THANKS_HEADS, THANKS)):
        if kind == THANKS and "?" in text:  # "Tack, vad är det?" asks something
            break
        if _only(words, vocab_sv, heads):
            return Intent(kind, "sv")
        if _only(words, vocab_en, heads) or _only(words, vocab_sv | vocab_en, heads):  # "Hej, how are you?"
            return Intent(kind, "sv" if any(w in _SV_HEADS for w in words) else "en")
    if REQUEST_PATTERN.search(text):
        return Intent(REQUEST)
    common = SV_STOPWORDS | EN_STOPWORDS | _SV_GREETING | _EN_GREETING | _SV_THANKS | _EN_THANKS | _ASKING
    if not words or not (any(w in common for w in words) or is_known(words)):
        return Intent(GIBBERISH)
    content = [w for w in typed if w.lower() not in common]
    mashed = [w for w in content if not w.isupper() and _MASH.search(w.lower()) and not is_known([w.lower()])]
    if len(mashed) >= 2 and 2 * len(mashed) >= len(content):  # "kjhg kjhg social enterprise": keys, and a topic
        return Intent(GIBBERISH)
    return Intent(QUESTION)
