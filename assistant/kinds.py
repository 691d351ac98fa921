"""What kind of answer a question asks for — a figure, a sum of money, a date, which one ranks first, a name, a phone
number — and whether a line holds one."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from ingest.language import ADDRESS

# A question asking how many or how much ("Hur stor betydelse…" asks for none: abstract nouns are left out)
QUANTITY = re.compile(
    r"\b(hur (många|mycket)|hur (stor|stort|stora)\b(?! (betydelse|roll|del|vikt|påverkan|effekt|skillnad))|"
    r"vad kostar|kostnaden|belopp|procent|andel|how (many|much|large|big)|amount|percent|percentage|share of|"
    r"number of|what does it cost|the cost|threshold|tröskelvärde\w*|gränsvärde\w*|"
    r"vilken (paragraf|artikel)|vilka paragrafer|which (section|article|paragraph)s?|"
    r"(interest|unemployment|employment|tax|vat|success|growth|survival) rates?|rate of|räntan?|räntesats\w*|"
    r"\w*arbetslösheten)\b", re.IGNORECASE)
# ...or for a sum: a money word with a quantity, a cost or a limit ("Vem beslutar om budget?" asks for none)
MONEY = re.compile(r"\b(budget\w*|kostnad\w*|kostar|kosta|priset|avgift\w*|belopp\w*|\w*bidrag(et|en|s)?|intäkt\w*|"
                   r"lön|lönen|finansiering\w*|pengar|kronor|tjänar|tjäna|costs?|price|fee|fees|funding|revenue|"
                   r"income|grants?|subsid\w+|salary|wages?|money|spend|spent|spending|earns?|earned|charges?|"
                   r"charged|value|värdet|\w*avtalsvärde\w*|kontraktsvärde\w*)\b", re.IGNORECASE)
_LIMIT = re.compile(r"\b(vad kostar|kostar|vad tjänar|maximal\w*|högsta|lägsta|minsta|maximum|minimum|how much|"
                    r"hur mycket|hur (stor|stort|stora)|what does it cost|costs?|vilken (lön|avgift)|vilka löner|"
                    r"what (salary|wage|wages|fee|fees)|what does \w+( \w+)? (earn|charge)|"
                    r"how much do(es)? \w+ (earn|charge)|average|genomsnittlig\w*|snitt\w*|median\w*|total|"
                    r"totala|sammanlagd\w*|(what is|what's|what was) the (annual |yearly )?budget (of|for)|"
                    r"vad är budgeten|hur (stor|hög) (är|var) budgeten)\b", re.IGNORECASE)
_NUMBER = re.compile(r"\b\d[\d .,]*\b")
# ...and "free" answers what something costs
_FREE = re.compile(r"\b(kostnadsfri\w*|avgiftsfri\w*|gratis|utan kostnad|free of charge|at no cost|for free|"
                   r"no charge)\b", re.IGNORECASE)
_MONEY_TEXT = re.compile(r"\b(kr|kronor|sek|mkr|msek|tkr|euro|eur|miljon(er)?|miljard(er)?|million|billion|"
                         r"dollars?)\b|[€$]", re.IGNORECASE)
_NUMBER_WORD = re.compile(
    r"\b(två|tre|fyra|fem|sju|åtta|nio|tio|elva|tolv|tjugo|trettio|fyrtio|femtio|hundra|tusen|miljon(er)?|"
    r"miljard(er)?|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|"
    r"thousand|million|billion)\b", re.IGNORECASE)
# Words that say which kind of answer is wanted, not what it is about ("hur många ... kommuner")
KIND_WORDS = frozenset("""många mycket stor stort stora antal andel per procent år månad dag datum när länge kostar
    kostnad kostnaden pris avgift maximal högsta lägsta many much large big number amount share percent percentage
    year month day date when long cost costs price fee maximum minimum""".split())
DATE = re.compile(r"\b(vilket (exakt |närmare )?datum|vilken dag|(what|which) (exact |precise |specific )?date|"
                  r"on which day|what day)\b", re.IGNORECASE)
# "när"/"when" open the question ("What to consider when procuring?" asks for no date); "how long" accepts a duration
WHEN = re.compile(r"^\W*(och |and )?(när|when)\b|\b(when (did|was|were|is|are|will|does|do|has|have)|vilket år|"
                  r"vilka år|vilken månad|sedan när|what year|which year|what years|which years|which month|"
                  r"during which period|since when)\b", re.IGNORECASE)
HOW_LONG = re.compile(r"\b(hur länge|how long|hur lång (tid|\w+tid)|how much time|inom vilken tid|senast när|"
                      r"by when|deadline|tidsfrist\w*)\b", re.IGNORECASE)
# A question about when something began ("När bildades Coompanion?"): "sedan 1988" answers it beside any subject
STARTED = re.compile(r"\b(bildades|grundades|startades|startade|började|kom till|founded|established|formed|"
                     r"started|set up|since when|sedan när)\b", re.IGNORECASE)
SINCE_YEAR = re.compile(r"\b(sedan|since|grundad|grundat|bildad|bildat|founded in|established in) (år )?(19|20)\d\d\b",
                        re.IGNORECASE)
_DURATION = re.compile(r"\b(\d+|två|tre|fyra|fem|sex|tio|two|three|four|five|six|ten) (år|månader|veckor|dagar|"
                       r"timmar|years?|months?|weeks?|days?|hours?)\b|\bsedan (19|20)\d\d\b", re.IGNORECASE)
_MONTHS = ("januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|december|"
           "january|february|march|may|june|july|august|october")
# a month alone (without a day): English "may" is left out, it is mostly the verb ("Members may join")
_MONTH = re.compile(rf"\b({_MONTHS.replace('|may|', '|')})\b", re.IGNORECASE)
_DAY = re.compile(rf"\b\d{{1,2}}(:e|st|nd|rd|th)? ({_MONTHS})\b|\b(19|20)\d\d-\d\d-\d\d\b", re.IGNORECASE)
_YEAR_IN_TEXT = re.compile(r"\b(19|20)\d\d\b")
_YEAR = re.compile(r"^(19|20)\d\d$")
URL = ADDRESS  # web and e-mail addresses: their digits are neither figures nor dates
PHONE = re.compile(r"(?<![\w-])(?:\+46[\s-]?|0)\d{1,3}-\s?\d[\d ]{4,}\d(?![\w-])")  # "076-0626293", "+46 8-452 70 00"
# A question asking how to apply for something ("Hur ansöker man om lönebidrag?"): only lines that speak of applying
# (an application, a form) answer it, not a line that names what is applied for
APPLY = re.compile(r"\b(?:hur|var) (?:an)?söker (?:jag|man|vi|en|ni)\b|"
                   r"\b(?:how|where) (?:do|can|should|would) (?:i|we|you|one) apply\b", re.IGNORECASE)
_APPLYING = re.compile(r"\b(?:ansök\w*|sök(?:er|es|a|ande|t)?|appl(?:y|ies|ied|ying|icants?|ications?)|"
                       r"blankett\w*|formulär\w*|application forms?)\b", re.IGNORECASE)
# A question asking for a phone number: only a line with one answers it (an e-mail address does not)
PHONE_ASKED = re.compile(r"\b(telefonnum\w*|mobilnum\w*|(tele)?phone numbers?|vilket nummer|what number)\b",
                         re.IGNORECASE)


# A question asking which one ranks first ("Vilken kommun har flest …?", "Which municipality buys the most …?"):
# only a line that ranks ("flest", "the largest", "i topp") answers it, not a list of the candidates. Qualitative
# superlatives ("viktigast", "most important", "bäst", "What matters most?") ask for reasons, and names ("det högsta
# beslutande organet") for no rank: both are left out (only "which"/"vilken"/"who" questions choose among candidates).
RANKING = re.compile(r"\b(vilken|vilket|vilka|vem|which|who)\b.*\b(flest|mest|störst\w*|högst\w*|minst|"
                     r"lägst\w*|färrest|most|largest|biggest|highest|fewest|least|smallest|lowest)\b"
                     r"(?! (viktig|important|relevant|useful|användbar|effektiv|effective|beslutande|decision|"
                     r"domstol|court))", re.IGNORECASE)
_RANKED = re.compile(r"\b(flest|mest|störst\w*|högst\w*|minst|lägst\w*|färrest|i topp|toppar|leder|ledande|främst|"
                     r"rank\w*|most|largest|biggest|highest|fewest|least|smallest|lowest|top|leads|leading)\b",
                     re.IGNORECASE)


# A question asking what someone or something is called ("Vad heter appen?", "What is the name of …?"): only a line
# with a name in it (a capitalised word inside a sentence, an acronym) answers it, not "ett socialt företag".
NAME = re.compile(r"\b(vad heter|vilket namn|vilka namn|vad kallas|what is the name|what's the name|"
                  r"what was the name|what are the names|what is it called|what are they called)\b", re.IGNORECASE)
_SENTENCE_BREAK = re.compile(r"[.!?:;•\-–−*]$")


def _has_name(text: str) -> bool:
    """Whether a line names someone or something: a capitalised word that does not open a sentence, or an
    acronym ("Samarkand", "SKR", "Coompanion")."""
    previous = ""
    for word in re.findall(r"\S+", text):
        core = word.strip("()[]\"'”“’,.!?:;")
        if core[:1].isupper() and ((len(core) >= 2 and core.isupper()) or previous and not
                                   _SENTENCE_BREAK.search(previous)):
            return True
        previous = word
    return False


_LIST_NUMBER = re.compile(r"^\s*(\d{1,2})[.)](?=\s)")  # "2. Arbeta aktivt …": a list's numbering, no figure
_ENDS_CLAUSE = re.compile(r"[.!?:;]\s*$")


def _without_list_numbers(text: str) -> str:
    """``text`` without the numbering of its lists. A line's "N." or "N)" numbers a list when it opens the text, follows
    a finished sentence or another numbered line, or is a single digit before a capital ("för kommunen / 2. Arbeta
    aktivt …": a flattened slide). Otherwise it ends a wrapped sentence ("ökade till / 25. Det …") and is a figure."""
    out, previous = [], ""
    for line in text.split("\n"):
        found = _LIST_NUMBER.match(line)
        if found and (not previous or _ENDS_CLAUSE.search(previous) or _LIST_NUMBER.match(previous)
                      or (len(found[1]) == 1 and line[found.end():].strip()[:1].isupper())):
            out.append(" " * found.end() + line[found.end():])
        else:
            out.append(line)
        previous = line if line.strip() else previous
    return "\n".join(out)


def _has_figure(text: str) -> bool:
    text = _without_list_numbers(text)
    return any(not _YEAR.match(n.strip(" .,")) for n in _NUMBER.findall(text)) or bool(_NUMBER_WORD.search(text))


# What a figure counts, by kind of thing: "3007 personer i Jämtland" says how many people, not how many social
# enterprises there are ("Hur många sociala företag finns det i Jämtland?"). Kinds a line or a question does not
# show (a noun of no class here, a figure at the end of its line) leave the figure standing.
_COUNTED = (
    ("people", re.compile(r"(personer|person|people|persons|individer|individuals|människor|invånare|inhabitants|"
                          r"residents|anställda|employees|medarbetare|arbetslösa|unemployed|deltagare|participants|"
                          r"elever|pupils|students|ungdomar|youths?)$", re.IGNORECASE)),
    ("organisations", re.compile(r"(företag|företagen|enterprises?|companies|company|businesses|organisationer|"
                                 r"organisations?|organizations?|föreningar|associations?|kooperativ|kooperativen|"
                                 r"cooperatives?|stiftelser|foundations?)$", re.IGNORECASE)),
    ("municipalities", re.compile(r"(kommuner|kommunerna|municipalities|councils|regioner|regions)$", re.IGNORECASE)),
)
_COUNT_ASKED = re.compile(r"\b(?:hur många|how many|antalet|antal|number of)\s+((?:[\w-]+\s+){0,2}[\w-]+)",
                          re.IGNORECASE)
_COUNT_IN_LINE = re.compile(rf"(?P<number>\b\d[\d .,]*\d\b|\b\d\b|{_NUMBER_WORD.pattern})\s+"
                            r"(?:(?:miljon(?:er)?|miljard(?:er)?|tusen|hundra|million|billion|thousand|hundred)\s+)?"
                            r"(?P<noun>[\w-]+)", re.IGNORECASE)  # "två miljoner personer": people


def _counted(word: str) -> str:
    return next((name for name, pattern in _COUNTED if pattern.match(word)), "")


def counts_asked(question: str, text: str) -> bool:
    """Whether ``text`` may count what a "how many" question asks about: a figure in it counts that kind of thing, or
    one whose kind cannot be told."""
    asked = _COUNT_ASKED.search(question)
    kind = next((k for w in asked.group(1).split() if (k := _counted(w))), "") if asked else ""
    if not kind:
        return True
    counted = [_counted(m["noun"]) for m in _COUNT_IN_LINE.finditer(_without_list_numbers(text))
               if not _YEAR.match(m["number"].strip(" .,"))]  # a year counts nothing
    return not counted or any(c in ("", kind) for c in counted)


def _has_time(question: str, text: str) -> bool:
    if DATE.search(question):
        return bool(_DAY.search(text))
    return bool(_YEAR_IN_TEXT.search(text) or _MONTH.search(text))


# Every kind of answer a question can ask for; when the quoted lines lack it, the kind is the abstention's reason
KINDS = ("figure", "date", "ranking", "name", "phone", "procedure")


@dataclass(frozen=True)
class Wanted:
    """The kind of answer a question asks for (one of ``KINDS``; "" for any) and how to recognise it in a line."""

    kind: str = ""
    found: Callable[[str], bool] = lambda text: True

    def __post_init__(self) -> None:
        if self.kind and self.kind not in KINDS:
            raise ValueError(f"unknown kind of answer {self.kind!r}: add it to KINDS")


ANY = Wanted()  # a question that asks for no particular kind of answer


# A question that compares two things ("Vad är skillnaden mellan …?", "How does X differ from Y?") is answered by
# both sides: a short passage that sets them side by side (a table of two columns) is quoted whole
COMPARISON = re.compile(r"\b(skillnaden?\s+(mellan|på)|skiljer\s+sig|skiljer\s+\w+\s+sig|jämfört\s+med|"
                        r"difference\s+between|differences\s+between|differs?\s+from|different\s+from|"
                        r"compared?\s+(with|to)|versus)\b", re.IGNORECASE)


def _no_phones(found: Callable[[str], bool]) -> Callable[[str], bool]:
    return lambda text: found(PHONE.sub(" ", text))  # a phone number's digits are neither a figure nor a date


def wanted(question: str) -> Wanted:
    """An amount of money needs a figure with a currency or "miljoner"; a quantity a number that is not a year;
    a date or a time ("när", "vilket år", "since when") a day, a year or a month; "how long" (or by when) also a
    duration; which one ranks first, a line that ranks; a name, a name; a phone number, a phone number; how to apply,
    a line that speaks of applying."""
    if PHONE_ASKED.search(question):
        return Wanted("phone", lambda text: bool(PHONE.search(text)))
    found = _wanted(question)
    if not found.kind and APPLY.search(question):  # after the figure and the date: "How much can we apply for?"
        return Wanted("procedure", lambda text: bool(_APPLYING.search(text)))
    return replace(found, found=_no_phones(found.found)) if found.kind in ("figure", "date") else found


def _wanted(question: str) -> Wanted:
    if MONEY.search(question) and (QUANTITY.search(question) or _LIMIT.search(question)):
        return Wanted("figure", lambda text: bool(_has_figure(text) and _MONEY_TEXT.search(text) or _FREE.search(text)))
    if QUANTITY.search(question):
        return Wanted("figure", lambda text: _has_figure(text) and counts_asked(question, text))
    if HOW_LONG.search(question):
        return Wanted("date", lambda text: bool(_DURATION.search(text) or _YEAR_IN_TEXT.search(text)))
    if DATE.search(question) or WHEN.search(question):
        return Wanted("date", lambda text: _has_time(question, text))
    if RANKING.search(question):
        return Wanted("ranking", lambda text: bool(_RANKED.search(text)))
    if NAME.search(question):
        return Wanted("name", _has_name)
    return ANY


# Roles a question may ask about, in both languages: "Vem är ordförande för …?" needs the role in the quoted lines
ROLES = (("ordförande", "chair", "chairman", "chairwoman", "chairperson"),
         ("vd", "verkställande direktör", "ceo", "chief executive", "managing director"),
         ("grundare", "founder"), ("styrelse", "board"), ("borgmästare", "mayor"),
         ("generalsekreterare", "secretary general", "secretary-general"),
         ("statsminister", "prime minister", "premiärminister"), ("minister", "statsråd"), ("president",),
         ("kommundirektör", "kommunchef", "city manager", "chief executive of the municipality"),
         ("rektor", "headteacher", "head teacher", "principal of"), ("talesperson", "spokesperson"))
_ROLE = [(forms, re.compile(r"\b(" + "|".join(re.escape(f) for f in forms) + r")\w*", re.IGNORECASE))
         for forms in ROLES]


_WHO = re.compile(r"\b(vem|vilka|who|whom|whose)\b", re.IGNORECASE)
# "Which minister …?", "Vilken rektor …?": a role right after "which" asks for someone too
_WHICH_ROLE = re.compile(r"\b(which|vilken|vilket)\s+(\w+\s+)?("
                         + "|".join(re.escape(f) for forms in ROLES for f in forms) + r")\w*", re.IGNORECASE)


def roles_missing(question: str, quoted: str) -> list[str]:
    """The roles a "who" question asks about ("Vem är ordförande …?", "Who is the chair of the board?") that the
    quoted lines do not name. ("Beyond advising founders, …" asks for no one.)"""
    if not _WHO.search(question) and not _WHICH_ROLE.search(question):
        return []
    missing: list[str] = []
    for _, pattern in _ROLE:
        if (m := pattern.search(question)) and not pattern.search(quoted) \
                and not any(m.group(0).lower() in role.lower() for role in missing):  # "minister" of "prime minister"
            missing.append(m.group(0))
    return missing


def without_urls(text: str) -> str:
    """``text`` with web and e-mail addresses blanked: their digits are neither figures nor dates."""
    return URL.sub(" ", text)
