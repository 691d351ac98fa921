"""A deterministic generator of Swedish and English policy-like text for benchmarks."""

from __future__ import annotations

import random

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


def sentence(rng: random.Random, lang: str) -> str:
    v = SV if lang == "sv" else EN
    return f"{rng.choice(v['subj'])} {rng.choice(v['verb'])} {rng.choice(v['obj'])} {rng.choice(v['tail'])}."


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
