"""Follow-up questions: which questions lean on the turn before, and what is searched for them."""

from __future__ import annotations

import re

from assistant.retrieval import own_terms
from assistant.sessions import Turn

FOLLOW_UP_START = re.compile(
    r"^\s*(och|men|samt|också|även|vad gäller|hur är det med|och vad|vad med|"
    r"and|but|also|what about|how about|and what|as for)\b", re.IGNORECASE)
ANAPHORA = re.compile(r"\b(de|dem|dessa|denna|detta|det|den|där|dom|they|them|those|these|this|that|it|there)\b",
                      re.IGNORECASE)


def is_follow_up(question: str) -> bool:
    """Short questions that lean on the previous turn: "och vilka kommuner deltar?", "what about procurement?",
    and questions with no content word of their own ("Since when?", "Varför då?", "Hur länge?"); "Social
    upphandling?" is a new topic."""
    terms = own_terms(question)
    return bool(FOLLOW_UP_START.search(question)) or not terms \
        or (len(terms) <= 3 and bool(ANAPHORA.search(question)))


def continued_passages(history: list[Turn], question: str, resolved: str, version: str) -> tuple[int, ...]:
    """The passages the previous answer quoted, when ``question`` was searched as its follow-up: retrieval
    favours them, since a follow-up is most often answered where the conversation already is."""
    if not history or resolved == question or history[-1].version != version:
        return ()
    return history[-1].passages


def resolve(question: str, history: list[Turn]) -> str:
    """The question to search with: a follow-up is searched after the previous question (``in_context``); with no
    conversation to follow, one that opens with a conjunction is searched without it (``without_opener``)."""
    if not history:
        return without_opener(question)
    if not is_follow_up(question):
        return question
    return in_context(question, history)


CONJUNCTION = re.compile(r"^\s*(och|men|samt|and|but)\b[\s,]*", re.IGNORECASE)


def without_opener(question: str) -> str:
    """``question`` without the conjunction it opens with, when words of its own are left: "Och SESI då?" asked
    first (a widget's visitor, a new session) is about SESI, but the "och" cost its cosine enough to fall below
    the floor ("SESI då?" is answered)."""
    rest = CONJUNCTION.sub("", question, count=1)
    return rest if rest != question and own_terms(rest) else question


CONTEXT_CHARS = 300  # the most of the earlier conversation searched with a follow-up


def in_context(question: str, history: list[Turn]) -> str:
    """``question`` searched after the previous question as it was searched ("Vad är NIA? Vem stöttar den?"):
    measured against appending the previous question's topic words, which left "Since when? (coompanion)"
    to a page about Coompanion's social media (docs/retrieval.md). The engine also tries this for a question
    that does not look like a follow-up but finds nothing on its own."""
    if not history:
        return question
    previous = history[-1].resolved.strip()
    if len(previous) > CONTEXT_CHARS:  # a long chain of follow-ups: its latest part
        previous = previous[-CONTEXT_CHARS:].split(" ", 1)[-1]
    return f"{previous} {question.strip()}"
