"""The figures as Markdown tables, for pasting into docs/benchmarks.md after a run."""

from __future__ import annotations

from typing import Any

from bench.report import HTTP_COLUMNS, _cell, _tickets

TURN_COLUMNS = ("turns", "p50_ms", "p95_ms", "loop_cpu_ms_mean", "process_cpu_ms_mean")
TURN_TITLES = ("variant", "turns", "p50 ms", "p95 ms", "loop CPU ms", "process CPU ms")


def _table(titles: tuple[str, ...], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(titles) + " |", "|" + "---|" * len(titles)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _turn_rows(result: dict[str, Any], names: list[str]) -> list[list[str]]:
    return [[name.replace("_", " "), *(_cell(result[name][k]) for k in TURN_COLUMNS)] for name in names]


def render_markdown(results: dict[str, Any]) -> str:
    """Machine, in-process, breakdown, HTTP and profile sections, whichever the run has."""
    machine = results["machine"]
    parts = [
        f"Measured {results['measured_at']} on {machine['nproc']} × {machine['cpu_model']}, "
        f"{machine['memory_gib']} GiB, {machine['os']}, Python {machine['python']}."
    ]
    if "inprocess" in results:
        inprocess = results["inprocess"]
        names = ["agent", "floor", "agent_follow_up", "floor_follow_up"]
        parts.append(_table(TURN_TITLES, _turn_rows(inprocess, names)))
        parts.append(
            f"agent / floor p50: **{inprocess['ratio_p50']}×** (follow-up: {inprocess['ratio_follow_up_p50']}×)"
        )
    if "breakdown" in results:
        parts.append(_table(TURN_TITLES, _turn_rows(results["breakdown"], list(results["breakdown"]))))
    if "http" in results:
        rows = []
        for row in results["http"]:
            if "skipped" in row:
                rows.append([row["backend"], _cell(row["shoppers"]), row["skipped"], *[""] * 9])
            else:
                rows.append(
                    [_tickets(row.get(k)) if k == "tickets" else _cell(row.get(k)) for _, k in HTTP_COLUMNS]
                )
        parts.append(_table(tuple(title for title, _ in HTTP_COLUMNS), rows))
    if "profile" in results:
        profile = results["profile"]
        rows = [[area, _cell(share)] for area, share in profile["by_area_share_pct"].items()]
        parts.append(_table(("area (event-loop thread CPU)", "share %"), rows))
    return "\n\n".join(parts) + "\n"
