"""One corpus holding every kind of hostile or broken file next to good ones, through a real `sesam ingest`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ingest.store import IndexVersion
from tests.conftest import REPO, SCANNED_NO_TEXT
from tests.pdfmaker import (write_bomb_pdf, write_encrypted_pdf, write_image_only_pdf, write_pdf,
                            write_truncated_pdf)

GOOD = [["Kooperativ i Jämtland", "Ett kooperativ ägs och styrs demokratiskt av sina medlemmar."]]


def build_corpus(root: Path) -> dict[str, str]:
    """Files and the reason each must be refused with ('' for files that must be ingested)."""
    root.mkdir()
    write_pdf(root / "god rapport.pdf", GOOD)
    write_pdf(root / "Årsrapport ÅÄÖ.pdf", [["Stiftelser förvaltar kapital för ett ändamål."]])
    write_pdf(root / "-ledande-streck.pdf", [["Föreningar är en del av civilsamhället."]])
    (root / "anteckningar.md").write_text("# IOP\n\nIdéburet offentligt partnerskap.\n", encoding="utf-8")
    write_truncated_pdf(root / "trasig.pdf", [["rad"] * 40] * 4)
    write_encrypted_pdf(root / "låst.pdf", [["hemligt"]])
    (root / "tom.pdf").write_bytes(b"")
    write_image_only_pdf(root / "skannad.pdf")
    (root / "webbsida.pdf").write_text("<!doctype html><html><body>Hej</body></html>")
    (root / "brus.pdf").write_bytes(bytes((i * 37) % 256 for i in range(4096)))
    (root / "binär.txt").write_bytes(b"\x00\xff" * 500)
    (root / "latin1.txt").write_bytes("Sociala företag i Västernorrland.".encode("cp1252"))
    write_bomb_pdf(root / "bomb.pdf", 300)
    (root.parent / "utanför.pdf").write_bytes((root / "god rapport.pdf").read_bytes())
    (root / "länk.pdf").symlink_to(root.parent / "utanför.pdf")
    return {
        "god rapport.pdf": "", "Årsrapport ÅÄÖ.pdf": "", "-ledande-streck.pdf": "", "anteckningar.md": "",
        "latin1.txt": "",
        "trasig.pdf": "damaged PDF: cannot be read", "låst.pdf": "encrypted PDF: a password is needed",
        "tom.pdf": "empty file", "skannad.pdf": SCANNED_NO_TEXT,
        "webbsida.pdf": "not a PDF: the file starts like HTML", "brus.pdf": "not a PDF: the file starts like binary",
        "binär.txt": "not a text file: it looks like binary data",
        "bomb.pdf": "PDF stream too large when decompressed (> 256 MB); possibly a decompression bomb",
        "länk.pdf": "symbolic link points outside the corpus directory; not followed: copy the file into the corpus",
    }


# Runs argv[2:] and writes its peak RSS (kB) to argv[1]. A launcher of its own, because a child that pytest starts
# (vfork, then exec) inherits the test session's own high-water RSS into its ru_maxrss at exec: measured directly,
# the ingest "peaked" at whatever the session had reached (1,025 MB; the ingest alone: about 600 MB).
_LAUNCHER = ("import os, subprocess, sys; child = subprocess.Popen(sys.argv[2:]); "
             "_, status, usage = os.wait4(child.pid, 0); open(sys.argv[1], 'w').write(str(usage.ru_maxrss)); "
             "sys.exit(os.waitstatus_to_exitcode(status))")


def _run_measured(cmd: list[str], folder: Path) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``cmd`` and return its result and the peak RSS (MB) of that process alone, through ``_LAUNCHER``."""
    peak = folder / "peak-kb.txt"
    done = subprocess.run([sys.executable, "-c", _LAUNCHER, str(peak), *cmd], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    return done, int(peak.read_text()) / 1024


def test_every_bad_file_has_its_reason_and_the_good_ones_land(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    expected = build_corpus(corpus)
    index = tmp_path / "index"
    proc, peak_mb = _run_measured([sys.executable, "-m", "tui.cli", "ingest", "--index", str(index), "--corpus",
                                   str(corpus), "--config", str(REPO / "tests" / "empty.toml"), "--no-progress"],
                                  tmp_path)
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout
    good = [n for n, reason in expected.items() if not reason]
    assert f"ingested {len(good)}, unchanged 0, removed 0, failed {len(expected) - len(good)}" in out
    for name, reason in expected.items():
        if reason:
            line = next((x for x in out.splitlines() if name in x and "failed:" in x), "")
            assert reason in line, (name, out)
    assert peak_mb < 1024, f"peak RSS {peak_mb:.0f} MB"
    version = IndexVersion.open(index, verify=True)
    assert sorted(d.path for d in version.documents()) == sorted(good)


@pytest.mark.slow
def test_a_2000_page_pdf_is_ingested(tmp_path: Path) -> None:
    from ingest.loaders import load_document
    from tests.conftest import make_settings

    path = write_pdf(tmp_path / "lång.pdf", [[f"Sida {i} handlar om kooperativ nummer {i}."] for i in range(2000)])
    doc = load_document(path, root=tmp_path, sources={}, settings=make_settings(index_dir=tmp_path / "i"))
    assert len(doc.pages) == 2000 and doc.pages[-1].text == "Sida 1999 handlar om kooperativ nummer 1999."
