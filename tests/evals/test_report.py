"""The report writers: the terminal table, report.json and a report.html that escapes everything."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from evals.metrics import compute_metrics
from evals.report import print_summary, render_html, write_reports
from evals.results import Check, RunResult, ToolCallRecord, TranscriptMessage, TurnRecord, Usage

HOSTILE = "<script>alert('x')</script>"


def results() -> list[RunResult]:
    turn = TurnRecord(
        index=1,
        kind="shopper",
        input=f"{HOSTILE} where is #1001?",
        messages=[
            TranscriptMessage(role="shopper", text=f"{HOSTILE} where is #1001?"),
            TranscriptMessage(
                role="assistant", text='It\'s on its way <img src=x onerror="alert(1)">', card="tracking"
            ),
        ],
        tool_calls=[
            ToolCallRecord(
                id="c1", name="get_tracking_status", args={"order_number": "<b>1001</b>"}, outcome="ok"
            )
        ],
        intents=["wismo"],
        status="active",
        latency_s=0.12,
    )
    failing = RunResult(
        case_id="wismo-hostile",
        run=1,
        description="A description with <i>markup</i> & ampersands",
        tags=["<tag>"],
        passed=False,
        checks=[
            Check(name="must_say", passed=False, expected="'UPS'", actual=f"{HOSTILE} nothing", turn=1),
            Check(name="status", passed=True, expected="active", actual="active"),
        ],
        turns=[turn],
        status="active",
        usage=Usage(model_calls=2, prompt_tokens=700, completion_tokens=20),
        changes={"effects": ["refund #1005 480.00 via shopify"]},
        world_diff=[
            {"path": "/sendgrid/outbox/0", "op": "add", "before": None, "after": {"subject": HOSTILE}}
        ],
    )
    passing = RunResult(case_id="other-poem", run=1, passed=True, turns=[], status="active")
    return [failing, passing]


def test_html_escapes_every_piece_of_text() -> None:
    runs = results()
    html = render_html(runs, compute_metrics(runs), {"model": "<offline>"})
    assert "<script>" not in html and "<img" not in html and "<b>1001" not in html and "<i>markup" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "&lt;offline&gt;" in html and "&lt;tag&gt;" in html
    # What the report must show: expected vs actual, the transcript with tool calls, the world diff.
    assert "get_tracking_status" in html and "/sendgrid/outbox/0" in html
    assert "refund #1005 480.00 via shopify" in html
    assert 'id="wismo-hostile-1" open' in html  # failing cases start open
    assert "<html" in html and "<style>" in html and "http" not in html.split("<body>")[0]  # self-contained


def test_write_reports(tmp_path: Path) -> None:
    runs = results()
    json_path, html_path = write_reports(tmp_path / "out", runs, compute_metrics(runs), {"model": "offline"})
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["meta"]["model"] == "offline" and "generated_at" in data["meta"]
    assert data["metrics"]["runs"] == 2 and data["metrics"]["pass_rate"] == 0.5
    assert [r["case_id"] for r in data["runs"]] == ["wismo-hostile", "other-poem"]
    assert data["runs"][0]["turns"][0]["tool_calls"][0]["name"] == "get_tracking_status"
    assert html_path.read_text(encoding="utf-8").startswith("<!doctype html>")


def test_terminal_table_lists_failures_and_metrics() -> None:
    console = Console(record=True, width=200)
    runs = results()
    print_summary(console, runs, compute_metrics(runs))
    text = console.export_text()
    assert "wismo-hostile" in text and "FAIL" in text
    assert "other-poem" not in text  # passing cases only with show_passed
    assert "pass rate" in text and "50.0% (1/2)" in text
    console = Console(record=True, width=200)
    print_summary(console, runs, compute_metrics(runs), show_passed=True)
    assert "other-poem" in console.export_text()
