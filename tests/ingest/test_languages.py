"""The supported languages are listed once, in ``ingest.language.LANGUAGES``; everything that lists them (sources.toml's
``language``, the stemmers, the glossary's keys, the filter, the CLI's ``--lang``, the API's ``lang``) takes that list."""

from __future__ import annotations

import re
import typing

import pytest

from ingest import stemming
from ingest.language import DEFAULT_LANGUAGE, LANGUAGES, Language, detect_language, detect_query_language
from tests.conftest import REPO

# two language codes side by side, as a list, tuple, set or Literal spells them: ("sv", "en"), {"en", "sv", ...}
_SPELLED = re.compile(r"""["'](sv|en)["']\s*,\s*["'](sv|en)["']""")


def test_no_module_but_ingest_language_lists_the_languages() -> None:
    found = []
    for package in ("ingest", "assistant", "tui", "bench"):
        for path in sorted((REPO / package).rglob("*.py")):
            if path == REPO / "ingest" / "language.py":
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if _SPELLED.search(line):
                    found.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert not found, "use ingest.language.LANGUAGES:\n" + "\n".join(found)


def test_the_list_and_what_depends_on_it() -> None:
    from assistant.api.schemas import AskIn
    from ingest.settings import Settings

    assert LANGUAGES == ("sv", "en") == typing.get_args(Language) and DEFAULT_LANGUAGE in LANGUAGES
    assert {detect_language("Hur stora är kommunernas intäkter?"), detect_language("How large are the revenues?")} \
        == set(LANGUAGES)
    for code in LANGUAGES:  # every language has its stemmer, and an unknown one is stemmed in all of them
        assert stemming.stem_tokens("kooperativen cooperatives", code)
    assert stemming.langs_for("und") == LANGUAGES
    assert set(typing.get_args(AskIn.model_fields["lang"].annotation)) - {type(None)} == {Language}
    assert Settings.model_fields["ui_lang"].annotation == Language | None


@pytest.mark.parametrize(("text", "lang"), [
    ("Reserved contracts", "en"), ("Social procurement", "en"), ("Municipal parking fees", "en"),
    ("Work integration social enterprises", "en"), ("Social economy definition", "en"), ("Thanks", "en"),
    ("Arbetsintegrerande sociala företag", "sv"), ("Reserverade kontrakt", "sv"), ("Civilsamhället", "sv"),
    ("Social upphandling", "und"),  # "upp|handling": no English "ph" in a Swedish compound
    ("Kommunala bolag", "und"), ("Foo bar baz", "und"),
])
def test_words_without_stopwords_show_their_language_by_their_spelling(text: str, lang: str) -> None:
    """A search box gets keywords, not sentences: without stopwords, å/ä/ö and the spellings one language has and
    the other hardly does decide; "und" (the interface's language then) when they do not."""
    assert detect_query_language(text) == lang


def test_a_passage_without_stopwords_is_not_judged_by_spelling() -> None:
    """Passages keep the stopword rule: a contact slide without stopwords takes its document's language (its
    "www" is no English "w"), as before keywords were told by their spelling."""
    contact = "Kontakt\nPernilla Sivertsen\npernilla.sivertsen@coompanion.se\nwww.coompanion.se\n076-0626293"
    assert detect_language(contact) == "und" == detect_query_language(contact)
    assert detect_language("Upphandlingspolicy") == "und" and detect_language("Reserved contracts") == "und"
