"""`--json` output that scripts can rely on: every exit of `sesam ingest --json` and `sesam status --json` prints
exactly one JSON object on stdout, with the exit code of the run; the human sentence stays on stderr.

Real indexes built by the real command, real `sesam` subprocesses."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

CONFIG = str(REPO / "tests" / "empty.toml")


def sesam(*argv: str, config: str = CONFIG) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESAM_")}
    return subprocess.run([sys.executable, "-m", "tui.cli", *argv, "--config", config], cwd=REPO, capture_output=True,
                          text=True, timeout=300, env={**env, "PYTHONPATH": str(REPO)})


def one_object(run: subprocess.CompletedProcess) -> dict:
    """stdout holds exactly one JSON object (json.loads fails on anything before or after it)."""
    out = json.loads(run.stdout)
    assert isinstance(out, dict), run.stdout
    return out


@pytest.fixture()
def indexed(tmp_path: Path) -> tuple[Path, Path, str]:
    """A corpus of one text file, indexed by `sesam ingest --json`: (corpus, index, served version)."""
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / "kort.txt").write_text("Social ekonomi är föreningar, kooperativ och stiftelser.", encoding="utf-8")
    run = sesam("ingest", "--no-progress", "--json", "--index", str(index), "--corpus", str(corpus))
    assert run.returncode == 0, run.stderr
    report = one_object(run)
    assert report.get("error") is None and report["version"] == (index / "CURRENT").read_text().strip()
    return corpus, index, report["version"]


def test_ingest_json_while_another_ingest_holds_the_lock_prints_an_error_object(indexed) -> None:
    """Before: exit 2 with the sentence on stderr and nothing on stdout."""
    corpus, index, served = indexed
    with (index / "ingest.lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running `sesam ingest` holds it
        run = sesam("ingest", "--no-progress", "--json", "--index", str(index), "--corpus", str(corpus))
    assert run.returncode == 2, run.stdout + run.stderr
    out = one_object(run)
    assert out["error"] == "ingest-failed" and out["refused"] is False
    assert out["message"].startswith("Another `sesam ingest` is running on ") and "wait for it to finish" in out["message"]
    assert out["served_version"] == served and out["index_dir"] == str(index)
    assert "sesam: Another `sesam ingest` is running on" in run.stderr and "{" not in run.stderr


@pytest.mark.parametrize("case", ["mistyped path", "bad sources.toml", "missing config file", "unknown flag",
                                  "--index without a value"])
def test_every_other_refusal_of_ingest_json_prints_one_error_object(indexed, tmp_path: Path, case: str) -> None:
    """Every exit-2 object has the same keys; before, a usage error or an unreadable config file gave only
    ``error`` and ``message``."""
    corpus, index, served = indexed
    argv = ["ingest", "--no-progress", "--json", "--index", str(index), "--corpus", str(corpus)]
    config, code, said = CONFIG, "ingest-failed", "No such file or folder: "
    if case == "mistyped path":
        argv.append(str(corpus / "kort2.txt"))
    elif case == "bad sources.toml":
        (corpus / "sources.toml").write_text("[kort.txt\ntitle = 'x'\n", encoding="utf-8")
        code, said = "config", "is not valid TOML"
    elif case == "missing config file":
        config, code, said = str(tmp_path / "nosuch.toml"), "config", "does not exist; create it"
    elif case == "unknown flag":
        argv.append("--no-such-flag")
        code, said = "usage", "unrecognized arguments: --no-such-flag"
    else:  # the --config that follows is taken for nothing: no index can be named
        argv.append("--index")
        code, said = "usage", "argument --index: expected one argument"
    run = sesam(*argv, config=config)
    assert run.returncode == 2, run.stdout + run.stderr
    out = one_object(run)
    assert out["error"] == code and said in out["message"] and out["message"].endswith("."), out
    assert said in run.stderr  # the sentence for people is still there
    named = case != "--index without a value"
    assert out["refused"] is False and out["index_dir"] == (str(index) if named else None)
    assert out["served_version"] == (served if named else None)
    assert (index / "CURRENT").read_text().strip() == served


def test_status_json_of_a_missing_index_prints_an_error_object(tmp_path: Path) -> None:
    """Before: exit 2 with "There is no index at …" on stderr and nothing on stdout."""
    index = tmp_path / "index"
    run = sesam("status", "--json", "--index", str(index))
    assert run.returncode == 2, run.stdout + run.stderr
    out = one_object(run)
    assert out["error"] == "no-index" and out["index_dir"] == str(index) and out["version"] is None
    assert out["message"] == f"There is no index at {index}; run `sesam ingest --index {index}` first."
    assert out["message"] in run.stderr


def test_status_verify_json_of_a_corrupt_file_prints_the_failed_verification(indexed) -> None:
    """Before: exit 2 with the checksum sentence on stderr and nothing on stdout."""
    corpus, index, served = indexed
    ok = sesam("status", "--verify", "--json", "--index", str(index))
    assert ok.returncode == 0 and one_object(ok)["verified"] is True, ok.stderr
    with (index / "versions" / served / "embeddings.npy").open("r+b") as fh:
        fh.seek(200)
        fh.write(b"XXXX")
    run = sesam("status", "--verify", "--json", "--index", str(index))
    assert run.returncode == 2, run.stdout + run.stderr
    out = one_object(run)
    assert out["error"] == "index-corrupt" and out["verified"] is False and out["version"] == served
    assert "embeddings.npy fails its checksum" in out["message"] and out["message"] in run.stderr


def test_ingest_json_of_a_run_that_changes_nothing_names_the_version_that_stays_served(indexed) -> None:
    """Before: `"version": null`, so a script could not tell which version is served after a no-op run."""
    corpus, index, served = indexed
    run = sesam("ingest", "--no-progress", "--json", "--index", str(index), "--corpus", str(corpus))
    assert run.returncode == 0, run.stderr
    report = one_object(run)
    assert report["version"] == served and report["new_version"] is False and report["unchanged"] == ["kort-txt"]
    (corpus / "ny.txt").write_text("Kooperativ ägs av sina medlemmar.", encoding="utf-8")
    changed = one_object(sesam("ingest", "--no-progress", "--json", "--index", str(index), "--corpus", str(corpus)))
    assert changed["new_version"] is True and changed["version"] == (index / "CURRENT").read_text().strip() != served
    (corpus / "ny.txt").unlink()
    (corpus / "kort.txt").unlink()  # every document would go: refused, and the version served stays served
    refused = sesam("ingest", "--no-progress", "--json", "--index", str(index), "--corpus", str(corpus))
    out = one_object(refused)
    assert refused.returncode == 1 and out["refused"] is True and out["new_version"] is False
    assert out["version"] == changed["version"]


def test_status_and_ingest_json_of_a_current_that_is_not_text_print_one_error_object(tmp_path: Path) -> None:
    """Before: CURRENT holding bytes that are not UTF-8 gave an empty stdout and two tracebacks joined by "During
    handling of the above exception": the helper that adds the served version to the error object failed too."""
    index = tmp_path / "index"
    index.mkdir()
    (index / "CURRENT").write_bytes(b"\xff\xfe\x00")
    for argv in (("status",), ("ingest", "--no-progress", "--corpus", str(tmp_path))):
        run = sesam(*argv, "--json", "--index", str(index))
        assert run.returncode == 2, run.stdout + run.stderr
        out = one_object(run)
        assert out["error"] == "index-corrupt" and "CURRENT is not text" in out["message"], out
        assert "Traceback" not in run.stderr


def test_json_error_object_is_printed_when_what_the_subcommand_adds_fails(tmp_path: Path, monkeypatch, capsys) -> None:
    """The error object is printed whatever the helper that adds to it raises (a bug there must not leave stdout
    empty): here reading CURRENT raises a ValueError, first for the command and then again for the helper."""
    import ingest.store
    from tui.cli import main

    def broken(index_dir: Path) -> Path:
        raise ValueError("a bug")

    monkeypatch.setattr(ingest.store, "current_version_dir", broken)
    with pytest.raises(ValueError):
        main(["status", "--json", "--index", str(tmp_path), "--config", CONFIG])
    out = json.loads(capsys.readouterr().out)
    assert out["error"] == "internal" and "a bug" in out["message"] and out["version"] is None


def test_ingest_json_counts_have_the_same_keys_on_every_run_and_a_kept_failure_is_reported_once(indexed) -> None:
    """Before: "renamed", "copied" and "metadata_updated" were in "counts" only when a version was written (a
    script reading counts["renamed"] met a KeyError on a run that changed nothing), and a file that failed while
    its indexed version was kept was listed both in "unchanged" and in "failed" (counts adding up to more files
    than there are)."""
    corpus, index, served = indexed
    (corpus / "ny.txt").write_text("Kooperativ ägs av sina medlemmar.", encoding="utf-8")
    ingest = ("ingest", "--no-progress", "--json", "--index", str(index), "--corpus", str(corpus))
    written = one_object(sesam(*ingest))
    nothing = one_object(sesam(*ingest))
    assert written["new_version"] is True and nothing["new_version"] is False
    assert set(nothing["counts"]) == set(written["counts"]) >= {"renamed", "copied", "metadata_updated"}
    assert nothing["counts"]["renamed"] == nothing["counts"]["copied"] == nothing["counts"]["metadata_updated"] == 0
    (corpus / "ny.txt").write_bytes(b"")  # cut to nothing: it fails, and its indexed version is kept
    run = sesam(*ingest)
    assert run.returncode == 1, run.stdout + run.stderr
    report = one_object(run)
    [failed] = report["failed"]
    assert failed["path"].endswith("ny.txt") and failed["reason"].endswith("its indexed version is kept")
    assert report["unchanged"] == ["kort-txt"] and report["counts"]["documents"] == 2


def test_ingest_json_warns_of_a_text_read_as_windows_1252(indexed) -> None:
    """Before: only a bare log line on stderr said that a file was not UTF-8; the --json "warnings" (and the admin
    re-ingest report, which takes the same warnings) did not."""
    corpus, index, served = indexed
    (corpus / "latin.txt").write_bytes("Kooperativ i Västernorrland och Jämtland ägs av medlemmarna.".encode("cp1252"))
    run = sesam("ingest", "--no-progress", "--json", "--index", str(index), "--corpus", str(corpus))
    assert run.returncode == 0, run.stdout + run.stderr
    report = one_object(run)
    assert report["ingested"] == ["latin-txt"]
    [warning] = report["warnings"]
    assert "latin.txt is not UTF-8; it was read as Windows-1252 (Latin-1)" in warning
    assert f"sesam: warning: {warning}" in run.stderr
