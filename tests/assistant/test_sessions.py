"""Conversation stores: the latest turn per id, expiry, a size bound, and a SQLite file that processes share."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

import pytest

from assistant.sessions import MemorySessions, SqliteSessions, Turn
from ingest.errors import ConfigError


def _turn(n: int) -> Turn:
    return Turn(f"fråga {n}", f"fråga {n} som den söktes", (n, n + 1), "v1")


def test_memory_keeps_the_latest_turn_expires_and_bounds_its_size() -> None:
    store = MemorySessions(ttl_s=0.2, max_sessions=3)
    store.record("a", _turn(1))
    store.record("a", _turn(2))
    assert store.history("a") == [_turn(2)] and store.known("a") and not store.known("b")
    for key in "bcd":
        store.record(key, _turn(3))
    assert len(store) == 3 and not store.known("a"), "the least recently used went first"
    time.sleep(0.3)
    assert store.history("d") == [] and len(store) == 0


def test_a_sqlite_file_is_shared_by_two_stores_as_by_two_worker_processes(tmp_path: Path) -> None:
    path = tmp_path / "sessions.sqlite"
    worker_1, worker_2 = SqliteSessions(path, ttl_s=60), SqliteSessions(path, ttl_s=60)
    session = worker_1.new_id()
    assert len(session) >= 20 and session != worker_1.new_id()
    worker_1.record(session, _turn(1))
    assert worker_2.history(session) == [_turn(1)], "the other worker reads the conversation"
    worker_2.record(session, _turn(2))
    assert worker_1.history(session) == [_turn(2)] and len(worker_1) == 1
    worker_1.clear(session)
    assert not worker_2.known(session)
    reopened = SqliteSessions(path, ttl_s=60)
    reopened.record("x", _turn(3))
    assert reopened.history("x") == [_turn(3)]
    assert path.stat().st_mode & 0o077 == 0, "visitors' questions are readable by the service's user only"


def test_sqlite_sessions_expire_and_stay_bounded(tmp_path: Path) -> None:
    store = SqliteSessions(tmp_path / "s.sqlite", ttl_s=0.2, max_sessions=5)
    store.record("old", _turn(0))
    time.sleep(0.3)
    assert not store.known("old")
    for n in range(99):  # a trim runs every 100 records: the 100th is s98
        store.record(f"s{n}", _turn(n))
    assert len(store) == 5 and store.known("s98") and not store.known("s0")


def test_a_session_file_in_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be opened.*session_db"):
        SqliteSessions(tmp_path / "no" / "such" / "s.sqlite", ttl_s=60)


def test_a_locked_file_costs_the_conversation_not_the_answer(tmp_path: Path, caplog) -> None:
    """Another process holding the write lock (a worker, a backup) made every answer an HTTP 500 after 5 s."""
    path = tmp_path / "s.sqlite"
    store = SqliteSessions(path, ttl_s=60)
    store.record("a", _turn(1))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="sesam.assistant"):
            store.record("b", _turn(2))  # waits a second for the lock, then gives up quietly
            store.record("c", _turn(3))
        assert time.monotonic() - started < 4
        assert store.history("a") == [_turn(1)], "reads go on beside another's write (write-ahead log)"
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert len([r for r in caplog.records if "failed" in r.getMessage()]) == 1, "logged once"
    assert store.history("a") == [_turn(1)] and not store.known("b")
