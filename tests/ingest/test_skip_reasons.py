"""Each reason a file is skipped for says what to do, and a real `sesam ingest` prints it once per stream."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.pdfmaker import write_encrypted_pdf, write_pdf, write_truncated_pdf

ACTIONS = {
    "locked.pdf": "encrypted PDF: a password is needed; save a copy without the password",
    "cut.pdf": "; export it again or copy the file again",
    "page.pdf": "not a PDF: the file starts like HTML; rename it with its real extension or remove it",
    "blank.pdf": "no extractable text: the PDF has no text layer and no images to read by OCR; export it again",
}


def test_skip_reasons_say_what_to_do_and_are_printed_once(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_pdf(corpus / "good.pdf", [["Kooperativ", "Ett kooperativ ägs av sina medlemmar."]])
    write_encrypted_pdf(corpus / "locked.pdf", [["hemlig text"]])
    write_truncated_pdf(corpus / "cut.pdf", [["rad"] * 30] * 4)
    (corpus / "page.pdf").write_text("<!DOCTYPE html><html><body>Hej</body></html>")
    write_pdf(corpus / "blank.pdf", [None, None])
    env = {**os.environ, "PYTHONPATH": str(REPO), "SESAM_CONFIG": str(REPO / "tests" / "empty.toml")}
    run = subprocess.run([sys.executable, "-m", "tui.cli", "ingest", str(corpus), "--corpus", str(corpus),
                          "--index", str(tmp_path / "index"), "--no-progress"],
                         capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    for name, action in ACTIONS.items():
        line = next(x for x in run.stdout.splitlines() if x.strip().startswith("failed:") and name in x)
        assert action in line, line
        assert name not in run.stderr, run.stderr  # before: "skipped …: <reason>" on stderr as well
    assert "ingested: good" in run.stdout


def test_files_of_a_type_sesam_does_not_read_are_reported_not_failed(tmp_path: Path) -> None:
    """Before: notes.xyz, image.png and old.doc in the corpus folder were passed over without a word."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_pdf(corpus / "good.pdf", [["Kooperativ", "Ett kooperativ ägs av sina medlemmar."]])
    for name in ("notes.xyz", "image.png", "old.doc", ".DS_Store"):
        (corpus / name).write_bytes(b"\x00\x01 not a document")
    (corpus / "sources.toml").write_text('["good.pdf"]\ntitle = "Bra"\n')
    env = {**os.environ, "PYTHONPATH": str(REPO), "SESAM_CONFIG": str(REPO / "tests" / "empty.toml")}
    argv = [sys.executable, "-m", "tui.cli", "ingest", "--corpus", str(corpus), "--index", str(tmp_path / "index"),
            "--no-progress"]
    run = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stderr  # a file sesam never claims to read is not a failed document
    skipped = [x.strip() for x in run.stdout.splitlines() if x.strip().startswith("skipped:")]
    assert sorted(x.split(": ")[1].rsplit("/", 1)[-1] for x in skipped) == ["image.png", "notes.xyz", "old.doc"]
    assert all("convert it to PDF, Word (.docx), HTML, TXT or MD, or move it out of the corpus folder" in x
               for x in skipped), skipped
    assert "sesam does not read .doc files" in run.stdout and "failed 0" in run.stdout
    run = subprocess.run([*argv, "--json"], capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    report = json.loads(run.stdout)  # a second run changes nothing: the skipped files are still reported
    assert run.returncode == 0 and report["failed"] == [] and report["unchanged"] == ["good"]
    assert sorted(Path(e["path"]).name for e in report["skipped"]) == ["image.png", "notes.xyz", "old.doc"]
    assert all("move it out of the corpus folder" in e["reason"] for e in report["skipped"])


def test_the_shipped_corpus_folder_has_nothing_to_report() -> None:
    """Its glossary.toml, vocabulary.toml and sources.toml are sesam's own files: vocabulary.toml was reported as
    "not read: sesam does not read .toml files" on every ingest of the shipped corpus."""
    from ingest.sources import scan

    found = scan([REPO / "corpus"], REPO / "corpus")
    assert not found.skipped and not found.errors
    assert sorted(p.name for p in found.files) == ["coompanion-social-ekonomi.pdf",
                                                   "skr-utvecklingsnatverk-sociala-foretag.pdf"]
