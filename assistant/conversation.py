"""Chat sessions: history per session id, expiry, and resolving follow-up questions against earlier turns."""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from assistant.retrieval import own_terms

FOLLOW_UP_START = re.compile(
    r"^\s*(och|men|samt|också|även|vad gäller|hur är det med|och vad|vad med|"
    r"and|but|also|what about|how about|and what|as for)\b", re.IGNORECASE)
ANAPHORA = re.compile(r"\b(de|dem|dessa|denna|detta|det|den|där|dom|they|them|those|these|this|that|it|there)\b",
                      re.IGNORECASE)


@dataclass(frozen=True)
class Turn:
    """What a follow-up needs of the turn before it (nothing more is kept: a store of many sessions stays small)."""

    question: str
    resolved: str
    passages: tuple[int, ...] = ()  # chunk ids the answer quoted (none for an abstention)
    version: str = ""  # the index version those ids belong to


@dataclass
class Session:
    """One conversation: its latest turn; mutated only under its store's lock."""

    last: Turn
    touched: float = field(default_factory=time.monotonic)


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


class SessionStore:
    """Sessions in memory, expiring ``ttl_s`` after their last use; at most ``max_sessions`` are kept.

    Over HTTP the ids are the store's own (``new_id``): a client continues a conversation only with an id the service
    gave it, so nobody reads or steers another's conversation with a guessed id ("1", a user name).
    """

    def __init__(self, ttl_s: float, max_sessions: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_sessions = max_sessions
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def _expire(self, now: float) -> None:
        while self._sessions:
            key, oldest = next(iter(self._sessions.items()))
            if now - oldest.touched <= self.ttl_s and len(self._sessions) <= self.max_sessions:
                break
            del self._sessions[key]

    @staticmethod
    def new_id() -> str:
        """A session id nobody can guess (128 random bits)."""
        return secrets.token_urlsafe(16)

    def known(self, session_id: str) -> bool:
        """Whether ``session_id`` names a conversation that has not expired."""
        return bool(self.history(session_id))

    def history(self, session_id: str) -> list[Turn]:
        """The turn a follow-up continues, if any."""
        with self._lock:
            now = time.monotonic()
            self._expire(now)
            session = self._sessions.get(session_id)
            return [session.last] if session else []

    def record(self, session_id: str, turn: Turn) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)
            session = Session(turn)
            self._sessions[session_id] = session
            self._expire(session.touched)

    def clear(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)
