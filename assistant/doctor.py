"""`sesam doctor`: checks that a deployment can serve (config, index, embedder, glossary, port, CORS); non-zero on a
failure."""

from __future__ import annotations

import errno
import socket
from pathlib import Path
from dataclasses import asdict, dataclass

from ingest.errors import SesamError
from ingest.settings import Settings, ingest_command, url_problem

MIN_ADMIN_KEY_CHARS = 16


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "ok", "warn" (works, but look at it) or "fail" (`sesam serve` would not work as configured)
    message: str


def check_config(settings: Settings) -> Check:
    """Settings that validate but make a poor deployment."""
    fails, warns = [], []
    key = settings.admin_api_key.get_secret_value() if settings.admin_api_key else None
    if key is not None and len(key) < MIN_ADMIN_KEY_CHARS:
        fails.append(f"admin_api_key has {len(key)} characters; use at least {MIN_ADMIN_KEY_CHARS} random ones")
    if settings.llm_url and (problem := url_problem(settings.llm_url)):
        fails.append(f"llm_url {settings.llm_url!r} {problem}")
    if settings.host not in ("127.0.0.1", "::1", "localhost") and not settings.trusted_proxies:
        warns.append(f"host {settings.host} is reachable from other machines and no trusted_proxies are set; "
                     "behind a reverse proxy every client would share the proxy's rate limit")
    if settings.rate_limit_per_minute == 0:
        warns.append("rate_limit_per_minute is 0: questions are not rate limited")
    if settings.log_questions:
        warns.append("log_questions is on: question texts (personal data) go into the access log")
    if not settings.corpus_dir.is_dir():
        warns.append(f"the corpus folder {settings.corpus_dir} does not exist; re-ingest from the service cannot work")
    if fails:
        return Check("config", "fail", "; ".join(fails + warns) + ".")
    if warns:
        return Check("config", "warn", "; ".join(warns) + ".")
    return Check("config", "ok", f"settings valid; index {settings.index_dir}, corpus {settings.corpus_dir}.")


def check_index(settings: Settings) -> tuple[Check, dict | None]:
    """The served version exists, reads, and every file matches its checksum."""
    from ingest.manifest import FORMAT_VERSION, built_from, same_folder
    from ingest.pipeline import ingest_running, stale_tmp
    from ingest.store import IndexVersion

    corpus = settings.corpus_dir
    again = ingest_command(settings.index_dir, corpus_dir=corpus)
    try:
        version = IndexVersion.open(settings.index_dir, verify=True)
        manifest, name = version.manifest, version.path.name
        version.close()
        documents, chunks = manifest["counts"]["documents"], manifest["counts"]["chunks"]
    except SesamError as exc:
        return Check("index", "fail", str(exc)), None
    except (OSError, KeyError, TypeError, ValueError) as exc:  # unreadable files, a manifest missing its fields
        return Check("index", "fail", f"the index at {settings.index_dir} cannot be read ({type(exc).__name__}: "
                                      f"{exc}); check that this user may read it, or rebuild it with "
                                      f"{ingest_command(settings.index_dir, '--rebuild', corpus_dir=corpus)}."), None
    text = (f"version {name} at {settings.index_dir}: {documents} documents, {chunks} chunks, "
            "every checksum verified")
    if not documents:
        return Check("index", "warn", f"version {name} at {settings.index_dir} holds no documents, so every question "
                                      "would be refused; put documents in the corpus folder and run "
                                      f"{again}."), manifest
    if ingest_running(settings.index_dir):  # its tmp-v… folder is work in progress, not a leftover
        return Check("index", "ok", f"{text}; an ingest is running now: it switches to its new version when it "
                                    "finishes, and the served one stays usable until then."), manifest
    leftovers = stale_tmp(settings.index_dir)
    if leftovers:
        names = ", ".join(p.name for p in leftovers)
        return Check("index", "warn", f"{text}; unfinished versions {names} were left by an ingest that was stopped: "
                                      f"the next {again} removes them."), manifest
    folder = built_from(manifest)
    if folder and Path(folder).is_dir() and not same_folder(folder, corpus):
        return Check("index", "warn", f"{text}; it was built from the corpus folder {folder}, but corpus_dir is "
                                      f"{corpus}: an ingest from there (a re-ingest through the service too) would "
                                      f"remove the documents that folder lacks; set corpus_dir to {folder}, or "
                                      "re-ingest on purpose."), manifest
    if manifest["format_version"] != FORMAT_VERSION:
        return Check("index", "warn", f"{text}; index format {manifest['format_version']} is older than "
                                      f"{FORMAT_VERSION}: the next {again} upgrades it."), manifest
    return Check("index", "ok", text + "."), manifest


def check_embedder(settings: Settings, manifest: dict | None) -> Check:
    """The embedder the index was built with loads here and produces vectors of the index's dimension."""
    from ingest.embedding import load_embedder

    built = (manifest or {}).get("embedder", {})
    spec = settings.embedder or built.get("spec")
    if manifest and settings.embedder and settings.embedder != built.get("spec"):
        return Check("embedder", "fail", f"the setting embedder is {settings.embedder!r} but the index was built "
                                         f"with {built.get('spec')!r}; drop the setting or re-ingest with --rebuild.")
    try:
        embedder = load_embedder(spec, threads=settings.embed_threads)
        vectors = embedder.embed_queries(["Vad är social ekonomi?"])
    except SesamError as exc:
        return Check("embedder", "fail", str(exc))
    except Exception as exc:  # noqa: BLE001 - a broken backend installation, reported as a finding
        return Check("embedder", "fail", f"the embedder {spec!r} failed ({type(exc).__name__}: {exc}).")
    if built and (vectors.shape[1] != built.get("dim") or embedder.identity != built.get("identity")):
        return Check("embedder", "fail", f"the embedder here is {embedder.identity} (dim {vectors.shape[1]}), the "
                                         f"index was built with {built.get('identity')} (dim {built.get('dim')}); "
                                         "install that version or re-ingest with --rebuild.")
    return Check("embedder", "ok", f"{embedder.identity} loads and embeds (dim {vectors.shape[1]}).")


def check_port(settings: Settings) -> Check:
    """Nothing else listens on host:port (bound the way uvicorn binds, with SO_REUSEADDR)."""
    try:
        infos = socket.getaddrinfo(settings.host, settings.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:  # UnicodeError: the idna codec refuses a label
        why = exc.strerror if isinstance(exc, socket.gaierror) else "not a valid host name"
        return Check("port", "fail", f"the host {settings.host!r} cannot be resolved ({why}); fix host (--host, "
                                     "SESAM_HOST).")
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            why = ("is in use (another `sesam serve`?)" if exc.errno == errno.EADDRINUSE
                   else f"cannot be bound ({exc.strerror})")
            return Check("port", "fail", f"port {settings.port} on {settings.host} {why}; stop that process or "
                                         "choose another port with --port.")
    return Check("port", "ok", f"port {settings.port} on {settings.host} is free.")


def check_cors(settings: Settings) -> Check:
    if "*" in settings.cors_origins:
        return Check("cors", "warn", "cors_origins allows every site ('*'); list the sites that embed the widget.")
    listed = ", ".join(settings.cors_origins) or "none (the widget works only on this service's own pages)"
    return Check("cors", "ok", f"origins allowed: {listed}.")


def check_glossary(settings: Settings, manifest: dict | None) -> Check:
    """The glossary and vocabulary load, from where the service would read them (a broken one is refused by a
    running service, which keeps the one it had; a missing one leaves questions without their expansions)."""
    from assistant.glossary import Glossary, glossary_files

    files = glossary_files(settings, manifest or {})
    try:
        terms = [len(Glossary.load(path).terms) for path in files]
    except SesamError as exc:
        return Check("glossary", "fail", str(exc))
    missing = [str(path) for path in files if not path.is_file()]
    said = f"{terms[0]} terms in {files[0]}, {terms[1]} in {files[1]}"
    if missing:
        return Check("glossary", "warn", f"{said}; {' and '.join(missing)} not found: questions are searched without "
                                         "its expansions (set glossary_file / vocabulary_file, or corpus_dir).")
    return Check("glossary", "ok", said + ".")


def run_checks(settings: Settings) -> list[Check]:
    """Every check, in the order an operator would fix them."""
    index, manifest = check_index(settings)
    return [check_config(settings), index, check_embedder(settings, manifest), check_glossary(settings, manifest),
            check_port(settings), check_cors(settings)]


def report(checks: list[Check]) -> tuple[str, int]:
    """Text for the terminal and the exit code: 1 when any check failed."""
    lines = [f"{c.status.upper():<5} {c.name:<9} {c.message}" for c in checks]
    failed = [c.name for c in checks if c.status == "fail"]
    lines.append(f"{len(failed)} of {len(checks)} checks failed: {', '.join(failed)}." if failed
                 else f"all {len(checks)} checks passed.")
    return "\n".join(lines), 1 if failed else 0


def as_json(checks: list[Check]) -> list[dict]:
    return [asdict(c) for c in checks]
