"""Which files are documents, their stable ids and hashes, and their metadata from ``corpus/sources.toml``."""

from __future__ import annotations

import datetime
import errno
import hashlib
import os
import re
import stat
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import ConfigError, DocumentError
from ingest.language import LANGUAGES
from ingest.safetext import one_line, printable
from ingest.types import DerivedMeta

SUPPORTED_SUFFIXES = (".pdf", ".txt", ".md", ".docx", ".html", ".htm")
NOT_DOCUMENTS = {"sources.toml", "glossary.toml", "vocabulary.toml", "readme.md"}  # sesam's own files (settings),
# directly in the corpus folder only: corpus/policy/README.md is an ordinary document


@dataclass(frozen=True)
class SourceEntry:
    """Metadata a maintainer wrote for one file; empty strings when unknown."""

    title: str = ""
    publisher: str = ""
    language: str = ""
    date: str = ""
    url: str = ""


_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
# what a bad value of each documented key means: the value is ignored and the document ingested without it
_ALLOWED = {"title": "one line of text; the PDF's title or the file name is used instead",
            "publisher": "one line of text; the PDF's author is used instead",
            "language": " or ".join(f'"{code}"' for code in LANGUAGES) + "; the language is detected instead",
            "date": 'an ISO date or a year ("2021", "2021-03", "2021-03-15"); the document has no date instead',
            "url": 'an http:// or https:// address; the document has no url instead'}


def _valid_date(value: str) -> bool:
    if not _DATE.fullmatch(value):
        return False
    try:
        datetime.date.fromisoformat(value + "-01" * (2 - value.count("-")))
    except ValueError:
        return False
    return True


def _checked(key: str, value: object) -> str | None:
    """The value of ``key`` as stored, or None when it is not one of the allowed values. A title or publisher must
    be a TOML string: `publisher = 42` is more likely a slip than a publisher named "42", so it is reported
    like any other bad value instead of being stored as text."""
    if isinstance(value, bool | dict | list):
        return None
    if key in ("title", "publisher") and not isinstance(value, str):
        return None
    text = value.isoformat() if isinstance(value, datetime.date) else str(value).strip()
    if key == "language":
        return text.lower() if text.lower() in LANGUAGES else None
    if key == "date":
        return text if _valid_date(text) else None
    if key == "url":
        return text if re.match(r"https?://[^\s/]+", text, re.IGNORECASE) else None
    return text


def _as_written(value: object) -> str:
    """A TOML value as the maintainer wrote it, for a warning: a date or time in ISO form and a number as digits
    (Python's repr, ``datetime.datetime(2021, 2, 3, 10, 0)``, is not what the file says); a string keeps its
    quotes, so an empty or blank value is still visible."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, int | float):
        return str(value)
    return repr(value)


def check_sources(path: Path) -> tuple[dict[str, SourceEntry], tuple[str, ...]]:
    """Read ``sources.toml``: one ``[["file name"]]`` table per document. A missing file means no entries.
    A file that is not TOML, an entry that is not a table or a key that is not documented is an error (it
    stops the run: the file needs fixing); a documented key with a bad value is a warning (second item) naming
    the file, the entry, the key and the allowed values, and only that value is ignored."""
    if not path.is_file():
        return {}, ()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"The metadata file {path} is not valid TOML ({exc}); fix it and run again.") from exc
    entries: dict[str, SourceEntry] = {}
    warnings: list[str] = []
    fields = set(SourceEntry.__dataclass_fields__)
    for name, table in data.items():
        if not isinstance(table, dict):
            raise ConfigError(f"In {path}, [{name!r}] must be a table of title, publisher, language, date, url.")
        unknown = set(table) - fields
        if unknown:
            raise ConfigError(f"In {path}, [{name!r}] has unknown keys {sorted(unknown)}; allowed: {sorted(fields)}.")
        values = {}
        for key, value in table.items():
            checked = _checked(key, value)
            if checked is None:
                warnings.append(f"{path}: [{name!r}] {key} = {printable(_as_written(value))} is not valid; allowed: "
                                f"{_ALLOWED[key]}")
            else:
                values[key] = checked
        entries[_nfc(name)] = SourceEntry(**values)
    return entries, tuple(warnings)


def _nfc(name: str) -> str:
    """A file name as entries are matched: composed ("å" one character). A name copied from a Mac or out of a zip
    file is decomposed ("a" and a ring), so the entry typed for it never matched, without a word."""
    return unicodedata.normalize("NFC", name)


def entry_for(entries: Mapping[str, SourceEntry], path: Path, root: Path) -> SourceEntry:
    """The entry of sources.toml for ``path``: by its path relative to the corpus, else by its file name."""
    return entries.get(_nfc(relative_name(path, root))) or entries.get(_nfc(path.name)) or SourceEntry()


def unmatched_entries(path: Path, entries: Mapping[str, SourceEntry], found: Discovery,
                      root: Path) -> tuple[str, ...]:
    """A warning for each entry of ``sources.toml`` (at ``path``) that names no file ``found`` by a walk over the
    whole corpus folder: a misspelt or renamed file would otherwise lose its curated metadata without a word, while
    a misspelt key stops the run. Files that cannot be used (unsupported, broken links, ...) count as found: the
    entry is right, the file is reported on its own. When a folder could not be read (or the corpus folder is
    missing), its files are unknown, so nothing is said. Call it only after a walk of the whole corpus folder: a
    run given some files or a subfolder does not see the others."""
    if found.unreadable or found.missing:
        return ()
    seen = [Path(p) for p in found.files] + [Path(e.path) for e in found.errors + found.skipped]
    names = {_nfc(relative_name(p, root)) for p in seen} | {_nfc(p.name) for p in seen}
    return tuple(f"{path}: [{name!r}] names no file in the corpus folder; its metadata is used for "
                 "no document: correct the name (a file name, or a path relative to the corpus folder) or remove "
                 "the entry" for name in entries if name not in names)


def title_from_name(path: Path) -> str:
    """A title made of a file name: "rapport_2021-final.pdf" -> "Rapport 2021 final"."""
    stem = re.sub(r"[-_]+", " ", path.stem).strip()
    return stem[:1].upper() + stem[1:] if stem else path.name


def document_metadata(entry: SourceEntry, path: Path, derived: DerivedMeta) -> tuple[str, str, str, str, str]:
    """The title, publisher, language, date and url stored for a document: the entry's values, else what the file
    says of itself (``derived``; the title falls back to the file name), one line of printable text each."""
    return (one_line(entry.title) or derived.title or one_line(title_from_name(path)),
            one_line(entry.publisher) or derived.publisher, entry.language or derived.language,
            one_line(entry.date), one_line(entry.url, limit=1000))


def load_sources(path: Path) -> dict[str, SourceEntry]:
    """The entries of ``sources.toml`` (see :func:`check_sources`), bad values left out."""
    return check_sources(path)[0]


def _is_inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


SYMLINK_OUTSIDE = ("symbolic link points outside the corpus directory; not followed: copy the file into the "
                   "corpus folder to index it")


@dataclass
class Discovery:
    """What a walk over the given paths found: document files, unusable entries (each with its reason),
    folders that could not be read (their indexed documents are kept), given paths that do not exist, and
    files in a folder whose type sesam does not read (reported, but not failures)."""

    files: list[Path] = field(default_factory=list)
    errors: list[DocumentError] = field(default_factory=list)
    unreadable: list[Path] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)
    skipped: list[DocumentError] = field(default_factory=list)  # files of a type sesam does not read (not failures)


def _name_problem(name: str) -> str | None:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "the file name is not valid UTF-8; rename the file"
    return None


OWN_FILE = ("one of sesam's own files (sources.toml, glossary.toml, vocabulary.toml, README.md directly in the corpus "
            "folder), not a document: leave it out of the command, or move it into a subfolder to index it")
_KINDS = ((stat.S_ISFIFO, "a named pipe, FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"))


def _own_file(path: Path, root: Path) -> bool:
    """Whether ``path`` is one of sesam's own files (``NOT_DOCUMENTS``) directly in the corpus folder."""
    return path.name.lower() in NOT_DOCUMENTS and path.parent.resolve() == root.resolve()


def _not_regular(path: Path) -> str | None:
    """What ``path`` is when it is not a regular file (after following a symbolic link), without opening it."""
    mode = path.stat().st_mode
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return next((kind for test, kind in _KINDS if test(mode)), "not a file of data")


def _accept(path: Path, root: Path, explicit: bool, found: Discovery) -> None:
    if path.is_symlink():
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python < 3.13)
            loop = isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP
            found.errors.append(DocumentError(str(path), "symbolic link loop; not followed" if loop else
                                              "symbolic link points to nothing (its target is missing)"))
            return
        if not _is_inside(target, root):
            found.errors.append(DocumentError(str(path), SYMLINK_OUTSIDE))
            return
        if target.is_dir():
            return  # links to folders inside the corpus: the folder itself is walked
    if _own_file(path, root):
        if explicit:
            found.errors.append(DocumentError(str(path), OWN_FILE))
        return
    kind = _not_regular(path)
    if kind:  # a FIFO would block the ingest in open() for ever, holding the lock: never opened
        found.errors.append(DocumentError(str(path), f"not a regular file ({kind}); sesam reads only ordinary files "
                                                     "and did not open it: replace it with a copy of the document, "
                                                     "or remove it from the corpus folder"))
        return
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        if explicit:
            found.errors.append(DocumentError(str(path), f"unsupported file type {path.suffix or '(none)'}; "
                                                         f"supported: {', '.join(SUPPORTED_SUFFIXES)}; convert it "
                                                         "to one of them, or leave it out of the command"))
        else:
            kind = f"{path.suffix} files" if path.suffix else "files without an extension"
            found.skipped.append(DocumentError(str(path), f"not read: sesam does not read {kind}; convert it to "
                                                          "PDF, Word (.docx), HTML, TXT or MD, or move it out of "
                                                          "the corpus folder"))
        return
    found.files.append(path)


def _walk(folder: Path, root: Path, found: Discovery) -> None:
    """Every document under ``folder``; one bad entry is reported and skipped, the walk goes on."""
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        found.errors.append(DocumentError(str(folder), f"folder cannot be read ({exc.strerror or exc}); "
                                                       "its indexed documents are kept"))
        found.unreadable.append(folder)
        return
    for entry in entries:
        path = folder / entry.name
        if entry.name.startswith(".") or _own_file(path, root):
            continue
        problem = _name_problem(entry.name)
        if problem:
            found.errors.append(DocumentError(str(path), problem))
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                _walk(path, root, found)
            else:
                _accept(path, root, explicit=False, found=found)
        except OSError as exc:
            found.errors.append(DocumentError(str(path), f"cannot be read ({exc.strerror or exc})"))


def scan(paths: Sequence[Path], root: Path) -> Discovery:
    """Expand ``paths`` to the document files under them (sorted, no duplicates) and what cannot be used."""
    found = Discovery()
    for given in map(Path, paths):
        if _name_problem(str(given)):
            found.errors.append(DocumentError(str(given), "the path is not valid UTF-8; rename it"))
        elif given.is_symlink():
            _accept(given, root, explicit=True, found=found)
            if given.is_dir() and _is_inside(given, root):
                _walk(given, root, found)
        elif given.is_dir():
            _walk(given, root, found)
        elif given.exists():
            _accept(given, root, explicit=True, found=found)
        else:
            found.errors.append(DocumentError(str(given), "no such file or directory"))
            found.missing.append(given)
    found.files = list(dict.fromkeys(p if p.is_symlink() else p.resolve() for p in found.files))
    return found


def discover(paths: Sequence[Path], root: Path) -> tuple[list[Path], list[DocumentError]]:
    """The document files under ``paths`` and the entries that cannot be used (see :func:`scan`)."""
    found = scan(paths, root)
    return found.files, found.errors


def _inside_name(path: Path, root: Path) -> str | None:
    """The path relative to ``root`` (as given, else resolved), or None when it lies outside it."""
    try:
        return path.absolute().relative_to(root.absolute()).as_posix()
    except ValueError:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return None


def relative_name(path: Path, root: Path) -> str:
    """The path shown in citations: relative to the corpus root when inside it, else the file name (never a path
    of the machine that ran the ingest)."""
    rel = _inside_name(path, root)
    return path.name if rel is None else rel


OUTSIDE = "~outside/"  # the ids of files outside the corpus folder; a corpus file's id never holds a "~"
_TEXT_SUFFIXES = tuple(s[1:] for s in SUPPORTED_SUFFIXES if s != ".pdf")


def _digest(text: str, n: int) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest()[:n]


def doc_id_for(path: Path, root: Path) -> str:
    """A stable, readable id: the relative path without suffix as an ASCII slug (``-md``/``-txt`` for text files).

    When slugifying loses information (case, also of the extension, non-ASCII letters, punctuation, or a PDF's
    name ending like a text file's id, ``a-txt.pdf``) a short hash of the relative path is appended, so two
    different files never share an id. A file outside ``root`` (given from elsewhere) gets an id of its own
    namespace, ``~outside/<slug of its file name>-<hash of its resolved absolute path>``: never the id of a corpus
    file (those hold only a-z, 0-9, ``-`` and ``/``), different for files of the same name in different folders,
    and the same for the same file in every run.
    """
    inside = _inside_name(path, root)
    rel = path.name if inside is None else inside
    given_suffix = Path(rel).suffix
    suffix = given_suffix.lower()
    stem = rel[: -len(suffix)] if suffix else rel
    ascii_text = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii").lower()
    base = re.sub(r"-*/-*", "/", re.sub(r"[^a-z0-9/]+", "-", ascii_text)).strip("-/") or "doc"
    slug = f"{base}-{suffix[1:]}" if suffix and suffix != ".pdf" else base
    if inside is None:
        return f"{OUTSIDE}{base.replace('/', '-')}{slug[len(base):]}-{_digest(str(path.resolve()), 8)}"
    if base != stem or given_suffix != suffix or (suffix == ".pdf" and base.endswith(
            tuple(f"-{s}" for s in _TEXT_SUFFIXES))):
        slug = f"{slug}-{_digest(rel, 6)}"
    return slug


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes, read in blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
