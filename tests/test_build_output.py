"""`iga build` as a newcomer meets it: offline, partial, then a new version of one document."""

from __future__ import annotations

import copy
import json
import re
import shutil

from typer.testing import CliRunner

from assistant.answer import Assistant
from assistant.cli import app
from ingest.settings import Settings
from tests.corpus_factory import DOCUMENTS, write_pdf

runner = CliRunner()
TOTAL = len(DOCUMENTS) + 1  # the generated PDFs and one HTML page
QUESTION = "What is the maximum time for an examination to be reported?"


def iga(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "80"})
    return result.exit_code, result.output


def assert_fits_80_columns(output: str) -> None:
    """Every line fits 80 columns, except one that is a URL or path alone (never broken)."""
    for line in output.splitlines():
        if len(line) > 80:
            assert re.fullmatch(r"\s*\S+", line), f"too wide: {line!r}"
    # No URL is cut at the end of a line and continued on the next.
    assert not re.search(r"https?://\S*[^\s/.,;:)]\n\S", output)


def test_offline_first_build_exits_0_with_one_line_per_document(fresh_settings: Settings, tmp_path):
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    args = ["--manifest", str(fresh_settings.manifest), "--data-dir", str(fresh_settings.data_dir)]

    code, output = iga("build", *args, "--mirror", str(empty))

    assert code == 0, output  # `iga build && iga serve` reaches the app
    assert_fits_80_columns(output)
    lines = output.splitlines()
    assert lines[0].startswith(f"Building the index for {TOTAL} documents")
    assert len([line for line in lines if line.startswith("  missing ")]) == TOTAL
    assert f"No index yet: 0 of {TOTAL} documents could be indexed." in output
    assert "`iga missing`" in output and "`iga build --mirror FOLDER`" in output
    assert len(lines) <= TOTAL + 9, output
    listing = fresh_settings.missing_file.read_text(encoding="utf-8")
    for name in ("network-guide-2021.pdf", "pacs-guide-2019.pdf", "turnaround-page-2023.html"):
        assert f"\n{name}\n" in listing
    assert "  https://example.org/guidance/pacs-guide-2019.pdf\n" in listing

    code, strict = iga("build", *args, "--mirror", str(empty), "--strict")
    assert code == 1, strict


def test_partial_build_then_a_new_version_is_reported_and_cited(fresh_settings: Settings, tmp_path):
    corpus = fresh_settings.manifest.parent
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name in ("network-guide-2021.pdf", "turnaround-page-2023.html"):
        shutil.copy(corpus / name, mirror / name)
    args = [
        "--manifest",
        str(fresh_settings.manifest),
        "--data-dir",
        str(fresh_settings.data_dir),
    ]

    # A partial build publishes what it has and says what is missing.
    code, output = iga("build", *args, "--mirror", str(mirror))
    assert code == 0, output
    assert_fits_80_columns(output)
    assert re.search(r"^  added     network-guide-2021: \d+ pages, \d+ passages$", output, re.M)
    assert re.search(r"^  missing   pacs-guide-2019: not in the mirror folder$", output, re.M)
    assert f"published, partial: 2 of {TOTAL} documents" in output
    code, listing = iga("missing", *args)
    assert code == 0
    assert listing.startswith(f"{TOTAL - 2} of {TOTAL} documents are not indexed.")
    assert "\ndiagnostics-review-2020.pdf\n" in listing and "\npacs-guide-2019.pdf\n" in listing
    assert "network-guide-2021" not in listing
    old_sha = json.loads(
        (fresh_settings.data_dir / "cache" / "network-guide-2021.json").read_text()
    )["sha256"]

    # A new edition of one document arrives, and one missing document.
    edition = copy.deepcopy(next(d for d in DOCUMENTS if d["id"] == "network-guide-2021"))
    for sections in edition["pages"]:
        for index, (heading, paragraphs) in enumerate(sections):
            sections[index] = (heading, [p.replace("four weeks", "six weeks") for p in paragraphs])
    write_pdf(mirror / "network-guide-2021.pdf", edition)
    shutil.copy(corpus / "pacs-guide-2019.pdf", mirror / "pacs-guide-2019.pdf")

    code, output = iga("build", *args, "--mirror", str(mirror))
    assert code == 0, output
    assert_fits_80_columns(output)
    assert re.search(
        rf"^  updated   network-guide-2021: new version, \d+ pages \(was sha256 {old_sha[:12]}\)$",
        output,
        re.M,
    )
    assert re.search(r"^  added     pacs-guide-2019: ", output, re.M)
    assert re.search(r"^  unchanged turnaround-page-2023$", output, re.M)
    assert f"published, partial: 3 of {TOTAL} documents" in output

    # Cut again from the same file (--force; or extraction or chunking changed): not
    # "unchanged", since its passages were made anew.
    code, output = iga("build", *args, "--mirror", str(mirror), "--force")
    assert code == 0, output
    assert re.search(
        r"^  re-cut    turnaround-page-2023: \d+ pages, \d+ passages from the same file$",
        output,
        re.M,
    )
    assert "unchanged turnaround-page-2023" not in output

    code, status = iga("status", *args)
    assert code == 0, status
    assert re.search(
        rf"network-guide-2021: updated \d{{4}}-\d\d-\d\d \(was sha256 {old_sha[:12]}\)", status
    )
    assert f"Partial: {TOTAL - 3} manifest documents are not indexed" in status

    # Answers quote and cite the new bytes.
    answer = Assistant.load(fresh_settings).answer(QUESTION)
    cited = [c for c in answer.citations if c.doc_id == "network-guide-2021"]
    assert cited and any("six weeks" in c.text for c in cited)
    assert all(c.sha256 != old_sha for c in cited)
    assert "four weeks" not in " ".join(c.text for c in cited)
