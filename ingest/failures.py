"""Files that failed to load, remembered between runs in ``<index>/failures.json`` beside ``CURRENT``.

Failed files are never indexed, so every run found them "to load" again: a run with nothing changed loaded (and
OCR'd) each file that keeps failing, every time. A failure is remembered by the SHA-256 of the bytes that failed,
under the settings and the program that decide whether they load (the limits, OCR on and installed, the sesam
version); while both are the same, the next run reports the same failure without loading the file. Changed bytes,
changed settings or ``--rebuild`` load it again. Failures that depend on the moment, not on the bytes (the time
budget, an OCR page that timed out, a file that could not be read) are not remembered.
"""

from __future__ import annotations

import json
import logging
import os
from importlib import metadata
from pathlib import Path

from ingest.settings import Settings

log = logging.getLogger("sesam.ingest")
FILE = "failures.json"
# The settings that decide whether the same bytes load: a new value may make a failing file load.
LOAD_SETTINGS = ("max_pdf_pages", "max_page_chars", "max_file_bytes", "max_decompressed_bytes", "max_text_pages",
                 "ocr", "ocr_languages", "ocr_dpi", "ocr_min_chars")


def signature(settings: Settings) -> dict:
    """What a remembered failure holds for: the loading settings, what OCR lacks now (installing Tesseract or a
    language makes a scan readable), and the sesam version (a newer one may read the file)."""
    from ingest.ocr import ocr_missing

    values: dict = {name: getattr(settings, name) for name in LOAD_SETTINGS}
    values["ocr_missing"] = ocr_missing(settings.ocr_languages) if settings.ocr else ""
    try:
        values["sesam"] = metadata.version("sesam")
    except metadata.PackageNotFoundError:
        values["sesam"] = ""
    return values


def key(path: str | Path, sha256: str) -> str:
    """What a failure is remembered by: the bytes and the file's type, which its name tells. A lasting reason may
    depend on the name ("not a PDF: the file starts like HTML; rename it with its real extension"): renamed as
    advised, the same bytes must be loaded again."""
    return f"{sha256}:{Path(path).suffix.lower()}"


class FailureMemory:
    """The failures remembered for this run's settings (``known``: :func:`key` -> reason) and those this run had
    (``learned``), saved by :meth:`save` once the run succeeded. Use only while holding the ingest lock."""

    def __init__(self, index_dir: Path, settings: Settings, recall: bool = True) -> None:
        self.path = index_dir / FILE
        self.settings = settings
        self.known: dict[str, str] = self._read() if recall else {}
        self.learned: dict[str, str] = {}

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # none yet, or damaged: every file is loaded, as before
            return {}
        if not isinstance(data, dict) or data.get("signature") != signature(self.settings):
            return {}
        files = data.get("files")
        if not isinstance(files, dict):
            return {}
        return {sha: reason for sha, reason in files.items() if isinstance(sha, str) and isinstance(reason, str)}

    def reason(self, sha256: str) -> str | None:
        """The remembered reason why the bytes ``sha256`` fail to load, or None; a reason given is learned again,
        so it stays remembered."""
        reason = self.known.get(sha256)
        if reason is not None:
            self.learned[sha256] = reason
        return reason

    def learn(self, sha256: str, reason: str) -> None:
        self.learned[sha256] = reason

    def save(self, seen: set[str], whole: bool) -> None:
        """Write this run's failures; a run over part of the corpus (``whole`` false) also keeps the remembered
        failures of bytes it did not see (``seen``: the SHA-256 of its files). Atomic (a temporary file, fsync,
        rename), and only when the content changes; a failure to write is logged, never fails the run."""
        files = {} if whole else {sha: r for sha, r in self.known.items() if sha not in seen}
        files.update(self.learned)
        if files == self.known and (files or not self.path.exists()):
            return
        try:
            if not files:
                self.path.unlink(missing_ok=True)
                return
            tmp = self.path.with_name(FILE + ".tmp")
            with tmp.open("w", encoding="utf-8") as fh:
                json.dump({"signature": signature(self.settings), "files": dict(sorted(files.items()))}, fh,
                          ensure_ascii=False, indent=1)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("could not remember the failed files in %s (%s); the next run loads them again",
                        self.path, exc.strerror or exc)
