"""The browser app served for real on a local port, driven over HTTP and with gradio_client."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest
from gradio_client import Client
from typer.testing import CliRunner

from assistant.answer import Assistant
from assistant.app import RunningServer, ServeError, check_exposure, parse_auth, serve
from assistant.cli import app as cli
from ingest.settings import Settings

QUESTION = "Who chairs the imaging network board?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def assistant(built_settings) -> Assistant:
    return Assistant.load(built_settings)


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


def test_question_in_the_chat_returns_an_answer_with_citations(client):
    message, history, sources = client.predict(QUESTION, [], api_name="/ask")
    assert message == ""
    assert [m["role"] for m in history] == ["user", "assistant"]
    reply = str(history[1]["content"])
    assert "senior responsible officer" in reply
    assert "**[1]**" in reply and "Diagnostic imaging network implementation guide" in reply
    assert "1 April 2021, p. 2" in reply
    assert "<mark>" in sources and "/doc/network-guide-2021#page=2" in sources


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
    assert response.headers["content-security-policy"] == "sandbox"


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
        _, history, _ = Client(server.url, verbose=False).predict(QUESTION, [], api_name="/ask")
        assert "iga build" in str(history[-1]["content"])
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
