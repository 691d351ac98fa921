"""Extractive answers and what else sesam says: quoted lines with [n] citations in the question's language, the
abstention messages, and one-line replies to greetings, thanks, requests and gibberish."""

from __future__ import annotations

from assistant.evidence import Verdict
from assistant.intents import GIBBERISH, GREETING, REQUEST, THANKS
from assistant.retrieval import Retrieval
from assistant.types import Citation, Hit

TEXTS = {
    "sv": {"according": "Enligt {title} ({page}):", "open": "”", "close": "”",
           "abstain": "Dokumenten besvarar inte frågan{why}.",
           "related": "Närmast liggande avsnitt, som kan vara relaterade:",
           "mention": " (de nämner inte {what})",
           "apart": " (de avsnitt som bäst svarar på frågan nämner inte {what})",
           "figure": " (de anger ingen sådan siffra)",
           "date": " (de anger ingen sådan tidpunkt)", "ranking": " (de anger inte vilken som ligger främst)",
           "name": " (de anger inget sådant namn)", "phone": " (de anger inget sådant telefonnummer)",
           "procedure": " (de beskriver inte hur man ansöker)",
           "weak": "",
           "scope": "Jag svarar på frågor om social ekonomi utifrån dokumenten, till exempel ”{e1}” eller ”{e2}”",
           "e1": "Vad är ett arbetsintegrerande socialt företag?",
           "e2": "Vilka former av social upphandling kan en kommun använda?",
           GREETING: "Hej! Jag svarar på frågor om social ekonomi utifrån dokumenten. Vad vill du veta?",
           THANKS: "Varsågod! Fråga gärna mer om social ekonomi.",
           REQUEST: "Det kan jag inte hjälpa till med: jag svarar bara på frågor om social ekonomi utifrån "
                    "dokumenten.",
           GIBBERISH: "Jag förstod inte frågan. Skriv den gärna med andra ord."},
    "en": {"according": "According to {title} ({page}):", "open": "“", "close": "”",
           "abstain": "The documents do not answer this question{why}.",
           "related": "The closest passages, possibly related:",
           "mention": " (they do not mention {what})",
           "apart": " (the passages that best answer it do not mention {what})",
           "figure": " (they give no such figure)",
           "date": " (they give no such date)", "ranking": " (they do not say which ranks first)",
           "name": " (they give no such name)", "phone": " (they give no such phone number)",
           "procedure": " (they do not say how to apply)",
           "weak": "",
           "scope": "I answer questions about the social economy from the documents, for example “{e1}” or “{e2}”",
           "e1": "What is a work-integration social enterprise?",
           "e2": "Which forms of social procurement can a municipality use?",
           GREETING: "Hello! I answer questions about the social economy from the documents. What would you like "
                     "to know?",
           THANKS: "You're welcome! Ask me anything else about the social economy.",
           REQUEST: "I can't help with that: I only answer questions about the social economy from the documents.",
           GIBBERISH: "I did not understand the question. Please try other words."},
}


def texts_for(lang: str) -> dict[str, str]:
    return TEXTS["en" if lang == "en" else "sv"]


def compose(verdict: Verdict, lang: str) -> tuple[str, list[Citation]]:
    """The extractive answer text and its citations, numbered in order of appearance: the lines ``judge``
    chose (and checked) are the lines quoted."""
    t = texts_for(lang)
    lines, citations = [], []
    for n, (hit, quote) in enumerate(verdict.quotes, start=1):
        assert quote in hit.text
        citations.append(_citation(n, hit, quote))
        lead = t["according"].format(title=hit.title, page=hit.place(lang))
        lines.append(f"{lead} {t['open']}{quote}{t['close']} [{n}]")
    return "\n\n".join(lines), citations


def reply(intent: str, lang: str) -> str:
    """The one-line answer to a greeting, thanks, a request to write something, or gibberish."""
    return texts_for(lang)[intent]


def abstention(retrieval: Retrieval, verdict: Verdict, lang: str, related: int = 3) -> tuple[str, list[Citation]]:
    """Say that the documents do not answer. An in-domain question (it names something the documents lack, or
    asks for a figure they do not give) also gets the closest passages as possibly related; a question too far
    from every passage gets what sesam covers instead, with example questions, and no passages."""
    t = texts_for(lang)
    if verdict.reason in ("weak", "service"):
        scope = t["scope"].format(e1=t["e1"], e2=t["e2"])
        return f"{t['abstain'].format(why='')} {scope}.", []
    # why, in the words TEXTS has for the reason ("they give no such figure"); one list of reasons, here
    why = t[verdict.reason].format(what=", ".join(verdict.missing)) if verdict.reason in ("mention", "apart") \
        else t.get(verdict.reason, "")
    citations = [_citation(n, h, "") for n, h in enumerate(retrieval.hits[:related], start=1)]
    text = t["abstain"].format(why=why)
    if citations:
        listed = "; ".join(f"[{c.n}] {c.title}, {c.place(lang)}" for c in citations)
        text += f"\n\n{t['related']} {listed}"
    return text, citations


def _citation(n: int, hit: Hit, quote: str) -> Citation:
    return Citation.from_hit(n, hit, quote)
