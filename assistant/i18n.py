"""Interface texts in Swedish and English: one table for `sesam ask` and `sesam chat`.

The web widget's texts are here too: ``GET /widget.js`` writes ``widget_texts()`` into the script.
(The answers' own framing words live in assistant/answers.py.)
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
        "page": "s.", "section": "avsnitt", "beginning": "början", "score": "poäng",
        "thinking": "Söker i dokumenten …",
        "docs": "dokument", "chunks": "avsnitt", "last": "senaste svar",
        "filter": "Filter", "all_docs": "Alla dokument", "all_langs": "Alla språk", "apply": "Använd",
        "cancel": "Avbryt", "filter_doc": "Dokument (välj ett eller flera)", "filter_lang": "Språk", "filter_on": "filter på",
        "saved": "Samtalet sparat i {path}", "cleared": "Samtalet är rensat.", "nothing": "Inget att spara ännu.",
        "error": "Fel", "no_index": "Inget index i {dir}. Bygg det med `{cmd}`; nästa fråga använder det.",
        "no_index_server": "Servern har inget index än. Kör `sesam ingest` där den körs; nästa fråga "
                           "försöker igen.",
        "wait_answer": "Vänta tills svaret är klart; frågan står kvar.", "stopped": "Frågan avbröts.",
        "unreachable": "Servern {url} går inte att nå. Kontrollera adressen eller starta `sesam serve`.",
        "failed": "Frågan kunde inte besvaras. Försök igen om en stund.",
        "limit": "Du har ställt många frågor på kort tid. Vänta {s} sekunder och försök igen.",
        "limit_one": "Du har ställt många frågor på kort tid. Vänta en sekund och försök igen.",
        "limit_soon": "Du har ställt många frågor på kort tid. Vänta en stund och försök igen.",
        "invalid": "Frågan kunde inte ställas. Skriv om den och försök igen.",
        "too_long": "En fråga får vara högst {n} tecken.",
        "no_match": "Inget dokument i indexet matchar filtret ({asked}); vidga eller ta bort det.",
        "f_doc_ids": "dokument", "f_languages": "språk", "f_publishers": "utgivare",
        "w_title": "Fråga om social ekonomi", "w_label": "Din fråga", "w_ask": "Fråga", "w_new": "Ny fråga",
        "w_placeholder": "Till exempel: Vad är ett arbetsintegrerande socialt företag?",
        "w_disclaimer": "Svaren bygger bara på de dokument tjänsten har läst in och kan vara ofullständiga. "
                        "Kontrollera i källan.",
        "w_answer": "Svar", "w_open": "Öppna dokumentet", "w_contact_lead": "Hittar du inte svaret? ",
        "w_contact": "Kontakta oss", "w_not_ready": "Tjänsten är inte redo än. Försök igen om en stund.",
        "w_network": "Tjänsten går inte att nå just nu. Kontrollera anslutningen och försök igen.",
        "w_broken": "Svaret avbröts. Försök igen.", "w_source": "Källa {n}: {title}",
        "key_help": "Hjälp", "key_filter": "Filter", "key_clear": "Rensa", "key_save": "Spara", "key_quit": "Avsluta",
        "lang_sv": "svenska", "lang_en": "engelska",
        "help_title": "Hjälp – tangenter",
        "help": ("Enter  ställ frågan\n↑/↓    tidigare frågor; i samtalet: välj svar\nTab    byt ruta\n"
                 "1–9    öppna källa n i det valda svaret (utanför inmatningen)\n"
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
        "page": "p.", "section": "section", "beginning": "beginning", "score": "score",
        "thinking": "Searching the documents …",
        "docs": "documents", "chunks": "passages", "last": "last answer",
        "filter": "Filter", "all_docs": "All documents", "all_langs": "All languages", "apply": "Apply",
        "cancel": "Cancel", "filter_doc": "Documents (choose one or more)", "filter_lang": "Language", "filter_on": "filter on",
        "saved": "Conversation saved to {path}", "cleared": "Conversation cleared.", "nothing": "Nothing to save yet.",
        "error": "Error", "no_index": "No index in {dir}. Build it with `{cmd}`; the next question will use it.",
        "no_index_server": "The server has no index yet. Run `sesam ingest` where it runs; the next question "
                           "tries again.",
        "wait_answer": "Wait until the answer is complete; your question stays in the input line.",
        "stopped": "The question was stopped.",
        "unreachable": "The server {url} cannot be reached. Check the address or start `sesam serve`.",
        "failed": "The question could not be answered. Please try again in a moment.",
        "limit": "You have asked many questions in a short time. Wait {s} seconds and try again.",
        "limit_one": "You have asked many questions in a short time. Wait one second and try again.",
        "limit_soon": "You have asked many questions in a short time. Wait a moment and try again.",
        "invalid": "The question could not be asked. Rephrase it and try again.",
        "too_long": "A question can be at most {n} characters long.",
        "no_match": "No indexed document matches the filter ({asked}); widen or remove it.",
        "f_doc_ids": "doc_ids", "f_languages": "languages", "f_publishers": "publishers",  # the HTTP API's fields
        "w_title": "Ask about the social economy", "w_label": "Your question", "w_ask": "Ask", "w_new": "New question",
        "w_placeholder": "For example: What is a work-integration social enterprise?",
        "w_disclaimer": "Answers are based only on the documents the service has read and may be incomplete. "
                        "Check the source.",
        "w_answer": "Answer", "w_open": "Open the document", "w_contact_lead": "Can't find the answer? ",
        "w_contact": "Contact us", "w_not_ready": "The service is not ready yet. Try again in a while.",
        "w_network": "The service cannot be reached right now. Check the connection and try again.",
        "w_broken": "The answer broke off. Please try again.", "w_source": "Source {n}: {title}",
        "key_help": "Help", "key_filter": "Filter", "key_clear": "Clear", "key_save": "Save", "key_quit": "Quit",
        "lang_sv": "Swedish", "lang_en": "English",
        "help_title": "Help – keys",
        "help": ("Enter  ask the question\n↑/↓    earlier questions; in the conversation: choose an answer\n"
                 "Tab    next pane\n1–9    open source n of the chosen answer (outside the input)\n"
                 "Enter  open the highlighted source\nCtrl+F filter by document and language\nCtrl+L clear the conversation\n"
                 "Ctrl+S save the conversation as Markdown\nF1     this help\nCtrl+Q quit\n\nThe mouse works too: click an "
                 "answer to see its sources and a source to open it."),
        "close": "Close",
    },
}


def t(lang: str, key: str, **kw: str) -> str:
    text = TEXTS["en" if lang == "en" else "sv"][key]
    return text.format(**kw) if kw else text


def no_match(lang: str, filters) -> str:
    """What to tell the asker when ``filters`` (``assistant.types.Filters``) leave no passage: their mistake, not a
    question the documents fail to answer. The English sentence is the HTTP API's 422 (always English); the chat
    says it in its language."""
    asked = "; ".join(f"{t(lang, 'f_' + name)}: {', '.join(values)}" for name, values in
                      (("doc_ids", filters.doc_ids), ("languages", filters.languages),
                       ("publishers", filters.publishers)) if values)
    return t(lang, "no_match", asked=asked)


# The web widget's names for its texts (widget.js reads T.<name>) and the keys above they come from.
WIDGET = {"title": "w_title", "label": "w_label", "ask": "w_ask", "newQuestion": "w_new", "placeholder": "w_placeholder",
          "disclaimer": "w_disclaimer", "you": "you", "assistant": "w_answer", "sources": "sources",
          "related": "related_passages", "page": "page", "openDocument": "w_open", "contactLead": "w_contact_lead",
          "contact": "w_contact", "busy": "thinking", "network": "w_network", "limit": "limit", "limitOne": "limit_one",
          "limitSoon": "limit_soon", "tooLong": "too_long", "invalid": "invalid", "notReady": "w_not_ready",
          "broken": "w_broken", "failed": "failed", "source": "w_source", "section": "section",
          "beginning": "beginning"}


def widget_texts() -> dict[str, dict[str, str]]:
    """Every text of the web widget, by language."""
    return {lang: {name: texts[key] for name, key in WIDGET.items()} for lang, texts in TEXTS.items()}
