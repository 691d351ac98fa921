"""A running service re-reads the glossary when its file changes, and keeps serving when the new file is broken."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

from assistant.api.holder import AssistantHolder
from assistant.engine import Assistant
from ingest.errors import ConfigError
from ingest.store import CURRENT
from tests.assistant.test_reload import versions_of
from tests.conftest import CORPUS, make_settings

NEW_TERM = '\n[[term]]\nsv = ["kvarterskooperativ"]\nen = ["neighbourhood co-operative"]\n'


def _touch_later(path: Path) -> None:
    """Move the file's time on, so that an edit within the same clock tick is seen as one."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


@pytest.fixture()
def glossary(tmp_path: Path) -> Path:
    path = tmp_path / "glossary.toml"
    shutil.copy(CORPUS / "glossary.toml", path)
    return path


def test_an_edited_glossary_is_read_again_on_the_same_index(shipped_index: Path, glossary: Path) -> None:
    assistant = Assistant.open(make_settings(index_dir=shipped_index, glossary_file=glossary))
    version = assistant.info()["version"]
    assistant.ask("Vad är ett arbetsintegrerande socialt företag?")
    assert not assistant.reload(), "nothing changed"
    assert not assistant.glossary.expand("Vad är ett kvarterskooperativ?").matched

    glossary.write_text(glossary.read_text(encoding="utf-8") + NEW_TERM, encoding="utf-8")
    _touch_later(glossary)
    assert assistant.reload()
    assert assistant.info()["version"] == version, "the index itself was not switched"
    assert assistant.glossary.expand("Vad är ett kvarterskooperativ?").matched == ("kvarterskooperativ",)
    assert "neighbourhood co-operative" in assistant.glossary.expand("Vad är ett kvarterskooperativ?").en
    again = assistant.ask("Vad är ett arbetsintegrerande socialt företag?")
    assert not again.cached, "answers given with the old glossary are not served from the cache"
    assert assistant.documents(), "the shared index version is still open"
    assistant.close()


def test_a_broken_glossary_keeps_the_old_one_and_is_logged_once(shipped_index: Path, glossary: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    settings = make_settings(index_dir=shipped_index, glossary_file=glossary)
    holder = AssistantHolder(settings, Assistant.open(settings), check_every_s=0)
    glossary.write_text(glossary.read_text(encoding="utf-8") + "\n[[term]\nsv = [", encoding="utf-8")
    _touch_later(glossary)
    with caplog.at_level(logging.ERROR, logger="sesam.http"):
        for _ in range(3):
            holder.get()
            assert holder.settled()
        assistant = holder.get()
    assert assistant is not None
    assert assistant.ask("Vad är ett arbetsintegrerande socialt företag?").citations, "still answering"
    assert assistant.glossary.expand("ASF").matched, "with the glossary it had"
    broken = [r for r in caplog.records if "not valid TOML" in r.getMessage()]
    assert len(broken) == 1, "one log line for one broken file, not one per check"

    glossary.write_text(glossary.read_text(encoding="utf-8").rsplit("\n[[term]\n", 1)[0] + NEW_TERM,
                        encoding="utf-8")
    _touch_later(glossary)
    holder.get()
    assert holder.settled() and holder.get().glossary.expand("kvarterskooperativ").matched, "a mended file is read"
    holder.get().close()


def test_a_new_version_is_served_with_the_glossary_it_had_when_the_new_glossary_is_broken(
        shipped_index: Path, glossary: Path, tmp_path: Path) -> None:
    """The new version was opened and thrown away at every check (its files open until collected) and never
    served, though the index and the glossary are unrelated."""
    index_dir = versions_of(shipped_index, tmp_path / "index", ["v1", "v2"])
    assistant = Assistant.open(make_settings(index_dir=index_dir, glossary_file=glossary))
    glossary.write_text(glossary.read_text(encoding="utf-8") + "\n[[term]\n", encoding="utf-8")
    _touch_later(glossary)
    (index_dir / CURRENT).write_text("v2", encoding="utf-8")
    assert assistant.reload() and assistant.info()["version"] == "v2"
    assert assistant.glossary.expand("ASF").matched, "the glossary it had"
    with pytest.raises(ConfigError, match="not valid TOML"):  # said at the next check, as for the glossary alone
        assistant.reload()
    assert assistant.info()["version"] == "v2"
    assistant.close()
