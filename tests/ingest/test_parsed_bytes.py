"""Word and HTML files are parsed from the bytes the loader read and took the checksum of, never read again.

Real files: the document is written, its bytes read, then the file on disk is replaced by another document (or
removed), as an editor saving during an ingest would. Before: the parsers opened the file again (ZipFile(path),
docx.Document(path), path.read_bytes()), so the text stored could be that of another version than the checksum,
and the zip-bomb check ran on a different read than the parse.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import sniff
from ingest.structured import load_structured
from tests.conftest import make_settings
from tests.docmaker import write_docx, write_html


@pytest.mark.parametrize("kind", ["docx", "html"])
def test_the_bytes_read_are_parsed_not_the_file_on_disk_now(tmp_path: Path, kind: str) -> None:
    path = (write_docx if kind == "docx" else write_html)(tmp_path / f"rapport.{kind}")
    data = path.read_bytes()
    if kind == "docx":
        import docx

        other = docx.Document()
        other.add_heading("Ett annat dokument", level=1)
        other.add_paragraph("Sparat medan sesam läste filen.")
        other.save(str(path))
    else:
        path.write_text("<html><body><h1>Ett annat dokument</h1><p>Sparat medan sesam läste filen.</p></body></html>",
                        encoding="utf-8")
    assert path.read_bytes() != data
    pages, info, extras = load_structured(path, kind, sniff(data[:4096]), make_settings(), data)
    text = "\n".join(pages)
    assert "Sparat medan" not in text
    assert ("Reserverade kontrakt" if kind == "docx" else "Stöd till sociala företag") in text
    title = "Handbok för social upphandling" if kind == "docx" else "Social ekonomi – Region Jämtland"
    assert info["/Title"] == title
    path.unlink()  # the file gone altogether: the bytes read are still parsed
    assert load_structured(path, kind, sniff(data[:4096]), make_settings(), data)[0] == pages
