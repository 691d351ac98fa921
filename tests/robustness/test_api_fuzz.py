"""schemathesis against the service's own OpenAPI schema: no 5xx, every response conforms to the schema."""

from __future__ import annotations

import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from assistant.api.app import create_app
from tests.conftest import CORPUS, make_settings

from schemathesis.specs.openapi.checks import positive_data_acceptance

KEY = "fuzz-key"
INDEXED = ["coompanion-social-ekonomi", "skr-utvecklingsnatverk-sociala-foretag"]
PUBLISHERS = ["Coompanion", "Sveriges Kommuner och Regioner (SKR)"]  # corpus/sources.toml
UPLOAD = "/v1/admin/documents"


def check(case) -> None:
    """Every check on every operation, with two content rules the schema cannot state:

    - which documents and publishers a filter may name, and which languages the passages are in, is data (the
      index), not schema: generated ids and publishers are replaced by indexed ones and languages by the
      corpus's, so a schema-valid filter is also a valid one (unknown ids or publishers, and filters that match no
      passage, get a 422, tested in test_contract.py);
    - an upload must *be* a PDF, TXT or MD file by content, so ``positive_data_acceptance`` (schema-valid input
      is accepted) is left out for the upload only; its refusals are tested in tests/assistant/api/test_admin.py.
    """
    positive = case.meta is None or not case.meta.generation.mode.is_negative
    filters = case.body.get("filters") if positive and isinstance(case.body, dict) else None
    if isinstance(filters, dict) and filters.get("doc_ids"):
        filters["doc_ids"] = [INDEXED[len(d) % 2] for d in filters["doc_ids"]]
    if isinstance(filters, dict) and filters.get("publishers"):
        filters["publishers"] = PUBLISHERS  # every indexed document's, so any doc_ids still match
    if isinstance(filters, dict) and filters.get("languages"):
        filters["languages"] = ["sv"]  # the corpus is Swedish
    case.call_and_validate(excluded_checks=[positive_data_acceptance] if case.operation.path == UPLOAD else [])


@pytest.fixture(scope="session")
def api_schema(shipped_index, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(CORPUS, tmp / "corpus")
    shutil.copytree(shipped_index, tmp / "index")
    app = create_app(make_settings(corpus_dir=tmp / "corpus", index_dir=tmp / "index", admin_api_key=KEY,
                                   rate_limit_per_minute=0, admin_rate_limit_per_minute=0,
                                   max_upload_bytes=32 * 1024))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms(case) -> None:
    check(case)


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms_with_the_admin_key(case) -> None:
    case.headers = {**(case.headers or {}), "X-API-Key": KEY}
    check(case)
