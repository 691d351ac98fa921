"""Which indexed rows a run copies for files it would otherwise load: renames, copies, new metadata."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import IndexCorruptError
from ingest.manifest import recover_version
from ingest.safetext import one_line
from ingest.sources import SourceEntry, document_metadata, entry_for, relative_name
from ingest.types import DerivedMeta


def served_rows(served: Path, sql: str) -> list[tuple]:
    """The rows of ``sql`` in the served version's meta.sqlite."""
    try:
        db = sqlite3.connect(f"file:{served / 'meta.sqlite'}?mode=ro", uri=True)
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise IndexCorruptError(f"The served index {served} cannot be read ({exc}); "
                                f"{recover_version(served)}.") from exc


def _metadata_changed(served: Path, unchanged: Sequence[str], files: dict[str, tuple[Path, str]], root: Path,
                      entries: dict[str, SourceEntry]) -> set[str]:
    """Unchanged files indexed before ``derived_meta`` was recorded (so what their file says of itself is not known)
    whose entry in sources.toml now gives a title, publisher, language, date or url other than the indexed one:
    they are loaded again (an entry removed is not seen for them; `sesam ingest --rebuild` applies it)."""
    wanted = {}
    for doc_id in unchanged:
        if doc_id in files:
            entry = entry_for(entries, files[doc_id][0], root)
            if entry != SourceEntry():  # the file has an entry
                wanted[doc_id] = entry
    if not wanted:
        return set()
    changed = set()
    stored = served_rows(served, "SELECT doc_id, title, publisher, language, date, url FROM documents")
    for doc_id, *values in stored:
        entry = wanted.get(doc_id)
        if entry is None:
            continue
        given = (one_line(entry.title), one_line(entry.publisher), entry.language, one_line(entry.date),
                 one_line(entry.url, limit=1000))
        if any(g and g != v for g, v in zip(given, values, strict=True)):
            changed.add(doc_id)
    return changed


def _served_derived(served: Path) -> dict[str, DerivedMeta]:
    """doc_id -> what its file says of itself, as recorded in the served version (none before it was recorded)."""
    if not served_rows(served, "SELECT 1 FROM sqlite_master WHERE name = 'derived_meta'"):
        return {}
    return {d: DerivedMeta(*values) for d, *values in
            served_rows(served, "SELECT doc_id, title, publisher, language FROM derived_meta")}


def _type(path: str | Path) -> str:
    """A file's type as its name tells it (".htm" is ".html"): rows are reused only for a file of the same type."""
    suffix = Path(path).suffix.lower()
    return ".html" if suffix == ".htm" else suffix


def _renames(files: dict[str, tuple[Path, str]], old_docs: dict[str, str], candidates: Sequence[str],
             free: Sequence[str], types: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """(old id, new id) for each file to load whose bytes are those of an indexed document whose rows are ``free``
    (no file keeps them under their id: it is gone, a file renamed or moved within the corpus, or it holds other
    bytes now, files that swapped names): those rows are reused under the new id, which may be an indexed one whose
    own old rows go to another file. Paired in name order when several free documents had the same bytes."""
    by_sha: dict[tuple[str, str], list[str]] = {}
    for old in sorted(free):
        by_sha.setdefault((old_docs[old], types.get(old, "")), []).append(old)
    pairs = []
    for new in sorted(candidates):
        olds = by_sha.get((files[new][1], _type(files[new][0])))
        if olds:
            pairs.append((olds.pop(0), new))
    return tuple(pairs)


def _copies(files: dict[str, tuple[Path, str]], old_docs: dict[str, str], candidates: Sequence[str],
            sources: Sequence[str], types: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """(indexed id, new id) for each file to load, left over by :func:`_renames`, whose bytes are those of an
    indexed document among ``sources`` whose rows stay too (its file is unchanged, or was not given: `sesam ingest
    corpus/x.pdf`), or went to a renamed file: a copy of that file. The rows are copied under the new id as well,
    from the served version; the source is the first such document in name order."""
    by_sha: dict[tuple[str, str], str] = {}
    for old in sorted(sources, reverse=True):
        by_sha[(old_docs[old], types.get(old, ""))] = old
    keys = {new: (files[new][1], _type(files[new][0])) for new in candidates}
    return tuple((by_sha[keys[new]], new) for new in sorted(candidates) if keys[new] in by_sha
                 and by_sha[keys[new]] != new)


def _metadata_updates(served: Path, docs: dict[str, str], files: dict[str, tuple[Path, str]], root: Path,
                      entries: dict[str, SourceEntry], derived: dict[str, DerivedMeta]) -> dict[str, tuple[str, ...]]:
    """new id -> the path and metadata to store for each of ``docs`` (new id -> the indexed id whose rows are
    copied) whose stored values differ from what sources.toml and the file now give: an entry changed, added or
    removed (the file's own title, author and detected language come back), or a new file name."""
    stored = {d: tuple(values) for d, *values in
              served_rows(served, "SELECT doc_id, path, title, publisher, language, date, url FROM documents")}
    updates = {}
    for new, old in docs.items():
        path = files[new][0]
        wanted = (one_line(relative_name(path, root), limit=1000),
                  *document_metadata(entry_for(entries, path, root), path, derived[old]))
        if wanted != stored.get(old):
            updates[new] = wanted
    return updates


@dataclass(frozen=True)
class Reuse:
    """What :func:`reuse_rows` found: the documents still unchanged, and the rows copied under other ids."""

    unchanged: tuple[str, ...]
    renamed: tuple[tuple[str, str], ...] = ()  # (old id, new id): see ``Plan.renamed``
    copied: tuple[tuple[str, str], ...] = ()  # (indexed id, new id): see ``Plan.copied``
    updates: dict[str, tuple[str, ...]] = field(default_factory=dict)  # see ``Plan.updates``


def reuse_rows(served: Path, indexed: Sequence[str], unchanged: tuple[str, ...], old_docs: dict[str, str],
               files: dict[str, tuple[Path, str]], root: Path, entries: dict[str, SourceEntry]) -> Reuse:
    """The files to load whose bytes are those of an indexed document (renamed, moved, swapped or copied files:
    its rows are copied under their id), and the metadata to store over copied rows. ``old_docs``: the served
    documents whose rows may be reused (id -> sha256); ``unchanged``: those whose rows stay under their id."""
    derived = _served_derived(served)
    # rows no document keeps (not unchanged, not kept): its file is gone or holds other bytes now
    free = [d for d in indexed if d not in unchanged and d in old_docs and d in derived]
    candidates = [d for d in files if d not in unchanged]
    # the same bytes under another type ("rapport.html" renamed "rapport.pdf") are another document: a PDF that
    # starts like HTML fails to load, and served as the old one it was cited under the new name
    types = {doc_id: _type(path) for doc_id, path in served_rows(served, "SELECT doc_id, path FROM documents")}
    renamed = _renames(files, old_docs, candidates, free, types)
    moved_to = {new for _, new in renamed}
    copied = _copies(files, old_docs, [d for d in candidates if d not in moved_to],
                     [d for d in indexed if d in old_docs and d in derived], types)
    same = {d: d for d in unchanged if d in files and d in derived}
    retitled = _metadata_changed(served, [d for d in unchanged if d not in same], files, root, entries)
    reused = {**same, **{new: old for old, new in renamed + copied}}
    return Reuse(tuple(d for d in unchanged if d not in retitled), renamed, copied,
                 _metadata_updates(served, reused, files, root, entries, derived))
