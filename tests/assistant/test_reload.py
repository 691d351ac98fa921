"""Switching index versions while serving: calls keep working, and old versions do not keep files open."""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from assistant.engine import Assistant
from ingest.store import CURRENT, current_version_dir
from tests.conftest import make_settings


def _open_metadata(index_dir: Path) -> int:
    """How many file descriptors of this process point at a ``meta.sqlite`` under ``index_dir``."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        count += target.startswith(str(index_dir.resolve())) and target.endswith("meta.sqlite")
    return count


def versions_of(shipped_index: Path, index_dir: Path, names: list[str]) -> Path:
    """An index folder at ``index_dir`` with a copy of the shipped index's version under each of ``names``, the
    first one served."""
    (index_dir / "versions").mkdir(parents=True)
    for name in names:
        shutil.copytree(current_version_dir(shipped_index), index_dir / "versions" / name)
    (index_dir / CURRENT).write_text(names[0], encoding="utf-8")
    return index_dir


def test_old_versions_are_closed_after_switches(shipped_index: Path, tmp_path: Path) -> None:
    """Five re-ingests (CURRENT switched to a copy of the version) while four threads search: before, every switch
    left each thread's connection to the old version open for the life of the process (10 → 30 descriptors)."""
    index_dir = tmp_path / "index"
    (index_dir / "versions").mkdir(parents=True)
    source = current_version_dir(shipped_index)
    names = [f"v{n}" for n in range(6)]
    for name in names:
        shutil.copytree(source, index_dir / "versions" / name)
    (index_dir / CURRENT).write_text(names[0], encoding="utf-8")
    assistant = Assistant.open(make_settings(index_dir=index_dir))
    question = "Vad är ett arbetsintegrerande socialt företag?"
    first = [h.chunk_id for h in assistant.search(question)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for name in names[1:]:
            assert list(pool.map(lambda _: [h.chunk_id for h in assistant.search(question)], range(8))) == [first] * 8
            assert [d.doc_id for d in assistant.documents()]
            (index_dir / CURRENT).write_text(name, encoding="utf-8")
            assert assistant.reload()
        assert list(pool.map(lambda _: len(assistant.documents()), range(8)))
        # the served version and the one before it, each opened by at most the four workers and this thread
        assert _open_metadata(index_dir) <= 2 * 5
    assert assistant.info()["version"] == names[-1]
    assistant.close()
    assert _open_metadata(index_dir) == 0


def test_a_closed_version_still_answers(shipped_settings) -> None:
    """A call that reaches a version after it was closed (a slow stream outliving two switches) opens a new
    connection instead of failing on a closed one."""
    assistant = Assistant.open(shipped_settings)
    before = assistant.documents()
    assistant.index.close()
    assert assistant.documents() == before
    assistant.close()


def test_answers_are_not_held_up_while_a_new_version_opens(shipped_index: Path, tmp_path: Path) -> None:
    """Opening the new version (an st: model takes seconds to load) happens outside the lock that every answer's
    cache lookup takes: a cached answer returns while a reload is still opening the next version."""
    import threading

    index_dir = versions_of(shipped_index, tmp_path / "index", ["a", "b"])
    assistant = Assistant.open(make_settings(index_dir=index_dir))
    question = "Vad är ett arbetsintegrerande socialt företag?"
    assistant.ask(question)
    opening, release = threading.Event(), threading.Event()
    make_state = assistant._make_state

    def slow_make_state(index, *args):  # the new version's embedder "loads" until the test lets it
        opening.set()
        release.wait(10)
        return make_state(index, *args)

    assistant._make_state = slow_make_state
    (index_dir / CURRENT).write_text("b", encoding="utf-8")
    switcher = threading.Thread(target=assistant.reload)
    switcher.start()
    try:
        assert opening.wait(10)
        answered = threading.Event()
        threading.Thread(target=lambda: (assistant.ask(question), answered.set()), daemon=True).start()
        assert answered.wait(5), "a cached answer waited for the reload"
    finally:
        release.set()
        switcher.join(10)
    assert assistant.info()["version"] == "b"
    assistant.close()


def test_the_request_that_notices_a_new_version_is_answered_by_the_served_one(shipped_index: Path,
                                                                              tmp_path: Path) -> None:
    """Opening a version takes seconds (its vector indexes, its embedder), which the request that noticed the new
    one paid (2.5-3.3 s in a review). The service's holder now opens it on a thread of its own."""
    import threading

    from assistant.api.holder import AssistantHolder

    index_dir = versions_of(shipped_index, tmp_path / "index", ["v-old", "v-new"])
    settings = make_settings(index_dir=index_dir)
    holder = AssistantHolder(settings, Assistant.open(settings), check_every_s=0)
    served = holder.get()
    assert holder.settled()
    opening, release = threading.Event(), threading.Event()
    reload = served.reload

    def slow_reload() -> bool:  # the new version "opens" until the test lets it
        opening.set()
        release.wait(30)
        return reload()

    served.reload = slow_reload
    (index_dir / CURRENT).write_text("v-new", encoding="utf-8")
    assert holder.get() is served and opening.wait(30)
    assert holder.get().ask("Vad är ett arbetsintegrerande socialt företag?").citations  # while it opens
    assert served.index.path.name == "v-old"
    release.set()
    assert holder.settled() and served.index.path.name == "v-new"
    served.close()
