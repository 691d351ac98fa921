"""What kind of answer a question asks for, and whether a line holds one (assistant/kinds.py)."""

from __future__ import annotations

import pytest

from assistant.kinds import wanted


@pytest.mark.parametrize(("question", "kind"), [
    ("Hur många kommuner deltar?", "figure"),
    ("Vad kostar det att gå med i utvecklingsnätverket?", "figure"),
    ("What is the maximum wage subsidy a social enterprise can receive per employee?", "figure"),
    ("What is the interest rate on a loan from a cooperative bank?", "figure"),
    ("What is the average salary in a cooperative?", "figure"),
    ("Hur hög är arbetslösheten i Malmö?", "figure"),
    ("What is the total budget of SKR's development network?", "figure"),
    ("Vad är budgeten för nätverket?", "figure"),
    ("On what exact date will the third newsletter be published?", "date"),
    ("När antogs handlingsplanen?", "date"),
    ("And when was it adopted?", "date"),
    ("Since when?", "date"),
    ("How long does a procurement take?", "date"),
    ("Vilken lön har en handledare på ett socialt företag?", "figure"),  # an amount, of money
    ("What salary does a supervisor get?", "figure"),
    ("How much money did SKR spend on the network?", "figure"),  # a sum: "2021-2022" does not answer it
    ("Vad tjänar en handledare på ett socialt företag?", "figure"),  # earnings: a sum
    ("What does Coompanion charge for advice?", "figure"),  # "kostnadsfri" answers it
    ("Vilken kommun i nätverket har flest sociala företag?", "ranking"),
    ("Which municipality in Sweden buys the most from social enterprises?", "ranking"),
    ("Vad heter appen som översätter läkarens information?", "name"),
    ("What is the name of the EU's action plan?", "name"),
    ("Vilket tröskelvärde gäller för reserverad upphandling?", "figure"),
    ("Vilken paragraf i LOU reglerar reserverad upphandling?", "figure"),
    ("What is the maximum contract value for a reserved procurement?", "figure"),  # a sum
    ("Hur lång avtalstid brukar ett IOP ha?", "date"),  # a duration
    ("Inom vilken tid ska medlemsstaterna ta fram strategier?", "date"),
    ("What is Åsa Bengtsson's telephone number?", "phone"),
    ("Vad är telefonnumret till Coompanion?", "phone"),
    ("What value does the social economy create?", ""),
    ("What do you call a company that reinvests its profit?", ""),  # "call" asks for no phone number
    # none of these asks for a figure or a date
    ("What do municipalities need to consider when procuring services?", ""),
    ("Vilket pris fick Yalla Trappan?", ""),  # a prize, not a price
    ("Hur stor betydelse har sociala företag?", ""),
    ("Vilket är det högsta beslutande organet?", ""),
    ("Vem beslutar om budget?", ""),
    ("What is the budget process for social procurement?", ""),  # no sum asked for
    ("What is the total picture for social enterprises?", ""),
    ("What is most important when a municipality procures services?", ""),  # a reason, not a rank
    ("Vad behöver kommunen mest?", ""),
    ("What do municipalities need most from social enterprises?", ""),
])
def test_the_kind_of_answer_a_question_asks_for(question: str, kind: str) -> None:
    assert wanted(question).kind == kind


def test_lines_that_hold_the_kind_asked_for() -> None:
    sum_asked = wanted("Hur stort lönebidrag får en arbetsgivare?")
    assert sum_asked.found("Lönebidraget är högst 20 000 kronor i månaden")
    assert not sum_asked.found("3007 personer i Jämtland står till arbetsmarknadens förfogande")  # no currency
    figure = wanted("Hur många kommuner deltar?")
    assert figure.found("tillsammans med tolv kommuner") and not figure.found("under 2021")  # a year is no count
    when = wanted("When was the network founded?")
    assert when.found("I december 2021 antogs") and not when.found("Members may join at any time")
    rank = wanted("Vilken kommun har flest sociala företag?")
    assert rank.found("Umeå har flest sociala företag i Sverige") and not rank.found("Umeå\nHudiksvall\nSöderhamn")
    money = wanted("How much money did SKR spend on the network in 2022?")
    assert money.found("Budgeten var 4 miljoner kronor") and not money.found("SKR arbetar under 2021-2022")
    duration = wanted("How long does a procurement take?")
    assert duration.found("A procurement takes three weeks") and duration.found("Social innovation sedan 1988")


def test_a_who_question_about_a_role_needs_the_role_in_the_quoted_lines() -> None:
    from assistant.kinds import roles_missing

    contact = "Pernilla Sivertsen, Coompanion\npernilla.sivertsen@coompanion.se"
    assert roles_missing("Vem är ordförande för Coompanion Sverige?", contact) == ["ordförande"]
    assert roles_missing("Who is the chair of Coompanion's board?", contact) == ["chair", "board"]
    assert roles_missing("Vem är ordförande?", "Ordförande: Anna Andersson") == []
    assert roles_missing("Beyond advising individual founders, what goals does it have?", contact) == []
    assert roles_missing("Which Swedish minister is responsible for the strategy?", contact) == ["minister"]
    assert roles_missing("Who is the prime minister?", contact) == ["prime minister"]  # not "minister" again


def test_free_of_charge_answers_what_it_costs_and_since_answers_when_it_started() -> None:
    cost = wanted("Kostar det något att få råd från Coompanion?")
    assert cost.kind == "figure" and cost.found("Coompanion erbjuder kostnadsfri rådgivning")
    assert not cost.found("Coompanion erbjuder rådgivning")
    assert wanted("Is the advice free of charge, or what does it cost?").found("Advice is given free of charge.")


def test_start_questions_and_since_lines() -> None:
    from assistant.kinds import SINCE_YEAR, STARTED

    assert STARTED.search("När bildades Coompanion?") and STARTED.search("When was SKR founded?")
    assert not STARTED.search("När antogs handlingsplanen?")
    assert SINCE_YEAR.search("-Social innovation sedan 1988") and not SINCE_YEAR.search("SKR arbetar under 2021-2022")


def test_phone_numbers_are_neither_figures_nor_dates_and_names_are_capitalised_inside_a_sentence() -> None:
    from assistant.kinds import without_urls

    count = wanted("Hur många anställda har Coompanion?")
    assert not count.found(without_urls("pernilla.sivertsen@coompanion.se 076-0626293"))
    assert not count.found(without_urls("Ring +46 8-452 70 00")) and count.found(without_urls("SKR och tolv personer"))
    assert without_urls("SKR arbetar under 2021-2022") == "SKR arbetar under 2021-2022"
    phone = wanted("Vilket telefonnummer har Pernilla?")
    assert phone.found("pernilla.sivertsen@coompanion.se 076-0626293") and not phone.found("asa.bengtsson@skr.se")
    name = wanted("What is the name of the enterprise?")
    assert name.found("Ett samarbete med Samhall i Umeå") and name.found("• Extern samverkansstruktur (ex SKR)")
    assert not name.found("Jag fick hjälp tack vare en app som utvecklats av ett socialt företag.")
    assert not name.found("• Politisk förankring")


@pytest.mark.parametrize("question, compares", [
    ("Vad är skillnaden mellan ett vanligt socialt företag och ett ASF?", True),
    ("Hur skiljer sig ett ASF från andra sociala företag?", True),
    ("What makes a work-integration social enterprise different from other social enterprises?", True),
    ("How does the social economy's share of GDP compare with the EU average?", True),
    ("Behöver vi mäta vilken skillnad samarbetet gör för samhället?", False),  # the difference it makes
    ("How do I get my child into a different school in Malmö?", False),
    ("Has the network led to cooperation between different council departments?", False),
])
def test_a_question_that_compares_is_recognised(question, compares) -> None:
    from assistant.kinds import COMPARISON
    assert bool(COMPARISON.search(question)) is compares


def test_a_figure_that_counts_another_kind_of_thing_does_not_answer_how_many() -> None:
    """"3007 personer i Jämtland" says how many people, not how many social enterprises; a figure whose kind cannot
    be told still stands."""
    people = "• 3007 personer i Jämtland står till arbetsmarknadens förfogande"
    assert not wanted("Hur många sociala företag finns det i Jämtlands län idag?").found(people)
    assert not wanted("How many social enterprises are there in Härjedalen?").found("tillsammans med tolv kommuner")
    assert wanted("Hur många arbetslösa finns det i Jämtland?").found(people)  # the unemployed are people
    assert wanted("Hur många kommuner deltar i nätverket?").found("tillsammans med tolv kommuner")
    assert wanted("Hur många sociala företag finns det?").found("Det finns 12 sociala företag och 3007 personer")
    assert wanted("Hur många sociala företag finns det?").found("Antalet har ökat till 40.")  # no kind: it stands


def test_a_count_of_people_is_not_quoted_for_a_count_of_enterprises(assistant) -> None:
    asked = assistant.ask("Hur många sociala företag finns det i Jämtlands län idag?", use_cache=False)
    assert asked.abstained and asked.reason == "figure", asked.text
    answered = assistant.ask("Hur många arbetslösa finns det i Jämtland?", use_cache=False)
    assert not answered.abstained and "3007 personer" in answered.text


@pytest.mark.parametrize("question", [
    "Hur ansöker man om lönebidrag för en anställd i ett arbetsintegrerande socialt företag?",
    "Var söker jag om stöd för att starta ett kooperativ?",
    "How do I apply for wage subsidies for a work-integration social enterprise?",
    "Where can we apply for funding for a social enterprise?",
])
def test_a_question_about_applying_needs_lines_that_speak_of_applying(question: str) -> None:
    want = wanted(question)
    assert want.kind == "procedure"
    assert not want.found("personer med lönebidrag för att de åter ska komma tillbaka till anställning")
    assert want.found("Ansökan görs på blanketten hos Arbetsförmedlingen") and want.found("Apply on the form below")


def test_questions_about_what_is_applied_for_are_not_about_applying() -> None:
    assert wanted("Vad är lönebidrag?").kind == "" and wanted("Which rules apply to reserved contracts?").kind == ""


def test_a_lists_numbering_and_a_year_count_nothing() -> None:
    """"2. Arbeta aktivt …" numbers a list and "2021-2022" dates one: neither says how many social enterprises."""
    count = wanted("How many social enterprises are there in Härjedalen municipality?")
    assert not count.found("2. Arbeta aktivt med näringslivsstödjande insatser\n3. Inte bedriva konkurrerande "
                           "näringsmässig verksamhet.")
    assert not count.found("SKR arbetar under 2021-2022 tillsammans med tolv kommuner")
    assert wanted("Hur många sociala företag finns det?").found("I länet finns 14 sociala företag.")


def test_a_figure_or_a_date_asked_about_applying_is_still_a_figure_or_a_date() -> None:
    assert wanted("How much funding can we apply for?").kind == "figure"
    assert wanted("When can I apply for the grant?").kind == "date"
    assert wanted("Vem kan söka om lönebidrag?").kind == ""  # who may apply: no procedure asked for
    applying = wanted("Hur ansöker man om lönebidrag?")
    assert applying.found("Man söker via Arbetsförmedlingen.") and not applying.found("Stödet ges i form av ett bidrag")
    enterprises = wanted("Hur många sociala företag finns det?")
    assert not enterprises.found("Det gäller två miljoner personer")  # a multiplier is not what is counted


def test_a_wrapped_sentence_ending_in_a_figure_keeps_it() -> None:
    """A PDF line that wraps before "25." ends a sentence with a figure; a list's "2." after a flattened column's
    last line, or after a finished sentence, is still numbering."""
    figure = wanted("Hur många deltagare hade projektet?")
    assert figure.found("Antalet deltagare i projektet ökade till\n25. Det var fler än väntat.")
    assert not figure.found("Förutsättningar för kommunen\n2. Arbeta aktivt med näringslivet")
    assert not figure.found("Så här gör vi.\n12. Arbeta vidare")
    count = wanted("How many social enterprises are there?")
    assert count.found("In the region, the number of social enterprises grew to\n25. That is a record.")
