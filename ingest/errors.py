"""The error hierarchy shared by every sesam layer.

    SesamError                  anything sesam reports to a person
    ├── ConfigError             a setting is invalid or the config file cannot be read
    ├── IngestError             an ingest run cannot proceed at all
    │   └── DocumentError       one input file is unusable (skipped; the run goes on)
    ├── IndexError_             base of problems with an index on disk
    │   ├── IndexMissingError   no index where one was expected
    │   ├── IndexCorruptError   a file of the index fails its checksum or cannot be read
    │   └── IndexMismatchError  the index was built with another embedder
    ├── EmbedderError           an embedding backend cannot be loaded or fails
    ├── QueryError              a question or filter is invalid
    └── GenerationError         the optional LLM endpoint failed (callers fall back)

Messages are full sentences that tell the reader what to do next.
Library errors are wrapped at the boundary with ``raise ... from exc``.
"""

from __future__ import annotations


class SesamError(Exception):
    """Base class of every error sesam reports to a person."""


class ConfigError(SesamError):
    """A setting is invalid or the configuration file cannot be read."""


class IngestError(SesamError):
    """An ingest run cannot proceed at all."""


class DocumentError(IngestError):
    """One input file is unusable; the run skips it and reports ``reason``."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class IndexError_(SesamError):  # noqa: N801 - avoid shadowing the builtin IndexError
    """Base class of problems with an index on disk."""


class IndexMissingError(IndexError_):
    """No index exists where one was expected."""


class IndexCorruptError(IndexError_):
    """A file of the index fails its checksum or cannot be read."""


class IndexMismatchError(IndexError_):
    """The index was built with a different embedder than the one requested."""


class EmbedderError(SesamError):
    """An embedding backend cannot be loaded or fails."""


class QueryError(SesamError):
    """A question or filter is invalid."""


class GenerationError(SesamError):
    """The optional LLM endpoint failed; callers fall back to extractive answers."""
