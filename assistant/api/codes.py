"""The machine-readable ``code`` every JSON error body carries beside its ``detail``: each string is defined here
once, and the handlers, middlewares and tests use these names.

Errors of sesam itself take their code from their class in ``ingest/errors.py`` (``no-index``, ``index-corrupt``,
``invalid-query``, ``internal``, …); these are the codes of the HTTP layer's own refusals.
"""

from __future__ import annotations

from ingest.errors import SesamError

INVALID = "invalid-request"  # 422: a body or parameter the contract (schemas.py) refuses, malformed JSON
NO_MATCH = "filter-matches-nothing"  # 422: a filter whose parts are all indexed but leave no document together
NOT_FOUND = "not-found"  # 404: no such path, document or original file; the admin API while it is off
METHOD_NOT_ALLOWED = "method-not-allowed"  # 405: the path exists, Allow lists its methods
UNAUTHORIZED = "unauthorized"  # 401: the X-API-Key of an admin request is missing or wrong
BODY_TOO_LARGE = "body-too-large"  # 413: the request body (Content-Length or chunked) or an uploaded file
BODY_TIMEOUT = "body-timeout"  # 408: the request body did not arrive within body_timeout_s
RATE_LIMITED = "rate-limited"  # 429: too many requests from this client; Retry-After says how long to wait
CORS_REFUSED = "cors-refused"  # 400: a refused CORS preflight (the origin, a header or a method)
REINGEST_RUNNING = "reingest-running"  # 409: a re-ingest is already running
DOCUMENT_EXISTS = "document-exists"  # 409: an upload named as a corpus file, sent without replace=true
UNSUPPORTED_MEDIA_TYPE = "unsupported-media-type"  # 415: a JSON body sent without Content-Type: application/json
UNSUPPORTED_FILE = "unsupported-file"  # 415: an upload that is not a PDF, Word, HTML, TXT or MD file
HTTP_ERROR = "http-error"  # any other refusal by the framework (none is known; a safety net)
INTERNAL = SesamError.code  # 500: an unexpected error ("internal")

# The code of an HTTPException raised without one, by FastAPI and Starlette (404, 405) or by the routers.
BY_STATUS = {401: UNAUTHORIZED, 404: NOT_FOUND, 405: METHOD_NOT_ALLOWED, 413: BODY_TOO_LARGE, 422: INVALID}
