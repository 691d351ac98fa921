"""A served index this sesam cannot read, and a corpus folder that is a file: refused, nothing changed.

Real files, real `sesam ingest` subprocesses. Before: a manifest that could not be read (damaged, or written by a
newer sesam) was taken for no index, so `sesam ingest corpus/d1.txt` served a new version holding that one file in
place of four documents and said "no indexed document was removed", exit 0; and `--corpus notes.txt` indexed the
file as a document with the path ".".
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.pipeline import run_ingest
from ingest.store import CURRENT
from tests.conftest import CORPUS, EVAL, REPO, make_settings
from tests.ingest.test_removal_guard import sesam, served, unprivileged_prefix


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


def test_a_corpus_folder_that_is_a_file_advises_what_fits_the_file(tmp_path: Path) -> None:
    """The advice gives the file as a PATH only when it is a document sesam reads, and then with --corpus of its
    folder, so following it indexes the file inside the corpus folder (before: `sesam ingest mc/sources.toml
    --index index`, which failed as an unsupported type, and for a document no --corpus: an ~outside/ id that the
    next plain run removes)."""
    corpus = tmp_path / "mc"
    corpus.mkdir()
    (corpus / "sources.toml").write_text('["notes.txt"]\ntitle = "Anteckningar"\n', encoding="utf-8")
    (corpus / "notes.txt").write_text("Ett kooperativ ägs av sina medlemmar och drivs demokratiskt.\n",
                                      encoding="utf-8")
    own = sesam("ingest", "--index", "index", "--corpus", "mc/sources.toml", cwd=tmp_path)
    assert own.returncode == 2, own.stdout + own.stderr
    assert "`sesam ingest --corpus mc --index index`." in own.stderr and "PATH" not in own.stderr
    document = sesam("ingest", "--index", "index", "--corpus", "mc/notes.txt", cwd=tmp_path)
    assert document.returncode == 2, document.stdout + document.stderr
    assert "`sesam ingest --corpus mc --index index`, or add only this file" in document.stderr
    advised = document.stderr.split("as a PATH: `")[1].split("`")[0].split()
    assert advised == ["sesam", "ingest", "mc/notes.txt", "--corpus", "mc", "--index", "index"]
    run = sesam(*advised[1:], "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    [doc_id] = json.loads(run.stdout)["ingested"]
    assert not doc_id.startswith("~outside/")


def _cli(*args: str, cwd: Path, unprivileged: bool = False) -> subprocess.CompletedProcess:
    """A real `sesam` subprocess (any subcommand); ``unprivileged`` drops root's right to read any file."""
    prefix = unprivileged_prefix() if unprivileged else []
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESAM_")}
    config = str(REPO / "tests" / "empty.toml")
    return subprocess.run([*prefix, sys.executable, "-m", "tui.cli", *args, "--config", config], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture()
def copied(shipped_index: Path, tmp_path: Path) -> Path:
    """A copy of the shipped index that a test may damage."""
    return Path(shutil.copytree(shipped_index, tmp_path / "index"))


@pytest.mark.parametrize("argv", [("status",), ("ask", "Vad är social ekonomi?"), ("eval", str(EVAL / "dev.jsonl"))])
def test_an_index_path_that_is_a_file_is_a_sentence_not_a_traceback(tmp_path: Path, argv) -> None:
    """Before: NotADirectoryError 'afile/CURRENT', a traceback and exit 1 ("internal" under --json)."""
    (tmp_path / "afile").write_text("", encoding="utf-8")
    run = _cli(*argv, "--index", "afile", "--json", cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert json.loads(run.stdout)["error"] == "no-index" and "Traceback" not in run.stderr
    assert "sesam: The index path afile is a file, not a folder; point --index" in run.stderr


def test_a_manifest_without_its_embedder_is_refused_with_a_sentence(copied: Path) -> None:
    """Before: KeyError('embedder') from status and ingest, exit 1 "internal"."""
    manifest = _manifest(copied)
    data = json.loads(manifest.read_text(encoding="utf-8"))
    del data["embedder"]
    manifest.write_text(json.dumps(data), encoding="utf-8")
    for argv in (("status",), ("ingest", "--no-progress", "--corpus", str(CORPUS))):
        run = _cli(*argv, "--index", str(copied), "--json", cwd=copied.parent)
        assert run.returncode == 2, run.stdout + run.stderr
        assert json.loads(run.stdout)["error"] == "index-corrupt" and "Traceback" not in run.stderr
        assert "lacks 'embedder'" in run.stderr


def test_an_index_this_user_may_not_read_asks_for_permissions_not_a_rebuild(copied: Path) -> None:
    """Before: PermissionError tracebacks (CURRENT, manifest.json); now exit 2 and the advice to check who may read."""
    manifest = _manifest(copied)
    manifest.chmod(0)
    run = _cli("ingest", "--no-progress", "--corpus", str(CORPUS), "--index", str(copied), "--json", cwd=copied.parent,
               unprivileged=True)
    assert run.returncode == 2, run.stdout + run.stderr
    assert json.loads(run.stdout)["error"] == "index-corrupt" and "Traceback" not in run.stderr
    assert "(Permission denied); check that this user may read the index folder" in run.stderr
    assert "nothing was changed" in run.stderr and "--rebuild" not in run.stderr
    (copied / CURRENT).chmod(0)
    run = _cli("status", "--index", str(copied), "--json", cwd=copied.parent, unprivileged=True)
    assert run.returncode == 2, run.stdout + run.stderr
    assert json.loads(run.stdout)["error"] == "index-corrupt" and "--rebuild" not in run.stderr
    assert f"{copied / CURRENT} cannot be read (Permission denied); check that this user may read" in run.stderr


@pytest.mark.parametrize("name", ["meta.sqlite", "embeddings.npy", "vectors.faiss"])
def test_a_data_file_this_user_may_not_read_is_not_called_corrupt(copied: Path, name: str) -> None:
    """Before: "cannot be read (unable to open database file); run `sesam ingest --rebuild ...`": a re-embedding of
    the corpus advised for what chmod or chown fixes."""
    path = _manifest(copied).parent / name
    path.chmod(0)
    run = _cli("status", "--index", str(copied), "--json", cwd=copied.parent, unprivileged=True)
    assert run.returncode == 2, run.stdout + run.stderr
    assert json.loads(run.stdout)["error"] == "index-corrupt" and "--rebuild" not in run.stderr
    assert f"{path} cannot be read (Permission denied); check that this user may read the index folder" in run.stderr


def test_the_command_suggested_for_a_corpus_file_keeps_the_index_and_quotes_the_path(tmp_path: Path) -> None:
    """Before: "`sesam ingest my notes.txt`": two PATHs, and without --index it built .sesam/index, not the index
    that was asked for."""
    (tmp_path / "my notes.txt").write_text("Ett kooperativ ägs av sina medlemmar.\n", encoding="utf-8")
    run = sesam("ingest", "--index", "idx", "--corpus", "my notes.txt", cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "as a PATH: `sesam ingest 'my notes.txt' --corpus . --index idx`." in run.stderr
