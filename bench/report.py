"""The figures on the terminal (rich tables) and in a JSON file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def inprocess_table(result: dict[str, Any]) -> Table:
    table = Table(title="In-process WISMO turn (same run, same clients and checkpointer)")
    for column in ("variant", "turns", "p50 ms", "p95 ms", "loop CPU ms", "process CPU ms"):
        table.add_column(column, justify="right" if column != "variant" else "left")
    for name in ("agent", "floor", "agent_follow_up", "floor_follow_up"):
        row = result[name]
        table.add_row(
            name.replace("_", " "),
            *(
                _cell(row[k])
                for k in ("turns", "p50_ms", "p95_ms", "loop_cpu_ms_mean", "process_cpu_ms_mean")
            ),
        )
    table.caption = f"agent / floor p50: {result['ratio_p50']}×   follow-up: {result['ratio_follow_up_p50']}×"
    return table


def breakdown_table(result: dict[str, Any]) -> Table:
    table = Table(title="What each layer costs (experiments; some skip work a real turn needs)")
    for column in ("variant", "turns", "p50 ms", "p95 ms", "loop CPU ms", "process CPU ms"):
        table.add_column(column, justify="right" if column != "variant" else "left")
    for name, row in result.items():
        table.add_row(
            name.replace("_", " "),
            *(
                _cell(row[k])
                for k in ("turns", "p50_ms", "p95_ms", "loop_cpu_ms_mean", "process_cpu_ms_mean")
            ),
        )
    return table


HTTP_COLUMNS = (
    ("backend", "backend"),
    ("shoppers", "shoppers"),
    ("turns/s", "turns_per_s"),
    ("p50 ms", "p50_ms"),
    ("p95 ms", "p95_ms"),
    ("errors", "errors"),
    ("turns >10 s", "turns_over_10s"),
    ("429s (load)", "load_429s"),
    ("backlog at end", "backlog_at_end"),
    ("drain s", "drain_s"),
    ("429s (drain)", "drain_429s"),
    ("tickets ok", "tickets"),
)


def _tickets(value: Any) -> str:
    if not isinstance(value, dict):
        return _cell(value)
    bad = [f"{k} {v}" for k, v in value.items() if k not in ("conversations", "ok") and v]
    return f"{value['ok']}/{value['conversations']}" + (f" ({', '.join(bad)})" if bad else "")


def http_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="HTTP closed loop against `support-agent serve` (JSON turns)")
    for title, _ in HTTP_COLUMNS:
        table.add_column(title, justify="left" if title == "backend" else "right")
    for row in rows:
        if "skipped" in row:
            table.add_row(row["backend"], _cell(row["shoppers"]), row["skipped"], *[""] * 9)
            continue
        table.add_row(
            *(_tickets(row.get(key)) if key == "tickets" else _cell(row.get(key)) for _, key in HTTP_COLUMNS)
        )
    return table


def profile_table(result: dict[str, Any]) -> Table:
    table = Table(title=f"Where a WISMO turn's event-loop CPU goes ({result['turns']} turns, cProfile)")
    table.add_column("area")
    table.add_column("share %", justify="right")
    for area, share in result["by_area_share_pct"].items():
        table.add_row(area, _cell(share))
    return table


def print_results(results: dict[str, Any], console: Console) -> None:
    if "inprocess" in results:
        console.print(inprocess_table(results["inprocess"]))
    if "breakdown" in results:
        console.print(breakdown_table(results["breakdown"]))
    if "http" in results:
        console.print(http_table(results["http"]))
        errors = {
            f"{r['backend']}@{r['shoppers']}": r["error_kinds"]
            for r in results["http"]
            if r.get("error_kinds")
        }
        if errors:
            console.print("error kinds:", errors)
    if "profile" in results:
        console.print(profile_table(results["profile"]))
        console.print("top project functions (inclusive ms per turn, under the profiler):")
        for name, value in list(results["profile"]["top_inclusive_project_ms_per_turn"].items())[:12]:
            console.print(f"  {value:8.2f}  {name}")


def write_json(results: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
