"""Holds the served Assistant: opens it when an index appears and swaps versions when CURRENT changes."""

from __future__ import annotations

import logging
import threading
import time

from assistant.engine import Assistant
from assistant.sessions import open_sessions
from ingest.errors import IndexMissingError, SesamError
from ingest.settings import Settings, ingest_command

log = logging.getLogger("sesam.http")


class AssistantHolder:
    """``get()`` is cheap; at most every ``check_every_s`` it looks at CURRENT and reloads if it changed. Once an
    assistant is served, that look and the reload run on a thread of their own: opening a new version takes seconds
    (its vector indexes, its embedder), which the request that noticed it paid before; requests go on being answered
    by the version served until the new one is ready.

    ``last_error`` is the public message of the last failure (safe in a response); the log has the full one.
    """

    def __init__(self, settings: Settings, assistant: Assistant | None = None, check_every_s: float = 2.0) -> None:
        self.settings = settings
        self.check_every_s = check_every_s
        self._assistant = assistant
        self._checked = time.monotonic() if assistant else 0.0
        self._lock = threading.Lock()
        self.last_error: str | None = None
        self.last_code = "no-index"  # the code of the last failure, for the 503 body
        self._logged: str | None = None  # the failure logged last: a broken file is logged once, not every check
        # the service's conversations: in memory, or in the file `session_db` names (its workers share it)
        self.sessions = assistant.sessions if assistant else open_sessions(settings.session_db, settings.session_ttl_s)

    def get(self) -> Assistant | None:
        now = time.monotonic()
        if now - self._checked >= self.check_every_s and self._lock.acquire(blocking=False):
            self._checked = now
            if self._assistant is None:  # nothing to answer with meanwhile: this request waits for the first open
                self._refresh_and_release()
            else:
                threading.Thread(target=self._refresh_and_release, name="sesam-reload", daemon=True).start()
        return self._assistant

    def _refresh_and_release(self) -> None:
        try:
            self.refresh()
        finally:
            self._lock.release()

    def settled(self, timeout: float = 60.0) -> bool:
        """Wait until no check or reload is running (False after ``timeout`` seconds); for tests and shutdown."""
        if not self._lock.acquire(timeout=timeout):
            return False
        self._lock.release()
        return True

    def refresh(self) -> bool:
        """Open or reload now; True when the served version changed."""
        index = str(self.settings.index_dir)
        try:
            if self._assistant is None:
                self._assistant = Assistant.open(self.settings, self.sessions)
                self.last_error = None
                log.info("serving index version %s", self._assistant.info()["version"],
                         extra={"fields": {"index": index}})
                return True
            changed = self._assistant.reload()  # logs "switched to index version …" itself
            self._logged = None
            return changed
        except IndexMissingError as exc:
            if self.last_error != exc.public:  # once, not at every check
                command = ingest_command(self.settings.index_dir, corpus_dir=self.settings.corpus_dir)
                log.warning("no index yet (%s); answering 503 until %s builds one", exc, command,
                            extra={"fields": {"index": index}})
            self.last_error, self.last_code = exc.public, exc.code
        except SesamError as exc:  # a broken new version or glossary: keep serving the old one
            self.last_error, self.last_code = exc.public, exc.code
            if str(exc) != self._logged:
                self._logged = str(exc)
                log.error("index not (re)loaded: %s", exc, exc_info=exc, extra={"fields": {"index": index}})
        return False

    def status(self) -> tuple[str, str | None]:
        assistant = self.get()
        if assistant is None:
            return "no-index", self.last_error or "No index is loaded yet; run `sesam ingest` first."
        return "ready", None
