"""Fixtures shared by the ingest tests: a small corpus of two real PDFs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pdfmaker import write_pdf

TWO_DOCUMENTS = ([["Kooperativ i Jämtland", "Ett kooperativ ägs av sina medlemmar och drivs demokratiskt."],
                  ["Stiftelser förvaltar kapital för ett ändamål."]],
                 [["Idéburet offentligt partnerskap", "IOP är en samverkansform mellan kommun och förening."]])


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    """corpus/alpha.pdf (two pages) and corpus/beta.pdf (one page)."""
    root = tmp_path / "corpus"
    root.mkdir()
    write_pdf(root / "alpha.pdf", TWO_DOCUMENTS[0], title="Alpha")
    write_pdf(root / "beta.pdf", TWO_DOCUMENTS[1], title="Beta")
    return root
