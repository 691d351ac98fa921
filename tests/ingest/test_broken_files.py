"""Runs whose only news is broken files: the summary, the exit code, and the indexed versions that stay."""

from __future__ import annotations

from pathlib import Path

from ingest.pipeline import run_ingest
from ingest.store import IndexVersion
from tests.conftest import make_settings
from tests.ingest.test_pipeline import corpus  # noqa: F401 - the fixture: alpha.pdf and beta.pdf
from tui.cli import main

def ingest_cli(corpus: Path, capsys) -> tuple[int, str]:
    code = main(["ingest", str(corpus), "--index", str(corpus.parent / "index"), "--corpus", str(corpus),
                 "--no-progress"])
    return code, capsys.readouterr().out


def test_a_run_whose_only_work_is_a_broken_file_reports_it(corpus: Path, capsys) -> None:
    (corpus / "empty.pdf").write_bytes(b"")
    assert ingest_cli(corpus, capsys)[0] == 1
    version = IndexVersion.open(corpus.parent / "index").path.name
    code, out = ingest_cli(corpus, capsys)  # before: TypeError (tuple + list) in pipeline.py
    assert code == 1
    assert "nothing changed, index kept" in out and "failed: " in out and "empty.pdf" in out
    assert IndexVersion.open(corpus.parent / "index").path.name == version


def test_one_broken_file_added_to_a_working_index(corpus: Path, capsys) -> None:
    assert ingest_cli(corpus, capsys)[0] == 0
    (corpus / "gamma.pdf").write_bytes(b"%PDF-1.4\n" + b"x" * 200)
    code, out = ingest_cli(corpus, capsys)
    assert code == 1 and "nothing changed, index kept" in out and "gamma.pdf" in out
    report = run_ingest(make_settings(corpus_dir=corpus, index_dir=corpus.parent / "index"), progress=False)
    assert report.version is None and isinstance(report.failed, tuple) and len(report.failed) == 1
