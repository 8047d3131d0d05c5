"""The harness itself, on small hand-written cases: failures and violations are caught, a broken
case is an error (not a crash), and the CLI exits non-zero when a case fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.settings import Settings
from cli.main import main
from evals.loading import load_case_file
from evals.runner import eval_settings, open_replayer

WRONG = """
- id: expects-the-wrong-things
  turns:
    - shopper: "where is order #1001? ana.silva@example.com"
      expect:
        intent: refunds
        must_say: [FedEx, UPS]
        forbidden_tools: [get_tracking_status]
        status: active
  expect:
    world:
      refunds: [{order: 1001}]

- id: label-nobody-asked-for
  description: The label is bought, but the case does not list it; a policy violation.
  turns:
    - shopper: "I want to return order 1002, ben.okafor@example.com"
    - shopper: "{code}"
    - shopper: "yes"

- id: human-reply-without-ticket
  turns:
    - human_reply: hello from the helpdesk
    - shopper: hi
"""


@pytest.fixture
def wrong_cases(tmp_path: Path) -> Path:
    path = tmp_path / "wrong.yaml"
    path.write_text(WRONG, encoding="utf-8")
    return path


async def test_failed_expectations_violations_and_errors(wrong_cases: Path) -> None:
    cases = load_case_file(wrong_cases)
    async with open_replayer(eval_settings(Settings())) as replayer:
        wrong, label, broken = [await replayer.replay(case) for case in cases]
        again = await replayer.replay(cases[0], run=2)

    checks = {(c.turn, c.name, c.expected): c.passed for c in wrong.checks}
    assert not wrong.passed
    assert checks[(1, "intent", "refunds")] is False
    assert checks[(1, "must_say", "'FedEx'")] is False
    assert checks[(1, "must_say", "'UPS'")] is True
    assert checks[(1, "forbidden_tool", "no get_tracking_status")] is False
    assert checks[(1, "status", "active")] is True
    assert checks[(None, "world.refund", "refund #1001 any amount")] is False
    assert wrong.counts.intents == [("refunds", "wismo")]
    assert wrong.turns[0].intents == ["wismo"] and wrong.usage.model_calls > 0
    # Each replay starts from the seed: the second run saw the same world and the same answer.
    assert [m.text for m in again.turns[0].messages] == [m.text for m in wrong.turns[0].messages]
    assert again.run == 2

    assert not label.passed
    assert len(label.counts.violations) == 1 and label.counts.violations[0].startswith("label #1002")
    failed = [c.name for c in label.failed_checks]
    assert failed == ["world.no_unexpected_side_effects"]
    # Two attempts: the first refused until the emailed code (step_up_required), then the purchase.
    assert label.counts.mutating_calls == 2 and label.counts.expected_mutating_calls == 0

    assert not broken.passed
    assert broken.error is not None and "no helpdesk ticket" in broken.error


def test_cli_exit_codes_and_reports(
    wrong_cases: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report"
    passing = tmp_path / "ok.yaml"
    passing.write_text(
        "id: greeting\nturns:\n  - shopper: hello\n    expect: {intent: other}\n", encoding="utf-8"
    )
    assert (
        main(
            [
                "eval",
                str(passing),
                str(wrong_cases),
                "--report",
                str(report),
                "--case",
                "greeting",
                "--case",
                "label-nobody-asked-for",
            ]
        )
        == 1
    )
    assert (report / "report.json").is_file() and (report / "report.html").is_file()
    out = capsys.readouterr().out
    assert "label-nobody-asked-for" in out and "FAIL" in out and "pass rate" in out
    assert main(["eval", str(passing), "--report", str(report), "--min-pass-rate", "0.5"]) == 0
    assert main(["eval", str(tmp_path / "missing.yaml"), "--report", str(report)]) == 2
    assert main(["eval", str(passing), "--tags", "no-such-tag"]) == 2


def test_cli_import_prints_a_draft(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = tmp_path / "ticket.json"
    export.write_text(
        '{"id": 5, "tags": [{"name": "refunds"}], "messages": [{"from_agent": false, "body_text": "refund #1009 please"}]}',
        encoding="utf-8",
    )
    assert main(["eval", "import", str(export)]) == 0
    out = capsys.readouterr().out
    assert "id: gorgias-5" in out and 'shopper: "refund #1009 please"' in out and "intent: refunds" in out
    assert main(["eval", "import"]) == 2
