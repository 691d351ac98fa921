"""Which files are documents, their stable ids and hashes, and their metadata from ``corpus/sources.toml``."""

from __future__ import annotations

import hashlib
import re
import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import ConfigError, DocumentError

SUPPORTED_SUFFIXES = (".pdf", ".txt", ".md", ".docx", ".html", ".htm")
NOT_DOCUMENTS = {"sources.toml", "glossary.toml", "readme.md"}


@dataclass(frozen=True)
class SourceEntry:
    """Metadata a maintainer wrote for one file; empty strings when unknown."""

    title: str = ""
    publisher: str = ""
    language: str = ""
    date: str = ""
    url: str = ""


def load_sources(path: Path) -> dict[str, SourceEntry]:
    """Read ``sources.toml``: one ``[["file name"]]`` table per document. A missing file means no entries."""
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"The metadata file {path} is not valid TOML ({exc}); fix it and run again.") from exc
    entries: dict[str, SourceEntry] = {}
    fields = set(SourceEntry.__dataclass_fields__)
    for name, table in data.items():
        if not isinstance(table, dict):
            raise ConfigError(f"In {path}, [{name!r}] must be a table of title, publisher, language, date, url.")
        unknown = set(table) - fields
        if unknown:
            raise ConfigError(f"In {path}, [{name!r}] has unknown keys {sorted(unknown)}; allowed: {sorted(fields)}.")
        entries[name] = SourceEntry(**{k: str(v) for k, v in table.items()})
    return entries


def _is_inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def _accept(path: Path, root: Path, explicit: bool, files: list[Path], errors: list[DocumentError]) -> None:
    if path.is_symlink() and not _is_inside(path, root):
        errors.append(DocumentError(str(path), "symbolic link points outside the corpus directory; not followed"))
        return
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        if explicit:
            errors.append(DocumentError(str(path), f"unsupported file type {path.suffix or '(none)'}; "
                                                   f"supported: {', '.join(SUPPORTED_SUFFIXES)}"))
        return
    files.append(path)


def discover(paths: Sequence[Path], root: Path) -> tuple[list[Path], list[DocumentError]]:
    """Expand ``paths`` to the document files under them (sorted), and the paths that cannot be used."""
    files: list[Path] = []
    errors: list[DocumentError] = []
    for given in paths:
        given = Path(given)
        if given.is_symlink() and not _is_inside(given, root):
            errors.append(DocumentError(str(given), "symbolic link points outside the corpus directory; not followed"))
        elif given.is_dir():
            for path in sorted(given.rglob("*")):
                rel_parts = path.relative_to(given).parts
                if any(part.startswith(".") for part in rel_parts) or path.name.lower() in NOT_DOCUMENTS:
                    continue
                if path.is_dir() and not path.is_symlink():
                    continue
                if path.is_symlink() and path.resolve().is_dir():
                    if not _is_inside(path, root):
                        errors.append(DocumentError(str(path), "symbolic link points outside the corpus directory; not followed"))
                    continue
                _accept(path, root, explicit=False, files=files, errors=errors)
        elif given.exists():
            _accept(given, root, explicit=True, files=files, errors=errors)
        else:
            errors.append(DocumentError(str(given), "no such file or directory"))
    unique = list(dict.fromkeys(p.resolve() if not p.is_symlink() else p for p in files))
    return unique, errors


def relative_name(path: Path, root: Path) -> str:
    """The path shown in citations: relative to the corpus root when inside it, else the file name."""
    try:
        return path.absolute().relative_to(root.absolute()).as_posix()
    except ValueError:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return path.name


def doc_id_for(path: Path, root: Path) -> str:
    """A stable, readable id: the relative path without suffix as an ASCII slug (``-md``/``-txt`` for text files).

    When slugifying loses information (case, non-ASCII letters, punctuation) a short hash of the
    relative path is appended, so two different files never share an id.
    """
    rel = relative_name(path, root)
    suffix = Path(rel).suffix.lower()
    stem = rel[: -len(suffix)] if suffix else rel
    ascii_text = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii").lower()
    base = re.sub(r"-*/-*", "/", re.sub(r"[^a-z0-9/]+", "-", ascii_text)).strip("-/") or "doc"
    slug = f"{base}-{suffix[1:]}" if suffix and suffix != ".pdf" else base
    if base != stem:
        slug = f"{slug}-{hashlib.sha1(rel.encode('utf-8')).hexdigest()[:6]}"
    return slug


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes, read in blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
