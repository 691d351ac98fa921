"""The domain glossary and the general vocabulary (assistant/glossary.py), from real TOML files."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.engine import Assistant
from assistant.glossary import Glossary, glossary_files
from ingest.errors import ConfigError
from ingest.store import IndexVersion
from tests.conftest import CORPUS, make_settings

GLOSSARY = """
[[term]]
sv = ["arbetsförmedlingen"]
en = ["public employment service", "employment service"]
abbr = ["AF"]
"""
VOCABULARY = """
[[term]]
sv = ["reformering", "reformeringen"]
en = ["reform", "overhaul"]
"""


@pytest.fixture
def glossary(tmp_path: Path) -> Glossary:
    (tmp_path / "glossary.toml").write_text(GLOSSARY, encoding="utf-8")
    (tmp_path / "vocabulary.toml").write_text(VOCABULARY, encoding="utf-8")
    return Glossary.load(tmp_path / "glossary.toml", tmp_path / "vocabulary.toml")


def test_the_vocabulary_expands_but_is_no_concept_of_the_domain(glossary: Glossary) -> None:
    found = glossary.expand("How did the overhaul of the employment service go?")
    assert "reformering" in found.all and "arbetsförmedlingen" in found.all
    assert found.domain == ("employment service",)  # what makes a question one for the documents
    assert set(found.concepts) == {("arbetsförmedlingen", "public employment service", "employment service", "AF"),
                                   ("reformering", "reformeringen", "reform", "overhaul")}
    without = glossary.expand("How did the overhaul of the employment service go?", general=False)
    assert "reformering" not in without.all and "arbetsförmedlingen" in without.all


def test_a_missing_vocabulary_adds_nothing_and_a_broken_one_is_named(tmp_path: Path) -> None:
    (tmp_path / "glossary.toml").write_text(GLOSSARY, encoding="utf-8")
    assert len(Glossary.load(tmp_path / "glossary.toml", tmp_path / "absent.toml").terms) == 1
    (tmp_path / "vocabulary.toml").write_text("[[term]]\nsv = [\"reform\"\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="vocabulary.toml"):
        Glossary.load(tmp_path / "glossary.toml", tmp_path / "vocabulary.toml")


def test_only_a_question_in_another_language_than_the_documents_uses_the_vocabulary(assistant) -> None:
    retriever = assistant._state.retriever
    assert retriever.documents_language == "sv"
    english = retriever.prepare("How does the overhaul affect work-integration social enterprises?")
    assert "reformering" in english.expansion.all and "reform" in english.stems
    swedish = retriever.prepare("Hur påverkar reformeringen de arbetsintegrerande sociala företagen?")
    assert "overhaul" not in swedish.expansion.all
    # ...and choose the lines an English question quotes ("environmental impact": "miljöpåverkan")
    green = assistant.ask("Is there an example of a social enterprise helping to cut the municipality's "
                          "environmental impact?")
    assert any("miljöpåverkan" in c.quote for c in green.citations), green.text
    # general words do not make an errand a question about the social economy
    assert assistant.ask("Can I get a school place for my child in Karlstad?").reason == "service"


@pytest.mark.parametrize("line", ['sv = "kooperativ"', "abbr = [1]", 'en = ["cooperative", " "]', "sv = 3"])
def test_a_value_that_is_not_a_list_of_phrases_is_refused(tmp_path: Path, line: str) -> None:
    """A string where a list belongs was read letter by letter: every question holding the word "i" was expanded
    with "k", "o", "p" ... and the term's English phrases."""
    path = tmp_path / "glossary.toml"
    path.write_text(f'[[term]]\nsv = ["förening"]\nen = ["association"]\n\n[[term]]\n{line}\n', encoding="utf-8")
    key = line.split(" ")[0]
    with pytest.raises(ConfigError, match=rf"term 2: {key} must be a list of phrases"):
        Glossary.load(path)


def test_the_glossary_is_found_from_any_working_folder(shipped_index: Path, tmp_path: Path, monkeypatch) -> None:
    """The default corpus_dir is relative ("corpus"): from another folder no glossary was found and "What is a
    WISE?" abstained, while from the project's folder it was answered. The index records the folder it was built
    from, where the glossary is then read."""
    monkeypatch.chdir(tmp_path)
    settings = make_settings(index_dir=shipped_index, corpus_dir=Path("corpus"))
    assert not (tmp_path / "corpus").exists()
    version = IndexVersion.open(shipped_index)
    files = glossary_files(settings, version.manifest)
    version.close()
    assert files == (CORPUS.resolve() / "glossary.toml", CORPUS.resolve() / "vocabulary.toml")
    assistant = Assistant.open(settings)
    assert assistant.glossary.terms and assistant.glossary.expand("What is a WISE?").matched
