"""The browser app served for real on a local port, driven over HTTP and with gradio_client."""

from __future__ import annotations

import http.client
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from typer.testing import CliRunner

from assistant.app import (
    RunningServer,
    ServeError,
    _user,
    chat_markdown,
    check_exposure,
    parse_auth,
    serve,
)
from assistant.cli import app as cli
from ingest.settings import Settings
from tests.http_server import free_port

QUESTION = "Who chairs the imaging network board?"


@pytest.fixture(scope="module")
def running(built_settings, assistant) -> Iterator[RunningServer]:
    server = serve(
        built_settings, host="127.0.0.1", port=free_port(), assistant=assistant, block=False
    )
    assert server is not None
    yield server
    server.close()


@pytest.fixture(scope="module")
def client(running) -> Client:
    return Client(running.url, verbose=False)


def raw_get(url: str, path: str) -> int:
    """Return the status of a GET sent with the path exactly as given (no normalising)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def test_chat_message_quotes_the_answer_with_citations_and_a_plain_copy(assistant):
    reply = chat_markdown(assistant.answer(QUESTION))
    assert "senior responsible officer" in reply
    assert "**[1]**" in reply and "Diagnostic imaging network implementation guide" in reply
    assert "1 April 2021, p. 2" in reply
    # The copy button holds plain text, on one line of markup (a blank line would end it).
    copy = re.search(r'class="iga-copy iga-copy-answer" value="([^"]*)"', reply)
    assert (
        copy is not None
        and "**" not in copy.group(1)
        and "&#10;References&#10;[1]" in copy.group(1)
    )


def test_user_text_in_the_chat_is_escaped():
    message = _user("<img src=x onerror=alert(1)> *bold*")
    assert message["content"] == "&lt;img src=x onerror=alert(1)&gt; \\*bold\\*"


def test_answer_api_returns_the_answer_json(client, assistant):
    data = client.predict(QUESTION, "hybrid", 3, None, api_name="/answer")
    assert data["outcome"] == "answered"
    assert data["citations"][0]["doc_id"] == "network-guide-2021"
    assert data["index_version"] == assistant.index.meta.version


def test_several_questions_are_answered_at_once(client, corpus_facts):
    jobs = [client.submit(f.question, api_name="/answer") for f in corpus_facts]
    results = [job.result(timeout=60) for job in jobs]
    assert [r["citations"][0]["doc_id"] for r in results] == [f.doc_id for f in corpus_facts]


def test_doc_route_serves_the_cached_pdf(running, built_settings):
    response = httpx.get(running.url + "doc/network-guide-2021")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline")
    expected = (built_settings.cache_dir / "network-guide-2021.pdf").read_bytes()
    assert response.content == expected


def test_cached_web_page_cannot_run_its_scripts(running):
    response = httpx.get(running.url + "doc/turnaround-page-2023")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == "sandbox; frame-ancestors 'self'"


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/doc/no-such-document", id="unknown-id"),
        pytest.param("/doc/network-guide-2021.pdf", id="file-name"),
        pytest.param("/doc/..%2Fcache%2Fnetwork-guide-2021.pdf", id="encoded-traversal"),
        pytest.param("/doc/../cache/network-guide-2021.pdf", id="traversal"),
        pytest.param("/doc/%2e%2e%2f%2e%2e%2fetc%2fpasswd", id="encoded-dots"),
        pytest.param("/doc/..", id="dot-dot"),
        pytest.param("/doc/", id="empty"),
    ],
)
def test_doc_route_404s_for_anything_but_an_indexed_id(running, path):
    assert raw_get(running.url, path) == 404


def test_gradio_does_not_serve_files_from_the_data_dir(running, built_settings):
    cached = (built_settings.cache_dir / "network-guide-2021.pdf").resolve()
    for route in ("gradio_api/file=", "file="):
        response = httpx.get(running.url + route + quote(str(cached)))
        assert response.status_code in (403, 404), route


def test_sign_in_protects_the_app_and_the_documents(built_settings, assistant):
    server = serve(
        built_settings,
        port=free_port(),
        auth=[("manager", "s3cret")],
        assistant=assistant,
        block=False,
    )
    assert server is not None
    try:
        assert httpx.get(server.url + "doc/network-guide-2021").status_code == 401
        with httpx.Client(base_url=server.url) as browser:
            refused = browser.post("login", data={"username": "manager", "password": "wrong"})
            assert refused.status_code == 400
            signed_in = browser.post("login", data={"username": "manager", "password": "s3cret"})
            assert signed_in.status_code == 200
            assert browser.get("doc/network-guide-2021").status_code == 200
        signed = Client(server.url, auth=("manager", "s3cret"), verbose=False)
        assert signed.predict(QUESTION, api_name="/answer")["outcome"] == "answered"
    finally:
        server.close()


def test_app_without_an_index_starts_and_says_how_to_build_one(tmp_path: Path):
    manifest = Path(__file__).parents[1] / "corpus_manifest.yaml"
    settings = Settings(data_dir=tmp_path / "data", manifest=manifest)
    server = serve(settings, port=free_port(), block=False)
    assert server is not None
    try:
        page = httpx.get(server.url + "config").text
        assert "No guidance indexed yet" in page and "iga build --mirror FOLDER" in page
        assert str(tmp_path / "data") in page
        # What is missing, where to download it, and the file name to save it as.
        assert "Missing (11 of 11)" in page and "nhs-long-term-plan-2019.pdf" in page
        assert "https://www.england.nhs.uk/transforming-imaging-services-in-england/" in page
        assert "Add documents" in page
        with pytest.raises(AppError, match="iga build"):
            Client(server.url, verbose=False).predict(QUESTION, api_name="/answer")
        refused = httpx.post(server.url + "api/answer", json={"question": QUESTION})
        assert refused.status_code == 503 and "iga build" in refused.json()["detail"]
        assert httpx.get(server.url + "doc/network-guide-2021").status_code == 404
    finally:
        server.close()


@pytest.mark.parametrize(
    ("host", "pairs", "no_auth", "allowed"),
    [
        pytest.param("127.0.0.1", [], False, True, id="loopback"),
        pytest.param("localhost", [], False, True, id="localhost"),
        pytest.param("0.0.0.0", [], False, False, id="open-without-password"),
        pytest.param("0.0.0.0", [("a", "b")], False, True, id="open-with-password"),
        pytest.param("0.0.0.0", [], True, True, id="open-on-purpose"),
    ],
)
def test_serving_beyond_this_machine_needs_a_password(host, pairs, no_auth, allowed):
    if allowed:
        check_exposure(host, pairs, no_auth=no_auth)
    else:
        with pytest.raises(ServeError, match="--auth"):
            check_exposure(host, pairs, no_auth=no_auth)


def test_serve_command_refuses_open_host_without_auth(tmp_path: Path):
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert "--auth user:password" in message and "--no-auth" in message


def test_auth_pairs_come_from_the_flag_and_the_file(tmp_path: Path):
    path = tmp_path / "users"
    path.write_text("# radiology managers\nalice:pa:ss\n\nbob:word\n")
    assert parse_auth("lead:pw", path) == [("lead", "pw"), ("alice", "pa:ss"), ("bob", "word")]
    path.write_text("carol\n")
    with pytest.raises(ServeError, match=f"{path}:1: expected user:password"):
        parse_auth(None, path)


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("", id="app"),
        pytest.param("config", id="gradio-config"),
        pytest.param("doc/network-guide-2021", id="pdf"),
        pytest.param("view/network-guide-2021?page=2&q=board", id="viewer"),
        pytest.param("iga-static/app.js", id="static"),
        pytest.param("api/docs", id="api-docs"),
        pytest.param("doc/no-such-document", id="not-found"),
    ],
)
def test_every_response_carries_a_policy_against_framing(running, path):
    response = httpx.get(running.url + path)
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in policy
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert response.headers["x-content-type-options"] == "nosniff"
    if response.headers["content-type"].startswith("text/html"):
        assert "script-src 'self'" in policy and "unsafe-eval" not in policy
        assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]


BAD_REQUESTS = [
    pytest.param({"k": 0}, "k (passages to retrieve) must be from 1 to 50, not 0", id="k-zero"),
    pytest.param({"k": -1}, "must be from 1 to 50, not -1", id="k-negative"),
    pytest.param({"k": 100000}, "must be from 1 to 50, not 100000", id="k-huge"),
    pytest.param(
        {"documents": ["../../etc/passwd"]},
        "no indexed document with id ../../etc/passwd",
        id="unknown-doc",
    ),
    pytest.param({"publishers": ["Nobody"]}, "no indexed document from publisher", id="publisher"),
    pytest.param({"since": 3000}, "--since 3000 is not a year between 1900 and 2100", id="year"),
    pytest.param({"since": 2022, "until": 2020}, "--since 2022 is after --until 2020", id="years"),
    pytest.param({"mode": "magic"}, "mode must be one of dense, bm25, hybrid", id="mode"),
    pytest.param({"question": "   "}, "the question is empty", id="empty"),
]


@pytest.mark.parametrize(("options", "message"), BAD_REQUESTS)
def test_api_refuses_what_the_cli_refuses_with_the_same_message(
    running, built_settings, options, message
):
    body = {"question": QUESTION, **options}
    response = httpx.post(running.url + "api/answer", json=body)
    assert response.status_code == 422 and message in response.json()["detail"]

    flags = {"k": "--k", "documents": "--doc", "publishers": "--publisher", "mode": "--mode"}
    args = ["ask", body["question"], "--data-dir", str(built_settings.data_dir)]
    for key, value in options.items():
        if key != "question":
            args += [
                flags.get(key, f"--{key}"),
                str(value[0] if isinstance(value, list) else value),
            ]
    result = CliRunner().invoke(cli, args, env={"COLUMNS": "200"})
    assert result.exit_code == 1 and message in " ".join(result.output.split())


def test_gradio_api_refuses_bad_options_too(client):
    with pytest.raises(AppError, match="must be from 1 to 50, not 0"):
        client.predict(QUESTION, "hybrid", 0, None, api_name="/answer")
    with pytest.raises(AppError, match=re.escape("no indexed document with id ../../etc/passwd")):
        client.predict(QUESTION, "hybrid", 5, ["../../etc/passwd"], api_name="/answer")


def test_api_answers_with_any_case_of_publisher(running):
    body = {"question": QUESTION, "publishers": ["nhs england"], "k": 3}
    data = httpx.post(running.url + "api/answer", json=body).json()
    assert data["outcome"] == "answered"
    assert {c["publisher"] for c in data["citations"]} == {"NHS England"}


def test_over_long_question_is_answered_from_its_first_words_with_a_notice(running):
    question = QUESTION + " " + " ".join(["and also the networks"] * 40)
    data = httpx.post(running.url + "api/answer", json={"question": question}).json()
    assert data["question"].split() == question.split()[:120]
    assert data["notices"] == [
        f"Your question has {len(question.split())} words; it was answered from its first 120, "
        "as many as the search model reads. Shorten it to ask about the rest."
    ]


def test_api_is_documented_without_loading_anything_from_elsewhere(running):
    schema = httpx.get(running.url + "api/openapi.json").json()
    assert "/answer" in schema["paths"]
    assert schema["paths"]["/answer"]["post"]["summary"]
    page = httpx.get(running.url + "api/docs").text
    assert "/api/docs-files/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    assert httpx.get(running.url + "api/docs-files/swagger-ui-bundle.js").status_code == 200
