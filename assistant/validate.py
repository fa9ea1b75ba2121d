"""Checks a question and its options, the same way for the terminal, the browser and the HTTP API.

`iga ask`, the chat and `POST /api/answer` all pass what they were given through
`check_request`, so a value one of them refuses is refused by all, with the same message.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from assistant.answer import Assistant
from assistant.types import Answer
from index.types import Mode, SearchFilters
from ingest.errors import IgaError

K_MIN, K_MAX = 1, 50
# The model reads 256 word pieces; ordinary English runs 1.2-1.5 pieces a word, and the glossary
# adds expansions. Beyond this many words the rest of a question would be cut without a word.
MAX_QUESTION_WORDS = 120


class RequestError(IgaError):
    """A question or option the assistant cannot take; the message says which and how to fix it."""


class AskRequest(BaseModel):
    """A question and its search options, as a script sends them to `POST /api/answer`."""

    question: str = Field(description="The question, in plain words.")
    mode: str = Field(default="hybrid", description="hybrid, dense (meaning) or bm25 (keywords).")
    k: int = Field(default=5, description=f"Passages to retrieve, {K_MIN}-{K_MAX}.")
    documents: list[str] | None = Field(
        default=None, description="Only these document ids (see `iga status`)."
    )
    publishers: list[str] | None = Field(
        default=None, description="Only documents from these publishers (any case)."
    )
    since: int | None = Field(default=None, description="Only documents published from this year.")
    until: int | None = Field(default=None, description="Only documents published up to this year.")


@dataclass(frozen=True)
class CheckedRequest:
    """A request the assistant can answer as it stands."""

    question: str
    mode: Mode
    k: int
    filters: SearchFilters
    notices: list[str]


def check_options(request: AskRequest) -> tuple[str, list[str]]:
    """Return the question to answer and any notice, checking what needs no index (k, mode)."""
    # The question: present, and no longer than the model reads.
    words = request.question.split()
    if not words:
        raise RequestError(
            "the question is empty: type a question, e.g. “Who should chair an imaging network "
            "board?”"
        )
    notices = []
    if len(words) > MAX_QUESTION_WORDS:
        notices.append(
            f"Your question has {len(words)} words; it was answered from its first "
            f"{MAX_QUESTION_WORDS}, as many as the search model reads. Shorten it to ask "
            "about the rest."
        )
        words = words[:MAX_QUESTION_WORDS]

    # The search options.
    modes = [m.value for m in Mode]
    if request.mode not in modes:
        raise RequestError(f"mode must be one of {', '.join(modes)}, not {request.mode!r}")
    if not K_MIN <= request.k <= K_MAX:
        raise RequestError(
            f"k (passages to retrieve) must be from {K_MIN} to {K_MAX}, not {request.k}"
        )
    return " ".join(words), notices


def check_request(request: AskRequest, assistant: Assistant) -> CheckedRequest:
    """Return the request ready to answer, or raise RequestError saying what is wrong with it."""
    question, notices = check_options(request)

    # The filters: documents and publishers the index has (publishers in any case), and years
    # in order (Assistant.check_filters).
    filters = SearchFilters(
        doc_ids=request.documents or None,
        publishers=request.publishers or None,
        year_from=request.since,
        year_to=request.until,
    )
    try:
        assistant.check_filters(filters)
    except IgaError as exc:
        raise RequestError(str(exc)) from None
    return CheckedRequest(
        question=question,
        mode=Mode(request.mode),
        k=request.k,
        filters=filters,
        notices=notices,
    )


def ask(assistant: Assistant, request: AskRequest) -> Answer:
    """Return the answer to a checked request, carrying any notice about how it was taken."""
    checked = check_request(request, assistant)
    answer = assistant.answer(
        checked.question, filters=checked.filters, mode=checked.mode, k=checked.k
    )
    if checked.notices:
        answer = answer.model_copy(update={"notices": [*answer.notices, *checked.notices]})
    return answer
