"""Paths given to `sesam ingest`: a folder mirrors its own subtree only, and a file from outside the corpus folder
is indexed with a warning that the next ingest of the corpus removes it. Real PDFs, real index folders."""

from __future__ import annotations

import json

from ingest.pipeline import run_ingest
from tests.conftest import make_settings
from tests.ingest.test_empty_and_rebuild import sesam_ingest
from tests.ingest.test_removal_guard import GAMMA, indexed, served  # noqa: F401 - indexed is a fixture
from tests.pdfmaker import write_pdf

DELTA = [["Föreningar", "En ideell förening har stadgar, styrelse och årsmöte."]]


def test_a_subfolder_mirrors_its_own_subtree_and_keeps_the_documents_elsewhere(indexed) -> None:  # noqa: F811
    corpus, index = indexed
    settings = make_settings(corpus_dir=corpus, index_dir=index)
    write_pdf(corpus / "sub" / "delta.pdf", DELTA, title="Delta")
    (corpus / "sub" / "gamma.pdf").unlink()
    (corpus / "beta.pdf").unlink()  # outside corpus/sub: not this run's business
    report = run_ingest(settings, [corpus / "sub"], progress=False)
    assert report.ingested == ("sub/delta",) and report.removed == ("sub/gamma",), report
    assert sorted(report.unchanged) == ["alpha", "beta"] and not report.failed
    assert served(index)[1] == {"alpha", "beta", "sub/delta"}
    report = run_ingest(settings, progress=False)  # the whole corpus: beta's file is gone
    assert report.removed == ("beta",)
    assert served(index)[1] == {"alpha", "sub/delta"}


def test_a_folder_given_with_a_file_still_mirrors_the_folder(indexed) -> None:  # noqa: F811
    """`sesam ingest corpus/sub corpus/alpha.pdf`: only a run of files alone adds without removing; with a folder
    among the paths, a document whose file was deleted under that folder is removed, or it would stay served and
    cited. Documents outside the folder and not given (beta) are still not this run's business."""
    corpus, index = indexed
    settings = make_settings(corpus_dir=corpus, index_dir=index)
    write_pdf(corpus / "sub" / "delta.pdf", DELTA, title="Delta")
    (corpus / "sub" / "gamma.pdf").unlink()
    report = run_ingest(settings, [corpus / "sub", corpus / "alpha.pdf"], progress=False)
    assert report.removed == ("sub/gamma",) and report.ingested == ("sub/delta",), report
    assert not report.files_only and not report.failed
    assert served(index)[1] == {"alpha", "beta", "sub/delta"}


def test_a_file_outside_the_corpus_is_indexed_with_a_warning(indexed, capsys) -> None:  # noqa: F811
    corpus, index = indexed
    outside = corpus.parent / "elsewhere" / "epsilon.pdf"
    outside.parent.mkdir()
    write_pdf(outside, GAMMA, title="Epsilon")
    code, out, err = sesam_ingest(capsys, str(outside), "--index", str(index), "--corpus", str(corpus))
    assert code == 0, out + err
    warning = (f"sesam: warning: {outside} is outside the corpus folder {corpus}; the next `sesam ingest` of the "
               f"corpus removes it from the index unless you copy it into {corpus}")
    assert warning in err and err.count("warning") == 1, err
    [epsilon] = [d for d in served(index)[1] if d.startswith("~outside/epsilon-")]  # never a corpus file's id
    (corpus / "sub" / "gamma.pdf").write_bytes(outside.read_bytes())  # a file inside the corpus: no warning
    code, out, err = sesam_ingest(capsys, str(corpus / "sub" / "gamma.pdf"), "--index", str(index), "--corpus",
                                  str(corpus))
    # epsilon's bytes: its rows are copied, not embedded again
    assert code == 0 and "warning" not in err, out + err
    assert f"copied: {epsilon} -> sub/gamma (not embedded again)" in out, out
    write_pdf(outside, DELTA, title="Epsilon")
    code, out, err = sesam_ingest(capsys, str(outside), "--index", str(index), "--corpus", str(corpus), "--json")
    report = json.loads(out)
    assert code == 0 and report["ingested"] == [epsilon]
    assert report["warnings"] == [warning.removeprefix("sesam: warning: ")] and warning in err
    code, out, err = sesam_ingest(capsys, "--index", str(index), "--corpus", str(corpus), "--json")
    assert code == 0 and json.loads(out)["removed"] == [epsilon] and json.loads(out)["warnings"] == []


def test_files_inside_and_outside_the_corpus_in_one_run_get_the_ids_of_their_own_folder(indexed, capsys) -> None:  # noqa: F811
    """`sesam ingest corpus/sub/gamma.pdf /elsewhere/epsilon.pdf`: gamma keeps the id a plain ingest gives it
    (sub/gamma, not a slug of the common parent folder), epsilon one of the outside namespace (its name and a hash
    of its path); a later plain ingest then sees gamma as unchanged and removes only epsilon."""
    corpus, index = indexed
    outside = corpus.parent / "elsewhere" / "epsilon.pdf"
    outside.parent.mkdir()
    write_pdf(outside, GAMMA, title="Epsilon")
    write_pdf(corpus / "sub" / "gamma.pdf", DELTA, title="Gamma")  # changed: this run loads it again
    code, out, err = sesam_ingest(capsys, str(corpus / "sub" / "gamma.pdf"), str(outside), "--index", str(index),
                                  "--corpus", str(corpus), "--json")
    report = json.loads(out)
    assert code == 0, out + err
    gamma, epsilon = sorted(report["ingested"])
    assert epsilon.startswith("~outside/epsilon-") and gamma == "sub/gamma" and report["removed"] == [], report
    assert served(index)[1] == {"alpha", "beta", "sub/gamma", epsilon}
    code, out, err = sesam_ingest(capsys, "--index", str(index), "--corpus", str(corpus), "--json")
    report = json.loads(out)
    assert code == 0 and report["removed"] == [epsilon] and report["ingested"] == [], report
    assert served(index)[1] == {"alpha", "beta", "sub/gamma"}
