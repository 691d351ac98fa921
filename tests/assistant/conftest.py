"""One in-process Assistant over the shipped index, shared by the answer tests."""

from __future__ import annotations

import json

import pytest

from assistant.engine import Assistant
from tests.conftest import EVAL


@pytest.fixture(scope="session")
def assistant(shipped_settings) -> Assistant:
    return Assistant.open(shipped_settings)


@pytest.fixture(scope="session")
def dev_questions() -> list[dict]:
    path = EVAL / "dev.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
