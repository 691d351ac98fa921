"""Conversations kept between questions: their ids, their latest turn, expiry; in memory or in a shared SQLite file.

``MemorySessions`` serves one process. ``SqliteSessions`` keeps them in a file that the worker processes of one
`sesam serve --workers N` share, so a follow-up is resolved whichever worker receives it. Both give out their own
ids (``new_id``): a client continues a conversation only under an id the service gave it, so nobody reads or steers
another's conversation with a guessed one ("1", a user name).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from collections import OrderedDict
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import ConfigError

log = logging.getLogger("sesam.assistant")
MAX_SESSIONS = 10_000  # the most conversations kept; the least recently used go first


@dataclass(frozen=True)
class Turn:
    """What a follow-up needs of the turn before it (nothing more is kept: a store of many sessions stays small)."""

    question: str
    resolved: str
    passages: tuple[int, ...] = ()  # chunk ids the answer quoted (none for an abstention)
    version: str = ""  # the index version those ids belong to


def new_id() -> str:
    """A session id nobody can guess (128 random bits)."""
    return secrets.token_urlsafe(16)


class MemorySessions:
    """Sessions in this process's memory, expiring ``ttl_s`` after their last use; at most ``max_sessions``."""

    new_id = staticmethod(new_id)

    def __init__(self, ttl_s: float, max_sessions: int = MAX_SESSIONS) -> None:
        self.ttl_s = ttl_s
        self.max_sessions = max_sessions
        self._sessions: OrderedDict[str, tuple[Turn, float]] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()

    def _expire(self, now: float) -> None:
        while self._sessions:
            key, (_, touched) = next(iter(self._sessions.items()))
            if now - touched <= self.ttl_s and len(self._sessions) <= self.max_sessions:
                break
            del self._sessions[key]

    def known(self, session_id: str) -> bool:
        """Whether ``session_id`` names a conversation that has not expired."""
        return bool(self.history(session_id))

    def history(self, session_id: str) -> list[Turn]:
        """The turn a follow-up continues, if any."""
        with self._lock:
            self._expire(time.monotonic())
            kept = self._sessions.get(session_id)
            return [kept[0]] if kept else []

    def record(self, session_id: str, turn: Turn) -> None:
        with self._lock:
            now = time.monotonic()
            self._sessions.pop(session_id, None)
            self._sessions[session_id] = (turn, now)
            self._expire(now)

    def clear(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, question TEXT NOT NULL, resolved TEXT NOT NULL,
    passages TEXT NOT NULL, version TEXT NOT NULL, touched REAL NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_touched ON sessions (touched);
"""
_TRIM_EVERY = 100  # records between two trims to ``max_sessions`` (expired rows go at every record)


class SqliteSessions:
    """Sessions in the SQLite file ``path``, shared by processes. Each call opens its own short connection (the
    write-ahead log lets reads go on beside a write; a write waits at most a second for another's lock), and a
    store that fails is bookkeeping that failed: logged, and the question is answered without its conversation.
    Times are wall-clock seconds, since processes share no monotonic clock. The file holds visitors' questions:
    it is made readable by its owner only."""

    new_id = staticmethod(new_id)

    def __init__(self, path: Path, ttl_s: float, max_sessions: int = MAX_SESSIONS) -> None:
        self.path, self.ttl_s, self.max_sessions = Path(path), ttl_s, max_sessions
        self._records = 0
        self._failed = False  # a failure is logged once until the store works again
        try:
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            with closing(self._connect()) as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"The session file {self.path} cannot be opened ({exc}); set session_db to a "
                              f"writable path, or leave it unset to keep sessions in memory.") from exc

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=1.0, isolation_level=None)

    def _run(self, work, default):
        """``work(db)`` on a connection of its own; ``default`` when the file fails (locked, full, removed)."""
        try:
            with closing(self._connect()) as db:
                result = work(db)
        except sqlite3.Error as exc:
            if not self._failed:
                log.warning("the session file %s failed (%s); questions are answered without their conversation "
                            "until it works again", self.path, exc)
            self._failed = True
            return default
        self._failed = False
        return result

    def known(self, session_id: str) -> bool:
        return bool(self.history(session_id))

    def history(self, session_id: str) -> list[Turn]:
        row = self._run(lambda db: db.execute(
            "SELECT question, resolved, passages, version FROM sessions WHERE id = ? AND touched >= ?",
            (session_id, time.time() - self.ttl_s)).fetchone(), None)
        return [Turn(row[0], row[1], tuple(json.loads(row[2])), row[3])] if row else []

    def record(self, session_id: str, turn: Turn) -> None:
        now = time.time()
        self._records += 1
        trim = self._records % _TRIM_EVERY == 0

        def write(db: sqlite3.Connection) -> None:
            db.execute("INSERT OR REPLACE INTO sessions VALUES (?, ?, ?, ?, ?, ?)",
                       (session_id, turn.question, turn.resolved, json.dumps(list(turn.passages)), turn.version, now))
            db.execute("DELETE FROM sessions WHERE touched < ?", (now - self.ttl_s,))
            if trim:
                db.execute("DELETE FROM sessions WHERE id IN (SELECT id FROM sessions ORDER BY touched DESC "
                           "LIMIT -1 OFFSET ?)", (self.max_sessions,))

        self._run(write, None)

    def clear(self, session_id: str) -> None:
        self._run(lambda db: db.execute("DELETE FROM sessions WHERE id = ?", (session_id,)), None)

    def __len__(self) -> int:
        return int(self._run(lambda db: db.execute("SELECT count(*) FROM sessions WHERE touched >= ?",
                                                   (time.time() - self.ttl_s,)).fetchone()[0], 0))


Sessions = MemorySessions | SqliteSessions


def open_sessions(path: Path | None, ttl_s: float) -> Sessions:
    """The store the settings ask for: the SQLite file ``path``, or this process's memory."""
    return SqliteSessions(path, ttl_s) if path else MemorySessions(ttl_s)
