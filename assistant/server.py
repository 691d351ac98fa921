"""`sesam serve`: the FastAPI app under uvicorn, in one process or several workers."""

from __future__ import annotations

import json
import os

from ingest.settings import Settings, load_settings

SETTINGS_VARIABLE = "SESAM_SERVE_SETTINGS"  # how `serve` hands its settings to worker processes


def app_from_environment():
    """Factory for uvicorn workers: the settings `serve` built, passed as JSON in one variable."""
    from assistant.api.app import create_app

    data = json.loads(os.environ[SETTINGS_VARIABLE])
    return create_app(load_settings(environ={}, **{k: v for k, v in data.items() if v is not None}))


def serve(settings: Settings) -> int:
    import uvicorn

    from assistant.api.app import create_app

    print(f"sesam: serving on http://{settings.host}:{settings.port} (index {settings.index_dir}; "
          f"widget at /widget, API docs at /docs)", flush=True)
    # a client that stops reading or sending cannot hold a shutdown: running requests are cancelled after
    # shutdown_timeout_s; idle keep-alive connections are closed after keep_alive_timeout_s
    timeouts = {"timeout_keep_alive": settings.keep_alive_timeout_s,
                "timeout_graceful_shutdown": settings.shutdown_timeout_s}
    if settings.workers <= 1:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning",
                    access_log=False, **timeouts)
        return 0
    dumped = settings.model_dump(mode="json")
    for secret in ("admin_api_key", "llm_api_key"):
        value = getattr(settings, secret)
        dumped[secret] = value.get_secret_value() if value is not None else None
    os.environ[SETTINGS_VARIABLE] = json.dumps(dumped)
    uvicorn.run("assistant.server:app_from_environment", factory=True, host=settings.host, port=settings.port,
                workers=settings.workers, log_level="warning", access_log=False, **timeouts)
    return 0
