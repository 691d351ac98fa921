"""Interface texts in Swedish and English: one table for `sesam ask` and `sesam chat`.

(The answers' own framing words live in assistant/answers.py; the web widget carries its texts in widget.js,
which runs in the browser.)
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "sv": {
        "title": "sesam – frågor om social ekonomi",
        "placeholder": "Skriv en fråga och tryck Enter …",
        "you": "Du", "sesam": "sesam", "abstained": "Inget svar i dokumenten",
        "sources": "Källor", "related": "Möjligen relaterade", "related_passages": "Möjligen relaterade avsnitt",
        "passage": "Avsnitt",
        "no_source": "Välj en källa för att se avsnittet i sitt sammanhang.",
        "page": "s.", "score": "poäng", "thinking": "Söker i dokumenten …",
        "docs": "dokument", "chunks": "avsnitt", "last": "senaste svar",
        "filter": "Filter", "all_docs": "Alla dokument", "all_langs": "Alla språk", "apply": "Använd",
        "cancel": "Avbryt", "filter_doc": "Dokument (välj ett eller flera)", "filter_lang": "Språk", "filter_on": "filter på",
        "saved": "Samtalet sparat i {path}", "cleared": "Samtalet är rensat.", "nothing": "Inget att spara ännu.",
        "error": "Fel", "no_index": "Inget index hittades. Kör `sesam ingest` först och starta om `sesam chat`.",
        "unreachable": "Servern {url} går inte att nå. Kontrollera adressen eller starta `sesam serve`.",
        "failed": "Frågan kunde inte besvaras. Försök igen om en stund.",
        "busy": "För många frågor på kort tid. Vänta {s} sekunder och försök igen.",
        "invalid": "Frågan kunde inte ställas. Skriv om den och försök igen.",
        "too_long": "En fråga får vara högst {n} tecken.",
        "key_help": "Hjälp", "key_filter": "Filter", "key_clear": "Rensa", "key_save": "Spara", "key_quit": "Avsluta",
        "lang_sv": "svenska", "lang_en": "engelska",
        "help_title": "Hjälp – tangenter",
        "help": ("Enter  ställ frågan\n↑/↓    tidigare frågor\nTab    byt ruta\n1–9    öppna källa n (utanför inmatningen)\n"
                 "Enter  öppna markerad källa\nCtrl+F filter på dokument och språk\nCtrl+L rensa samtalet\n"
                 "Ctrl+S spara samtalet som Markdown\nF1     den här hjälpen\nCtrl+Q avsluta\n\nMusen fungerar också: "
                 "klicka på ett svar för att se dess källor och på en källa för att öppna den."),
        "close": "Stäng",
    },
    "en": {
        "title": "sesam – questions about the social economy",
        "placeholder": "Type a question and press Enter …",
        "you": "You", "sesam": "sesam", "abstained": "No answer in the documents",
        "sources": "Sources", "related": "Possibly related", "related_passages": "Possibly related passages",
        "passage": "Passage",
        "no_source": "Choose a source to see the passage in its context.",
        "page": "p.", "score": "score", "thinking": "Searching the documents …",
        "docs": "documents", "chunks": "passages", "last": "last answer",
        "filter": "Filter", "all_docs": "All documents", "all_langs": "All languages", "apply": "Apply",
        "cancel": "Cancel", "filter_doc": "Documents (choose one or more)", "filter_lang": "Language", "filter_on": "filter on",
        "saved": "Conversation saved to {path}", "cleared": "Conversation cleared.", "nothing": "Nothing to save yet.",
        "error": "Error", "no_index": "No index found. Run `sesam ingest` first, then start `sesam chat` again.",
        "unreachable": "The server {url} cannot be reached. Check the address or start `sesam serve`.",
        "failed": "The question could not be answered. Please try again in a moment.",
        "busy": "Too many questions in a short time. Wait {s} seconds and try again.",
        "invalid": "The question could not be asked. Rephrase it and try again.",
        "too_long": "A question can be at most {n} characters long.",
        "key_help": "Help", "key_filter": "Filter", "key_clear": "Clear", "key_save": "Save", "key_quit": "Quit",
        "lang_sv": "Swedish", "lang_en": "English",
        "help_title": "Help – keys",
        "help": ("Enter  ask the question\n↑/↓    earlier questions\nTab    next pane\n1–9    open source n (outside the input)\n"
                 "Enter  open the highlighted source\nCtrl+F filter by document and language\nCtrl+L clear the conversation\n"
                 "Ctrl+S save the conversation as Markdown\nF1     this help\nCtrl+Q quit\n\nThe mouse works too: click an "
                 "answer to see its sources and a source to open it."),
        "close": "Close",
    },
}


def t(lang: str, key: str, **kw: str) -> str:
    text = TEXTS["en" if lang == "en" else "sv"][key]
    return text.format(**kw) if kw else text
