"""SIGTERM and Ctrl-C during a real `sesam ingest`: the unfinished version is removed, the served one is said."""

from __future__ import annotations

import fcntl
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.pipeline import run_ingest
from ingest.store import current_version_dir
from tests.conftest import REPO, make_settings
from tests.ingest.test_crash import _add_text, _text


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_during_ingest_removes_the_unfinished_version(tmp_path: Path, signum: int, code: int) -> None:
    """Before: SIGTERM ended the run with 143, no output and a tmp-v… folder left; Ctrl-C printed only
    'sesam: interrupted.' and no JSON under --json."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "old.txt").write_text(_text(1, 60), encoding="utf-8")
    settings = make_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    run_ingest(settings, progress=False)
    served = current_version_dir(settings.index_dir).name
    _add_text(corpus)
    proc = subprocess.Popen([sys.executable, "-m", "tui.cli", "ingest", "--json", "--no-progress",
                             "--index", str(settings.index_dir), "--corpus", str(corpus),
                             "--config", str(REPO / "tests" / "empty.toml")],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(settings.index_dir.glob("tmp-*")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before the signal: the trial tested nothing"
    time.sleep(0.3)  # inside the build, while embedding
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    report = json.loads(out)
    assert report["interrupted"] is True and report["index_unchanged"] is True
    assert report["served_version"] == served
    assert f"served index is unchanged (version {served}" in err
    assert not list(settings.index_dir.glob("tmp-*"))
    assert current_version_dir(settings.index_dir).name == served
    with (settings.index_dir / "ingest.lock").open("a") as fh:  # the lock was released
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
