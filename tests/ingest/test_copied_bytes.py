"""A copy of an indexed file costs no embedding: a new file with the bytes of a document that stays, and a given file
(`sesam ingest corpus/x.pdf`) with the bytes of a document that was not given.

Real PDFs of corpus/ through the real CLI, from a copy of the session's index of corpus/ (the fixtures of
test_unchanged_bytes.py); the incremental index is compared with one built from scratch of the same files, row by row
and by what dense and lexical search return."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from ingest.stemming import stem_tokens
from ingest.store import IndexVersion
from tests.ingest.test_unchanged_bytes import (COOMPANION, ID, ROTATION, SKR, WORDS, CountingEmbedder,  # noqa: F401
                                               cited_by_word, contents, corpus, embedded, indexed_texts,
                                               rows_of, same_as_from_scratch, texts_embedded)


def sesam_ingest(corpus: Path, index_dir: Path, *args: str) -> int:
    """The exit code of `sesam ingest --no-progress --index <index_dir> <args>` on ``corpus``."""
    from tui.cli import main

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SESAM_CORPUS_DIR", str(corpus))
        code = main(["ingest", "--no-progress", "--index", str(index_dir), *args])
    return code


def hits(index_dir: Path, vector: bytes, word: str) -> tuple[list, list]:
    """Every chunk ranked by dense search for ``vector`` and by lexical search for ``word``: sorted sets of (score,
    document id, chunk number), so that ties between identical copies do not depend on the row order."""
    version = IndexVersion.open(index_dir)
    try:
        n = version.manifest["counts"]["chunks"]

        def named(found):
            return sorted((round(score, 5), c.doc_id, c.seq) for (_, score), c in
                          zip(found, version.chunks([i for i, _ in found]), strict=True))

        return (named(version.dense_search(np.frombuffer(vector, dtype=np.float32), n)),
                named(version.lexical_search(stem_tokens(word, "sv"), n)))
    finally:
        version.close()


def same_search(index_dir: Path, fresh_dir: Path, vector: bytes, word: str) -> None:
    ours, fresh = hits(index_dir, vector, word), hits(fresh_dir, vector, word)
    assert ours[0] and ours[1], ours
    assert ours == fresh


def test_a_new_copy_of_an_unchanged_file_reuses_its_rows(corpus: Path, tmp_path: Path, capsys,
                                                         embedded: list[CountingEmbedder]) -> None:
    index_dir = tmp_path / "index"
    before = contents(index_dir)
    shutil.copy(corpus / f"{SKR}.pdf", corpus / "kopia.pdf")  # SKR's file stays as it is

    assert sesam_ingest(corpus, index_dir) == 0
    said = capsys.readouterr().out

    assert texts_embedded(embedded) == 0, said  # nothing was embedded
    assert "ingested 0, unchanged 3, removed 0, failed 0" in said, said
    assert f"  copied: {SKR} -> kopia (not embedded again)" in said, said
    assert "metadata updated" not in said, said  # the copy's own name and title are said by the line above
    after = contents(index_dir)
    assert rows_of(after, "kopia") == rows_of(before, SKR) == rows_of(after, SKR)  # texts and vectors
    assert after["n_vectors"] == 2 * len(rows_of(before, SKR)) + len(rows_of(before, COOMPANION))
    version = IndexVersion.open(index_dir)
    try:  # its own id, path and metadata: no sources.toml entry, so the PDF's own title
        doc, source = version.document("kopia"), version.document(SKR)
        assert (doc.path, doc.title, doc.sha256) == ("kopia.pdf", "Utvecklingsnätverk sociala företag – SKR",
                                                     source.sha256)
        assert source.path == f"{SKR}.pdf" and source.title == "Utvecklingsnätverk sociala företag"
    finally:
        version.close()
    same_as_from_scratch(index_dir, corpus, tmp_path)
    same_search(index_dir, tmp_path / "fresh", min(rows_of(before, SKR).items())[1][1], "nätverk")
    texts_embedded(embedded)  # what the index from scratch embedded
    assert sesam_ingest(corpus, index_dir) == 0 and "nothing changed" in capsys.readouterr().out
    assert texts_embedded(embedded) == 0


def test_a_given_file_with_the_bytes_of_a_document_not_given_reuses_its_rows(corpus: Path, tmp_path: Path, capsys,
                                                                            embedded: list[CountingEmbedder]) -> None:
    index_dir = tmp_path / "index"
    before = contents(index_dir)
    shutil.copy(corpus / f"{COOMPANION}.pdf", corpus / "social.pdf")

    assert sesam_ingest(corpus, index_dir, str(corpus / "social.pdf"), "--json") == 0
    report = json.loads(capsys.readouterr().out)

    assert texts_embedded(embedded) == 0 and report["embedded_chunks"] == 0  # nothing was embedded
    assert report["copied"] == [{"from": COOMPANION, "to": "social"}] and report["counts"]["copied"] == 1
    assert report["ingested"] == [] and report["removed"] == [] and report["renamed"] == [] and report["files_only"]
    assert "social" in report["unchanged"] and report["new_version"]
    after = contents(index_dir)
    assert rows_of(after, "social") == rows_of(before, COOMPANION) == rows_of(after, COOMPANION)
    same_as_from_scratch(index_dir, corpus, tmp_path)  # the given file and the two indexed ones
    same_search(index_dir, tmp_path / "fresh", min(rows_of(before, COOMPANION).items())[1][1], "ekonomi")


def test_one_document_copied_to_several_files_one_of_them_indexed_with_other_bytes(
        tmp_path: Path, embedded: list[CountingEmbedder]) -> None:
    from ingest.pipeline import run_ingest

    folder, settings, before = indexed_texts(tmp_path, "ab", embedded)
    for name in "bcd":  # b's file now holds a's bytes, c and d are new copies of a
        (folder / f"{name}.txt").write_text(ROTATION["a"], encoding="utf-8")

    report = run_ingest(settings, progress=False)

    assert texts_embedded(embedded) == report.embedded_chunks == 0  # nothing was embedded
    assert report.copied == tuple((ID["a"], ID[n]) for n in "bcd") and report.counts["copied"] == 3
    assert report.ingested == () and report.removed == () and report.renamed == ()
    after = contents(settings.index_dir)
    assert all(rows_of(after, ID[n]) == rows_of(before, ID["a"]) for n in "abcd")
    assert cited_by_word(settings.index_dir, WORDS["a"]) == {ID[n] for n in "abcd"}
    assert cited_by_word(settings.index_dir, WORDS["b"]) == set()  # b's old rows are gone
    same_as_from_scratch(settings.index_dir, folder, tmp_path)
