"""kill -9 during `sesam ingest`: the index is afterwards exactly the old or the new version, and usable."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.pipeline import run_ingest
from ingest.store import IndexVersion
from tests.conftest import REPO, make_settings

WORDS = ("kooperativ förening stiftelse kommun region upphandling partnerskap samverkan arbetsträning "
         "lönebidrag samhällsnytta överskott medlemmar demokratisk styrning socialt företag").split()


def _text(seed: int, n_words: int) -> str:
    rng = random.Random(seed)
    sentences = []
    while sum(len(s.split()) for s in sentences) < n_words:
        sentences.append(" ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + ".")
    return "\n".join(sentences)


def _add_text(corpus: Path) -> set[str]:
    (corpus / "new.txt").write_text(_text(2, 1500), encoding="utf-8")  # a few seconds of embedding
    return {"new-txt"}


def _trial(tmp: Path, delay: float, add_new: Callable[[Path], set[str]] = _add_text, must_kill: bool = False) -> Path:
    """Index old.txt, add new files (``add_new`` returns their doc ids), kill -9 an ingest after ``delay``
    seconds; the served version is the old or the whole new one, and the next run completes. Returns the index."""
    corpus = tmp / "corpus"
    corpus.mkdir()
    (corpus / "old.txt").write_text(_text(1, 60), encoding="utf-8")
    settings = make_settings(corpus_dir=corpus, index_dir=tmp / "index")
    run_ingest(settings, progress=False)
    old = IndexVersion.open(settings.index_dir).manifest["documents"]
    new = add_new(corpus)
    proc = subprocess.Popen([sys.executable, "-m", "tui.cli", "ingest", "--index", str(settings.index_dir),
                             "--corpus", str(corpus), "--config", str(REPO / "tests" / "empty.toml"), "--no-progress"],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    code = proc.wait()
    assert code == -signal.SIGKILL or not must_kill, "the run ended before the kill: the trial tested nothing"
    version = IndexVersion.open(settings.index_dir, verify=True)  # loads and passes every checksum
    assert version.manifest["documents"]["old-txt"] == old["old-txt"]
    assert set(version.manifest["documents"]) in ({"old-txt"}, {"old-txt"} | new)
    report = run_ingest(settings, progress=False)  # the next run completes
    assert not report.failed
    assert set(IndexVersion.open(settings.index_dir, verify=True).manifest["documents"]) == {"old-txt"} | new
    assert not list(settings.index_dir.glob("tmp-*"))
    return settings.index_dir


@pytest.mark.parametrize("delay", [0.3, 1.2, 2.5])
def test_kill_during_ingest_keeps_a_whole_version(tmp_path: Path, delay: float) -> None:
    _trial(tmp_path, delay)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20))
def test_kill_at_random_moments(tmp_path: Path, seed: int) -> None:
    _trial(tmp_path, random.Random(seed).uniform(0.05, 6.0))
