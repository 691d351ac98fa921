"""The bilingual domain glossary (``corpus/glossary.toml``), the corpus's general vocabulary in both languages
(``corpus/vocabulary.toml``), and query expansion across languages and abbreviations."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import ConfigError
from ingest.language import LANGUAGES
from ingest.stemming import stem_tokens


@dataclass(frozen=True)
class Term:
    """One concept: its phrases per language and its abbreviations."""

    sv: tuple[str, ...] = ()
    en: tuple[str, ...] = ()
    abbr: tuple[str, ...] = ()
    general: bool = False  # everyday vocabulary ("miljö", "environment"): no sign that a question is about the domain

    def phrases(self) -> tuple[str, ...]:
        return self.sv + self.en + self.abbr


@dataclass(frozen=True)
class Expansion:
    """What the glossary found in a question, and the equivalent phrases to search as well."""

    matched: tuple[str, ...]
    sv: tuple[str, ...]
    en: tuple[str, ...]
    concepts: tuple[tuple[str, ...], ...] = ()  # per concept found: all its phrases and abbreviations
    domain: tuple[str, ...] = ()  # what ``matched`` holds of the domain glossary (not of the general vocabulary)

    @property
    def all(self) -> tuple[str, ...]:
        return self.sv + self.en


class Glossary:
    """Matches glossary phrases in a question by their stems, so inflected forms match too."""

    def __init__(self, terms: list[Term]) -> None:
        self.terms = terms
        self._keys: list[tuple[int, tuple[str, ...], str]] = []  # (term index, stem sequence, phrase)
        for i, term in enumerate(terms):
            for lang in LANGUAGES:  # a Term has one field of phrases per language
                for phrase in getattr(term, lang):
                    self._keys.append((i, tuple(stem_tokens(phrase, lang)), phrase))
        self._abbr = {a: i for i, term in enumerate(terms) for a in term.abbr}
        # key positions by their first stem: a question is scanned once, not once per phrase of the glossary
        self._by_first: dict[str, list[int]] = {}
        for k, (_, key, _) in enumerate(self._keys):
            if key:
                self._by_first.setdefault(key[0], []).append(k)

    @classmethod
    def load(cls, path: Path, vocabulary: Path | None = None) -> Glossary:
        """The domain glossary at ``path`` and the general vocabulary at ``vocabulary``; a missing file adds
        nothing."""
        return cls(_read(path, general=False) + (_read(vocabulary, general=True) if vocabulary else []))

    def expand(self, question: str, general: bool = True) -> Expansion:
        """Find glossary concepts in ``question`` (with ``general``, the general vocabulary's too); return the
        phrases to add, per language."""
        found: set[int] = set()  # positions in ``_keys`` of the phrases the question holds
        for lang in LANGUAGES:
            seq = tuple(stem_tokens(question, lang))
            for start, stem in enumerate(seq):
                for k in self._by_first.get(stem, ()):
                    key = self._keys[k][1]
                    if seq[start:start + len(key)] == key:
                        found.add(k)
        hits: dict[int, str] = {}
        for k in sorted(found):  # the glossary's order decides which phrase names a concept
            i, _, phrase = self._keys[k]
            if general or not self.terms[i].general:
                hits.setdefault(i, phrase)
        for word in re.findall(r"\b[A-ZÅÄÖ]{2,6}\b", question):
            if word in self._abbr:
                hits.setdefault(self._abbr[word], word)
        sv: list[str] = []
        en: list[str] = []
        for i in hits:
            t = self.terms[i]
            sv.extend(t.sv + t.abbr)
            en.extend(t.en)
        return Expansion(tuple(hits.values()), tuple(dict.fromkeys(sv)), tuple(dict.fromkeys(en)),
                         tuple(self.terms[i].phrases() for i in hits),
                         tuple(phrase for i, phrase in hits.items() if not self.terms[i].general))


def _read(path: Path, general: bool) -> list[Term]:
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"The glossary {path} cannot be read ({exc.strerror}); make it readable and try "
                          f"again.") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"The glossary {path} is not valid TOML ({exc}); fix it and try again.") from exc
    entries = data.get("term", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(f"The glossary {path} must hold [[term]] tables; fix it and try again.")
    terms = []
    for n, entry in enumerate(entries, start=1):
        unknown = set(entry) - {*LANGUAGES, "abbr"}
        if unknown:
            raise ConfigError(f"Glossary {path}, term {n}: unknown keys {sorted(unknown)}; use "
                              f"{', '.join((*LANGUAGES, 'abbr'))}.")
        for key, value in entry.items():
            # a string where a list belongs was read letter by letter: sv = "kooperativ" made "k", "o", "p" ...
            # phrases, and every question with the word "i" was expanded with the term
            if not isinstance(value, list) or not all(isinstance(x, str) and x.strip() for x in value):
                raise ConfigError(f"Glossary {path}, term {n}: {key} must be a list of phrases, as {key} = "
                                  f'["{_example(value)}"]; fix it and try again.')
        terms.append(Term(**{k: tuple(v) for k, v in entry.items()}, general=general))
    return terms


def _example(value: object) -> str:
    """A phrase to show in the advice: the value itself when it is one string, else a placeholder."""
    return value.strip() if isinstance(value, str) and value.strip() else "…"


def glossary_files(settings, manifest: dict) -> tuple[Path, Path]:
    """The glossary and vocabulary files to read: ``glossary_file`` and ``vocabulary_file`` when set, else the
    corpus folder's, else those of the folder the index was built from (``manifest``'s record) — a relative
    corpus_dir ("corpus") from another working folder found none, and the answers lost their expansions with no
    word said."""
    from ingest.manifest import built_from

    folder = built_from(manifest)
    paths = []
    for given, default, name in ((settings.glossary_file, settings.glossary_path, "glossary.toml"),
                                 (settings.vocabulary_file, settings.vocabulary_path, "vocabulary.toml")):
        if given is None and not default.exists() and folder and (Path(folder) / name).is_file():
            default = Path(folder) / name
        paths.append(default)
    return paths[0], paths[1]

