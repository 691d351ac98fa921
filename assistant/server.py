"""`sesam serve`: the FastAPI app under uvicorn, in one process or several workers, logging as configured."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

from ingest.errors import ConfigError
from ingest.settings import Settings

SETTINGS_VARIABLE = "SESAM_SERVE_SETTINGS"  # how `serve` hands its settings to worker processes
log = logging.getLogger("sesam.http")


def uvicorn_options(settings: Settings) -> dict:
    """How sesam runs uvicorn. Its access log and its own X-Forwarded-For handling are off: sesam logs each
    request itself and believes X-Forwarded-For only from ``trusted_proxies`` (uvicorn would trust 127.0.0.1)."""
    from assistant.api.protocol import head_timeout_protocol

    return {"host": settings.host, "port": settings.port, "log_config": None, "log_level": settings.log_level,
            "access_log": False, "proxy_headers": False, "server_header": False,
            # a client that stops reading or sending cannot hold a shutdown: running requests are cancelled
            # after shutdown_timeout_s; idle keep-alive connections are closed after keep_alive_timeout_s
            "timeout_keep_alive": settings.keep_alive_timeout_s,
            # uvicorn has no timeout for receiving a request head: sesam's h11 protocol closes the connection
            # of a client that sends its request line and headers slowly, after header_timeout_s
            "http": head_timeout_protocol(settings.header_timeout_s),
            "timeout_graceful_shutdown": settings.shutdown_timeout_s}


def app_from_environment():
    """Factory for uvicorn workers: the settings `serve` built, passed as JSON in one variable."""
    from assistant.api.app import create_app
    from assistant.api.logs import configure_logging

    # exactly the settings `serve` built: no config file or variable is read again (a ./sesam.toml in the workers'
    # folder filled what the operator's --config left unset, an admin key among them)
    settings = Settings.model_validate(json.loads(os.environ[SETTINGS_VARIABLE]))
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)


def check_address(settings: Settings) -> None:
    """Refuse a host:port that cannot be bound (in use, not resolvable) before the index is loaded: uvicorn
    found out only after start-up, logged one line without a remedy and exited 3."""
    from assistant.doctor import check_port

    check = check_port(settings)
    if check.status == "fail":
        raise ConfigError(check.message[0].upper() + check.message[1:])


def serve(settings: Settings) -> int:
    import uvicorn

    from assistant.api.app import create_app
    from assistant.api.logs import configure_logging

    check_address(settings)
    configure_logging(settings.log_level, settings.log_format)
    log.info("sesam serving on http://%s:%s (widget at /widget, API docs at /docs)", settings.host, settings.port,
             extra={"fields": {"index": str(settings.index_dir.resolve()), "workers": settings.workers,
                               "trusted_proxies": ",".join(settings.trusted_proxies) or "none"}})
    if settings.workers <= 1:
        uvicorn.run(create_app(settings), **uvicorn_options(settings))
        return 0
    if settings.session_db is None:  # a follow-up may reach another worker: they share the conversations
        with tempfile.TemporaryDirectory(prefix="sesam-sessions-") as folder:
            return _serve_workers(settings.model_copy(update={"session_db": Path(folder) / "sessions.sqlite"}))
    return _serve_workers(settings)


def _serve_workers(settings: Settings) -> int:
    import uvicorn

    from assistant.sessions import SqliteSessions

    SqliteSessions(settings.session_db, settings.session_ttl_s)  # the file made (or refused) once, before the workers
    dumped = settings.model_dump(mode="json")
    for secret in ("admin_api_key", "llm_api_key"):
        value = getattr(settings, secret)
        dumped[secret] = value.get_secret_value() if value is not None else None
    os.environ[SETTINGS_VARIABLE] = json.dumps(dumped)
    uvicorn.run("assistant.server:app_from_environment", factory=True, workers=settings.workers,
                **uvicorn_options(settings))
    return 0
