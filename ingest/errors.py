"""The error hierarchy shared by every sesam layer.

    SesamError                  anything sesam reports to a person
    ├── ConfigError             a setting is invalid or the config file cannot be read
    ├── IngestError             an ingest run cannot proceed at all
    │   ├── DocumentError       one input file is unusable (skipped; the run goes on)
    │   └── RemovalRefusedError the run would remove many or all indexed documents (nothing is changed)
    ├── IndexError_             base of problems with an index on disk
    │   ├── IndexMissingError   no index where one was expected
    │   ├── IndexCorruptError   a file of the index fails its checksum or cannot be read
    │   └── IndexMismatchError  the index was built with another embedder
    ├── EmbedderError           an embedding backend cannot be loaded or fails
    ├── QueryError              a question or filter is invalid
    └── GenerationError         the optional LLM endpoint failed (callers fall back)

Messages are full sentences that tell the reader what to do next.
Library errors are wrapped at the boundary with ``raise ... from exc``.

Every error has two messages. ``str(error)`` is the operator's: it may name files and folders, and goes to
the terminal and the server log. ``error.public`` is what a client of the HTTP service may see: by default a
fixed sentence of the error's class, so no path can reach a response body. ``error.code`` names the class in
a stable, machine-readable way. Only :class:`QueryError`, whose message is about the client's own question,
is public as it stands.
"""

from __future__ import annotations

from pathlib import PurePath


class SesamError(Exception):
    """Base class of every error sesam reports to a person."""

    code = "internal"
    public_message = "The request could not be completed; the operator can find the cause in the server log."

    def __init__(self, message: str, *, public: str | None = None) -> None:
        super().__init__(message)
        self.public = public or self.public_message


class ConfigError(SesamError):
    """A setting is invalid or the configuration file cannot be read."""

    code = "config"
    public_message = "The service is not configured correctly; the operator can find the cause in the server log."


class IngestError(SesamError):
    """An ingest run cannot proceed at all."""

    code = "ingest-failed"
    public_message = "The ingest could not run; the operator can find the cause in the server log."


class DocumentError(IngestError):
    """One input file is unusable; the run skips it and reports ``reason``."""

    code = "document"
    sha256 = ""  # the SHA-256 of the bytes that failed, when the file was read (set by the loader)
    lasting = True  # the same bytes fail so again under the same settings (not: the time budget, an OCR timeout)

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}", public=f"The file {PurePath(str(path)).name} could not be used.")
        self.path = path
        self.reason = reason


# What to do about a file that is not what its extension says, and about one with nothing to index: the end of
# its reason, the same for every type.
WRONG_TYPE_ACTION = "rename it with its real extension or remove it"
NO_TEXT_ACTION = "copy the file again if it was cut short, or remove it from the corpus folder"


class RemovalRefusedError(IngestError):
    """A run that would empty the index, or remove more of it than allowed, by mistake: refused before the
    served index is touched. ``failed`` holds the run's failures so far (path, reason), for the report."""

    code = "removal-refused"

    def __init__(self, message: str, *, public: str | None = None,
                 failed: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message, public=public)
        self.failed = failed


class IndexError_(SesamError):  # noqa: N801 - avoid shadowing the builtin IndexError
    """Base class of problems with an index on disk."""

    code = "index"
    public_message = "The index cannot be used right now; the operator can find the cause in the server log."


class IndexMissingError(IndexError_):
    """No index exists where one was expected."""

    code = "no-index"
    public_message = "No index is loaded yet; run `sesam ingest` first."


class IndexCorruptError(IndexError_):
    """A file of the index fails its checksum or cannot be read."""

    code = "index-corrupt"
    public_message = "The index is damaged; the operator should re-ingest or restore it from a backup."


class IndexMismatchError(IndexError_):
    """The index was built with a different embedder than the one requested."""

    code = "index-mismatch"
    public_message = "The index was built with another embedder than the one configured; the operator must re-ingest."


class EmbedderError(SesamError):
    """An embedding backend cannot be loaded or fails."""

    code = "embedder"
    public_message = "The embedding model cannot be used; the operator can find the cause in the server log."


class QueryError(SesamError):
    """A question or filter is invalid; the message is about the client's input, so it is public."""

    code = "invalid-query"

    def __init__(self, message: str, *, public: str | None = None) -> None:
        super().__init__(message, public=public or message)


class GenerationError(SesamError):
    """The optional LLM endpoint failed; callers fall back to extractive answers."""

    code = "generation"
    public_message = "The language model could not answer; the operator can find the cause in the server log."
