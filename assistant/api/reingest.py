"""The admin re-ingest job: runs in a background thread while the service answers from the old index."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from ingest.errors import SesamError
from ingest.safetext import printable
from ingest.settings import Settings

log = logging.getLogger("sesam.http")


def _files(pairs) -> list[dict]:
    """(path, reason) pairs as the report shows them: the file's name only, no server path."""
    return [{"path": os.path.basename(p), "reason": r} for p, r in pairs]


def _warnings(warnings, settings: Settings) -> list[str]:
    """The run's warnings as the report shows them: a path under the corpus or index folder is named from there
    (``sources.toml: ['x.pdf'] language = …``), so no server folder reaches the client."""
    folders = {str(d) for folder in (settings.corpus_dir, settings.index_dir) for d in (folder, folder.resolve())}
    shown = []
    for warning in warnings:
        for folder in sorted(folders, key=len, reverse=True):
            warning = warning.replace(folder + os.sep, "")
        shown.append(printable(warning))
    return shown


class ReingestJob:
    """At most one run at a time; ``on_done`` swaps the served index when the run produced a new version."""

    def __init__(self, settings: Settings, on_done: Callable[[], None]) -> None:
        self.settings = settings
        self.on_done = on_done
        self._lock = threading.Lock()
        self.state = "idle"
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.report: dict | None = None
        self.error: str | None = None
        self._thread: threading.Thread | None = None

    def start(self, allow_removal: bool = False) -> bool:
        """Start a run; False if one is already running. ``allow_removal``: as `sesam ingest --allow-removal`."""
        with self._lock:
            if self.state == "running":
                return False
            self.state, self.started_at, self.finished_at = "running", time.time(), None
            self.report = self.error = None
            self._thread = threading.Thread(target=self._run, args=(allow_removal,), name="sesam-reingest",
                                            daemon=True)
            self._thread.start()
            return True

    def _run(self, allow_removal: bool) -> None:
        from ingest.pipeline import run_ingest

        try:
            os.nice(5)  # the run yields the CPU to requests; niceness is per thread on Linux
        except OSError:
            pass
        try:
            report = run_ingest(self.settings, progress=False, allow_removal=allow_removal)
            self.report = {"version": report.served_version, "new_version": report.version is not None,
                           "ingested": list(report.ingested),
                           "unchanged": list(report.unchanged), "removed": list(report.removed),
                           "failed": _files(report.failed), "skipped": _files(report.skipped),
                           "warnings": _warnings(report.warnings, self.settings), "counts": report.counts}
            log.info("re-ingest finished: %s", f"new version {report.version}" if report.version else "nothing changed",
                     extra={"fields": {"ingested": len(report.ingested), "removed": len(report.removed),
                                       "failed": len(report.failed)}})
            self.on_done()
            self.state = "succeeded"
        except SesamError as exc:
            log.error("re-ingest failed: %s", exc, exc_info=exc)
            self.error, self.state = exc.public, "failed"
        except Exception as exc:  # noqa: BLE001 - reported, never raised into the server
            log.error("re-ingest failed unexpectedly: %s", exc, exc_info=exc)
            self.error, self.state = "The re-ingest failed unexpectedly; see the server log.", "failed"
        finally:
            self.finished_at = time.time()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def status(self) -> dict:
        return {"state": self.state, "started_at": self.started_at, "finished_at": self.finished_at,
                "report": self.report, "error": self.error}
