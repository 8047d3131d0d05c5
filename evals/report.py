"""Reports of an eval run: a rich table for the terminal, `report.json`, and a self-contained
`report.html` (per case: transcript, tool calls, expected vs actual, world diff).

Everything a case, a model or a shopper wrote is escaped before it reaches the HTML: a
transcript may hold any text, including markup a prompt injection tried to slip in.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape as rich_escape
from rich.table import Table

from evals.metrics import Metrics
from evals.results import RunResult, ToolCallRecord, TurnRecord


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _secs(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def _tokens(prompt: float, completion: float, calls: float) -> str:
    if calls and not prompt and not completion:
        return "not reported by the model"
    return f"{prompt:.0f} + {completion:.0f}"


def metric_rows(metrics: Metrics) -> list[tuple[str, str]]:
    return [
        ("cases / runs", f"{metrics.cases} / {metrics.runs} (k={metrics.k})"),
        ("pass rate", f"{_pct(metrics.pass_rate)} ({metrics.passed_runs}/{metrics.runs})"),
        (f"pass^{metrics.k}", _pct(metrics.pass_hat_k)),
        ("intent accuracy", f"{_pct(metrics.intent_accuracy)} ({metrics.intent_checks} checks)"),
        ("tool-call recall", _pct(metrics.tool_call_recall)),
        ("tool-call precision (mutating)", _pct(metrics.tool_call_precision)),
        ("policy violations", f"{metrics.policy_violations} in {metrics.runs_with_violations} runs"),
        ("handoff precision / recall", f"{_pct(metrics.handoff_precision)} / {_pct(metrics.handoff_recall)}"),
        ("latency p50 / p95 per turn", f"{_secs(metrics.latency_p50_s)} / {_secs(metrics.latency_p95_s)}"),
        ("model calls / conversation", f"{metrics.model_calls_per_conversation:.1f}"),
        (
            "tokens / conversation (prompt + completion)",
            _tokens(
                metrics.prompt_tokens_per_conversation,
                metrics.completion_tokens_per_conversation,
                metrics.model_calls_per_conversation,
            ),
        ),
        ("harness errors", str(metrics.errors)),
        ("duration", f"{metrics.duration_s:.1f} s"),
    ]


def _failure_summary(result: RunResult) -> str:
    if result.error:
        return f"error: {result.error}"
    parts = []
    for check in result.failed_checks[:3]:
        where = f"t{check.turn} " if check.turn else ""
        parts.append(f"{where}{check.name}: expected {check.expected}; got {check.actual}")
    more = len(result.failed_checks) - 3
    if more > 0:
        parts.append(f"(+{more} more)")
    return " | ".join(parts)


def print_summary(
    console: Console, results: Sequence[RunResult], metrics: Metrics, *, show_passed: bool = False
) -> None:
    """A table of the cases (failures first, or only failures) and the metrics."""
    table = Table(title="Eval cases", show_lines=False, expand=True)
    table.add_column("case", no_wrap=True)
    table.add_column("run", justify="right")
    table.add_column("result")
    table.add_column("turns", justify="right")
    table.add_column("time", justify="right")
    table.add_column("why it failed", overflow="fold", ratio=1, min_width=40)
    ordered = sorted(results, key=lambda r: (r.passed, r.case_id, r.run))
    shown = 0
    for result in ordered:
        if result.passed and not show_passed:
            continue
        shown += 1
        verdict = "[green]pass[/green]" if result.passed else "[red]FAIL[/red]"
        table.add_row(
            rich_escape(result.case_id),
            str(result.run),
            verdict,
            str(len(result.turns)),
            f"{result.duration_s:.2f}s",
            rich_escape(_failure_summary(result)),
        )
    if shown:
        console.print(table)
    summary = Table(title="Metrics", show_header=False)
    summary.add_column("metric")
    summary.add_column("value", justify="right")
    for name, value in metric_rows(metrics):
        summary.add_row(name, value)
    console.print(summary)


# ---------------------------------------------------------------------------- JSON


def report_data(results: Sequence[RunResult], metrics: Metrics, meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "meta": meta,
        "metrics": metrics.model_dump(mode="json"),
        "runs": [r.model_dump(mode="json") for r in results],
    }


def write_json(path: Path, results: Sequence[RunResult], metrics: Metrics, meta: dict[str, Any]) -> None:
    path.write_text(
        json.dumps(report_data(results, metrics, meta), indent=2, ensure_ascii=False, default=str) + "\n",
        encoding="utf-8",
    )


# ---------------------------------------------------------------------------- HTML

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1d2330}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin:0}table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border:1px solid #d8dde6;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f3f5f8}
.pass{color:#11703a;font-weight:600}.fail{color:#b3261e;font-weight:600}
details.case{border:1px solid #d8dde6;border-radius:8px;margin:.6rem 0;padding:.4rem .8rem}
details.case[open]{background:#fcfcfd}summary{cursor:pointer}
.msg{margin:.25rem 0;padding:.35rem .6rem;border-radius:6px;white-space:pre-wrap;word-break:break-word}
.shopper{background:#e8f0fe}.assistant{background:#eef7ee}.agent{background:#fbeefb}.action{background:#fff6e0;font-style:italic}
.role{font-weight:600;margin-right:.4rem}.tool{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;margin:.15rem 0 .15rem 1rem;color:#394150;white-space:pre-wrap;word-break:break-all}
.meta{color:#5b6475;font-size:12px}code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
pre{white-space:pre-wrap;word-break:break-all;margin:0}.tag{background:#eef1f5;border-radius:4px;padding:0 .3rem;margin-right:.2rem;font-size:12px}
"""


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _json(value: Any) -> str:
    return _e(json.dumps(value, ensure_ascii=False, default=str))


def _tool_html(call: ToolCallRecord) -> str:
    mark = " ✎" if call.mutates else ""
    return (
        f'<div class="tool">→ {_e(call.name)}{mark} {_json(call.args)} '
        f'<span class="meta">[{_e(call.outcome)}]</span></div>'
    )


def _turn_html(turn: TurnRecord) -> str:
    parts = [
        f'<div class="meta">turn {turn.index} · {_e(turn.kind)} · {turn.latency_s * 1000:.0f} ms · '
        f"intents {_e(', '.join(turn.intents) or '-')} · status {_e(turn.status)}"
        + (" · handoff" if turn.handoff else "")
        + "</div>"
    ]
    calls = list(turn.tool_calls)
    for message in turn.messages:
        role = message.role if message.role in ("shopper", "assistant", "agent", "action") else "action"
        if role == "assistant" and calls:
            parts.extend(_tool_html(c) for c in calls)
            calls = []
        card = f' <span class="meta">[{_e(message.card)} card]</span>' if message.card else ""
        parts.append(
            f'<div class="msg {role}"><span class="role">{_e(message.role)}</span>{_e(message.text)}{card}</div>'
        )
    parts.extend(_tool_html(c) for c in calls)
    for error in turn.errors:
        parts.append(f'<div class="msg action fail">error: {_e(error)}</div>')
    return "\n".join(parts)


def _case_html(result: RunResult) -> str:
    verdict = '<span class="pass">pass</span>' if result.passed else '<span class="fail">FAIL</span>'
    tags = "".join(f'<span class="tag">{_e(t)}</span>' for t in result.tags)
    rows = []
    for check in sorted(result.checks, key=lambda c: (c.passed, c.turn or 0)):
        css = "pass" if check.passed else "fail"
        rows.append(
            f'<tr><td class="{css}">{"✓" if check.passed else "✗"}</td><td>{_e(check.turn or "all")}</td>'
            f"<td>{_e(check.name)}</td><td>{_e(check.expected)}</td><td>{_e(check.actual)}</td></tr>"
        )
    checks = (
        "<table><tr><th></th><th>turn</th><th>check</th><th>expected</th><th>actual</th></tr>"
        + "".join(rows)
        + "</table>"
        if rows
        else "<p class=meta>No checks.</p>"
    )
    error = f'<p class="fail">Harness error: {_e(result.error)}</p>' if result.error else ""
    transcript = "\n".join(_turn_html(t) for t in result.turns)
    effects = result.changes.get("effects") or []
    effect_list = "".join(f"<li>{_e(e)}</li>" for e in effects) or "<li>none</li>"
    diff_rows = "".join(
        f"<tr><td><code>{_e(d.get('path'))}</code></td><td>{_e(d.get('op'))}</td>"
        f"<td><pre>{_json(d.get('before'))}</pre></td><td><pre>{_json(d.get('after'))}</pre></td></tr>"
        for d in result.world_diff
    )
    diff = (
        f"<details><summary>World diff ({len(result.world_diff)} changes)</summary><table>"
        f"<tr><th>path</th><th>op</th><th>before</th><th>after</th></tr>{diff_rows}</table></details>"
        if result.world_diff
        else "<p class=meta>The world did not change.</p>"
    )
    usage = result.usage
    return f"""<details class="case" id="{_e(result.case_id)}-{result.run}"{"" if result.passed else " open"}>
<summary><h2 style="display:inline">{_e(result.case_id)}</h2> · run {result.run} · {verdict} · {result.duration_s:.2f} s {tags}</summary>
<p>{_e(result.description)}</p>{error}
<p class="meta">final status {_e(result.status or "-")} · {usage.model_calls} model calls · tokens (prompt + completion) {_e(_tokens(usage.prompt_tokens, usage.completion_tokens, usage.model_calls))}</p>
<h3>Expected vs actual</h3>{checks}
<h3>Transcript</h3>{transcript}
<h3>Side effects</h3><ul>{effect_list}</ul>
{diff}
</details>"""


def render_html(results: Sequence[RunResult], metrics: Metrics, meta: dict[str, Any]) -> str:
    metric_table = "".join(f"<tr><th>{_e(n)}</th><td>{_e(v)}</td></tr>" for n, v in metric_rows(metrics))
    index_rows = "".join(
        f'<tr><td><a href="#{_e(r.case_id)}-{r.run}">{_e(r.case_id)}</a></td><td>{r.run}</td>'
        f'<td class="{"pass" if r.passed else "fail"}">{"pass" if r.passed else "FAIL"}</td>'
        f"<td>{_e(_failure_summary(r))}</td></tr>"
        for r in sorted(results, key=lambda r: (r.passed, r.case_id, r.run))
    )
    meta_text = " · ".join(f"{_e(k)}: {_e(v)}" for k, v in meta.items())
    cases = "\n".join(_case_html(r) for r in results)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Support agent eval report</title><style>{CSS}</style></head>
<body><h1>Support agent eval report</h1><p class="meta">{meta_text}</p>
<h2>Metrics</h2><table>{metric_table}</table>
<h2>Cases</h2><table><tr><th>case</th><th>run</th><th>result</th><th>why it failed</th></tr>{index_rows}</table>
{cases}
</body></html>
"""


def write_reports(
    directory: Path, results: Sequence[RunResult], metrics: Metrics, meta: dict[str, Any]
) -> tuple[Path, Path]:
    """`report.json` and `report.html` in `directory` (created)."""
    directory.mkdir(parents=True, exist_ok=True)
    meta = {"generated_at": datetime.now(UTC).isoformat(timespec="seconds"), **meta}
    json_path = directory / "report.json"
    html_path = directory / "report.html"
    write_json(json_path, results, metrics, meta)
    html_path.write_text(render_html(results, metrics, meta), encoding="utf-8")
    return json_path, html_path
