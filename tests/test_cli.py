"""The `iga` command end to end: fetch, ingest, build and status, as a user runs them."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from index.store import current_version_dir, read_meta
from ingest.tokens import TokenCounter, resolve_model
from tests.corpus_factory import DOCUMENTS

runner = CliRunner()
TOTAL = len(DOCUMENTS) + 1  # the generated PDFs and one HTML page


def _iga(*args: str, data_dir: Path) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--data-dir", str(data_dir)], env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_fetch_and_ingest_print_summaries(generated_corpus: Path, tmp_path: Path):
    manifest = str(generated_corpus / "manifest.yaml")
    code, output = _iga(
        "fetch", "--manifest", manifest, "--mirror", str(generated_corpus), data_dir=tmp_path
    )
    assert code == 0, output
    assert len(re.findall(r"^\s+copied ", output, re.MULTILINE)) == TOTAL, output

    code, output = _iga("ingest", "--manifest", manifest, data_dir=tmp_path)
    assert code == 0, output
    assert re.search(rf"Summary: {TOTAL} documents, \d+ pages .* \d+ passages, 0 failed", output)

    # A second run finds nothing to do.
    code, output = _iga("ingest", "--manifest", manifest, data_dir=tmp_path)
    assert code == 0 and output.count("unchanged") >= TOTAL


def test_fetch_fails_with_a_table_when_a_document_is_bad(generated_corpus: Path, tmp_path: Path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for path in generated_corpus.iterdir():
        (mirror / path.name).write_bytes(path.read_bytes())
    (mirror / "pacs-guide-2019.pdf").write_text("<html><body>404 Not Found</body></html>")
    code, output = _iga(
        "fetch",
        "--manifest",
        str(mirror / "manifest.yaml"),
        "--mirror",
        str(mirror),
        data_dir=tmp_path / "data",
    )
    assert code == 1
    assert "pacs-guide-2019" in output and "HTML" in output
    assert f"1 of {TOTAL} documents were not fetched" in output
    assert len(re.findall(r"^\s+copied ", output, re.MULTILINE)) == TOTAL - 1  # others arrive


def test_bad_manifest_entry_is_named_without_a_traceback(tmp_path: Path):
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(
        "documents:\n  - id: guide\n    title: Guide\n    publisher: NHS England\n"
        "    published: not-a-date\n    format: pdf\n"
    )
    code, output = _iga("fetch", "--manifest", str(manifest), data_dir=tmp_path)
    assert code == 1
    assert "entry 'guide' (#1), field 'published'" in output
    assert "Traceback" not in output


def test_build_then_status(generated_corpus: Path, tmp_path: Path):
    manifest = str(generated_corpus / "manifest.yaml")
    args = ("--manifest", manifest, "--mirror", str(generated_corpus))
    code, output = _iga("build", *args, data_dir=tmp_path)
    assert code == 0, output
    assert re.search(rf"Index version \S+ published: {TOTAL} of {TOTAL} documents", output)
    assert len(re.findall(r"^\s+added ", output, re.MULTILINE)) == TOTAL, output

    code, output = _iga("build", *args, data_dir=tmp_path)
    assert code == 0, output
    assert re.search(
        rf"unchanged: {TOTAL} of {TOTAL} documents, \d+ passages \(0\s+embedded", output
    )
    assert len(re.findall(r"^\s+unchanged ", output, re.MULTILINE)) == TOTAL, output

    code, output = _iga("status", "--manifest", manifest, data_dir=tmp_path)
    assert code == 0, output
    for expected in ("Diagnostic imaging network", "NHS England", "2021-04-01", "all-MiniLM-L6-v2"):
        assert expected in output


def test_status_without_an_index_says_how_to_build(tmp_path: Path):
    code, output = _iga("status", data_dir=tmp_path)
    assert code == 1 and "iga build" in output


@pytest.mark.corpus
def test_whole_ingest_stage_on_the_real_corpus(shared_corpus: Path, tmp_path: Path):
    """fetch --mirror + ingest on ../shared/corpus: every document, within the model's limit."""
    manifest = str(shared_corpus / "manifest.yaml")
    code, output = _iga(
        "fetch", "--manifest", manifest, "--mirror", str(shared_corpus), data_dir=tmp_path
    )
    assert code == 0, output
    code, output = _iga("ingest", "--manifest", manifest, data_dir=tmp_path)
    assert code == 0, output
    assert re.search(r"Summary: 4 documents, 267 pages .* 0 failed", output), output

    counter = TokenCounter(resolve_model("all-MiniLM-L6-v2"))
    for folder in sorted((tmp_path / "passages").iterdir()):
        pages = [json.loads(line) for line in (folder / "pages.jsonl").open()]
        passages = [json.loads(line) for line in (folder / "passages.jsonl").open()]
        assert passages, folder.name

        # No passage over the model's limit (section heading included, as embedded).
        assert max(p["n_tokens"] for p in passages) <= counter.limit

        # Contents pages are kept for page numbering but never indexed.
        contents = {p["number"] for p in pages if p["kind"] == "contents"}
        assert not any(s["page"] in contents for p in passages for s in p["spans"])

        # No line that repeats on most pages (a running header or footer) is left in passages.
        lines = Counter(
            line.strip() for page in pages for line in set(page["text"].splitlines()) if line
        )
        running = {line for line, n in lines.items() if n > len(pages) / 2 and len(line) > 3}
        assert not running, (folder.name, running)


def _at_80(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "80"})
    return result.exit_code, result.output


def test_status_fits_80_columns_with_every_id_whole(built_settings):
    code, output = _at_80("status", "--data-dir", str(built_settings.data_dir))
    assert code == 0, output
    lines = output.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    meta = read_meta(current_version_dir(built_settings.index_root))
    for doc_id in meta.documents:
        assert doc_id in [line.strip() for line in lines], doc_id  # on a line of its own


def test_ask_at_80_columns_folds_under_each_source_and_names_the_local_file(built_settings):
    code, output = _at_80(
        "ask",
        "What is the maximum time for an examination to be reported?",
        "--data-dir",
        str(built_settings.data_dir),
    )
    assert code == 0, output
    lines = [line.rstrip() for line in output.splitlines()]
    assert max(len(line) for line in lines) <= 80
    start = lines.index("Sources")
    footer = next(i for i, line in enumerate(lines) if line.startswith("index "))
    source = lines[start + 1 : footer]
    assert source[0].startswith("[1] Diagnostic imaging network implementation guide.")
    assert all(line.startswith("    ") for line in source[1:])  # folded under its text
    joined = "".join(line.strip() for line in source)  # a long path folds; it is never cut
    local = str(built_settings.cache_dir.resolve() / "network-guide-2021.pdf")
    assert f"Localfile:{local},page3" in joined.replace(" ", "")


def test_ask_says_when_an_answer_is_given_by_the_list_it_asks_for(built_settings):
    """A bare list question may be answered below the threshold, by rule: the footer says
    so, rather than show a confidence under the threshold beside an answer."""
    code, output = _at_80(
        "ask",
        "What are the recommendations?",
        "--doc",
        "workforce-review-2017",
        "--data-dir",
        str(built_settings.data_dir),
    )
    assert code == 0, output
    assert "Recommendation 1: Train two hundred" in output
    assert "answered by the list it asks for" in " ".join(output.split())


def test_version_and_help_without_type_names():
    code, output = _at_80("--version")
    assert code == 0 and re.fullmatch(r"iga \(imaging-guidance-assistant\) \d+\.\d+\.\d+\n", output)
    code, output = _at_80("ask", "--help")
    assert code == 0
    options = output.split("Options:")[1]
    assert "<bool>" not in options and "<list[str]>" not in options
    assert re.search(r"^  --json\s+Print the Answer as JSON", output, re.MULTILINE)
    assert re.search(r"^  --k N\s+Passages to retrieve, 1-50\.", output, re.MULTILINE)
