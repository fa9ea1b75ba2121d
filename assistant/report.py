"""Writes an evaluation's report.md, results.json and chart.png, development and holdout side
by side, with the worst answers quoted so a reader sees what to fix."""

from __future__ import annotations

import math
from pathlib import Path

from assistant.eval_types import EvalResults, EvalSuite, QuestionResult
from assistant.metrics import ALL_TYPES
from assistant.scoring import (
    KEYWORD_DEPTH,
    Comparison,
    decision_rates,
    metric_cutoffs,
    rank_order,
)
from assistant.types import Outcome
from index.types import Mode

WORST = 12  # answers quoted per set in "worst answers"
QUOTE_CHARS = 320
HEADLINE = ("fact", "fact/all", "answered", "declined", "verbatim")


def write_outputs(
    suite: EvalSuite, folder: Path, comparisons: list[Comparison] | None = None
) -> None:
    """Write report.md, results.json and chart.png into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(suite.model_dump_json(indent=2), encoding="utf-8")
    write_chart(suite, folder / "chart.png")
    (folder / "report.md").write_text(render_report(suite, comparisons or []), encoding="utf-8")


def chart_metrics(k: int) -> list[str]:
    """Return the metrics the chart compares: page recall at each cutoff, MRR, fact in answer."""
    return [f"recall@{c}/page" for c in metric_cutoffs(k)] + [f"mrr@{k}/page", "fact"]


def write_chart(suite: EvalSuite, path: Path) -> None:
    """Write one bar chart per question set of every system's page recall, MRR and fact in
    answer (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes_row = plt.subplots(
        1, len(suite.runs), figsize=(7 * len(suite.runs), 4.5), dpi=110, squeeze=False
    )
    for results, axes in zip(suite.runs, axes_row[0], strict=True):
        names = chart_metrics(results.k)
        width = 0.8 / len(results.systems)
        for i, system in enumerate(results.systems):
            overall = results.metrics[system].get(ALL_TYPES, {})
            values = [overall.get(name, 0.0) for name in names]
            offset = (i - (len(results.systems) - 1) / 2) * width
            bars = axes.bar([j + offset for j in range(len(names))], values, width, label=system)
            axes.bar_label(bars, fmt="%.2f", fontsize=7, padding=2)
        axes.set_xticks(range(len(names)), [label(name) for name in names], fontsize=8)
        axes.set_ylim(0, 1.15)
        axes.set_ylabel("mean over answerable questions")
        axes.set_title(f"{results.question_set} set ({results.role}), k={results.k}")
        axes.legend(loc="upper left", ncol=len(results.systems), fontsize=7, frameon=False)
        axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def label(metric: str) -> str:
    """'recall@5/page' -> 'page recall@5'; the answer metrics get their readable names."""
    names = {
        "fact": "fact in answer (answered)",
        "fact/all": "fact in answer (all answerable)",
        "answered": "answerable answered",
        "declined": "out-of-scope declined",
        "verbatim": "answer verbatim",
        f"keyword@{KEYWORD_DEPTH}": f"fact in top {KEYWORD_DEPTH} passages",
        "outcome": "right decision",
    }
    if metric in names:
        return names[metric]
    name, _, level = metric.partition("/")
    name = name.replace("mrr", "MRR").replace("ndcg", "nDCG")
    return f"{level} {name}" if level else name


def metric_order(k: int) -> list[str]:
    """Return every metric in report order: retrieval, then the answer's own."""
    names = []
    for level in ("document", "page"):
        names += [f"recall@{c}/{level}" for c in metric_cutoffs(k)] + [f"mrr@{k}/{level}"]
    return [*names, f"ndcg@{k}/page", f"keyword@{KEYWORD_DEPTH}", *HEADLINE, "outcome"]


def render_report(suite: EvalSuite, comparisons: list[Comparison]) -> str:
    """Return the Markdown report: sets side by side, then each set's goals, types and misses."""
    lines = [
        "# Evaluation",
        "",
        f"Run on {suite.created_at:%Y-%m-%d %H:%M} UTC. "
        + " ".join(_describe(results) for results in suite.runs),
        "",
        "Retrieval metrics are means over answerable questions; a page counts when a passage "
        "spans one of the question's expected pages. *Fact in answer*: every expected keyword "
        "is in the answer's own text (not just in the passages it was chosen from); "
        "*(answered)* is over the answerable questions that were answered, *(all answerable)* "
        "counts a declined one as a miss. *Answer verbatim*: every answer sentence is found word "
        f"for word in the passage it cites. *Fact in top {KEYWORD_DEPTH} passages*: the passages "
        "retrieved hold every keyword. The baseline (the tutorial pipeline) answers everything, "
        "and its answer is its top chunk of 1,000 characters.",
        "",
        "![page recall, MRR and fact in answer per system and set](chart.png)",
        "",
    ]
    lines += _side_by_side(suite)
    for results in suite.runs:
        lines += _set_section(results)
    for comparison in comparisons:
        lines += [
            f"## Compared with an earlier run: {comparison.question_set}",
            "",
            *comparison_lines(comparison),
            "",
        ]
    return "\n".join(lines)


def _describe(results: EvalResults) -> str:
    answerable = sum(q.answerable for q in results.questions)
    return (
        f"Set `{results.question_set}` ({results.role}): {len(results.questions)} questions "
        f"({answerable} answerable, {len(results.questions) - answerable} out of scope) from "
        f"`{results.questions_path}`, asked of index `{results.index_version}` "
        f"({results.passages} passages, model {results.model}), {results.k} passages per "
        f"question, not-covered threshold {results.threshold:.3f} ({results.threshold_source}), "
        f"{results.seconds:.0f} s."
    )


def _side_by_side(suite: EvalSuite) -> list[str]:
    """Return the headline table: every set's hybrid and baseline figures in adjacent columns."""
    columns = [
        (results, system)
        for system in (Mode.hybrid.value, "baseline")
        for results in suite.runs
        if system in results.systems
    ]
    if not columns:
        return []
    k = suite.runs[0].k
    names = ["recall@5/page", f"mrr@{k}/page", f"keyword@{KEYWORD_DEPTH}", *HEADLINE]
    rows = [
        [label(name), *(number(r.metrics[s][ALL_TYPES].get(name)) for r, s in columns)]
        for name in names
    ]
    rows.append(
        [
            "latency p50 / p95 (ms)",
            *(f"{r.latency[s].p50 * 1000:.0f} / {r.latency[s].p95 * 1000:.0f}" for r, s in columns),
        ]
    )
    header = ["metric", *(f"{s}: {r.question_set} ({r.role})" for r, s in columns)]
    return ["## Development and holdout side by side", "", *table(header, rows), ""]


def _set_section(results: EvalResults) -> list[str]:
    """Return one set's part of the report."""
    lines = [f"## Set `{results.question_set}` ({results.role})", ""]

    # Goals.
    if results.goals:
        lines += ["### Goals", ""]
        lines += table(
            ["goal", "measured", "result"],
            [[g.goal, g.measured, "pass" if g.passed else "**FAIL**"] for g in results.goals],
        )
        lines.append("")

    # Overall.
    overall = {s: results.metrics[s].get(ALL_TYPES, {}) for s in results.systems}
    names = [m for m in metric_order(results.k) if any(m in v for v in overall.values())]
    lines += ["### Overall", ""]
    lines += table(
        ["metric", *results.systems],
        [[label(m), *(number(overall[s].get(m)) for s in results.systems)] for m in names],
    )
    lines += [
        "| latency p50 (ms) | "
        + " | ".join(f"{results.latency[s].p50 * 1000:.0f}" for s in results.systems)
        + " |",
        "| latency p95 (ms) | "
        + " | ".join(f"{results.latency[s].p95 * 1000:.0f}" for s in results.systems)
        + " |",
        "| first call (ms) | "
        + " | ".join(f"{results.latency[s].first_call * 1000:.0f}" for s in results.systems)
        + " |",
        "",
        "Latency is the wall time of one `Assistant.answer` call (search, evidence, choosing the "
        "excerpts, whose sentence vectors are prepared at build time) for the modes, and of one "
        "search for the baseline, after an untimed first call (shown apart).",
        "",
    ]

    # Per question type, for the system users get.
    main = _main(results)
    groups = results.metrics[main]
    columns = [m for m in metric_order(results.k) if any(m in v for v in groups.values())]
    columns = [m for m in columns if "document" not in m and "ndcg" not in m]
    lines += [f"### By question type ({main})", ""]
    lines += table(
        ["type", "n", *(label(m) for m in columns)],
        [
            [group, f"{values['n']:.0f}", *(number(values.get(m)) for m in columns)]
            for group, values in groups.items()
        ],
    )
    lines.append("")

    # Calibration.
    if results.calibration:
        c = results.calibration
        weights = ", ".join(f"{n} {w:g}" for n, w in c.weights.items()) or "dense cosine only"
        lines += [
            "### Not-covered calibration",
            "",
            c.rule,
            "",
            f"Calibrated on `{c.question_set}`; weights: {weights}.",
            "",
            "| | threshold | answerable answered | out-of-scope declined |",
            "|---|---|---|---|",
            f"| before | {c.threshold_before:.3f} ({c.source_before}) | {c.answered_before:.1%} "
            f"| {c.declined_before:.1%} |",
            f"| after | {c.threshold:.3f} (calibrated, stored with the index) | "
            f"{c.answered_after:.1%} | {c.declined_after:.1%} |",
            "",
        ]
    lines += _misses(results)
    lines += _worst_answers(results)
    return lines


def _main(results: EvalResults) -> str:
    return Mode.hybrid.value if Mode.hybrid.value in results.systems else results.systems[0]


def _misses(results: EvalResults) -> list[str]:
    """Return the part on questions whose right page the main mode does not find."""
    main = _main(results)
    lines = [f"### Where {main} retrieval misses", ""]
    missed = [
        q for q in results.questions if q.answerable and rank_order(q.systems[main].page_rank) > 5
    ]
    if missed:
        lines += [
            "Answerable questions without a correct page in the top 5 (first correct page's "
            "rank per system; `-` = not in the top k):",
            "",
        ]
        lines += table(
            ["question", "type", "expected", *results.systems, f"{main} top 3"],
            [
                [
                    q.id,
                    q.type.value,
                    "; ".join(
                        f"{e.doc} p. {', '.join(map(str, e.pages)) or 'any'}" for e in q.expected
                    ),
                    *(_rank(q.systems[s].page_rank) for s in results.systems),
                    "; ".join(f"{h.doc} p. {_pages(h.pages)}" for h in q.systems[main].hits[:3]),
                ]
                for q in missed
            ],
        )
    else:
        lines.append("Every answerable question has a correct page in the top 5.")
    lines.append("")
    return lines


def _worst_answers(results: EvalResults) -> list[str]:
    """Return the worst answers quoted: wrong decisions first, then answers missing the fact."""
    main = _main(results)

    def badness(q: QuestionResult) -> tuple[int, float]:
        found = q.systems[main]
        answered = found.outcome is Outcome.answered
        if not q.answerable and answered:
            return (0, -(found.confidence or 0.0))  # a confident answer to what is not covered
        if q.answerable and not answered:
            return (1, found.confidence or 0.0)
        if q.answerable and not found.fact_in_answer:
            return (2, rank_order(found.page_rank))
        return (9, 0.0)

    worst = sorted((q for q in results.questions if badness(q)[0] < 9), key=badness)
    lines = [f"### Worst answers ({main})", ""]
    if not worst:
        return [*lines, "Every answer holds its fact and every decision is right.", ""]
    kinds = {0: "answered, but out of scope", 1: "declined, but answerable", 2: "fact missing"}
    lines.append(
        f"{len(worst)} questions; the first {min(WORST, len(worst))} quoted (confidence "
        f"against threshold {results.threshold:.3f}):"
    )
    lines.append("")
    for q in worst[:WORST]:
        found = q.systems[main]
        text = " ".join(found.answer.split())
        if len(text) > QUOTE_CHARS:
            text = text[:QUOTE_CHARS].rsplit(" ", 1)[0] + " …"
        lines += [
            f"- **{q.id}** ({q.type.value}, {kinds[badness(q)[0]]}, confidence "
            f"{number(found.confidence)}): {q.question}",
            f"  - expected: {', '.join(q.keywords) or 'not covered'}"
            + (
                f" in {'; '.join(f'{e.doc} p. {_pages(e.pages)}' for e in q.expected if e.pages)}"
                if q.expected
                else ""
            ),
            f"  - answer: {text or '(declined)'}"
            + (f" — cited {', '.join(found.cited_pages)}" if found.cited_pages else ""),
        ]
    lines.append("")
    return lines


def comparison_lines(comparison: Comparison) -> list[str]:
    """Return a comparison as Markdown lines: changes per question, then metric deltas."""
    lines = [f"Earlier run: {comparison.before}.", ""]
    for title, changes in (("Improved", comparison.improved), ("Regressed", comparison.regressed)):
        lines.append(f"{title} ({len(changes)}, rank of the first correct page or fact in answer):")
        lines += [
            f"- {c.question_id} [{c.system}] {c.what}: {_rank(c.before)} -> {_rank(c.after)}"
            for c in changes
        ] or ["- none"]
        lines.append("")
    if comparison.only_before or comparison.only_after:
        lines += [
            f"Questions only in the earlier run: {', '.join(comparison.only_before) or 'none'}; "
            f"only in this one: {', '.join(comparison.only_after) or 'none'}.",
            "",
        ]
    changed = [d for d in comparison.deltas if abs(d.after - d.before) > 1e-9]
    lines.append("Overall metrics that changed:")
    lines += [
        f"- {d.system} {label(d.metric)}: {d.before:.3f} -> {d.after:.3f} "
        f"({d.after - d.before:+.3f})"
        for d in changed
    ] or ["- none"]
    return lines


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Return a Markdown table's lines."""
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def number(value: float | None) -> str:
    """Return a metric value as the report prints it, '-' when not measured."""
    return "-" if value is None or math.isnan(value) else f"{value:.3f}"


def _rank(rank: int | None) -> str:
    return "-" if rank is None else str(rank)


def _pages(pages: list[int]) -> str:
    """Pages as a range: '14' or '14-15'."""
    return str(pages[0]) if len(pages) == 1 else f"{pages[0]}-{pages[-1]}"


def rates_line(results: EvalResults) -> str:
    """Return the hybrid decision rates as one line, for the terminal summary."""
    answered, declined = decision_rates(results.questions, _main(results))
    return f"answered {answered:.1%} of answerable, declined {declined:.1%} of out-of-scope"
