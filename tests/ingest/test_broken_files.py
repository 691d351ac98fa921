"""Runs whose only news is broken files: the summary, the exit code, and the indexed versions that stay."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ingest.pipeline import run_ingest
from ingest.store import IndexVersion
from tests.conftest import make_settings
from tests.pdfmaker import write_pdf
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
    assert report.served_version == (corpus.parent / "index" / "CURRENT").read_text().strip()  # kept, and named


def test_a_damaged_copy_of_an_indexed_document_keeps_its_indexed_version(corpus: Path, capsys) -> None:
    assert ingest_cli(corpus, capsys)[0] == 0
    index = corpus.parent / "index"
    before = IndexVersion.open(index)
    old = [(i, c.text) for i, c in enumerate(before.chunks(range(before.manifest["counts"]["chunks"])))
           if c.doc_id == "alpha"]
    alpha_chunks, alpha_vectors = [t for _, t in old], before.vectors([i for i, _ in old]).copy()
    before.close()
    good = (corpus / "alpha.pdf").read_bytes()
    (corpus / "alpha.pdf").write_bytes(good[:300])  # as `head -c 700 en.pdf > corpus/en.pdf`
    code, out = ingest_cli(corpus, capsys)
    assert code == 1 and "removed: alpha" not in out
    assert "damaged PDF" in out and "its indexed version is kept" in out
    assert "nothing changed, index kept; 2 documents" in out
    # with another document changed in the same run, a new version is written and alpha is still in it
    write_pdf(corpus / "beta.pdf", [["Beta ändrad", "Sociala företag anställer personer långt från arbetsmarknaden."]])
    code, out = ingest_cli(corpus, capsys)
    assert code == 1 and "ingested: beta" in out and "removed" not in out.split("\n", 1)[1]
    after = IndexVersion.open(index, verify=True)
    assert sorted(after.manifest["documents"]) == ["alpha", "beta"]
    n = after.manifest["counts"]["chunks"]
    records = list(after.chunks(range(n)))
    assert [c.text for c in records if c.doc_id == "alpha"] == alpha_chunks
    kept_rows = [i for i, c in enumerate(records) if c.doc_id == "alpha"]
    assert np.allclose(after.vectors(kept_rows), alpha_vectors)  # the vectors moved with their chunks
    assert after.vectors(list(range(n))).shape[0] == n  # every chunk keeps a vector row
    after.close()
    (corpus / "alpha.pdf").write_bytes(good)  # the good file back: unchanged, nothing re-embedded
    report = run_ingest(make_settings(corpus_dir=corpus, index_dir=index), progress=False)
    assert report.failed == () and "alpha" in report.unchanged and report.version is None


def test_a_run_that_changes_nothing_removes_a_killed_runs_tmp_folder(corpus: Path, capsys) -> None:
    assert ingest_cli(corpus, capsys)[0] == 0
    index = corpus.parent / "index"
    stale = index / "tmp-v20260101T000000-dead00"  # as left by `kill -9` during a build
    (stale / "sub").mkdir(parents=True)
    (stale / "sub" / "meta.sqlite").write_bytes(b"half written")
    main(["doctor", "--index", str(index)])  # its exit code depends on the port and CORS checks; not tested here
    assert "tmp-v20260101T000000-dead00" in capsys.readouterr().out  # doctor names the leftover
    code, out = ingest_cli(corpus, capsys)
    assert code == 0 and "nothing changed, index kept" in out
    assert not stale.exists()
    main(["doctor", "--index", str(index)])
    assert "tmp-" not in capsys.readouterr().out


def test_an_empty_corpus_is_warned_about_by_ingest_and_doctor(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "corpus"
    empty.mkdir()
    index = tmp_path / "index"
    assert main(["ingest", str(empty), "--index", str(index), "--corpus", str(empty), "--no-progress"]) == 1
    assert "No index was written" in capsys.readouterr().err  # tests/ingest/test_empty_and_rebuild.py
    assert main(["ingest", str(empty), "--index", str(index), "--corpus", str(empty), "--no-progress",
                 "--allow-removal"]) == 0  # an empty index on purpose
    err = capsys.readouterr().err
    assert "warning: the index holds no documents" in err and str(empty) in err
    main(["doctor", "--index", str(index)])
    line = next(x for x in capsys.readouterr().out.splitlines() if x.split()[1:2] == ["index"])
    assert line.startswith("WARN") and "holds no documents" in line, line  # before: "OK … 0 documents"


def test_a_single_file_as_the_source_adds_it_and_removes_nothing(corpus: Path, capsys) -> None:
    assert ingest_cli(corpus, capsys)[0] == 0
    index = corpus.parent / "index"
    write_pdf(corpus / "gamma.pdf", [["Social upphandling", "Kommunen kan reservera upphandlingar för sociala företag."]])
    code = main(["ingest", str(corpus / "gamma.pdf"), "--index", str(index), "--corpus", str(corpus), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0 and "ingested: gamma" in out and "removed 0" in out  # before: removed alpha and beta
    assert "no indexed document was removed" in out
    assert sorted(IndexVersion.open(index).manifest["documents"]) == ["alpha", "beta", "gamma"]
    (corpus / "beta.pdf").unlink()  # a folder as the source still mirrors it
    assert ingest_cli(corpus, capsys)[0] == 0
    assert sorted(IndexVersion.open(index).manifest["documents"]) == ["alpha", "gamma"]
