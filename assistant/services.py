"""Everyday municipal services: questions a widget on a municipal site gets all day, which documents about the social
economy do not answer even when they name the municipality.

"Where do I pay my parking fine in Malmö?" scores as high as a real question (Malmö is in SKR's network, "pay" and
"municipality" are everywhere) and passes the name check, so the evidence checks alone quote the network's list of
municipalities. A question that asks about such a service (parking, school places, permits, waste collection days,
opening hours, passports, taxes) and says nothing of the social economy is out of scope. A question that asks about
the same service *through* the social economy ("Kan sociala företag hjälpa kommunen med sopor och återvinning?") is
not: any glossary concept or domain word keeps it a question for the documents. Nor is a service the best passage
itself speaks of: "Vilket problem har kommunen med soporna?" asks what a slide of the municipalities' challenges says.
"""

from __future__ import annotations

import re

from ingest.stemming import stem_tokens

# Services, as word beginnings (Swedish compounds and inflections follow them) or whole phrases.
_SERVICES = re.compile(
    r"\b(?:"
    # Swedish
    r"parkering\w*|felparker\w*|p-bot\w*|p-plats\w*|skolplats\w*|förskoleplats\w*|barnomsorgsplats\w*|"
    r"bygglov\w*|rivningslov\w*|(?:mitt|ditt|ett|nytt|nya)\s+pass|passet|passansökan|körkort\w*|id-kort\w*|"
    r"sophämtning\w*|soporna|sopkärl\w*|"
    r"sopsortering\w*|återvinningscentral\w*|öppettid\w*|simhall\w*|badhus\w*|bibliotekets?|gatljus\w*|"
    r"gatubelysning\w*|snöröjning\w*|hundskatt\w*|hundregist\w*|fastighetsskatt\w*|kommunalskatt\w*|"
    r"bostadskö\w*|färdtjänst\w*|vatten\s+och\s+avlopp|va-taxa\w*|avfallstaxa\w*|folkbokför\w*|hemtjänst\w*|"
    r"äldreboende\w*|äldreomsorg\w*|skolskjuts\w*|fritidshem\w*|bostadsbidrag\w*|försörjningsstöd\w*|"
    r"ekonomiskt\s+bistånd|"
    r"vårdcentral\w*|tandvård\w*|busskort\w*|vallokal\w*|rösta|poströsta\w*|förtidsröst\w*|"
    r"grop(?:ar)?\s+i\s+vägen|potthål\w*|kulturskola\w*|musikskola\w*|idrottshall\w*|sporthall\w*|"
    r"socialtjänst\w*|socialkontor\w*|buller|störande\s+grannar|serveringstillstånd\w*|eldning\w*|"
    r"vattenräkning\w*|bostadsbolag\w*|hyreslägenhet\w*|fiskekort\w*|kommunens\s+växel|skolval\w*|"
    r"byta\s+skola|skolstart\w*|förskola|förskolan|förskoleavgift\w*|barnomsorg\w*|hushållsavfall\w*|"
    # English
    r"parking|parking\s+fines?|school\s+places?|preschool\s+places?|childcare\s+places?|building\s+permits?|"
    r"passports?|driving\s+licen[cs]es?|id\s+cards?|bin\s+collection|garbage\s+collection|rubbish\s+collection|"
    r"waste\s+collection|household\s+waste|(?:waste|rubbish|garbage|bins?)\s+(?:is\s+|are\s+)?collected|"
    r"preschool|pre-school|nursery\s+school|kindergarten|"
    r"recycling\s+(?:centre|center)s?|opening\s+hours|swimming\s+pools?|the\s+library|"
    r"street\s?lights?|snow\s+clearing|property\s+tax|council\s+tax|housing\s+queue|register\s+(?:my|a)\s+dog|"
    r"home\s+care|elderly\s+care|(?:doctor'?s?|medical|health\s?care|dental|vaccination)\s+appointments?|"
    r"nursing\s+homes?|care\s+homes?|school\s+transport|after-school|housing\s+benefits?|"
    r"income\s+support|welfare\s+benefits?|health\s+cent(?:re|er)s?|dentists?|bus\s+pass(?:es)?|vote|voting|"
    r"polling\s+stations?|elections?|potholes?|road\s+repairs?|music\s+school|sports\s+halls?|gym|"
    r"social\s+services|social\s+welfare\s+office|financial\s+assistance|noise|neighbou?rs?|alcohol\s+licen[cs]e|"
    r"(?:permit|licen[cs]e)\s+to\s+sell\s+alcohol|burning\s+(?:garden\s+)?waste|garden\s+waste|water\s+bill|"
    r"housing\s+company|rent(?:al)?\s+(?:an?\s+)?apartments?|apartments?|fishing\s+licen[cs]es?|snow\s+removal|mayor|"
    r"daycare|day\s+care|school\s+year|different\s+school|change\s+schools?|wifi|job\s+at\s+the\s+municipality|"
    r"snow\s+clearance|(?:apply|applying)\s+for\s+(?:a\s+)?job|job\s+vacanc\w+|vacancies|lediga\s+jobb|"
    r"söka\s+jobb\s+(?:i|på|hos)\s+kommunen"
    r")\b",
    re.IGNORECASE)

# Words of the social economy beside the glossary's concepts: one of these makes it a question for the documents.
_DOMAIN = re.compile(
    r"\b(?:(?!social\s+services|social\s+welfare|socialtjänst|socialkontor)social\w*|"
    r"kooperativ\w*|cooperative\w*|co-operative\w*|förening\w*|associations?|ideell\w*|idéburen|"
    r"idéburna|idéburet|non-profits?|civilsamhälle\w*|civil\s+society|företag\w*|enterprises?|business\w*|"
    r"coompanion|skr|nätverk\w*|network\w*|upphandl\w*|procurement|partnerskap\w*|partnerships?|eu)\b",
    re.IGNORECASE)


# Glossary concepts that say where, not what: "the municipal music school" is still a service errand.
_PLACES = re.compile(r"^(?:kommun\w*|municipal\w*|local authorit\w*|regions?|regioner|sverige|svensk\w*|sweden|"
                     r"swedish)$", re.IGNORECASE)


def asks_for_a_service(question: str, glossary_matched: tuple[str, ...] = (), passage: str = "") -> bool:
    """Whether ``question`` asks about an everyday municipal service and nothing of the social economy
    (``glossary_matched``: the glossary phrases the question mentions; places do not count). A service that
    ``passage`` (the best passage found) speaks of itself is what the documents discuss, not an errand: "Vilket
    problem har kommunen med soporna?" asks about "stora problem med sophanteringen" on a slide of challenges."""
    concepts = [phrase for phrase in glossary_matched if not _PLACES.match(phrase)]
    services = [m.group() for m in _SERVICES.finditer(question)]
    if not services or concepts or _DOMAIN.search(question):
        return False
    return not (passage and all(_spoken_of(service, passage) for service in services))


def _spoken_of(service: str, passage: str) -> bool:
    """Whether every word of a service's name begins a word of ``passage`` by its stem ("soporna" → "sop…")."""
    words = {w.lower() for w in re.findall(r"\w+", passage)}
    return all(any(t.startswith(s) for s in {*stem_tokens(w, "sv"), *stem_tokens(w, "en")} if len(s) >= 3
                   for t in words)
               for w in re.findall(r"\w+", service.lower()))
