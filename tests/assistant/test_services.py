"""Everyday municipal services are out of scope unless the question asks about them through the social economy."""

from __future__ import annotations

import pytest

from assistant.services import asks_for_a_service


@pytest.mark.parametrize("question", [
    "Vad kostar en parkeringsplats i Umeå?",
    "Var betalar jag min p-bot?",
    "Hur söker jag bygglov för ett garage i Östersund?",
    "Can I get a school place for my child in Karlstad?",
    "What are the opening hours of the library in Laxå?",
    "How do I renew my passport?",
    "Var hämtar jag ut mitt pass?",
    "Hur söker jag försörjningsstöd i Umeå?",
    "Where can I vote in the municipal election in Tierp?",
    "How do I sign up for the municipal music school?",  # "municipal" is a place, not a concept of the domain
    "How do I apply for financial assistance from social services in Malmö?",  # social services: a service
    "Hur får jag tag i socialtjänsten i Malmö?",
    "How do I apply for an apartment from the municipal housing company?",
    "Hur anmäler jag en grop i vägen i Tierp?",
    "How do I apply for a job as a teacher at the municipality?",
    "How do I file a complaint about the snow clearance on my street?",
    "How do I sign my child up for preschool?",
    "Which day is household waste collected in my neighbourhood?",
    "Elderly care application",  # keywords typed into the widget, English now that they are seen as English
    "Healthcare appointment booking",
    "Hur ansöker man om äldreomsorg?",
])
def test_service_questions_are_recognised(question) -> None:
    assert asks_for_a_service(question)


@pytest.mark.parametrize("question", [
    "Kan sociala företag hjälpa kommunen med sopor och återvinning?",  # the service, through the social economy
    "Could a cooperative run the swimming pool?",
    "Can a social enterprise help people who apply for a job?",
    "Vad är ett arbetsintegrerande socialt företag?",
    "Hur många kommuner deltar i nätverket?",
    "Passar kooperativ för landsbygden?",  # "passar" is not "pass"
    "Did the parliament pass the strategy in 2018?",  # nor is the English verb
    "Kan ett socialt företag driva hemtjänst åt kommunen?",  # the service, through a social enterprise
    "Hur kan vården nå invånare som inte talar svenska?",  # care in general is no everyday service errand
    "Hur kan sociala företag samarbeta med socialtjänsten?",  # social services, through social enterprises
])
def test_questions_about_the_social_economy_are_not(question) -> None:
    assert not asks_for_a_service(question)


def test_a_glossary_concept_keeps_it_a_question() -> None:
    assert asks_for_a_service("Who handles parking in Umeå?")
    assert not asks_for_a_service("Who handles parking in Umeå?", glossary_matched=("IOP",))
    assert asks_for_a_service("Who handles parking in the municipality?", glossary_matched=("municipality",))


def test_a_service_question_naming_a_known_municipality_abstains_without_passages(assistant) -> None:
    answer = assistant.ask("Where do I pay my parking fine in Malmö?")  # Malmö is in SKR's network: it scores high
    assert answer.abstained and answer.reason == "service" and answer.citations == ()
    assert "I answer questions about the social economy" in answer.text
    served = assistant.ask("Kan sociala företag hjälpa kommunen med sopor och återvinning?")
    assert not served.abstained and served.citations


def test_a_service_the_passage_speaks_of_is_no_errand() -> None:
    challenge = "Vi har stora problem med sophanteringen i vissa av våra bostadsområden."
    assert not asks_for_a_service("Vilket problem har kommunen med soporna?", passage=challenge)
    assert asks_for_a_service("När hämtas soporna i Umeå?", passage="Umeå, Östersund och Laxå deltar i nätverket.")
    # every word of a service's name must be spoken of: "skola" alone is not "byta skola"
    assert asks_for_a_service("Hur gör jag för att byta skola?", passage="Skolan och socialtjänsten samverkar.")


def test_a_problem_with_waste_on_the_challenges_slide_is_answered(assistant) -> None:
    answer = assistant.ask("Vilket problem har kommunen med soporna i en del bostadsområden?", use_cache=False)
    assert not answer.abstained, answer.reason
    assert "sophanteringen" in answer.text
