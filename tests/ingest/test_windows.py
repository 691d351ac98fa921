"""Window vectors: how chunks are cut into windows, and that incremental ingest keeps them with their chunks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ingest.pipeline import run_ingest
from ingest.store import IndexVersion
from ingest.windows import MIN_UNIT_CHARS, units, window_spans
from tests.conftest import make_settings
from tests.pdfmaker import write_pdf

SLIDE = ("Social upphandling\n• Reserverad upphandling av sysselsättningsplatser\n"
         "• Reserverad upphandling av varor/tjänster med sociala företag.\n"
         "• Upphandling med sociala krav, ex praktikplatser.\n• Ideella offentliga partnerskap (IOP).")


def test_short_lines_merge_into_the_next_and_windows_pair_consecutive_units() -> None:
    spans = units(SLIDE)
    texts = [SLIDE[s:e] for s, e in spans]
    assert texts[0] == "Social upphandling\n• Reserverad upphandling av sysselsättningsplatser"  # heading merged
    assert all(len(t) >= MIN_UNIT_CHARS for t in texts) and len(texts) == 4
    windows = [SLIDE[s:e] for s, e in window_spans(SLIDE)]
    assert len(windows) == 3 and windows[1] == texts[1] + "\n" + texts[2]


def test_long_lines_are_split_into_sentences_and_short_chunks_have_no_windows() -> None:
    long_line = " ".join(f"Mening nummer {i} handlar om kooperativ och sociala företag i kommunen." for i in range(8))
    assert len(units(long_line)) == 8
    assert window_spans("En rad om kooperativ som är lång nog.\nEn andra rad om sociala företag.") == []
    assert units("Umeå\nLaxå") == [(0, 9)]  # short units at the end join what there is


def test_unchanged_documents_keep_their_windows_and_window_vectors(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_pdf(corpus / "alpha.pdf", [SLIDE.split("\n")])
    write_pdf(corpus / "beta.pdf", [["Kooperativ utveckling i hela landet sedan länge.",
                                     "Rådgivning till alla som vill starta ett kooperativ.",
                                     "Projekt om samhällsutveckling och tillsammansföretagande.",
                                     "Kontakt via e-post och telefon för mer information."]])
    settings = make_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    run_ingest(settings, progress=False)
    before = IndexVersion.open(settings.index_dir)
    beta_id = next(r.chunk_id for r in before.chunks(range(10)) if r.doc_id == "beta")

    def beta_windows(index: IndexVersion, chunk_id: int) -> tuple[list[str], np.ndarray]:
        rows = index.windows_of([chunk_id])
        text = index.chunks([chunk_id])[0].text
        return [text[s:e] for _, _, s, e in rows], index.window_vectors([w for w, *_ in rows])

    texts, vectors = beta_windows(before, beta_id)
    assert len(texts) == 3 and before.has_windows
    write_pdf(corpus / "alpha.pdf", [["Lönebidrag och arbetsträning", "Arbetsförmedlingen beslutar om lönebidrag."]])
    report = run_ingest(settings, progress=False)
    assert report.unchanged == ("beta",)
    after = IndexVersion.open(settings.index_dir, verify=True)
    new_beta = next(r.chunk_id for r in after.chunks(range(10)) if r.doc_id == "beta")
    new_texts, new_vectors = beta_windows(after, new_beta)
    assert new_texts == texts and np.array_equal(new_vectors, vectors)  # copied, not re-embedded
    assert after.manifest["counts"]["windows"] == len(after.window_chunks(range(100)))
