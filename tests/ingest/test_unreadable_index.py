"""A served index this sesam cannot read, and a corpus folder that is a file: refused, nothing changed.

Real files, real `sesam ingest` subprocesses. Before: a manifest that could not be read (damaged, or written by a
newer sesam) was taken for no index, so `sesam ingest corpus/d1.txt` served a new version holding that one file in
place of four documents and said "no indexed document was removed", exit 0; and `--corpus notes.txt` indexed the
file as a document with the path ".".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.pipeline import run_ingest
from ingest.store import CURRENT
from tests.conftest import make_settings
from tests.ingest.test_removal_guard import sesam, served


@pytest.fixture()
def four(tmp_path: Path) -> tuple[Path, Path]:
    """corpus/d1.txt … d4.txt, indexed."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(1, 5):
        (corpus / f"d{i}.txt").write_text(f"Dokument {i} handlar om kooperativ nummer {i} i Jämtland och "
                                          f"hur en ekonomisk förening bildas.\n", encoding="utf-8")
    index = tmp_path / "index"
    assert len(run_ingest(make_settings(corpus_dir=corpus, index_dir=index), progress=False).ingested) == 4
    return corpus, index


def _manifest(index: Path) -> Path:
    return index / "versions" / (index / CURRENT).read_text(encoding="utf-8").strip() / "manifest.json"


def _newer_format(index: Path) -> None:
    path = _manifest(index)
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["format_version"] = 5
    path.write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.parametrize("args", [("corpus/d1.txt",), (), ("corpus",), ("--allow-removal", "corpus/d1.txt")])
def test_an_index_of_a_newer_format_is_not_replaced_by_a_narrowed_run(four, args) -> None:
    corpus, index = four
    _newer_format(index)
    before = (index / CURRENT).read_text(encoding="utf-8")
    versions = sorted(p.name for p in (index / "versions").iterdir())
    run = sesam("ingest", *args, "--index", str(index), "--corpus", str(corpus), "--json", cwd=corpus.parent)
    assert run.returncode == 2, run.stdout + run.stderr
    out = json.loads(run.stdout)
    assert out["error"] == "index-corrupt" and out["served_version"] == before.strip()
    assert "has index format 5" in run.stderr and "nothing was changed" in run.stderr
    assert "sesam ingest --rebuild" in run.stderr
    assert "Traceback" not in run.stderr
    assert (index / CURRENT).read_text(encoding="utf-8") == before
    assert sorted(p.name for p in (index / "versions").iterdir()) == versions


def test_a_damaged_manifest_is_refused_and_rebuild_builds_a_fresh_index(four) -> None:
    corpus, index = four
    _manifest(index).write_text("{not json", encoding="utf-8")
    before = (index / CURRENT).read_text(encoding="utf-8")
    run = sesam("ingest", "corpus/d2.txt", "--index", str(index), "--corpus", str(corpus), cwd=corpus.parent)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "is not valid JSON" in run.stderr and "no indexed document was removed" not in run.stdout
    assert (index / CURRENT).read_text(encoding="utf-8") == before
    run = sesam("ingest", "--rebuild", "--index", str(index), "--corpus", str(corpus), cwd=corpus.parent)
    assert run.returncode == 0, run.stdout + run.stderr
    assert served(index)[1] == {"d1-txt", "d2-txt", "d3-txt", "d4-txt"}


def test_a_corpus_folder_that_is_a_file_is_refused(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("Ett kooperativ ägs av sina medlemmar och drivs demokratiskt.\n", encoding="utf-8")
    index = tmp_path / "index"
    run = sesam("ingest", "--index", str(index), "--corpus", "notes.txt", "--json", cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert json.loads(run.stdout)["error"] == "ingest-failed"
    assert "The corpus folder notes.txt is a file" in run.stderr
    assert not (index / CURRENT).exists()


def test_a_corpus_folder_that_is_a_file_leaves_the_served_index(four) -> None:
    corpus, index = four
    before = served(index)
    run = sesam("ingest", "--index", str(index), "--corpus", str(corpus / "d1.txt"), cwd=corpus.parent)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "is a file, not a folder" in run.stderr
    assert served(index) == before
