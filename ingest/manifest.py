"""``manifest.json`` of an index version: what it holds, how it was built, and checksums to verify it."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

from ingest.errors import IndexCorruptError
from ingest.latent import LATENT_FILES
from ingest.postings import FILES as LEXICON_FILES
from ingest.settings import ingest_command
from ingest.sources import file_sha256 as sha256_file

FORMAT_VERSION = 4  # 2: term_df and stats; 3: scored posting lists (*.npy), chunk lengths; 4: window vectors
READABLE_FORMATS = (2, 3, 4)  # format 2 is served with whole posting lists, formats 2-3 without windows
MANIFEST = "manifest.json"
DATA_FILES = ("meta.sqlite", "embeddings.npy", "vectors.faiss", "windows.npy", "windows.faiss", *LEXICON_FILES)
COPIED_FILES = ("meta.sqlite", "embeddings.npy", "windows.npy", *LATENT_FILES)  # what a re-ingest copies rows from


def recover(index_dir: Path, corpus_dir: str | None = None) -> str:
    """The end of a message about a damaged index: the rebuild command for ``index_dir`` (with ``--index`` unless
    it is the default folder, so the advice rebuilds the index that is damaged, and with the ``corpus_dir`` it was
    built from when that is known). Operator messages only: the public message of :class:`IndexCorruptError` never
    names a folder."""
    return f"run {ingest_command(index_dir, '--rebuild', corpus_dir=corpus_dir)} to build a fresh index"


def unreadable(path: Path, exc: OSError, index_dir: Path) -> str:
    """A sentence for an index file or folder that cannot be read: a permission problem is fixed with chmod or
    chown, not by rebuilding the index; anything else ends with :func:`recover`."""
    why = exc.strerror or exc.__class__.__name__
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (f"{path} cannot be read ({why}); check that this user may read the index folder {index_dir} "
                "(its owner and permissions).")
    return f"{path} cannot be read ({why}); {recover(index_dir)}."


def cannot_read(path: Path, why: object, version_dir: Path) -> str:
    """A sentence for a data file of ``version_dir`` that failed to load for ``why`` (an exception or its text):
    when this user may not open it, the permission sentence of :func:`unreadable` (SQLite and FAISS say only
    "unable to open"), else "cannot be read" and the rebuild command."""
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        return unreadable(path, exc, version_dir.parent.parent)
    return f"{path} cannot be read ({why}); {recover_version(version_dir)}."


def built_from(manifest: dict) -> str | None:
    """The corpus folder the version was built from (absolute), or None for an index older than that record."""
    folder = manifest.get("corpus_dir")
    return folder if isinstance(folder, str) and folder else None


def corpus_path(folder: Path) -> str:
    """How a corpus folder is recorded: absolute, symbolic links kept ("corpus" pointing at releases/r2 is still
    "corpus" when the link is moved to a new release)."""
    return os.path.abspath(folder)


def same_folder(recorded: str, folder: Path) -> bool:
    """Whether ``folder`` is the recorded corpus folder: the same absolute path, or the same folder behind links."""
    try:
        return recorded == corpus_path(folder) or Path(recorded).resolve() == folder.resolve()
    except OSError:  # a link loop: not the same folder as far as anyone can tell
        return False


# what every reader of a manifest takes for granted: (key, the keys of its table)
REQUIRED = (("format_version", ()), ("created_at", ()), ("embedder", ("spec", "identity", "dim")),
            ("counts", ("documents", "pages", "chunks")), ("vector_index", ("kind",)))


def _missing(manifest: dict) -> str | None:
    """The first required entry ``manifest`` lacks ('embedder' or 'counts.chunks'), or None."""
    for key, inner in REQUIRED:
        if key not in manifest or (inner and not isinstance(manifest[key], dict)):
            return key
        for name in inner:
            if name not in manifest[key]:
                return f"{key}.{name}"
    return None


def recover_version(version_dir: Path) -> str:
    """:func:`recover` for the index folder that holds ``version_dir`` (``<index>/versions/<name>``), with the
    corpus folder its manifest records when the manifest still reads (a rebuild from ./corpus instead mirrored
    another folder)."""
    try:
        corpus = built_from(json.loads((version_dir / MANIFEST).read_text(encoding="utf-8")))
    except (OSError, ValueError, AttributeError):  # unreadable, not JSON, not a table
        corpus = None
    return recover(version_dir.parent.parent, corpus)


def file_entries(version_dir: Path) -> dict[str, dict]:
    """Checksums and sizes of the data files of a version (the latent files when it has them)."""
    names = DATA_FILES + tuple(name for name in LATENT_FILES if (version_dir / name).is_file())
    return {name: {"sha256": sha256_file(version_dir / name), "bytes": (version_dir / name).stat().st_size}
            for name in names}


def write_manifest(version_dir: Path, manifest: dict) -> None:
    """Write the manifest durably (it is the last file of a version to be written)."""
    path = version_dir / MANIFEST
    with path.open("w", encoding="utf-8") as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=2, sort_keys=True)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())


def read_manifest(version_dir: Path) -> dict:
    path = version_dir / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexCorruptError(f"The index version {version_dir} has no {MANIFEST}; "
                                f"{recover_version(version_dir)}.") from exc
    except OSError as exc:  # not readable by this user, or the version is a file
        raise IndexCorruptError(unreadable(path, exc, version_dir.parent.parent)) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(f"{path} is not valid JSON ({exc}); {recover_version(version_dir)}.") from exc
    if not isinstance(manifest, dict) or manifest.get("format_version") not in READABLE_FORMATS:
        found = manifest.get("format_version") if isinstance(manifest, dict) else None
        raise IndexCorruptError(
            f"{path} has index format {found!r}, this sesam reads format {FORMAT_VERSION}; "
            f"{recover_version(version_dir)}."
        )
    missing = _missing(manifest)
    if missing:
        raise IndexCorruptError(f"{path} lacks {missing!r} (damaged or edited by hand); "
                                f"{recover_version(version_dir)}.")
    return manifest


def check_files(version_dir: Path, manifest: dict, *, checksums: bool) -> None:
    """Raise :class:`IndexCorruptError` if a data file is missing, has the wrong size or checksum."""
    for name, expected in manifest.get("files", {}).items():
        path = version_dir / name
        if not path.is_file():
            raise IndexCorruptError(f"The index file {path} is missing; {recover_version(version_dir)}.")
        size = path.stat().st_size
        if size != expected.get("bytes"):
            raise IndexCorruptError(
                f"The index file {path} has {size} bytes, the manifest says {expected.get('bytes')} "
                f"(truncated or overwritten); {recover_version(version_dir)}."
            )
        if checksums and sha256_file(path) != expected.get("sha256"):
            raise IndexCorruptError(f"The index file {path} fails its checksum (corrupted); "
                                    f"{recover_version(version_dir)}.")


def damaged_copy_source(version_dir: Path, manifest: dict) -> str:
    """Why the rows of ``version_dir`` must not be copied into a new version: the first file a re-ingest copies
    from (:data:`COPIED_FILES`) that is missing or fails its size or checksum; "" when they all verify."""
    files = manifest.get("files", {})
    try:
        check_files(version_dir, {"files": {n: files[n] for n in COPIED_FILES if n in files}}, checksums=True)
    except IndexCorruptError as exc:
        return str(exc).split(";")[0]
    return ""
