"""Chat sessions: history per session id, expiry, and resolving follow-up questions against earlier turns."""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from assistant.retrieval import content_terms

FOLLOW_UP_START = re.compile(
    r"^\s*(och|men|samt|också|även|vad gäller|hur är det med|och vad|vad med|"
    r"and|but|also|what about|how about|and what|as for)\b", re.IGNORECASE)
ANAPHORA = re.compile(r"\b(de|dem|dessa|denna|detta|det|den|där|dom|they|them|those|these|this|that|it|there)\b",
                      re.IGNORECASE)
MAX_TURNS = 20


@dataclass(frozen=True)
class Turn:
    question: str
    resolved: str
    answer: str


@dataclass
class Session:
    """One conversation; mutated only under its store's lock."""

    turns: list[Turn] = field(default_factory=list)
    touched: float = field(default_factory=time.monotonic)


def is_follow_up(question: str) -> bool:
    """Short questions that lean on the previous turn: "och vilka kommuner deltar?", "what about procurement?"."""
    terms = content_terms(question)
    return bool(FOLLOW_UP_START.search(question)) or (len(terms) <= 3 and bool(ANAPHORA.search(question)))


def resolve(question: str, history: list[Turn]) -> str:
    """The question to search with: a follow-up gets the topic words of the previous question appended."""
    if not history or not is_follow_up(question):
        return question
    return in_context(question, history)


def in_context(question: str, history: list[Turn]) -> str:
    """``question`` with the topic words of the previous question appended (those it does not repeat). The
    engine also tries this for a question that does not look like a follow-up but finds nothing on its own."""
    if not history:
        return question
    previous = history[-1].resolved
    new = set(content_terms(question))
    topic = [t for t in content_terms(previous) if t not in new]
    return f"{question.rstrip()} ({' '.join(topic)})" if topic else question


class SessionStore:
    """Sessions in memory, expiring ``ttl_s`` after their last use; at most ``max_sessions`` are kept."""

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

    def history(self, session_id: str) -> list[Turn]:
        with self._lock:
            now = time.monotonic()
            self._expire(now)
            session = self._sessions.get(session_id)
            return list(session.turns) if session else []

    def record(self, session_id: str, turn: Turn) -> None:
        with self._lock:
            session = self._sessions.pop(session_id, None) or Session()
            session.turns = (session.turns + [turn])[-MAX_TURNS:]
            session.touched = time.monotonic()
            self._sessions[session_id] = session
            self._expire(session.touched)

    def clear(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)
