"""A re-ingest never copies damaged rows from the served version, and metadata in sources.toml is checked.

Real PDFs, a real index on disk; the damage is the one `dd` does to a served version's embeddings.npy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ingest.pipeline import run_ingest
from ingest.store import IndexVersion
from tests.conftest import make_settings
from tests.pdfmaker import write_pdf

GAMMA = [["Sociala företag", "Arbetsintegrerande sociala företag ger arbete åt den som står långt från det."]]


def _served_version(index: Path) -> Path:
    return index / "versions" / (index / "CURRENT").read_text().strip()


def _corrupt(path: Path, offset: int = 200) -> None:
    """What `printf XXXX | dd of=path bs=1 seek=200 conv=notrunc` does."""
    with path.open("r+b") as fh:
        fh.seek(offset)
        fh.write(b"XXXX")


def test_a_damaged_served_version_is_re_embedded_not_copied(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    settings = make_settings(corpus_dir=corpus, index_dir=index)
    run_ingest(settings, progress=False)
    damaged = _served_version(index)
    _corrupt(damaged / "embeddings.npy")
    write_pdf(corpus / "gamma.pdf", GAMMA, title="Gamma")

    report = run_ingest(settings, progress=False)

    assert report.version is not None
    assert set(report.ingested) == {"alpha", "beta", "gamma"} and not report.unchanged
    assert len(report.warnings) == 1 and "embeddings.npy fails its checksum" in report.warnings[0]
    assert "loaded and embedded again" in report.warnings[0]
    version = IndexVersion.open(index, verify=True)  # raises IndexCorruptError on a bad checksum
    try:
        vectors = version.vectors(range(version.manifest["counts"]["chunks"]))
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)  # no garbage row (1.27e12) copied
    finally:
        version.close()
    assert damaged.name != version.path.name


def test_an_intact_served_version_is_still_copied(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    settings = make_settings(corpus_dir=corpus, index_dir=index)
    run_ingest(settings, progress=False)
    write_pdf(corpus / "gamma.pdf", GAMMA, title="Gamma")
    report = run_ingest(settings, progress=False)
    assert report.ingested == ("gamma",) and set(report.unchanged) == {"alpha", "beta"}
    assert not report.warnings and report.timings_s["verify"] >= 0


def test_bad_metadata_values_are_reported_and_ignored_the_rest_is_kept(corpus: Path, tmp_path: Path) -> None:
    sources = corpus / "sources.toml"
    sources.write_text('["alpha.pdf"]\ntitle = "Alfa"\nlanguage = "de"\ndate = "igår"\n\n'
                       '["beta.pdf"]\ntitle = "Beta-rapporten"\nlanguage = "sv"\ndate = "2021-03"\n'
                       'url = "javascript:alert(1)"\n', encoding="utf-8")
    index = tmp_path / "index"
    report = run_ingest(make_settings(corpus_dir=corpus, index_dir=index), progress=False)

    assert set(report.ingested) == {"alpha", "beta"} and not report.failed  # one bad entry stops nothing
    by_key = {w.split("] ")[1].split(" =")[0]: w for w in report.warnings}
    assert set(by_key) == {"language", "date", "url"}, report.warnings
    assert all(w.startswith(f"{sources}: [") for w in report.warnings)  # the file and the entry
    assert "language = 'de' is not valid" in by_key["language"] and '"sv" or "en"' in by_key["language"]
    assert "'igår'" in by_key["date"] and "an ISO date or a year" in by_key["date"]
    assert "http:// or https://" in by_key["url"]
    version = IndexVersion.open(index)
    try:
        alpha, beta = version.document("alpha"), version.document("beta")
    finally:
        version.close()
    assert (alpha.title, alpha.language, alpha.date) == ("Alfa", "sv", "")  # the language detected, no date
    assert (beta.title, beta.language, beta.date, beta.url) == ("Beta-rapporten", "sv", "2021-03", "")
    again = run_ingest(make_settings(corpus_dir=corpus, index_dir=index), progress=False)
    assert again.version is None and again.warnings == report.warnings  # said on every run until fixed


def test_a_title_changed_in_sources_toml_is_picked_up_without_rebuild(corpus: Path, tmp_path: Path) -> None:
    sources = corpus / "sources.toml"
    sources.write_text('["alpha.pdf"]\ntitle = "Alfa"\n\n["beta.pdf"]\ntitle = "Beta"\n', encoding="utf-8")
    index = tmp_path / "index"
    settings = make_settings(corpus_dir=corpus, index_dir=index)
    run_ingest(settings, progress=False)
    sources.write_text('["alpha.pdf"]\ntitle = "Alfa, andra upplagan"\n\n["beta.pdf"]\ntitle = "Beta"\n',
                       encoding="utf-8")
    report = run_ingest(settings, progress=False)
    assert report.version is not None
    assert report.ingested == () and report.updated == ("alpha",)  # its row is updated, nothing is loaded again
    assert report.embedded_chunks == 0 and sorted(report.unchanged) == ["alpha", "beta"]
    version = IndexVersion.open(index, verify=True)
    try:
        assert version.document("alpha").title == "Alfa, andra upplagan"
    finally:
        version.close()
    assert run_ingest(settings, progress=False).version is None  # and then it is unchanged


def test_an_entry_that_names_no_file_is_a_warning_when_the_whole_corpus_folder_is_read(corpus: Path, tmp_path: Path,
                                                                                       capsys) -> None:
    """Before: an entry for a misspelt or renamed file ("alfa.pdf" for alpha.pdf) was ignored without a word, so
    the document silently lost its curated title. A run given one file sees no other file, so it says nothing."""
    import json

    from tui.cli import main

    (corpus / "sub").mkdir()
    write_pdf(corpus / "sub" / "gamma.pdf", GAMMA, title="Gamma")
    (corpus / "anteckning.odt").write_bytes(b"not read by sesam")  # reported as skipped: its entry is right
    sources = corpus / "sources.toml"
    sources.write_text('["alfa.pdf"]\ntitle = "Alfa"\n\n["beta.pdf"]\ntitle = "Beta"\n\n'
                       '["sub/gamma.pdf"]\ntitle = "Gamma"\n\n["anteckning.odt"]\ntitle = "Anteckning"\n',
                       encoding="utf-8")
    index = tmp_path / "index"
    settings = make_settings(corpus_dir=corpus, index_dir=index)
    report = run_ingest(settings, progress=False)
    assert report.warnings == (f"{sources}: ['alfa.pdf'] names no file in the corpus folder; its metadata is used "
                               "for no document: correct the name (a file name, or a path relative to the corpus "
                               "folder) or remove the entry",)
    assert run_ingest(settings, [corpus], progress=False).warnings == report.warnings  # the corpus folder, given
    assert run_ingest(settings, [corpus / "beta.pdf"], progress=False).warnings == ()  # one file: others unseen
    assert run_ingest(settings, [corpus / "sub"], progress=False).warnings == ()  # a subfolder: likewise

    code = main(["ingest", "--index", str(index), "--corpus", str(corpus), "--json", "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 0 and json.loads(out)["warnings"] == list(report.warnings)
    assert f"sesam: warning: {sources}: ['alfa.pdf'] names no file in the corpus folder" in err


def test_a_title_or_publisher_that_is_not_text_is_a_warning(corpus: Path, tmp_path: Path) -> None:
    """Before: `publisher = 42` was stored as the publisher "42" without a word, though the documented rule is
    that title and publisher are text."""
    sources = corpus / "sources.toml"
    sources.write_text('["alpha.pdf"]\npublisher = 42\n\n["beta.pdf"]\ntitle = 2021-03-15\npublisher = "Kommunen"\n',
                       encoding="utf-8")
    index = tmp_path / "index"
    report = run_ingest(make_settings(corpus_dir=corpus, index_dir=index), progress=False)
    assert set(report.ingested) == {"alpha", "beta"} and not report.failed
    assert report.warnings == (
        f"{sources}: ['alpha.pdf'] publisher = 42 is not valid; allowed: one line of text; the PDF's author is used "
        "instead",
        f"{sources}: ['beta.pdf'] title = 2021-03-15 is not valid; allowed: one line of text; the PDF's title or the "
        "file name is used instead")
    version = IndexVersion.open(index)
    try:
        alpha, beta = version.document("alpha"), version.document("beta")
    finally:
        version.close()
    assert alpha.publisher != "42" and (beta.title, beta.publisher) == ("Beta", "Kommunen")


def test_a_bad_value_is_shown_as_the_maintainer_wrote_it(corpus: Path, tmp_path: Path) -> None:
    """Before: `date = 2021-02-03T10:00:00` was reported as `date = datetime.datetime(2021, 2, 3, 10, 0)`, a
    Python repr the maintainer never wrote. A TOML date alone is a valid date."""
    sources = corpus / "sources.toml"
    sources.write_text('["alpha.pdf"]\ndate = 2021-02-03T10:00:00\nurl = 3.5\n\n["beta.pdf"]\ndate = 2021-02-03\n'
                       'language = 12:30:00\n', encoding="utf-8")
    index = tmp_path / "index"
    report = run_ingest(make_settings(corpus_dir=corpus, index_dir=index), progress=False)
    shown = [w.split("] ", 1)[1].split(" is not valid")[0] for w in report.warnings]
    assert shown == ["date = 2021-02-03T10:00:00", "url = 3.5", "language = 12:30:00"], report.warnings
    version = IndexVersion.open(index)
    try:
        assert version.document("beta").date == "2021-02-03"
    finally:
        version.close()


def test_an_entry_matches_a_file_name_written_decomposed(corpus: Path, tmp_path: Path) -> None:
    """A name copied from a Mac or out of a zip file is decomposed ("a" + ring), an entry typed on Linux is
    composed: the entry never applied, and nothing was said."""
    import unicodedata

    name = unicodedata.normalize("NFD", "årsrapport-föreningar.pdf")
    (corpus / "alpha.pdf").rename(corpus / name)
    (corpus / "sources.toml").write_text('["årsrapport-föreningar.pdf"]\ntitle = "Årsrapport 2024"\n'
                                         'publisher = "Gemenskapen"\n', encoding="utf-8")
    report = run_ingest(make_settings(corpus_dir=corpus, index_dir=tmp_path / "index"), progress=False)
    assert report.warnings == ()
    version = IndexVersion.open(tmp_path / "index")
    try:
        documents = {d.title: d.publisher for d in version.documents()}
    finally:
        version.close()
    assert documents["Årsrapport 2024"] == "Gemenskapen"
