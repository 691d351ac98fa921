"""Document ids and the entries a walk accepts, through the real `sesam ingest` on real files and index folders:
a file from outside the corpus never takes a corpus document's id, names that differ only in the case of their
extension get two ids, a FIFO is reported and never opened, and README.md is sesam's own only at the corpus top."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.store import IndexVersion
from tests.conftest import REPO
from tests.ingest.test_empty_and_rebuild import rows_of, sesam_ingest

D1 = "Ett kooperativ ägs av sina medlemmar och drivs demokratiskt.\n"
D2 = "Stiftelser förvaltar kapital för ett ändamål.\n"
OTHER = "Idéburet offentligt partnerskap är en samverkansform mellan kommun och förening.\n"
THIRD = "Arbetsintegrerande sociala företag ger arbete åt den som står långt från det.\n"


def _documents(index: Path) -> dict[str, str]:
    """doc_id -> the path stored for it in the served version."""
    version = IndexVersion.open(index)
    try:
        return {d.doc_id: d.path for d in version.documents()}
    finally:
        version.close()


def _ingest(capsys, corpus: Path, index: Path, *paths: Path) -> tuple[int, dict, str]:
    code, out, err = sesam_ingest(capsys, *map(str, paths), "--index", str(index), "--corpus", str(corpus), "--json")
    return code, json.loads(out), err


@pytest.fixture()
def texts(tmp_path: Path) -> tuple[Path, Path]:
    """corpus/d1.txt and corpus/d2.txt, indexed."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "d1.txt").write_text(D1, encoding="utf-8")
    (corpus / "d2.txt").write_text(D2, encoding="utf-8")
    index = tmp_path / "index"
    return corpus, index


def test_a_file_from_outside_the_corpus_never_replaces_the_corpus_document_of_the_same_name(texts, capsys) -> None:
    """Before: `sesam ingest /elsewhere/d1.txt` got the id d1-txt, replaced the text of corpus/d1.txt's document
    while its path stayed d1.txt, and two outside files named d1.txt replaced each other."""
    corpus, index = texts
    assert _ingest(capsys, corpus, index)[0] == 0
    other, third = corpus.parent / "other" / "d1.txt", corpus.parent / "third" / "d1.txt"
    for path, text in ((other, OTHER), (third, THIRD)):
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
    code, report, err = _ingest(capsys, corpus, index, other)
    assert code == 0, err
    [outside] = report["ingested"]
    assert outside.startswith("~outside/d1-txt-") and outside != "d1-txt", report
    assert "d1-txt" in report["unchanged"] and f"{other} is outside the corpus folder" in err
    assert rows_of(index, "d1-txt")[0] == [D1.strip()]  # the corpus document keeps its own text
    assert rows_of(index, outside)[0] == [OTHER.strip()]
    documents = _documents(index)
    assert documents["d1-txt"] == "d1.txt" and documents[outside] == "d1.txt"  # the file name: no server path
    code, report, _ = _ingest(capsys, corpus, index, other)  # the same file again: the same id
    assert code == 0 and report["ingested"] == [] and outside in report["unchanged"] and not report["new_version"]
    code, report, _ = _ingest(capsys, corpus, index, third)  # another folder, the same name: another id
    [third_id] = report["ingested"]
    assert code == 0 and third_id.startswith("~outside/d1-txt-") and third_id != outside
    assert set(_documents(index)) == {"d1-txt", "d2-txt", outside, third_id}
    code, report, _ = _ingest(capsys, corpus, index, third.parent)  # a folder outside: the same namespace
    assert code == 0 and report["ingested"] == [] and third_id in report["unchanged"], report
    code, report, _ = _ingest(capsys, corpus, index)  # the warning was true: the corpus ingest removes them
    assert code == 0 and sorted(report["removed"]) == sorted([outside, third_id]) and report["ingested"] == []
    assert set(_documents(index)) == {"d1-txt", "d2-txt"}
    assert rows_of(index, "d1-txt")[0] == [D1.strip()]


def test_names_that_differ_only_in_the_case_of_the_extension_get_two_ids(texts, capsys) -> None:
    """Before: d1.txt and d1.TXT both became d1-txt, and adding one replaced the indexed other."""
    corpus, index = texts
    assert _ingest(capsys, corpus, index)[0] == 0
    (corpus / "d1.TXT").write_text(OTHER, encoding="utf-8")
    code, report, err = _ingest(capsys, corpus, index)
    assert code == 0 and report["removed"] == [], err
    [upper] = report["ingested"]
    assert upper.startswith("d1-txt-") and "d1-txt" in report["unchanged"], report
    assert rows_of(index, "d1-txt")[0] == [D1.strip()] and rows_of(index, upper)[0] == [OTHER.strip()]
    assert _documents(index)[upper] == "d1.TXT"


def _sesam(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "SESAM_CONFIG": str(REPO / "tests" / "empty.toml")}
    return subprocess.run([sys.executable, "-m", "tui.cli", "ingest", *args, "--no-progress"], capture_output=True,
                          text=True, env=env, timeout=120, cwd=tmp_path)  # a regression blocks: the timeout fails it


def test_a_fifo_in_the_corpus_is_reported_and_never_opened(texts, tmp_path: Path) -> None:
    """Before: hashing corpus/pipe.txt, a FIFO, blocked in open() for ever while the ingest held the lock."""
    corpus, index = texts
    os.mkfifo(corpus / "pipe.txt")
    (corpus / "link.md").symlink_to(corpus / "pipe.txt")  # followed: what it points to counts
    reason = "not a regular file (a named pipe, FIFO); sesam reads only ordinary files and did not open it"
    run = _sesam(tmp_path, "--corpus", str(corpus), "--index", str(index))
    assert run.returncode == 1, run.stdout + run.stderr
    failed = [x.strip() for x in run.stdout.splitlines() if x.strip().startswith("failed:")]
    assert len(failed) == 2 and all(reason in x for x in failed), run.stdout
    assert {x.split(": ")[1].rsplit("/", 1)[-1] for x in failed} == {"pipe.txt", "link.md"}
    assert "ingested: d1-txt" in run.stdout and "ingested: d2-txt" in run.stdout
    run = _sesam(tmp_path, str(corpus / "pipe.txt"), "--corpus", str(corpus), "--index", str(index), "--json")
    report = json.loads(run.stdout)
    assert run.returncode == 1 and [f["reason"] for f in report["failed"]] == [
        reason + ": replace it with a copy of the document, or remove it from the corpus folder"], report


def test_readme_is_sesams_own_only_directly_in_the_corpus_folder(texts, capsys) -> None:
    """Before: corpus/policy/README.md was passed over without a word on every plain ingest; given by name it was
    indexed, and the next plain ingest removed it again."""
    corpus, index = texts
    (corpus / "policy").mkdir()
    (corpus / "policy" / "README.md").write_text("# Policy\n\n" + OTHER, encoding="utf-8")
    (corpus / "README.md").write_text("# Om korpusen\n\nFilerna här är kommunens.\n", encoding="utf-8")
    (corpus / "sources.toml").write_text('["d1.txt"]\ntitle = "Kooperativ"\n', encoding="utf-8")
    code, report, err = _ingest(capsys, corpus, index)
    assert code == 0 and report["failed"] == [] and report["skipped"] == [], err
    [policy] = [d for d in report["ingested"] if d.startswith("policy/")]
    assert sorted(report["ingested"]) == sorted(["d1-txt", "d2-txt", policy]) and policy.startswith("policy/readme-md")
    assert _documents(index)[policy] == "policy/README.md"
    code, report, _ = _ingest(capsys, corpus, index, corpus / "policy" / "README.md")  # by name: the same document
    assert code == 0 and sorted(report["unchanged"]) == sorted(["d1-txt", "d2-txt", policy])
    assert not report["new_version"]
    code, report, _ = _ingest(capsys, corpus, index)  # and a plain ingest keeps it
    assert code == 0 and report["removed"] == [] and policy in report["unchanged"]
    code, report, err = _ingest(capsys, corpus, index, corpus / "README.md")  # the corpus folder's own: refused
    assert code == 1 and report["ingested"] == [] and not report["new_version"], report
    assert report["failed"] == [{"path": str(corpus / "README.md"), "reason": (
        "one of sesam's own files (sources.toml, glossary.toml, vocabulary.toml, README.md directly in the corpus "
        "folder), not a document: leave it out of the command, or move it into a subfolder to index it")}], report
