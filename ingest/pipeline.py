"""Incremental, crash-safe ingest: a new index version is built beside the served one and switched to atomically.

Unchanged documents (same SHA-256, same embedder and chunking) are copied from the served version
without re-embedding, also when their file was renamed or moved (copied under the new id), when a new file is a
copy of an indexed one (its rows copied under the new id too), or when their metadata in
sources.toml changed (the copied row is updated; docs/ingest.md, *What a run costs*); new and changed ones are
loaded, chunked and embedded; documents whose files
lay under an ingested folder and are no longer found there are left out, i.e. removed; documents elsewhere are kept
(a run on corpus/sub mirrors corpus/sub only; when only files are given, nothing is removed).
``CURRENT`` is replaced with an atomic rename only after the new version is complete and fsynced, so a run
that dies at any moment leaves the previous version served and intact.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import IngestError, SesamError
from ingest.failures import FailureMemory
from ingest.failures import key as failure_key
from ingest.manifest import damaged_copy_source, read_manifest
from ingest.plan import DROPPED, KEPT, Plan, check_empty, check_paths, check_removal, plan_ingest
from ingest.settings import Settings, ingest_command
from ingest.sources import doc_id_for
from ingest.store import CURRENT

log = logging.getLogger("sesam.ingest")
KEEP_VERSIONS = 3  # the served version and the two before it
# What a client of the service is told when the lock is taken (an admin re-ingest that started just as a `sesam
# ingest` took it): the generic "could not run" sentence left the client guessing.
ANOTHER_INGEST = ("Another ingest (one started outside this server, `sesam ingest`) is running on the index; "
                  "nothing was changed. Re-ingest again when it has finished.")


@dataclass(frozen=True)
class IngestReport:
    """What one run did. ``version`` is None when nothing changed and no version was written; ``served_version`` is
    the version served after the run either way: the new one, or the one that stays served."""

    ingested: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()  # a document whose file failed and whose indexed version is kept is in
    # ``failed`` only (its reason says it is kept), not here
    removed: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()
    version: str | None = None
    skipped: tuple[tuple[str, str], ...] = ()  # files of a type sesam does not read: reported, not failed
    warnings: tuple[str, ...] = ()  # said after the summary: given paths outside the corpus folder (see
    # ``Plan.warnings``), a damaged served version that was not reused, a text read as Windows-1252
    files_only: bool = False  # the sources were files: other indexed documents were kept, none removed
    counts: dict = field(default_factory=dict, compare=False, hash=False)
    embedded_chunks: int = 0
    timings_s: dict = field(default_factory=dict, compare=False, hash=False)
    served_version: str | None = None
    renamed: tuple[tuple[str, str], ...] = ()  # (old id, new id): files renamed or moved, same bytes, not embedded
    # (the new id is listed in ``unchanged``; the old one is gone from the index but not ``removed``, or holds
    # other bytes now: files that swapped names)
    copied: tuple[tuple[str, str], ...] = ()  # (indexed id, new id): new files with the bytes of an indexed
    # document that stays, its rows copied, not embedded (the new id is listed in ``unchanged``)
    updated: tuple[str, ...] = ()  # unchanged documents whose metadata (sources.toml, file name) was stored anew,
    # not embedded (also in ``unchanged``); ``counts`` has "renamed", "copied" and "metadata_updated", the number
    # of each


class _Lock:
    """An exclusive ``flock`` on ``<index>/ingest.lock``; released by the kernel if the process dies.

    Remembers what it created (the index folder and its missing parents, or only the lock file), so that a run
    that is refused or fails can leave no trace: :meth:`release` with ``undo`` removes exactly that."""

    def __init__(self, index_dir: Path) -> None:
        self._index_dir = index_dir
        self._path = index_dir / "ingest.lock"
        self._created_dirs = _missing_dirs(index_dir)  # deepest first
        while True:
            self._created_lock = not self._path.exists()
            try:
                index_dir.mkdir(parents=True, exist_ok=True)
                self._fh = self._path.open("a")
            except OSError as exc:
                self._remove_created_dirs()
                raise IngestError(f"Cannot write to the index folder {index_dir} ({exc.strerror or exc}); nothing "
                                  f"was changed. {_os_advice(exc, index_dir)}") from exc
            try:
                fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                self._fh.close()
                raise IngestError(f"Another `sesam ingest` is running on {index_dir}; wait for it to finish.",
                                  public=ANOTHER_INGEST) from exc
            if _same_file(self._fh, self._path):
                return
            self._fh.close()  # a run that held it removed it (undo) before we locked it: lock the new one

    def release(self, undo: bool = False) -> None:
        """Unlock; with ``undo`` (a refused or failed run) first remove what this run created, while still
        holding the lock: the index folder it made (unless a version was switched to before the failure), else
        the lock file it made; never anything else."""
        if undo:
            if self._created_dirs:
                if not (self._index_dir / CURRENT).exists():
                    shutil.rmtree(self._index_dir, ignore_errors=True)
                    self._remove_created_dirs()
            elif self._created_lock:
                self._path.unlink(missing_ok=True)
        fcntl.flock(self._fh, fcntl.LOCK_UN)
        self._fh.close()

    def _remove_created_dirs(self) -> None:
        for folder in self._created_dirs:
            try:
                folder.rmdir()  # only if empty: never what another process put there meanwhile
            except FileNotFoundError:
                continue
            except OSError:
                return


def _missing_dirs(folder: Path) -> list[Path]:
    """``folder`` and those of its parents that do not exist, deepest first."""
    missing = []
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    return missing


def _same_file(fh, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fh.fileno()), os.stat(path))
    except OSError:
        return False


def ingest_running(index_dir: Path) -> bool:
    """Whether a `sesam ingest` holds ``<index>/ingest.lock`` now (probed with a shared lock, dropped at once)."""
    try:
        fh = (index_dir / "ingest.lock").open("r")
    except OSError:  # no lock file: no ingest ever ran here
        return False
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
    return False


def run_ingest(settings: Settings, paths: Sequence[Path] | None = None, *, rebuild: bool = False,
               progress: bool | str = True, allow_removal: bool = False) -> IngestReport:
    """Bring the index at ``settings.index_dir`` in line with the files under ``paths`` (default: the corpus).

    A run that would remove many indexed documents (see :func:`check_removal`) raises :class:`IngestError`
    and changes nothing unless ``allow_removal`` is true; a given path that does not exist raises
    :class:`IngestError` before anything is done, whatever ``allow_removal`` says. ``progress``: True or
    ``"bar"`` for the bar on stderr, ``"lines"`` for a plain line per document (see :mod:`ingest.progress`)."""
    started = time.perf_counter()
    check_paths(paths)  # before the lock: a mistyped path writes nothing, not even the index folder
    lock = _Lock(settings.index_dir)
    ok = False
    try:
        remove_stale_tmp(settings.index_dir)  # every run, also one that changes nothing: we hold the lock
        plan = plan_ingest(settings, paths, rebuild)
        if not allow_removal:
            check_removal(plan, settings)
        memory = FailureMemory(settings.index_dir, settings, recall=not rebuild)  # --rebuild loads every file
        if plan.served is not None and not plan.rewrites and _only_known_failures(plan, memory):
            failed = plan.failed + _known_failures(plan, memory)
            _remember(memory, plan, whole=not paths)
            ok = True
            return IngestReport(unchanged=_not_failed(plan.unchanged, failed, plan.root), failed=failed,
                                version=None, served_version=plan.served.name, files_only=plan.files_only,
                                skipped=plan.skipped, warnings=plan.warnings, counts=_counts(plan.served_manifest, plan),
                                timings_s={"total": time.perf_counter() - started})
        t0 = time.perf_counter()
        plan = _distrust_damaged(settings, paths, rebuild, plan)
        if plan.damaged and not allow_removal:
            check_removal(plan, settings)
        report = _build(settings, plan, progress, started, allow_removal, verify_s=time.perf_counter() - t0,
                        memory=memory)
        _remember(memory, plan, whole=not paths)
        ok = True
        return report
    finally:  # a refused, failed or interrupted run leaves no trace; a first index always has CURRENT
        lock.release(undo=not ok or not (settings.index_dir / CURRENT).exists())


def _remember(memory: FailureMemory, plan: Plan, whole: bool) -> None:
    """Save this run's failures; a run over part of the corpus keeps those of the files it did not see."""
    memory.save({failure_key(path, sha) for path, sha in plan.files.values()}, whole=whole)


def _only_known_failures(plan: Plan, memory: FailureMemory) -> bool:
    """Whether every file this run would load failed so before (same bytes, same settings), and each one indexed
    keeps its indexed version: then nothing changed, and the run reports those failures without loading them (a
    failing scan was OCR'd again by each run that changed nothing)."""
    return all(failure_key(*plan.files[d]) in memory.known and (d not in plan.indexed or d in plan.reusable)
               for d in plan.to_load)


def _known_failures(plan: Plan, memory: FailureMemory) -> tuple[tuple[str, str], ...]:
    """The failures of ``plan.to_load`` as loading them would report them: the remembered reason, and for an
    indexed document that its indexed version is kept (as the builder says of it)."""
    return tuple((str(plan.files[d][0]), memory.reason(failure_key(*plan.files[d]))
                  + (f"; {KEPT}" if d in plan.indexed else "")) for d in plan.to_load)


def _distrust_damaged(settings: Settings, paths: Sequence[Path] | None, rebuild: bool, plan: Plan) -> Plan:
    """Verify the checksums of the served files whose rows this run would copy; when one fails, plan again
    without reusing any of them, so every document is loaded and embedded instead of copied damaged."""
    if plan.current is None or not plan.reusable:
        return plan
    damaged = damaged_copy_source(plan.current, read_manifest(plan.current))
    if not damaged:
        return plan
    log.info("%s; no row of it is reused, every document is loaded and embedded again", damaged)
    return plan_ingest(settings, paths, rebuild, damaged=damaged)


def _build(settings: Settings, plan: Plan, progress: bool | str, started: float, allow_removal: bool,
           verify_s: float = 0.0, memory: FailureMemory | None = None) -> IngestReport:
    from ingest.builder import VersionBuilder

    index_dir = settings.index_dir
    version = _version_name()
    tmp = index_dir / f"tmp-{version}"
    try:
        builder = VersionBuilder(tmp, settings, plan, progress, memory)
        result = builder.build()
        if result.manifest is None:
            shutil.rmtree(tmp, ignore_errors=True)  # only broken new files: the served index stays as it is
            failed = plan.failed + result.failed
            return IngestReport(unchanged=_not_failed(plan.unchanged + result.kept, failed, plan.root), failed=failed,
                                version=None, served_version=plan.current.name if plan.current else None,
                                files_only=plan.files_only, skipped=plan.skipped,
                                warnings=plan.warnings + result.warnings, counts=_counts(plan.served_manifest, plan),
                                timings_s={"total": time.perf_counter() - started})
        if not allow_removal:
            check_empty(result, plan, index_dir)
        final = index_dir / "versions" / version
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
        _fsync_dir(final.parent)
        _switch(index_dir, version)
    except SesamError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    except (OSError, sqlite3.Error, RuntimeError) as exc:  # RuntimeError: FAISS could not write its file
        shutil.rmtree(tmp, ignore_errors=True)
        log.error("writing index version %s failed: %s", version, exc)
        raise _write_error(exc, index_dir, plan) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _collect_garbage(index_dir, keep=version, previous=plan.current.name if plan.current is not None else None)
    dropped = tuple(d for d in plan.to_load + plan.unchanged if d in plan.indexed and d not in result.ingested
                    and d not in result.kept and d not in result.unchanged)
    plan_failed = plan.failed
    if set(plan.unchanged) - set(result.unchanged):  # a rebuild with another embedder identity could not keep them
        lost = set(plan.unchanged) - set(result.unchanged)
        plan_failed = tuple((p, r.replace(KEPT, DROPPED) if doc_id_for(Path(p), plan.root) in lost else r)
                            for p, r in plan_failed)
    damaged = (f"{plan.damaged}: the served version was not reused, its {len(plan.indexed)} documents were loaded "
               "and embedded again",) if plan.damaged else ()
    reused_to = tuple(new for _, new in plan.renamed + plan.copied)
    failed = plan_failed + result.failed
    return IngestReport(
        ingested=result.ingested, unchanged=_not_failed(result.unchanged + reused_to + result.kept, failed, plan.root),
        removed=plan.removed + dropped, failed=failed, version=version, served_version=version,
        renamed=plan.renamed, copied=plan.copied, updated=tuple(plan.updates),
        counts=_counts(result.manifest, plan),
        embedded_chunks=builder.embedded_chunks, files_only=plan.files_only,
        skipped=plan.skipped, warnings=plan.warnings + result.warnings + damaged,
        timings_s={**builder.timings, "verify": verify_s, "total": time.perf_counter() - started},
    )


def _counts(manifest: dict, plan: Plan) -> dict:
    """The report's counts: the served version's, with "renamed", "copied" and "metadata_updated" on every run (0
    when nothing was written), so a script reading them never meets a report without them."""
    return {**manifest["counts"], "renamed": len(plan.renamed), "copied": len(plan.copied),
            "metadata_updated": len(plan.updates)}


def _not_failed(unchanged: tuple[str, ...], failed: tuple[tuple[str, str], ...], root: Path) -> tuple[str, ...]:
    """``unchanged`` without the documents whose file failed and whose indexed version is kept: such a document is
    reported once, as failed (its reason says that the indexed version is kept), so the counts of a run add up to
    the files it saw."""
    kept = {doc_id_for(Path(p), root) for p, r in failed if r.endswith(KEPT)}
    return tuple(d for d in unchanged if d not in kept)


def _os_advice(exc: OSError, index_dir: Path, corpus_dir: Path | None = None) -> str:
    if exc.errno == errno.EROFS:
        return "The file system is read-only; choose an index folder on a writable one (--index, SESAM_INDEX_DIR)."
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "Give this user write permission on the folder, or choose another one (--index, SESAM_INDEX_DIR)."
    return f"Check the folder and run {ingest_command(index_dir, corpus_dir=corpus_dir)} again."


def _write_error(exc: BaseException, index_dir: Path, plan: Plan) -> IngestError:
    """A sentence for a failed write: what, where, how much space is needed, and that nothing changed."""
    free = shutil.disk_usage(index_dir).free if index_dir.exists() else 0
    full = (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)) or "full" in str(exc).lower()
    if full:
        detail = exc.strerror if isinstance(exc, OSError) and exc.filename else ""
        served = sum(p.stat().st_size for p in plan.served.rglob("*") if p.is_file()) if plan.served else 0
        need = f" ({detail})" if detail else f"; a new version needs about {max(served, 1 << 20) / 2**20:.1f} MB"
        return IngestError(f"No space left on the device of {index_dir} while writing the new index version"
                           f"{need}; {free / 2**20:.1f} MB are free. The previous index is untouched and still "
                           f"served; free some disk space and run {ingest_command(index_dir, corpus_dir=plan.root)} again.",
                           public="No space left on the device of the index while writing the new index version; "
                                  "the previous index is untouched and still served. Free some disk space and "
                                  "re-ingest.")
    if isinstance(exc, OSError):
        where = exc.filename or index_dir
        return IngestError(f"Writing the new index version to {where} failed ({exc.strerror or exc}); the previous "
                           f"index is untouched. {_os_advice(exc, index_dir, plan.root)}")
    return IngestError(f"Writing the new index version in {index_dir} failed ({str(exc).splitlines()[0]}); the "
                       f"previous index is untouched. Check the disk and run "
                       f"{ingest_command(index_dir, corpus_dir=plan.root)} again.")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _switch(index_dir: Path, version: str) -> None:
    """Point CURRENT at ``version`` atomically: write a temporary file, fsync, rename over, fsync the folder."""
    tmp = index_dir / f"{CURRENT}.tmp"
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(version + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)


def stale_tmp(index_dir: Path) -> list[Path]:
    """Versions under construction left by a run that died (or, without the lock, by one still running)."""
    return sorted(p for p in index_dir.glob("tmp-*") if p.is_dir())


def remove_stale_tmp(index_dir: Path) -> None:
    """Remove the ``tmp-*`` folders of runs that died; call only while holding the ingest lock."""
    for stale in stale_tmp(index_dir):
        shutil.rmtree(stale, ignore_errors=True)


def _version_name() -> str:
    """The name of a new version, ``v<UTC date>T<time>.<microseconds>-<random hex>``: names sort in the order the
    versions were made, also for runs within one second (a metadata-only run takes 0.02 s). Before, the time had
    whole seconds only and the random part ordered such runs by chance, so the clean-up kept the wrong versions.
    A name of that older form sorts before every newer name of its second ("-" comes before ".")."""
    now = time.time_ns()
    return (time.strftime("v%Y%m%dT%H%M%S", time.gmtime(now // 10**9)) + f".{now // 1000 % 10**6:06d}-"
            + uuid.uuid4().hex[:6])


def _age(version: Path) -> tuple[str, int, str]:
    """A sort key, oldest first: the time in the name, then (for names of the older form, made within one second)
    when its manifest was written (written once, last; the folder's own time changes when SQLite opens a file)."""
    try:
        written = (version / "manifest.json").stat().st_mtime_ns
    except OSError:
        written = 0
    return version.name.split("-", 1)[0], written, version.name


def _collect_garbage(index_dir: Path, keep: str, previous: str | None = None) -> None:
    """Delete old versions: the one served now (``keep``), the one served before it (``previous``, which a manual
    rollback points ``CURRENT`` at) and the newest others up to ``KEEP_VERSIONS`` in all stay."""
    versions = sorted((p for p in (index_dir / "versions").iterdir() if p.is_dir()), key=_age)
    stay = {keep, previous} - {None}
    others = [p for p in versions if p.name not in stay]
    for old in others[:max(0, len(others) - (KEEP_VERSIONS - len(stay)))]:
        shutil.rmtree(old, ignore_errors=True)

