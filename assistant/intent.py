"""Reads what kind of answer a question wants: a list, a date, a number, a definition, or a fact.

The kind changes how the answer is composed (assistant/compose.py): a list question gets the
list's items, a date or number question a sentence that holds one. It is read from the
question's wording alone, with a few patterns a reader can check; a question that fits none is
a plain `fact` question and gets the best sentence.
"""

from __future__ import annotations

import functools
import re
from enum import StrEnum


class AnswerKind(StrEnum):
    list_ = "list"
    date = "date"
    number = "number"
    definition = "definition"
    fact = "fact"


_LIST = re.compile(
    r"^\s*(?:list|name|outline|enumerate|summari[sz]e)\b"
    r"|^\s*(?:what|which)\s+(?:are|were)\b"
    r"|^\s*what\s+(?:do|does|did)\b.*\bconclude\W*$"  # "What did the survey conclude?"
    r"|^\s*who\s+(?:are|were)\s+the\s+(?:\w+\s+){0,2}?\w+s\b"  # "Who are the key stakeholders?"
    r"|\b(?:recommendations?|recommend(?:s|ed)?|findings|principles|priorities|barriers|"
    r"challenges|themes|actions|steps|benefits|objectives|aims|areas of|key (?:points|messages)|"
    r"prioriti[sz](?:e[sd]?|ing)|focus(?:ing)? on|weaknesses|strengths|limitations|drivers|risks|stages|"
    r"work ?streams|domains|lessons)\b"
    r"|^\s*(?:what|which)\s+\w+s\s+(?:do|did|does|are|were|will|should|would)\b"
    r"|^\s*(?:what|which)\b.*\b(?:does|do|did)\s+(?:the|this|its|their|HEE's|[\w'’]+)\s+"
    r"(?:\w+\s+){0,3}list\b",  # "Which jobs ... does the report list as in demand?"
    re.IGNORECASE,
)
# What something is made of lists its parts: "What was in the toolkit?", "What does the plan
# cover?", "What did the exercise involve?" ("What is in place..." asks what exists, not what a
# thing holds.)
_PARTS = re.compile(
    r"^\s*what\s+(?:is|was|are|were|goes|went)\s+(?:(?:included|contained)\s+)?in\s+"
    r"(?!place\b)"
    r"|^\s*what\s+(?:do|does|did|will|would)\b.*\b(?:comprise|consist\s+of|contain|include|"
    r"involve|cover)\W*$"
    # Asked indirectly: "Tell me what the plan covers."
    r"|^\s*what\s+(?:the|a|an|its|their|this)\s+.*\b(?:comprise[sd]|consist(?:s|ed)\s+of|"
    r"contain(?:s|ed)|include[sd]|involve[sd]|cover(?:s|ed))\W*$",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"^\s*when\b|\b(?:what|which)\s+(?:dates?|years?|months?|days?)\b|\bhow\s+long\s+ago\b"
    r"|\b(?:by|since|until|till|from)\s+when\b|\bwhat\s+period\b|\bdeadlines?\b",
    re.IGNORECASE,
)
# "When trusts advertise senior posts, are they getting decent applicants?": a clause that
# sets the scene, then the question itself, which says what kind of answer it wants.
_WHEN_CLAUSE = re.compile(
    r"^\s*when\b[^,?]*,\s*(?P<question>(?:what|which|who|whom|whose|how|why|where|is|are|was|"
    r"were|do|does|did|can|could|should|will|would|has|have|had)\b.*)",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\bhow\s+(?:many|much|long|often|big|large|far|quickly|fast)\b"
    r"|\bwhat\s+(?:proportion|percentage|per\s*cent|share|fraction|number|size|cost|amount|"
    r"ratio|rate|total|figure|level|budget|salary|price|investment)\b"
    r"|\bby\s+how\s+much\b|\bwhat\s+is\s+the\s+(?:total|number)\b"
    r"|\bwhat\s+(?:average|mean|median)\b"  # "What average team size did the estimate use?"
    # "What is the average team size?", "What was the vacancy rate?": the quantity is named
    # after the article, not after "what".
    r"|\bwhat(?:\s+|['’])(?:is|was|s|will\s+be|would\s+be)\s+the\s+(?:\w+\s+){0,3}?"
    r"(?:average|mean|median|rate|percentage|proportion|share|total|size|cost|number)\b"
    # "What does a PACS contract cost per study?", "What do trusts spend on outsourcing?"
    r"|^\s*what\s+(?:does|do|did|will|would)\s+(?:\S+\s+){1,8}?(?:cost|spend|earn)\b"
    r"(?!\s+(?:\S+\s+)?time\b)",
    re.IGNORECASE,
)
_DEFINITION = re.compile(
    r"^\s*(?:what\s+(?:is|are)\s+(?:meant\s+by\s+)?(?:an?\s+|the\s+)?[\w'’()/ -]{1,40}\??\s*$"
    r"|what\s+does\s+[\w'’()/ -]{1,40}\s+(?:mean|stand\s+for)\b|define\b|\bdefinition\s+of\b"
    r"|\bmeaning\s+of\b)",
    re.IGNORECASE,
)

# A question a yes or no answers: "Is it harder to fill posts in the countryside?", "Do analysts
# stay long in their teams?". What settles it is most often a figure ("29% against 16%").
_YES_NO = re.compile(
    r"^\s*(?:is|are|was|were|do|does|did|can|could|will|would|has|have|had|should)\b", re.I
)

# Dates as guidance prints them: "8 March 2022", "March 2021", "spring 2022", "24/03/2021";
# a bare year ("in 2030", "2023/24") is a weaker answer to "when".
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"
)
DATE_TEXT = re.compile(
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\b|\b{_MONTH}\s+(?:\d{{1,2}},?\s+)?\d{{4}}\b"
    r"|\b(?:spring|summer|autumn|winter)\s+\d{4}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
    r"|\b\d{4}-\d{2}-\d{2}\b",
    re.IGNORECASE,
)
YEAR_TEXT = re.compile(r"\b(?:19|20)\d{2}(?:\s*[/–-]\s*\d{2,4})?\b")
NUMBER_TEXT = re.compile(
    r"\d[\d,.]*\s*(?:%|per\s*cent|percent)|£\s?\d|\b\d{1,3}(?:,\d{3})+\b|\b\d+(?:\.\d+)?\b"
    r"|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
    r"fifty|hundred|thousand|million|billion|dozen)\b",
    re.IGNORECASE,
)


# What a number question wants: a share ("what proportion", "by what percentage") wants a
# percentage, a cost ("how much does it cost", "what budget") an amount of money.
_PERCENT_WANTED = re.compile(
    r"\b(?:proportion|percentage|per\s*cent|percent|share|fraction)\b|%", re.IGNORECASE
)
_MONEY_WANTED = re.compile(
    r"\b(?:cost|costs|costing|spend|spent|spending|budget|funding|funded|invest(?:ed|ment)?|"
    r"worth|salary|salaries|pay|paid|price|£)\b",
    re.IGNORECASE,
)
PERCENT_TEXT = re.compile(r"\d[\d,.]*\s*(?:%|per\s*cent\b|percent\b)", re.IGNORECASE)
MONEY_TEXT = re.compile(r"£\s?\d|\b\d[\d,.]*\s*(?:pounds|million|billion|bn|m)\b", re.IGNORECASE)
# Numbers that label rather than count: "Figure 6E.5", "Table 5.7", "section 3", "page 12".
_LABEL_NUMBER = re.compile(
    r"\b(?:Figure|Fig\.|Table|Chart|Box|Section|Chapter|Appendix|Annex|page|pp?\.)\s*"
    r"[\dA-Z]{1,3}(?:\.\d+)*[a-z]?\b",
    re.IGNORECASE,
)


# A footnote's number before its text ("7 See Appendix H for...", "9 At the time of the
# survey..."): a sentence rarely opens on a figure followed by a capitalised word.
_FOOTNOTE_MARK = re.compile(
    r"^\s*\d{1,2}\s+(?=[A-Z][a-z])(?!(?:January|February|March|April|May|June|July|August|"
    r"September|October|November|December)\b)"
)


# A rate of change: "How quickly is the market expected to grow?", "How fast is demand rising?"
_RATE_WANTED = re.compile(
    r"\bhow\s+(?:quickly|fast)\b.*\b(?:grow|growing|grown|rise|rising|increas|expand|fall|"
    r"falling|declin|shrink)|\b(?:growth|annual)\s+rate\b|\brate\s+of\s+(?:growth|increase)\b",
    re.IGNORECASE,
)
RATE_TEXT = re.compile(
    r"\d[\d,.]*\s*(?:%|per\s*cent\b|percent\b)"
    r"|\b(?:per|a|each|every)\s+(?:year|annum|month|week)\b|\bannually\b|\byear[- ]on[- ]year\b"
    r"|\b(?:doubl|tripl|trebl)\w*",
    re.IGNORECASE,
)


# A change asked for: "By how much must it grow?", "By what percentage...increase?", "How
# far could it shrink?". What states one: "an increase of 824 per cent", "by around 69 per
# cent", "from 788 WTEs in 2020 to 545 WTEs": not a level reached ("increase to 11 per cent").
_CHANGE_WANTED = re.compile(
    r"\b(?:by\s+how\s+much|by\s+what\s+(?:percentage|proportion|amount|factor)|how\s+(?:much|far)"
    r"\b.*\b(?:grow|grew|grown|rise|rose|risen|increas\w*|expand\w*|fall|fell|fallen|shrink|"
    r"shrank|shrunk|decreas\w*|declin\w*|reduc\w*|drop\w*|contract\w*))",
    re.IGNORECASE,
)
CHANGE_TEXT = re.compile(
    r"\b(?:increase|decrease|rise|fall|drop|reduction|growth|decline|cut)s?"
    r"\s+of\s+(?:around\s+|about\s+|some\s+|roughly\s+|nearly\s+|over\s+)?[~£]?\d"
    r"|\bby\s+(?:around\s+|about\s+|some\s+|roughly\s+|nearly\s+|over\s+|up\s+to\s+)?"
    r"(?!(?:19|20)\d{2}\b)[~£]?\d"  # "by 2030" is when, not how much
    r"|\bfrom\s+(?:around\s+|about\s+)?(?!(?:19|20)\d{2}\b)[~£]?\d[\d,.]*\b.{0,60}?\bto\s+"
    r"(?:around\s+|about\s+)?(?!(?:19|20)\d{2}\b)[~£]?\d",
    re.IGNORECASE,
)


def asks_change(question: str) -> bool:
    """Return whether a number question asks by how much something changes."""
    return bool(_CHANGE_WANTED.search(question))


def number_unit(question: str) -> str:
    """Return the unit a number question wants: "percent", "money", "rate" (a share or a
    change per year), or "" (any number)."""
    if _RATE_WANTED.search(question):
        return "rate"
    if _PERCENT_WANTED.search(question):
        return "percent"
    if _MONEY_WANTED.search(question) and re.search(r"\bhow\s+much\b|\bwhat\b", question, re.I):
        return "money"
    return ""


# A request's opening words ("List the...", "Can you tell me...", "Please describe...") say
# how to answer, not what about: as content words they would match "distribution lists" and
# "name" fields. The kind and the noun are read from the whole question; the words matched
# against passages, from what follows the request.
_REQUEST = re.compile(
    r"^\s*(?:(?:please|kindly)\s+)?(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?)?"
    r"(?:(?:list|name|enumerate|outline|summari[sz]e|describe|explain|identify|give|show|tell|"
    r"set\s+out)(?:\s+(?:me|us))?(?:\s+about)?\s+(?!of\b)(?=\S)|please\s+(?=\S))",
    re.IGNORECASE,
)


def without_request(question: str) -> str:
    """Return a question without its opening request words: "List the topics the survey
    asked about" -> "the topics the survey asked about", "Can you tell me what a CDC is?" ->
    "what a CDC is?". A question with no request, or nothing after it, is returned as is."""
    rest = _REQUEST.sub("", question, count=1)
    return rest if rest.strip(" ?.!").lower() not in {"", "me", "us"} else question


# Courtesy around a question: "Can you list the roles?" asks as "List the roles?", "Could you
# tell me when it ran?" and "Explain when it ran" as "When did it run?"; not a yes-or-no
# question.
_COURTESY = re.compile(
    r"^\s*(?:please\s+)?(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?)?"
    r"(?:(?:(?:tell|show)\s+(?:me|us)|explain|describe)\s+"
    r"(?=(?:what|which|who|when|where|why|how)\b))?",
    re.IGNORECASE,
)


# An indirect question ("what a CDC is", "what the target was") asks as the direct one.
_INDIRECT = re.compile(
    r"^\s*(?P<wh>what|who)\s+(?P<subject>(?!(?:is|are|was|were|does|do|did)\b)[^?]{1,60}?)\s+"
    r"(?P<verb>is|are|was|were)\s*(?P<end>[?.!]?)\s*$",
    re.IGNORECASE,
)


# A phrase that sets the scene before the question proper, up to its comma: "In the Data Driven
# Future scenario, what are the key drivers?" asks as "what are the key drivers?"; "For the
# AnalystX analysis, what types..." and "If money's tight, how far..." likewise.
_SETTING = re.compile(
    r"^\s*(?:in|for|from|under|according\s+to|within|across|among|at|on|by|after|before|"
    r"during|with|without|outside|over|since|comparing|looking\s+at|apart\s+from|besides|"
    r"beyond|even\s+in|if)\b[^?,]{1,100},\s*"
    r"(?=(?:what|which|who|whom|whose|how|when|where|why|is|are|was|were|do|does|did|can|"
    r"could|should|will|would|has|have|list|name|give|tell)\b)",
    re.IGNORECASE,
)


def plain_question(question: str) -> str:
    """Return a question without the courtesy around it or a phrase setting the scene before
    it, asked directly ("Can you tell me what a CDC is?" -> "what is a CDC?", "Please list the
    roles" -> "list the roles", "In the 2030 scenario, what are the drivers?" -> "what are the
    drivers?"), as its kind is read."""
    question = _SETTING.sub("", question, count=1)
    rest = _COURTESY.sub("", question, count=1)
    if not rest.strip(" ?.!"):
        return question
    if indirect := _INDIRECT.match(rest):
        wh, subject, verb = indirect["wh"], indirect["subject"], indirect["verb"]
        return f"{wh} {verb} {subject}{indirect['end'] or '?'}"
    return rest


_LIST_NOUN = re.compile(
    r"^\s*(?:what|which|who(?=\s+(?:are|were)\b))\s+(?:(?:are|were)\s+)?(?:the\s+)?"
    r"(?:(?:key|main|most|common|major|\w+est|two|three|four|five|six|seven|eight|nine|ten)\s+)*"
    # (Up to four words before the noun, "What new knowledge and library jobs...", not a
    # verb: "What should imaging networks
    # prioritise?" lists priorities, not networks; nor a relative pronoun: "Name the body
    # that chairs..." lists no chairs.)
    r"(?:(?!(?:do|does|did|should|would|will|can|could|must|may|might|is|was|has|have|had|"
    r"that|which|who)\b)"
    r"[a-z]+\s+){0,4}?(?P<noun>[a-z]{3,}s)\b",
    re.IGNORECASE,
)


def list_noun(question: str) -> str:
    """Return the things a list question asks for, singular ("What themes came out..." ->
    "theme", "What are the key drivers of..." -> "driver"), or ""."""
    question = plain_question(question)
    # "Give me the roles..." asks as "What are the roles..."; "What kinds of attitudes..."
    # lists attitudes, not kinds.
    question = re.sub(
        r"^\s*(?:(?:give|tell|show)\s+(?:me|us)(?:\s+about)?|list|name)\s+(?:all\s+)?",
        "What are ",
        question,
        flags=re.IGNORECASE,
    )
    question = re.sub(r"\b(?:kinds?|types?|sorts?)\s+of\s+", "", question, count=1, flags=re.I)
    # "What are the Imaging Workforce Review's recommendations?" asks as "What are the
    # recommendations?": the name before a possessive is whose, not what, is listed.
    question = _POSSESSOR.sub("", question, count=1)
    match = _LIST_NOUN.match(question)
    noun = match["noun"].lower() if match else ""
    # "What is the recommendation on pay?": one item of a series asked for by its label.
    single = _SINGLE_ITEM.match(question)
    if single and not noun:
        return single["noun"].lower()
    if not noun or noun in {"does", "was", "has", "is", "this", "these", "those", "its", "us"}:
        # "What does the guide recommend?" lists its recommendations.
        # "What should networks be prioritising...?" lists their priorities.
        asks = _ASKS_FOR.search(question)
        if asks is None:
            return ""
        return "priority" if asks["priority"] else _NOUN_OF[asks["verb"].lower()]
    return noun[:-3] + "y" if noun.endswith("ies") else noun[:-1]


_SINGLE_ITEM = re.compile(
    r"^\s*what\s+(?:is|was|'s)\s+the\s+(?:(?:key|main|first|last|final)\s+)?"
    r"(?P<noun>recommendation|finding|conclusion|priority|principle|action|proposal)\b",
    re.IGNORECASE,
)
_POSSESSOR = re.compile(r"(?<=\s)(?:[A-Z0-9][\w-]*\s+){0,5}[A-Z0-9][\w-]*['’]s?\s+(?=[a-z])")
_ASKS_FOR = re.compile(
    r"^\s*what\s+(?:do|does|did|will|would|should|must|are|is)\b.*\b"
    r"(?:(?P<verb>recommend|propose|conclude)\W*$|(?P<priority>prioriti[sz](?:e|ing))\b)",
    re.IGNORECASE,
)
_NOUN_OF = {
    "recommend": "recommendation",
    "propose": "proposal",
    "conclude": "conclusion",
}


def noun_pattern(noun: str) -> re.Pattern[str]:
    """Return a pattern finding a singular noun or its plural ("recommendation(s)",
    "priority"/"priorities")."""
    if noun.endswith("y"):
        return re.compile(rf"\b{re.escape(noun[:-1])}(?:y|ies)\b", re.IGNORECASE)
    return re.compile(rf"\b{re.escape(noun)}(?:s|es)?\b", re.IGNORECASE)


_PLURAL_QUESTION = re.compile(
    r"^\s*(?:what|which)\s+(?:[a-z-]+\s+){0,4}[a-z]{3,}s\s+(?:are|were|do|does|did|will|should|would|"
    r"can|could|have|has|is|count|need)\b"
    r"|^\s*(?:what|which)\s+(?:kinds?|types?|sorts?)\s+of\b|^\s*(?:give|tell|show)\s+(?:me|us)\b",
    re.IGNORECASE,
)


def asks_about_things(question: str) -> bool:
    """Return whether a question not worded as a list question asks about things in the
    plural, which a list may answer: "Which ICT roles are flagged...?", "What new jobs are
    expected...?", "What kinds of...", "Give me...", with a noun `list_noun` reads."""
    question = plain_question(question)
    return bool(_PLURAL_QUESTION.match(question)) and bool(list_noun(question))


_WHOLE = re.compile(
    r"^\s*what\s+(?:(?:is|was|are|were|goes|went)\s+(?:(?:included|contained)\s+)?in|"
    r"(?:do|does|did|will|would)|(?=(?:the|a|an|its|their|this)\s))\s*"
    r"(?:(?:the|a|an|its|their|this|that)\s+)?"
    r"(?P<whole>[a-z][\w-]*(?:\s+[a-z][\w-]*){0,3}?)"
    r"(?=\s+(?:that|which|who|of|for|in|on|to|from|with|by|used|sent|given|comprise\w*|"
    r"consist\w*|contain\w*|include\w*|involve\w*|cover\w*|made)\b|\W*$)",
    re.IGNORECASE,
)


def parts_of(question: str) -> str:
    """Return the thing whose parts a question asks for, by its head noun ("What was in the
    toolkit that leads were sent?" -> "toolkit", "What does the clinical coding area of work
    consist of?" -> "area"), or "" when it asks for no thing's parts. The list that answers
    follows a line naming it ("The toolkit comprised:"); a list it is one item of holds its
    siblings, not its parts."""
    question = plain_question(question)
    if not _PARTS.search(question):
        return ""
    match = _WHOLE.match(question)
    return match["whole"].split()[-1].lower() if match else ""


def asks_yes_no(question: str) -> bool:
    """Return whether a yes or no answers the question ("Are vacancies worse in rural areas?")."""
    return bool(_YES_NO.match(plain_question(question)))


def answer_kind(question: str) -> AnswerKind:
    """Return the kind of answer a question asks for."""
    question = plain_question(question)
    if clause := _WHEN_CLAUSE.match(question):
        return answer_kind(clause["question"])
    if _DATE.search(question):
        return AnswerKind.date
    if _NUMBER.search(question):
        return AnswerKind.number
    if _LIST.search(question) or _PARTS.search(question):
        return AnswerKind.list_
    if _DEFINITION.search(question):
        return AnswerKind.definition
    return AnswerKind.fact


# A "how long" or "how often" question may be answered in words: "within four weeks",
# "annually", "the same day".
_TIME_WANTED = re.compile(r"\bhow\s+(?:long|often|quickly|fast|soon)\b", re.IGNORECASE)
# Quantities in words that NUMBER_TEXT does not count: "capacity should be doubled", "twice".
MULTIPLE_TEXT = re.compile(r"\b(?:doubl|tripl|trebl|quadrupl|halv)\w*|\b(?:half|twice)\b", re.I)
DURATION_TEXT = re.compile(
    r"\b(?:annual(?:ly)?|yearly|quarterly|monthly|fortnightly|weekly|daily|hourly|immediately|"
    r"same[- ]day|once|minutes?|hours?|days?|weeks?|months?|years?|decades?)\b",
    re.IGNORECASE,
)


# A target asked for ("What is the target for...?", "What is the ambition for...?") is given
# by a sentence that sets one: a target, an aim, what should or must be, by when, how long at
# most. "52.5% of practices now use the NHS App" is where things stand, not a target.
_TARGET_WANTED = re.compile(r"\b(?:targets?|goals?|ambitions?|aims?)\b", re.IGNORECASE)
_TARGET_TEXT = re.compile(
    r"\b(?:targets?|targeted|goals?|ambitions?|ambitious|aims?|aimed|aiming|objectives?|"
    r"should|must|shall|will|expected|plans?|planned|commit\w*|pledge\w*|"
    r"by\s+(?:the\s+end\s+of\s+)?(?:19|20)\d\d|within|no\s+(?:longer|more|later)\s+than|"
    r"at\s+(?:least|most)|maximum|minimum)\b",
    re.IGNORECASE,
)


def asks_target(question: str) -> bool:
    """Return whether a question asks for a target, a goal or an ambition."""
    return bool(_TARGET_WANTED.search(question))


def gives_target(text: str) -> bool:
    """Return whether a text sets a target: "should be reported within four weeks", "the
    ambition is...", "by 2030"."""
    return bool(_TARGET_TEXT.search(text))


def gives_asked(text: str, question: str, kind: AnswerKind) -> bool:
    """Return whether an answer's text gives what a date or number question asks for: a date
    or at least a year; a number ("doubled" too), or, asked how long or how often, a duration
    or a frequency. True for questions of other kinds. An answer to "How many PACS
    managers...?" that states no number does not answer it, however close its words."""
    if kind is AnswerKind.number and (
        MULTIPLE_TEXT.search(text) or (_TIME_WANTED.search(question) and DURATION_TEXT.search(text))
    ):
        return True
    return holds_kind(text, kind)


# "How many <things>": the noun phrase after "how many", up to the verb or preposition.
_COUNTED = re.compile(
    r"\bhow\s+many\s+(?P<phrase>(?:[a-z][\w'’-]*\s+){0,3}?[a-z][\w'’-]*?s)\b"
    r"(?=\s+(?:are|were|is|was|do|does|did|will|would|should|could|can|have|has|had|in|of|on|"
    r"at|for|with|from|by|across|per|does|work|worked|working|took|answered|signed|left|"
    r"needed|need|now|currently|still|there)\b|\s*[?,]|\s*$)",
    re.IGNORECASE,
)


def counted_noun(question: str) -> str:
    """Return the head noun a "how many" question counts ("How many care homes in north west
    London...?" -> "homes"), or "" for other questions."""
    match = _COUNTED.search(question)
    return match["phrase"].split()[-1].lower() if match else ""


def counts(text: str, noun: str) -> bool:
    """Return whether a sentence puts a number to the noun a question counts: "a list of 22
    skills that...", "around 13,025 data professionals working...", "90 unique
    organisations." The noun must end its phrase: "the top 10 skills predictions" counts
    predictions, not skills."""
    if not noun:
        return False
    stem, ending = (noun[:-3], "(?:y|ies)") if noun.endswith("ies") else (noun.rstrip("s"), "s?")
    number = r"(?:(?!(?:19|20)\d\d\b)\d[\d,.]*|" + "|".join(_COUNT_WORDS) + r")"  # not a year
    # ...and ends its phrase: punctuation, a word that starts a clause ("that", "in"), a verb in
    # the past ("53 digital leads registered", "118 respondents said"), or a capital.
    ends = rf"(?=\s*(?:[^\w\s]|$)|\s+(?:{_FOLLOWS})\b|\s+[a-z]+ed\b|\s+(?-i:[A-Z\d(]))"
    pattern = rf"\b{number}(?:\+|%|\s*per\s*cent)?\s+(?:[\w'’-]+\s+){{0,3}}?{re.escape(stem)}(?:e?{ending})\b{ends}"
    return bool(re.search(pattern, text, re.IGNORECASE))


# Words that may follow a counted noun: "22 skills that...", "250 care homes in...".
_FOLLOWS = "|".join(
    [
        "that",
        "which",
        "who",
        "whose",
        "are",
        "were",
        "is",
        "was",
        "will",
        "would",
        "could",
        "can",
        "may",
        "might",
        "have",
        "has",
        "had",
        "and",
        "or",
        "but",
        "in",
        "of",
        "on",
        "at",
        "to",
        "for",
        "from",
        "with",
        "by",
        "across",
        "within",
        "per",
        "as",
        "than",
        "including",
        "such",
        "working",
        "work",
        "worked",
        "employed",
        "based",
        "being",
        "now",
        "currently",
        "since",
        "said",
        "say",
        "each",
    ]
)
# Numbers in words: up to twelve with their values (the lengths of lists, compose.py), then
# the larger ones a count may be given in ("twenty skills", "thousands of staff").
COUNT_WORDS = {
    word: value
    for value, word in enumerate(
        [
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
        ],
        start=2,
    )
}
_COUNT_WORDS = [
    *COUNT_WORDS,
    *[
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "hundred",
        "hundreds",
        "thousand",
        "thousands",
        "million",
    ],
]


def holds_kind(text: str, kind: AnswerKind, unit: str = "") -> bool:
    """Return whether a sentence holds what a date or number question asks for (True for other
    kinds): a date (or at least a year), or a number that is not only a year or a label."""
    return kind_strength(text, kind, unit) > 0


@functools.lru_cache(maxsize=65_536)
def kind_strength(text: str, kind: AnswerKind, unit: str = "") -> int:
    """Return how well a sentence holds what the question asks for: 2 a date (or a number, of
    the wanted unit when there is one), 1 only a year (or a number of another unit), 0 nothing
    of the kind; 2 for questions of other kinds."""
    if kind is AnswerKind.date:
        return 2 if DATE_TEXT.search(text) else int(bool(YEAR_TEXT.search(text)))
    if kind is AnswerKind.number:
        # (A date is not a figure: "NHS Improvement, 2019-11-01", "on 24 October 2022".)
        counted = DATE_TEXT.sub(" ", _LABEL_NUMBER.sub(" ", _FOOTNOTE_MARK.sub(" ", text)))
        years = {m.group() for m in re.finditer(r"\b(?:19|20)\d{2}\b", counted)}
        if not any(m.group().strip() not in years for m in NUMBER_TEXT.finditer(counted)):
            return 0
        if unit == "percent":
            return 2 if PERCENT_TEXT.search(counted) else 1
        if unit == "rate":
            return 2 if RATE_TEXT.search(counted) else 1
        if unit == "money":
            return 2 if MONEY_TEXT.search(counted) else 1
        return 2
    return 2
