"""Which lines of a passage are quoted (assistant/quotes.py), on passages built here."""

from __future__ import annotations

from assistant.glossary import Expansion
from assistant.kinds import wanted
from assistant.quotes import MAX_LIST_CHARS, MAX_QUOTE_CHARS, select_quote
from assistant.retrieval import Query
from assistant.types import Hit
from ingest.windows import window_spans


def _hit(text: str, scores: list[float]) -> Hit:
    """A passage whose windows score ``scores`` in order (the rest 0.5)."""
    spans = window_spans(text)
    windows = [(s, e, scores[i] if i < len(scores) else 0.5) for i, (s, e) in enumerate(spans)]
    return Hit(chunk_id=0, doc_id="d", title="T", file="d.pdf", publisher="", page=1, page_end=1, char_start=0,
               char_end=len(text), text=text, language="sv", score=0.9, dense_score=0.9,
               windows=tuple(sorted(windows, key=lambda w: -w[2])))


def test_a_window_at_the_end_of_a_long_list_is_quoted_with_what_fits_not_the_whole_list() -> None:
    items = [f"• Punkt nummer {n} i en lång lista över åtgärder som kommunen kan vidta" for n in range(30)]
    text = "Åtgärder\n" + "\n".join(items)
    hit = _hit(text, [0.8] * (len(window_spans(text)) - 1) + [0.9])
    quote = select_quote(hit, Query(text="Vilka åtgärder?", lang="sv", terms=(), expansion=Expansion((), (), ())))
    assert quote in text and "Punkt nummer 29" in quote
    assert len(quote) <= MAX_QUOTE_CHARS


def test_a_date_inside_a_web_address_does_not_choose_the_lines() -> None:
    """The check blanks web addresses before it looks for a date; so must the choice of lines, or it quotes the
    address line and then abstains for want of a date."""
    text = ("Nätverket startade med tolv kommuner från norr till söder i hela landet.\n"
            "Det har fortsatt att växa sedan dess, med fler kommuner och fler sociala företag.\n"
            "Läs mer om det på www.example.se/2019/natverket och anmäl dig till nyhetsbrevet.\n"
            "Kontakta oss för mer information om nätverket och om hur man går med idag.")
    hit = _hit(text, [0.9, 0.88, 0.85])
    query = Query(text="När startade nätverket?", lang="sv", terms=("startade", "nätverket"),
                  expansion=Expansion((), (), ()))
    quote = select_quote(hit, query, wanted(query.text))
    assert quote.startswith("Nätverket startade") and "www.example.se" not in quote


def test_a_heading_alone_is_quoted_with_the_lines_that_follow_it() -> None:
    text = ("SESI\nSocial ekonomi, social innovation\n"
            "• Främja samverkan för att höja kunskapen om den sociala ekonomins möjligheter och förmåga att utgöra "
            "ett kraftfullt alternativ för arbetsgivarnas kompetensbehov.\n"
            "• Fler individer ska etableras på arbetsmarknaden genom samverkan mellan aktörerna i regionen.")
    spans = window_spans(text)
    hit = _hit(text, [0.5] * len(spans))
    heading_only = Hit(**{**hit.__dict__, "windows": ((0, text.index("\n•"), 0.95),)})  # the heading scores best
    query = Query(text="What does SESI promote?", lang="en", terms=("sesi", "promote"), expansion=Expansion((), (), ()))
    quote = select_quote(heading_only, query)
    assert quote.startswith("SESI") and "Främja samverkan" in quote and quote in text


def test_a_near_tie_that_the_latent_terms_prefer_is_quoted_too() -> None:
    from assistant.quotes import WINDOW_MARGIN, answer_passages

    text = "Första raden om sociala företag i kommunen.\nAndra raden om kooperativ och föreningar.\nTredje raden."
    first = Hit(**{**_hit(text, [0.9]).__dict__, "chunk_id": 1, "score": 0.95, "latent_score": 0.20})
    weaker_lines = [(0, 20, 0.9 - 2 * WINDOW_MARGIN)]  # its best lines alone would leave it out

    def second(latent):
        return Hit(**{**first.__dict__, "chunk_id": 2, "score": 0.94, "windows": tuple(weaker_lines),
                      "latent_score": latent})

    assert [h.chunk_id for h in answer_passages((first, second(0.30)))] == [1, 2]
    assert [h.chunk_id for h in answer_passages((first, second(0.10)))] == [1]
    assert [h.chunk_id for h in answer_passages((first, second(None)))] == [1]


def test_a_running_label_and_pasted_links_do_not_end_a_quotation() -> None:
    """A slide's label in capitals after its last line, and the web addresses pasted after its last sentence, are
    not part of what answers; a short passage quoted whole loses them too, and stays a verbatim substring."""
    text = ("Social ekonomi: organiserade verksamheter som har samhälleliga ändamål. https://sv.wikipedia.org/wiki/A "
            "https://sv.wikipedia.org/wiki/B\nVAD ÄR SOCIAL EKONOMI?")
    query = Query(text="Vad är social ekonomi?", lang="sv", terms=("social", "ekonomi"), expansion=Expansion((), (), ()))
    quote = select_quote(_hit(text, []), query)
    assert quote == "Social ekonomi: organiserade verksamheter som har samhälleliga ändamål."
    assert quote in text


def test_an_acronym_that_ends_a_list_is_kept() -> None:
    text = "Verktyg för hållbara partnerskap\nPolicys\nHandlingsplaner\nIOP"
    query = Query(text="Vilka verktyg finns?", lang="sv", terms=("verktyg",), expansion=Expansion((), (), ()))
    assert select_quote(_hit(text, []), query).endswith("\nIOP")


def test_a_quotation_mark_whose_partner_is_not_quoted_is_left_out() -> None:
    """The lines quoted end a quotation that opened on an earlier line: the answer's own marks would double the
    closing one ("styrning””"); a quotation quoted whole keeps both of its marks."""
    query = Query(text="Vad är social ekonomi?", lang="sv", terms=("social", "ekonomi"), expansion=Expansion((), (), ()))
    ends = "• återinvestering av vinsterna i verksamheten\n• demokratisk eller deltagande styrning”"
    assert select_quote(_hit(ends, []), query) == ends[:-1]
    opens = "”Den sociala ekonomin erbjuder ökad förmåga att ta tillvara på allas kompetens"
    assert select_quote(_hit(opens, []), query) == opens[1:]
    whole = "”Den sociala ekonomin erbjuder ökad förmåga att möta framtida utmaningar.”\nPernilla Sivertsen"
    assert select_quote(_hit(whole, []), query) == whole


def test_lines_with_the_date_asked_for_are_quoted_when_nearly_as_close_as_the_best() -> None:
    """The best lines without the year would only lead to "they give no such date"; lines with it, within
    KIND_REACH of the best, may answer."""
    from assistant.quotes import KIND_REACH, QUOTE_KIND
    text = ("Coompanion finns över hela landet och erbjuder kostnadsfri rådgivning till alla som vill starta företag.\n"
            "Vi arbetar för att fler ska få möjlighet att starta och driva kooperativa och sociala företag.\n"
            "Vi driver även ett stort antal projekt med fokus på samhällsutveckling i hela regionen.\n"
            "Coompanion – Social innovation sedan 1988, med kontor i alla län i hela Sverige.")
    spans = window_spans(text)
    gap = QUOTE_KIND + KIND_REACH / 2  # more than the kind's own weight makes up, less than the reach
    hit = _hit(text, [0.9] + [0.9 - gap] * (len(spans) - 1))
    query = Query(text="Since what year has Coompanion been around?", lang="en", terms=("year", "coompanion"),
                  expansion=Expansion((), (), ()))
    quote = select_quote(hit, query, wanted(query.text))
    assert "sedan 1988" in quote and quote in text
    far = _hit(text, [0.9] + [0.9 - QUOTE_KIND - KIND_REACH - 0.01] * (len(spans) - 1))
    assert "sedan 1988" not in select_quote(far, query, wanted(query.text))


def test_a_short_passage_is_quoted_whole_for_a_question_that_compares() -> None:
    """A slide of two columns (a social enterprise beside a work-integration one) flattens into lines whose best
    window holds one side only."""
    text = ("Socialt företag\nSyfte - samhällsnytta\nOrganisatoriskt fristående från offentlig sektor\n"
            "Överskottet tillbaka till verksamheten\nArbetsintegrerat Socialt företag\n(ASF)\n"
            "Syfte – samhällsnytta --> Arbetsintegration\nOrganisatoriskt fristående offentlig sektor\n"
            "Överskottet tillbaka till verksamheten\n& delaktighet medarbetare")
    assert len(text) <= MAX_QUOTE_CHARS
    hit = _hit(text, [0.7, 0.75, 0.9])
    asks = Query(text="Vad är ASF?", lang="sv", terms=("asf",), expansion=Expansion((), (), ()))
    assert select_quote(hit, asks) != text  # one side only, as before
    compares = Query(text="What is the difference between an ASF and an ordinary social enterprise?", lang="en",
                     terms=("difference", "asf", "ordinary", "social", "enterprise"), expansion=Expansion((), (), ()))
    assert select_quote(hit, compares) == text


def test_lines_that_open_with_a_heading_of_their_own_take_no_line_before_them() -> None:
    """On a flattened two-column slide the line before the ASF column's heading ends the other column; quoted
    before it, it read as part of the answer."""
    text = ("Socialt företag\nSyfte - samhällsnytta för alla som bor här\nOrganisatoriskt fristående från offentlig "
            "sektor\nÖverskottet tillbaka till verksamheten\nArbetsintegrerat Socialt företag\n(ASF)\n"
            "Syfte – samhällsnytta --> Arbetsintegration\nOrganisatoriskt fristående offentlig sektor\n"
            "Överskottet tillbaka till verksamheten\n& delaktighet medarbetare och ännu fler ord här")
    start = text.index("Arbetsintegrerat")
    end = text.index("\nOrganisatoriskt fristående offentlig")
    hit = _hit(text, [0.5] * len(window_spans(text)))
    headed = Hit(**{**hit.__dict__, "windows": ((start, end, 0.95),)})
    query = Query(text="Vad är ett ASF?", lang="sv", terms=("asf",), expansion=Expansion((), (), ()))
    quote = select_quote(headed, query)
    assert quote.startswith("Arbetsintegrerat Socialt företag") and quote in text


def test_lines_that_announce_a_list_are_quoted_with_the_whole_list_when_it_fits_the_list_limit() -> None:
    """A definition whose principles follow its long opening: its last principle is what an English question about
    governance asks for (three development sets asked it), beyond twice the quotation limit but within the list's."""
    opening = ("Enligt den definition som formulerats i rådets rekommendation består den sociala ekonomin av en "
               "uppsättning privata juridiska enheter som tillhandahåller varor och tjänster till sina medlemmar eller "
               "till samhället, omfattande kooperativ, föreningar, stiftelser eller sociala företag, samt andra "
               "juridiska former, som verkar i enlighet med följande huvudprinciper och funktioner:")
    items = ["• människors företräde och socialt eller miljömässigt syfte framför vinst",
             "• återinvestering av hela eller större delen av vinsterna och överskotten för att fortsätta driva deras "
             "sociala eller miljömässiga syften och genomföra aktiviteter i intresse för deras medlemmar eller "
             "samhället i stort, i kollektivt intresse eller i allmänt intresse, så som de själva beslutar om det på "
             "sina stämmor och i sina styrelser, år efter år och i hela landet",
             "• demokratisk eller deltagande styrning"]
    text = "\n".join([opening, *items])
    assert 2 * MAX_QUOTE_CHARS < len(text) <= MAX_LIST_CHARS
    hit = _hit(text, [])
    hit = Hit(**{**hit.__dict__, "windows": ((0, len(opening), 0.95),)})  # the opening, announcing the list, is best
    query = Query(text="What kind of governance does the EU definition require?", lang="en",
                  terms=("governance", "eu", "definition", "require"), expansion=Expansion((), (), ()))
    quote = select_quote(hit, query)
    assert quote == text and quote.endswith("deltagande styrning")
