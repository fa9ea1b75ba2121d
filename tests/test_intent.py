"""What a question asks for, and what a sentence holds: hand-checked cases."""

from __future__ import annotations

import pytest

from assistant.compose import asked_count, inline_list, leans_back, stated_count
from assistant.intent import (
    CHANGE_TEXT,
    AnswerKind,
    answer_kind,
    asks_about_things,
    asks_change,
    asks_target,
    asks_yes_no,
    counted_noun,
    counts,
    gives_asked,
    gives_target,
    kind_strength,
    list_noun,
    number_unit,
    parts_of,
    plain_question,
    without_request,
)


@pytest.mark.parametrize(
    ("question", "kind", "unit"),
    [
        ("What share of NHS trusts took part in the survey?", AnswerKind.number, "percent"),
        ("By what percentage must senior leadership grow?", AnswerKind.number, "percent"),
        ("How much will the digital workforce cost by 2030?", AnswerKind.number, "money"),
        ("What budget was set for mobile scanners?", AnswerKind.number, "money"),
        ("How many places have been commissioned?", AnswerKind.number, ""),
        ("How much would the workforce shrink?", AnswerKind.number, ""),
        (
            "How quickly is the market for coding systems expected to grow?",
            AnswerKind.number,
            "rate",
        ),
        ("How fast is demand for CT rising?", AnswerKind.number, "rate"),
        ("How quickly must reports be issued?", AnswerKind.number, ""),
        ("What does a cloud PACS contract cost per study?", AnswerKind.number, "money"),
        ("What do trusts spend on outsourced reporting?", AnswerKind.number, "money"),
        # The quantity named after the article: a number, not a definition.
        ("What is the average analytics team size?", AnswerKind.number, ""),
        ("What was the vacancy rate in the survey?", AnswerKind.number, ""),
        ("What's the total cost of the programme?", AnswerKind.number, "money"),
        ("What is the role of a delivery manager?", AnswerKind.definition, ""),
    ],
)
def test_number_questions_say_which_unit_they_want(question, kind, unit):
    assert answer_kind(question) is kind
    assert number_unit(question) == unit


@pytest.mark.parametrize(
    ("text", "any_number", "percent", "money", "rate"),
    [
        ("This included 45 NHS trusts, which represents 20% of all trusts.", 2, 2, 1, 2),
        ("The costs will be in the region of £5.2 billion by 2030.", 2, 1, 2, 1),
        ("Senior leadership must grow by 824 per cent.", 2, 2, 1, 2),
        ("The market will grow by 12 per cent per year.", 2, 2, 1, 2),
        ("Demand for scans rises by 3,000 a year.", 2, 1, 1, 2),
        ("Coding will develop in the next 10 years.", 2, 1, 1, 1),
        # Figure and table numbers label, and a year alone is not a count.
        ("(Figure 6E.5) Adjust the composition of the staff group by 2030.", 0, 0, 0, 0),
        ("It includes a list of skills (Table 5.7).", 0, 0, 0, 0),
        ("The plan runs to 2030.", 0, 0, 0, 0),
        # Nor is a date: an imprint line gives none of the figures a number question asks.
        ("NHS Improvement, 2019-11-01", 0, 0, 0, 0),
        ("The survey was published on 24 October 2022.", 0, 0, 0, 0),
        ("The census of 1 May 2021 counted 412 scanners.", 2, 1, 1, 1),
        # A footnote's number before its text is its mark, not a figure; a count is.
        ("7 See Appendix H for the organisations categorised as health.", 0, 0, 0, 0),
        ("45 NHS trusts took part in the survey.", 2, 1, 1, 1),
    ],
)
def test_number_strength_follows_the_unit_asked_for(text, any_number, percent, money, rate):
    assert kind_strength(text, AnswerKind.number, "") == any_number
    assert kind_strength(text, AnswerKind.number, "percent") == percent
    assert kind_strength(text, AnswerKind.number, "money") == money
    assert kind_strength(text, AnswerKind.number, "rate") == rate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The recommendations are grouped in three areas: workforce planning, workforce "
            "development and professionalisation, and workforce supply.",
            True,
        ),
        ("Four roles (data analyst, data scientist, data engineer and analyst).", True),
        ("Risks include cost, time and quality.", True),
        ("This (a note) is fine, really and truly.", False),
        ("There are areas of concern, mainly pay, and hiring.", False),
        ("It costs £5 (2019 prices), and more.", False),
    ],
)
def test_a_sentence_holding_a_list_is_recognised(text, expected):
    assert inline_list(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("He estimated that there were ~10,000 data professionals.", True),
        ("So far, 114 places on this programme have been commissioned since 2013.", True),
        ("Of these, 27% were more than ten years old.", True),
        ("It includes a list of 22 skills.", True),
        ("This report estimates that there are around 1,800 staff.", True),
        ("Places on the programme have been commissioned since 2013.", False),
        ("The survey for this report ran for a month.", False),
    ],
)
def test_sentences_that_lean_on_the_one_before(text, expected):
    assert leans_back(text) is expected


def test_spending_time_is_not_a_number_question():
    """Asked what something costs or what is spent on it, a figure is wanted; not when the
    spending is of time."""
    assert answer_kind("What do networks spend their time on?") is AnswerKind.fact
    assert answer_kind("What did the programme cost?") is AnswerKind.number


@pytest.mark.parametrize(
    ("question", "noun"),
    [
        ("What themes came out of the discussion?", "theme"),
        ("What are the key drivers of the Data Desert Future scenario?", "driver"),
        ("Which barriers to hiring did team leads report?", "barrier"),
        ("What priorities does the strategy set?", "priority"),
        ("What does the guide recommend?", "recommendation"),
        ("What did the review propose?", "proposal"),
        ("What does the guide say about recommending scanners?", ""),
        ("What is a CDC?", ""),
        ("What kinds of staff attitudes hold back new technology?", "attitude"),
        ("Give me the organisations that should read the report.", "organisation"),
        ("List the topics the questionnaire asked team leads about.", "topic"),
        ("Name all the networks that took part.", "network"),
        ("Name the body that chairs the board.", ""),
        ("What should imaging networks prioritise?", "priority"),  # not networks
        ("Who are the key stakeholders?", "stakeholder"),
        ("What does the AnalystX survey conclude?", "conclusion"),
        ("Who leads the programme?", ""),
        # A name with a possessive says whose, not what, is listed.
        ("What are the Imaging Workforce Review's recommendations?", "recommendation"),
        ("What are HEE's key findings?", "finding"),
        # One item of a series, asked for by its label.
        ("What is the recommendation on pay?", "recommendation"),
        ("What was the main finding about vacancies?", "finding"),
    ],
)
def test_list_questions_name_what_they_list(question, noun):
    assert list_noun(question) == noun


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who are the key stakeholders?", AnswerKind.list_),
        ("Who were the authors of the report?", AnswerKind.list_),
        ("Who is the senior responsible officer?", AnswerKind.fact),
        ("Who wrote the report?", AnswerKind.fact),
    ],
)
def test_who_are_the_people_asks_for_a_list(question, kind):
    assert answer_kind(question) is kind


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Between which dates could people answer the survey?", AnswerKind.date),
        ("Which years does the capital plan cover?", AnswerKind.date),
        ("Since when have trusts had to report turnaround times?", AnswerKind.date),
        # A "when" clause sets the scene; the question after it says what it wants.
        (
            "When trusts advertise senior posts, are they getting decent applicants?",
            AnswerKind.fact,
        ),
        ("When scanners break down, how many days are they out of use?", AnswerKind.number),
        ("When was the report published, and by whom?", AnswerKind.date),
        ("What was the deadline for returning the toolkit?", AnswerKind.date),
        ("What average team size per council did the estimate use?", AnswerKind.number),
    ],
)
def test_date_and_number_questions_are_read_by_what_they_ask(question, kind):
    assert answer_kind(question) is kind


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("Five key themes emerged from the discussion and survey:", 5),
        ("The report makes 11 recommendations:", 11),
        ("In 2020 the following were agreed:", None),
        ("One theme stood out:", None),
    ],
)
def test_lead_ins_that_say_how_many_follow(text, count):
    assert stated_count(text) == count


@pytest.mark.parametrize(
    "question",
    [
        "What should imaging networks prioritise?",
        "What should ICT departments be focusing on up to 2030?",
        "What are the weaknesses in how the survey estimated the total?",
        "Which risks does the report see in outsourcing?",
        "Which jobs in IT strategy and development does the report list as in demand?",
        "What does HEE's strategy list under workforce supply?",
    ],
)
def test_questions_that_ask_for_several_things_are_list_questions(question):
    assert answer_kind(question) is AnswerKind.list_


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many skills does the framework list?", AnswerKind.number),
        ("Are IT business analysts on the shortage occupation list?", AnswerKind.fact),
        ("What does the checklist cover for new starters?", AnswerKind.fact),
    ],
)
def test_the_word_list_alone_does_not_make_a_list_question(question, kind):
    assert answer_kind(question) is kind


@pytest.mark.parametrize(
    ("question", "count"),
    [
        ("What are the three domains of the conceptual framework?", 3),
        ("What are the six workstreams of the programme?", 6),
        ("What are the key drivers of the scenario?", None),
        ("What themes emerged over the next ten years?", None),  # not before the noun
    ],
)
def test_list_question_says_how_many_things_it_wants(question, count):
    assert asked_count(question, list_noun(question)) == count


@pytest.mark.parametrize(
    ("question", "text", "gives"),
    [
        ("How many PACS managers does a department employ?", "PACS are bought by trusts.", False),
        ("How many scanners were counted?", "The census counted 412 scanners.", True),
        ("How many scanners were counted?", "Most were bought between 2010 and 2015.", False),
        ("How many radiologists are needed?", "Two more radiologists per network.", True),
        ("How much should capacity grow?", "Capacity should be doubled.", True),
        # Asked how long or how often, a duration or a frequency in words answers.
        ("How often is the TAT monitored?", "It is monitored monthly by the network.", True),
        ("How long must images be kept?", "Images must be kept securely.", False),
        ("How quickly are urgent scans reported?", "They are reported the same day.", True),
        # "monthly" is no number to a question that counts.
        ("How many audits are done?", "Audits are done monthly.", False),
        # A date question wants a date, or at least a year.
        ("When did the programme end?", "The programme ended in 2024.", True),
        ("When did the programme end?", "The programme was a success.", False),
        # Other kinds of question always pass.
        ("Who chairs the board?", "A senior responsible officer.", True),
    ],
)
def test_an_answer_gives_the_date_or_number_asked_for(question, text, gives):
    assert gives_asked(text, question, answer_kind(question)) is gives


@pytest.mark.parametrize(
    ("question", "noun"),
    [
        ("How many care homes in north west London now comply?", "homes"),
        ("How many skills does the 21st Century Skills Plus framework list?", "skills"),
        ("Roughly how many data professionals work across health and care?", "professionals"),
        ("How many stages does the adoption model have?", "stages"),
        ("How many categories are there?", "categories"),
        ("How much should CT capacity grow?", ""),
        ("What share of trusts report on time?", ""),
    ],
)
def test_a_how_many_question_counts_its_head_noun(question, noun):
    assert counted_noun(question) == noun


@pytest.mark.parametrize(
    ("text", "noun", "counted"),
    [
        ("It includes a list of 22 skills that can be broken down.", "skills", True),
        (
            "There are around 13,025 data professionals working in the sector.",
            "professionals",
            True,
        ),
        ("The survey reached 90 unique organisations.", "organisations", True),
        ("Almost 90% of care homes are now compliant.", "homes", True),
        ("Twelve Recommendations are made.", "recommendations", True),
        ("The framework has 12 categories in three groups.", "categories", True),
        # ...followed by a verb in the past, or a word that starts a clause.
        ("A total of 53 digital leads registered an interest.", "leads", True),
        ("68/118 respondents said there are vacancies.", "respondents", True),
        ("The pilot has recruited 28 graduates since 2018.", "graduates", True),
        # The noun must end its phrase, and a year is not a count.
        ("It used the top 10 skills predictions for 2022.", "skills", False),
        ("Skills needed in 2030 skills planning.", "skills", False),
        ("The framework has one category.", "categories", False),
        ("It lists the skills people need.", "skills", False),
    ],
)
def test_a_sentence_counts_the_noun_only_with_a_number_before_it(text, noun, counted):
    assert counts(text, noun) is counted


@pytest.mark.parametrize(
    ("question", "yes_no"),
    [
        ("Is it harder to fill analyst posts in the countryside?", True),
        ("Do analysts tend to stay put in their teams?", True),
        ("Can clinical coders move into other digital roles?", True),
        ("Why is it harder to recruit in rural areas?", False),
        ("How many analysts are there?", False),
        ("Island trusts: what support do they get?", False),
    ],
)
def test_a_yes_or_no_question_is_told_from_others(question, yes_no):
    assert asks_yes_no(question) is yes_no


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("What is the target for GP practices using the NHS App?", True),
        ("What is the ambition for community diagnostic centres?", True),
        ("How many GP practices use the NHS App?", False),
    ],
)
def test_a_question_asking_for_a_target_is_read_as_such(question, asks):
    assert asks_target(question) is asks


@pytest.mark.parametrize(
    ("text", "sets"),
    [
        ("No examination should take longer than four weeks to be reported.", True),
        ("The ambition is for every network to share one PACS by 2030.", True),
        ("Networks aim to report urgent examinations within a day.", True),
        ("52.5% of practices now use the NHS App.", False),
        ("The 2021 census counted 412 CT and MRI scanners.", False),
    ],
)
def test_a_target_is_set_by_what_should_be_or_by_when(text, sets):
    assert gives_target(text) is sets


@pytest.mark.parametrize(
    ("question", "content"),
    [
        ("List the topics the survey asked about.", "the topics the survey asked about."),
        ("Please list the new roles", "the new roles"),
        ("Can you tell me what a CDC is?", "what a CDC is?"),
        ("Could you please describe the toolkit?", "the toolkit?"),
        ("Give me the roles in demand", "the roles in demand"),
        ("Tell me about the survey", "the survey"),
        ("Name the body that chairs the board", "the body that chairs the board"),
        # No request, or nothing but one: the question as asked.
        ("What are the recommendations?", "What are the recommendations?"),
        ("Listed buildings in the plan?", "Listed buildings in the plan?"),
        ("Outline of the plan?", "Outline of the plan?"),
        ("Show me", "Show me"),
        ("List", "List"),
    ],
)
def test_a_requests_opening_words_are_not_what_it_asks_about(question, content):
    assert without_request(question) == content


@pytest.mark.parametrize(
    ("question", "kind", "yes_no", "noun"),
    [
        ("Can you list the new roles?", AnswerKind.list_, False, "role"),
        ("Could you tell me when the survey ran?", AnswerKind.date, False, ""),
        ("Could you please tell me how many trusts responded?", AnswerKind.number, False, ""),
        ("Please name the principles", AnswerKind.list_, False, "principle"),
        ("Can you tell me the new roles networks will need?", AnswerKind.fact, False, "role"),
        # An indirect question is read as the direct one ("What is a CDC?").
        ("Can you tell me what a CDC is?", AnswerKind.definition, False, ""),
        ("Explain what the imaging network strategy is", AnswerKind.definition, False, ""),
        ("Tell me who the chair of the board was", AnswerKind.fact, False, ""),
        ("Describe what roles networks need", AnswerKind.fact, False, "role"),
        # A question that is a yes or no one is still read as one.
        ("Can imaging networks share staff?", AnswerKind.fact, True, ""),
    ],
)
def test_courtesy_around_a_question_does_not_change_what_it_asks(question, kind, yes_no, noun):
    assert answer_kind(question) is kind
    assert asks_yes_no(question) is yes_no
    assert list_noun(question) == noun


@pytest.mark.parametrize(
    ("question", "whole"),
    [
        ("What was in the toolkit that digital leads were sent?", "toolkit"),
        ("What did the toolkit comprise?", "toolkit"),
        ("What is included in the capital equipment guide?", "guide"),
        ("What does the clinical coding area of work consist of?", "area"),
        ("What did the demand-forecasting exercise involve?", "exercise"),
        ("Can you tell me what the implementation plan covers?", "plan"),
        # Not a thing's parts: what exists, or what a thing is or does.
        ("What is in place to support reporting radiographers?", ""),
        ("What is a community diagnostic centre?", ""),
        ("What does the toolkit help leads to estimate?", ""),
    ],
)
def test_a_question_about_what_a_thing_holds_names_the_thing(question, whole):
    """ "What was in the toolkit?" is answered by the list after a line naming the toolkit
    (compose._best_list), so it is a list question about that thing."""
    assert parts_of(question) == whole
    assert (answer_kind(question) is AnswerKind.list_) == bool(whole)


@pytest.mark.parametrize(
    ("question", "change"),
    [
        ("By what percentage must senior leadership grow by 2030?", True),
        ("By how much does the digital workforce need to grow?", True),
        ("How far could the health records workforce shrink?", True),
        ("How much would ICT teams have to shrink if investment dries up?", True),
        ("How much does the NHS pay for its licences?", False),  # an amount, not a change
        ("What share of care homes use digital care records?", False),
        ("How many scanners are more than ten years old?", False),
    ],
)
def test_a_question_asks_for_a_change_by_how_much_and_a_verb_of_change(question, change):
    assert asks_change(question) is change


@pytest.mark.parametrize(
    ("text", "states"),
    [
        ("Senior roles rise from 40 to 380 WTEs, an increase of 824 per cent.", True),
        ("Staff numbers grow by around 325 per cent between now and 2030.", True),
        ("Staff fall from 788 WTEs in 2020 to 545 WTEs.", True),
        ("Professional staff will need to increase to 44 per cent of the group.", False),  # a level
        ("Staff will reach 380 WTEs by 2030.", False),  # "by 2030" says when
        ("The plan runs from 2020 to 2030 with 380 WTEs.", False),  # years, not amounts
    ],
)
def test_a_change_is_stated_as_an_amount_of_change_not_a_level_reached(text, states):
    assert bool(CHANGE_TEXT.search(text)) is states


@pytest.mark.parametrize(
    ("question", "plain"),
    [
        (
            "In the Data Driven Future scenario, what are the key drivers?",
            "what are the key drivers?",
        ),
        ("For the AnalystX analysis, which trusts took part?", "which trusts took part?"),
        (
            "If money's tight, how far could the workforce shrink?",
            "how far could the workforce shrink?",
        ),
        (
            "In the austerity scenario, do teams keep senior leaders?",
            "do teams keep senior leaders?",
        ),
        # Not a setting phrase: no comma before the question proper, or none at all.
        ("In which year was the survey run?", "In which year was the survey run?"),
        ("What, in short, is a CDC?", "What, in short, is a CDC?"),
    ],
)
def test_a_phrase_setting_the_scene_is_not_read_as_the_question(question, plain):
    assert plain_question(question) == plain


def test_the_noun_of_a_list_question_is_read_after_a_setting_phrase():
    assert list_noun("In the Data Driven Future scenario, what are the key drivers?") == "driver"
    assert asks_yes_no("In the austerity scenario, do teams keep senior leaders?")


@pytest.mark.parametrize(
    "question",
    [
        "What should imaging networks prioritise?",
        "What should project management teams be prioritising between now and 2030?",
    ],
)
def test_what_to_prioritise_lists_priorities(question):
    assert answer_kind(question) is AnswerKind.list_
    assert list_noun(question) == "priority"


def test_a_question_about_things_may_name_them_after_several_words():
    question = "What new knowledge and library jobs are coming?"
    assert asks_about_things(question)
    assert list_noun(question) == "job"
