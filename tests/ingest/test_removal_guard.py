"""A run must never empty the served index by mistake, and one bad directory entry must not stop a run.

Real files, real `sesam ingest` subprocesses. Root reads chmod 000 files, so when the tests run as root the
permission tests run `sesam` through ``setpriv`` without the capabilities that override file permissions.
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
from ingest.store import CURRENT, IndexVersion
from tests.conftest import make_settings
from tests.pdfmaker import write_pdf

ALPHA = [["Kooperativ i Jämtland", "Ett kooperativ ägs av sina medlemmar och drivs demokratiskt."]]
BETA = [["Idéburet offentligt partnerskap", "IOP är en samverkansform mellan kommun och förening."]]
GAMMA = [["Sociala företag", "Arbetsintegrerande sociala företag ger arbete åt den som står långt från det."]]


@pytest.fixture()
def indexed(tmp_path: Path) -> tuple[Path, Path]:
    """A corpus with alpha.pdf, beta.pdf and sub/gamma.pdf, indexed."""
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    write_pdf(corpus / "alpha.pdf", ALPHA, title="Alpha")
    write_pdf(corpus / "beta.pdf", BETA, title="Beta")
    write_pdf(corpus / "sub" / "gamma.pdf", GAMMA, title="Gamma")
    index = tmp_path / "index"
    report = run_ingest(make_settings(corpus_dir=corpus, index_dir=index), progress=False)
    assert len(report.ingested) == 3
    return corpus, index


def unprivileged_prefix() -> list[str]:
    """What to run a command under so that chmod 000 makes a file unreadable to it, also as root."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: chmod 000 cannot make a file unreadable")
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]


def sesam(*args: str, cwd: Path, unprivileged: bool = False) -> subprocess.CompletedProcess:
    prefix = unprivileged_prefix() if unprivileged else []
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESAM_")}
    return subprocess.run([*prefix, sys.executable, "-m", "tui.cli", *args, "--no-progress"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def served(index: Path) -> tuple[str, set[str]]:
    version = IndexVersion.open(index)
    try:
        return version.path.name, {d.doc_id for d in version.documents()}
    finally:
        version.close()


@pytest.mark.parametrize("given", [["corpsu"], ["corpus/alpha2.pdf"], ["corpus/beta.pdf", "corpus/nosuch.pdf"]])
def test_a_mistyped_path_is_an_error_naming_it_and_changes_nothing(indexed, given: list[str]) -> None:
    """A given file or folder that does not exist is exit 2 with its name; never a removal plan, never advice to
    pass --allow-removal (which would empty the index), also with --json and with --allow-removal itself."""
    corpus, index = indexed
    before = served(index)
    lock = index / "ingest.lock"
    lock.unlink()
    for extra in ([], ["--json"], ["--allow-removal"]):
        run = sesam("ingest", *given, "--index", str(index), "--corpus", str(corpus), *extra, cwd=corpus.parent)
        assert run.returncode == 2, run.stdout + run.stderr
        assert f"No such file or folder: {given[-1]}; check the name" in run.stderr
        assert "remove" not in run.stderr and "--allow-removal" not in run.stderr
        assert run.stdout == "" if "--json" not in extra else json.loads(run.stdout)["error"] == "ingest-failed"
        assert served(index) == before and not lock.exists()


def test_a_moved_away_or_empty_corpus_is_refused_unless_removal_is_allowed(indexed) -> None:
    corpus, index = indexed
    before = served(index)
    corpus.rename(corpus.parent / "corpus.off")
    run = sesam("ingest", "--index", str(index), "--corpus", str(corpus), cwd=corpus.parent)
    assert run.returncode != 0 and "does not exist" in run.stderr
    assert served(index) == before
    corpus.mkdir()  # an empty folder: every document would go
    run = sesam("ingest", "--index", str(index), "--corpus", str(corpus), cwd=corpus.parent)
    assert run.returncode != 0 and "would remove all 3 indexed documents" in run.stderr
    assert served(index) == before
    assert not list(index.glob("tmp-*"))
    run = sesam("ingest", "--index", str(index), "--corpus", str(corpus), "--allow-removal", cwd=corpus.parent)
    assert run.returncode == 0, run.stderr
    assert served(index)[1] == set()


def test_a_share_above_the_setting_is_refused(indexed) -> None:
    corpus, index = indexed
    (corpus / "alpha.pdf").unlink()
    (corpus / "beta.pdf").unlink()
    settings = make_settings(corpus_dir=corpus, index_dir=index, max_removal_share=0.5)
    from ingest.errors import IngestError

    before = served(index)
    with pytest.raises(IngestError, match=r"remove 2 of the 3 indexed documents, more than the allowed share of 50%"):
        run_ingest(settings, progress=False)
    assert served(index) == before
    report = run_ingest(settings, progress=False, allow_removal=True)
    assert sorted(report.removed) == ["alpha", "beta"]


def test_an_unreadable_folder_or_file_keeps_its_indexed_version_and_fails_the_run(indexed) -> None:
    corpus, index = indexed
    before = served(index)
    (corpus / "sub").chmod(0o000)
    (corpus / "beta.pdf").chmod(0o000)
    try:
        run = sesam("ingest", "--index", str(index), "--corpus", str(corpus), cwd=corpus.parent, unprivileged=True)
    finally:
        (corpus / "sub").chmod(0o755)
        (corpus / "beta.pdf").chmod(0o644)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "failed: " + str(corpus / "sub") + ": folder cannot be read (Permission denied)" in run.stdout
    assert "beta.pdf: cannot be read (Permission denied); its indexed version is kept" in run.stdout
    assert "removed 0" in run.stdout
    assert served(index) == before  # nothing removed, no new version written


def test_a_symlink_loop_and_an_undecodable_name_are_skipped_and_the_run_goes_on(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_pdf(corpus / "alpha.pdf", ALPHA, title="Alpha")
    os.symlink("self.pdf", corpus / "self.pdf")  # points at itself
    os.symlink(corpus / "b.pdf", corpus / "a.pdf")
    os.symlink(corpus / "a.pdf", corpus / "b.pdf")  # a two-link loop
    write_pdf(Path(os.fsdecode(bytes(corpus) + b"/bad-\xff-name.pdf")), BETA)
    index = tmp_path / "index"
    run = sesam("ingest", "--index", str(index), "--corpus", str(corpus), cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert "ingested 1, unchanged 0, removed 0, failed 4" in run.stdout
    assert run.stdout.count("symbolic link loop; not followed") == 3
    assert "bad-\\udcff-name.pdf: the file name is not valid UTF-8; rename the file" in run.stdout
    assert served(index)[1] == {"alpha"}
    assert (index / CURRENT).is_file()


def recorded_corpus(index: Path) -> str:
    version = IndexVersion.open(index)
    try:
        return version.manifest.get("corpus_dir")
    finally:
        version.close()


def test_a_run_from_another_corpus_folder_is_refused_and_says_which_folder_the_index_is_from(indexed) -> None:
    """Advice without the --corpus of the first run (`sesam ingest --rebuild --index idx`) mirrored ./corpus and
    replaced 7 documents with its 2, saying "removed 0". The index records its folder; a run from another one that
    would remove documents is refused, with the command that updates it from its own."""
    corpus, index = indexed
    assert recorded_corpus(index) == str(corpus.resolve())
    other = corpus.parent / "other"
    other.mkdir()
    shutil.copy(corpus / "alpha.pdf", other / "alpha.pdf")
    before = served(index)
    for extra in ([], ["--rebuild"]):
        run = sesam("ingest", *extra, "--index", str(index), "--corpus", str(other), cwd=corpus.parent)
        assert run.returncode == 1, run.stdout + run.stderr
        said = " ".join(run.stderr.split())
        assert f"This index was built from the corpus folder {corpus.resolve()}, and this run reads {other}" in said
        assert "remove 2 of the 3 indexed documents" in said
        assert f"`sesam ingest --corpus {corpus.resolve()} --index {index}` to update it from its own folder" in said
        assert served(index) == before
    run = sesam("ingest", "--index", str(index), "--corpus", str(other), "--allow-removal", cwd=corpus.parent)
    assert run.returncode == 0, run.stderr
    assert served(index)[1] == {"alpha"} and recorded_corpus(index) == str(other.resolve())


def test_a_corpus_folder_moved_whole_is_recorded_without_embedding_anything(indexed) -> None:
    corpus, index = indexed
    moved = corpus.parent / "moved"
    corpus.rename(moved)
    report = run_ingest(make_settings(corpus_dir=moved, index_dir=index), progress=False)
    assert report.version is not None and not report.ingested and not report.removed
    assert len(report.unchanged) == 3 and recorded_corpus(index) == str(moved.resolve())
    report = run_ingest(make_settings(corpus_dir=moved, index_dir=index), progress=False)
    assert report.version is None  # recorded: the next run changes nothing


def test_advice_after_an_unreadable_index_keeps_the_corpus_folder(indexed) -> None:
    corpus, index = indexed
    (index / "versions" / served(index)[0] / "manifest.json").write_text("{broken", encoding="utf-8")
    other = corpus.rename(corpus.parent / "mycorpus")  # not the default folder, which advice may leave out
    run = sesam("ingest", "--index", str(index), "--corpus", str(other), cwd=corpus.parent)
    assert run.returncode == 2
    assert f"`sesam ingest --rebuild --corpus {other} --index {index}`" in " ".join(run.stderr.split())


def test_a_subfolder_or_file_run_from_elsewhere_keeps_the_recorded_corpus(indexed, monkeypatch) -> None:
    """A run given a subfolder (or files) from another working folder, without --corpus, recorded that folder's
    ./corpus, which did not exist, and the next run from the real corpus was refused as "another folder"."""
    corpus, index = indexed
    elsewhere = corpus.parent / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for given in ([corpus / "sub"], [corpus / "alpha.pdf"]):
        run_ingest(make_settings(corpus_dir=Path("corpus"), index_dir=index), given, progress=False)
        assert recorded_corpus(index) == str(corpus)
    (corpus / "beta.pdf").unlink()
    report = run_ingest(make_settings(corpus_dir=corpus, index_dir=index), progress=False)
    assert "beta" in report.removed


def test_a_corpus_link_moved_to_a_new_release_is_the_same_corpus(tmp_path: Path) -> None:
    """The folder is recorded as given, links kept: "corpus" pointing at releases/r2 instead of r1 was taken for
    another folder, and withdrawing a document from the new release was refused."""
    for release, docs in (("r1", (ALPHA, BETA, GAMMA)), ("r2", (ALPHA, BETA))):
        (tmp_path / "releases" / release).mkdir(parents=True)
        for n, pages in enumerate(docs):
            write_pdf(tmp_path / "releases" / release / f"d{n}.pdf", pages, title=f"D{n}")
    link = tmp_path / "corpus"
    link.symlink_to(tmp_path / "releases" / "r1")
    settings = make_settings(corpus_dir=link, index_dir=tmp_path / "index")
    run_ingest(settings, progress=False)
    assert recorded_corpus(tmp_path / "index") == str(link)
    link.unlink()
    link.symlink_to(tmp_path / "releases" / "r2")
    assert run_ingest(settings, progress=False).removed == ("d2",)


def test_an_older_index_gets_its_corpus_recorded_by_a_whole_run_only(indexed, monkeypatch) -> None:
    corpus, index = indexed
    version = index / "versions" / served(index)[0]
    manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
    del manifest["corpus_dir"]  # as an index written before the record
    (version / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    monkeypatch.chdir(corpus.parent.parent)  # no ./corpus there
    write_pdf(corpus / "delta.pdf", GAMMA, title="Delta")
    run_ingest(make_settings(corpus_dir=Path("corpus"), index_dir=index), [corpus / "delta.pdf"], progress=False)
    assert recorded_corpus(index) is None  # a file added from elsewhere tells nothing of the corpus folder
    run_ingest(make_settings(corpus_dir=corpus, index_dir=index), progress=False)
    assert recorded_corpus(index) == str(corpus)


def test_an_older_index_is_recorded_by_its_next_whole_run_even_when_nothing_changed(indexed) -> None:
    """An index written before the record wrote no version while nothing changed, so it never got one, and a
    later run from another folder was not refused."""
    corpus, index = indexed
    version = index / "versions" / served(index)[0]
    manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
    del manifest["corpus_dir"]
    (version / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    report = run_ingest(make_settings(corpus_dir=corpus, index_dir=index), progress=False)
    assert report.version is not None and report.embedded_chunks == 0 and recorded_corpus(index) == str(corpus)
    assert run_ingest(make_settings(corpus_dir=corpus, index_dir=index), progress=False).version is None


def test_a_corpus_moved_away_is_no_reason_to_refuse_the_new_folder(indexed) -> None:
    """The folder the index was built from is gone (moved, or the index copied to another machine): the refusal
    sent the user to it, and running that was refused in turn, since it did not exist."""
    corpus, index = indexed
    moved = corpus.rename(corpus.parent / "moved")
    (moved / "beta.pdf").unlink()  # withdrawn while moving
    report = run_ingest(make_settings(corpus_dir=moved, index_dir=index), progress=False)
    assert report.removed == ("beta",) and recorded_corpus(index) == str(moved)
