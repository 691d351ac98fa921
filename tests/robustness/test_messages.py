"""Each fault has its own message: a deep page tree is not a decompression bomb, malformed multipart is not
JSON, a long PDF name is still a PDF, reserved names are refused, uploads are readable like copied files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ingest.errors import DocumentError
from ingest.loaders import load_document
from tests.assistant.api.conftest import ADMIN_KEY, admin_env  # noqa: F401 - the fixture
from tests.conftest import make_settings
from tests.pdfmaker import pdf_bytes, write_deep_page_tree_pdf

KEY = {"X-API-Key": ADMIN_KEY}


def test_a_page_tree_nested_5000_deep_is_not_called_a_decompression_bomb(tmp_path: Path) -> None:
    path = write_deep_page_tree_pdf(tmp_path / "deep.pdf", depth=5000)
    with pytest.raises(DocumentError) as err:
        load_document(path, root=tmp_path, sources={}, settings=make_settings(index_dir=tmp_path / "index"))
    assert err.value.reason.startswith("damaged or hostile PDF: its structure is nested too deeply")
    assert "bomb" not in err.value.reason


def test_upload_messages_and_modes(admin_env) -> None:
    settings, client = admin_env
    corpus = settings.corpus_dir
    broken = client.post("/v1/admin/documents", headers={**KEY, "Content-Type": "multipart/form-data; boundary=xyz"},
                         content=b"--xyz\r\nnot a part at all")
    assert broken.status_code == 422 and "not valid multipart/form-data" in broken.json()["detail"]
    long_name = "r" * 300 + ".pdf"
    ok = client.post("/v1/admin/documents", headers=KEY, files={"file": (long_name, pdf_bytes([["Kooperativ."]]))})
    assert ok.status_code == 201, ok.text
    stored = corpus / ok.json()["stored"]
    assert stored.suffix == ".pdf" and len(stored.name) <= 120
    old = os.umask(0o022)
    os.umask(old)
    assert stat.S_IMODE(stored.stat().st_mode) == 0o666 & ~old  # not 0600: readable like a copied file
    readme = client.post("/v1/admin/documents", headers=KEY, files={"file": ("README.md", b"# Om korpusen\n")})
    assert readme.status_code == 422 and "reserved name" in readme.json()["detail"]
    assert not (corpus / "README.md").exists()
