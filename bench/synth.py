"""A deterministic generator of Swedish and English policy-like text for benchmarks.

Sentences follow a few policy templates and carry, like real documents, a long tail of rarer words:
compound nouns, place and organisation names, and numbers drawn from a vocabulary of ~40,000 words with
Zipf frequencies (the rank-r word is drawn with probability ∝ 1/r), so that a large corpus has both
very common stems and many rare ones, as real text has.
"""

from __future__ import annotations

import bisect
import itertools
import random
from functools import lru_cache

SV = {
    "subj": ["Kommunen", "Regionen", "Det sociala företaget", "Kooperativet", "Föreningen", "Stiftelsen", "Nätverket",
             "Arbetsförmedlingen", "Länsstyrelsen", "Den idéburna sektorn", "Civilsamhället", "SKR", "Coompanion"],
    "verb": ["utvecklar", "upphandlar", "stödjer", "finansierar", "samordnar", "utvärderar", "främjar", "erbjuder",
             "mäter", "planerar", "genomför", "förankrar"],
    "obj": ["arbetsträning för personer långt från arbetsmarknaden", "sociala krav i offentlig upphandling",
            "ett idéburet offentligt partnerskap", "reserverade kontrakt för sociala företag", "lokal service på landsbygden",
            "kompetensförsörjning i länet", "uppföljning av samhällsnytta", "rådgivning till nya kooperativ",
            "en handlingsplan för social ekonomi", "stöd till arbetsintegrerande sociala företag",
            "minskat matsvinn i skolköken", "integration av nyanlända", "inkluderande arbetsmarknad"],
    "tail": ["under 2024", "enligt rådets rekommendation", "i samverkan med civilsamhället", "med stöd av ESF-medel",
             "i hela kommunen", "för att öka delaktigheten", "utifrån lokala behov", "som en del av strategin"],
}
EN = {
    "subj": ["The municipality", "The region", "The social enterprise", "The cooperative", "The association",
             "The foundation", "The network", "The public employment service", "The Council", "Civil society"],
    "verb": ["develops", "procures", "supports", "funds", "coordinates", "evaluates", "promotes", "offers", "measures"],
    "obj": ["work training for people far from the labour market", "social clauses in public procurement",
            "a public-social partnership", "reserved contracts for social enterprises", "local services in rural areas",
            "skills supply in the county", "impact measurement", "advice to new cooperatives",
            "an action plan for the social economy", "support for work-integration social enterprises"],
    "tail": ["in 2024", "according to the Council recommendation", "together with civil society", "with ESF funding",
             "across the municipality", "to increase participation", "based on local needs"],
}


SV_PARTS = ("arbets social kommun region utvecklings upphandlings kooperativ förenings lands stads kompetens "
            "integrations finansierings samverkans verksamhets läns närings välfärds stöd hållbarhets skol vård "
            "omsorgs bostads miljö energi kultur idrotts ungdoms äldre funktions språk digital klimat "
            "trygghets folkhälso").split()
SV_HEADS = ("plan program insats modell strategi råd nätverk projekt avtal bidrag utredning rapport mål område "
            "kontor förmedling företag lag ansvar fond satsning uppdrag enhet process analys dialog tjänst "
            "metod rutin").split()
EN_ADJ = ("local regional social municipal inclusive digital green rural urban cooperative public private "
          "sustainable national European joint").split()
EN_NOUNS = ("strategy programme partnership network fund project agreement grant assessment report target area "
            "office service enterprise law plan council board initiative pilot survey method framework").split()
PLACE_A = "Älv Sand Berg Strand Lin Norr Sö Ek Hag Vall Sjö Mal Lund Ås Gran Björk Fal Hed Tor Kung".split()
PLACE_B = "by sund köping hamn vik ås dal holm fors stad berga näs torp lid skog".split()
CONNECT = {"sv": ("inom", "med fokus på", "genom", "kopplat till", "tillsammans med"),
           "en": ("within", "focusing on", "through", "linked to", "together with")}


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Words in a fixed random rank order with cumulative Zipf weights."""
    words = [a + b for a, b in itertools.product(SV_PARTS, SV_HEADS)]
    words += [a + b + c for a, b, c in itertools.product(SV_PARTS, SV_PARTS, SV_HEADS) if a != b]
    words += [f"{a} {n}" for a, n in itertools.product(EN_ADJ, EN_NOUNS)]
    words += [f"{a}{b}" for a, b in itertools.product(PLACE_A, PLACE_B)]
    words += [f"{a}{b}s kommun" for a, b in itertools.product(PLACE_A, PLACE_B[:6])]
    words += [str(n) for n in range(1, 3_000)]
    rng = random.Random(2024)
    rng.shuffle(words)
    return tuple(words), tuple(itertools.accumulate(1.0 / r for r in range(1, len(words) + 1)))


def rare_word(rng: random.Random) -> str:
    words, cum = _vocabulary()
    return words[bisect.bisect_left(cum, rng.random() * cum[-1])]


def sentence(rng: random.Random, lang: str) -> str:
    v = SV if lang == "sv" else EN
    also = "och" if lang == "sv" else "and"
    return (f"{rng.choice(v['subj'])} {rng.choice(v['verb'])} {rng.choice(v['obj'])} {rng.choice(v['tail'])} "
            f"{rng.choice(CONNECT[lang])} {rare_word(rng)} {also} {rare_word(rng)}.")


def paragraph(rng: random.Random, lang: str, n_sentences: int) -> str:
    return " ".join(sentence(rng, lang) for _ in range(n_sentences))


def page(rng: random.Random, lang: str, words: int = 220) -> list[str]:
    """A page as lines: a heading and paragraphs of roughly ``words`` words in total."""
    heading = rng.choice(["Bakgrund", "Syfte", "Genomförande", "Resultat", "Uppföljning"] if lang == "sv"
                         else ["Background", "Purpose", "Implementation", "Results", "Follow-up"])
    lines = [heading]
    while sum(len(x.split()) for x in lines) < words:
        lines.append(paragraph(rng, lang, rng.randint(2, 4)))
    return lines
