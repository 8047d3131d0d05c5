"""`python -m bench`: parse the flags, run the chosen parts, print and save the figures."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from bench.http_bench import BACKENDS, DEFAULT_POSTGRES, run_backend
from bench.machine import describe
from bench.report import print_results, write_json

PARTS = ("inprocess", "breakdown", "http", "profile")


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure a WISMO turn in process (next to a bare-LangGraph floor), the HTTP server "
        "under closed-loop shoppers, and where a turn's CPU goes.",
    )
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)}")
    parser.add_argument("--turns", type=int, default=200, help="in-process turns per variant (default 200)")
    parser.add_argument(
        "--breakdown-turns", type=int, default=100, help="turns per breakdown variant (default 100)"
    )
    parser.add_argument("--profile-turns", type=int, default=100, help="turns under cProfile (default 100)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per HTTP level (default 20)")
    parser.add_argument(
        "--levels", default="1,20,200", help="concurrent shoppers per level (default 1,20,200)"
    )
    parser.add_argument(
        "--backends", default=",".join(BACKENDS), help=f"comma-separated, of {', '.join(BACKENDS)}"
    )
    parser.add_argument(
        "--database-url",
        default=DEFAULT_POSTGRES,
        help="the benchmark's own Postgres database; it is recreated",
    )
    parser.add_argument(
        "--drain-timeout", type=float, default=600.0, help="longest wait for the helpdesk backlog (s)"
    )
    parser.add_argument("--out", type=Path, default=Path("bench-results.json"), help="JSON results file")
    parser.add_argument(
        "--markdown", type=Path, default=None, help="also write the figures as Markdown tables here"
    )
    parser.add_argument("--log-dir", type=Path, default=Path("reports/bench"), help="server logs, pstats")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    parts = _csv(args.parts)
    unknown = set(parts) - set(PARTS) | set(_csv(args.backends)) - set(BACKENDS)
    if unknown:
        raise SystemExit(f"unknown part or backend: {', '.join(sorted(unknown))}")
    logging.basicConfig(level=logging.WARNING)  # the service's INFO lines would drown the table
    console = Console(width=None if sys.stdout.isatty() else 200)  # wide tables in logs too
    args.log_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": describe(),
        "settings": {k: str(v) for k, v in vars(args).items()},
    }
    if "inprocess" in parts:
        from bench.inprocess import run_inprocess

        console.print(f"[bold]in-process[/bold]: {args.turns} turns per variant …")
        results["inprocess"] = asyncio.run(run_inprocess(args.turns))
    if "breakdown" in parts:
        from bench.breakdown import run_breakdown

        console.print(f"[bold]breakdown[/bold]: {args.breakdown_turns} turns per variant …")
        results["breakdown"] = asyncio.run(run_breakdown(args.breakdown_turns))
    if "http" in parts:
        levels = [int(n) for n in _csv(args.levels)]
        rows: list[dict[str, Any]] = []
        for backend in _csv(args.backends):
            rows += run_backend(
                backend, levels, args.duration, args.drain_timeout, args.database_url, console, args.log_dir
            )
        results["http"] = rows
    if "profile" in parts:
        from bench.profiling import run_profile

        console.print(f"[bold]profile[/bold]: {args.profile_turns} turns under cProfile …")
        results["profile"] = asyncio.run(run_profile(args.profile_turns, args.log_dir / "wismo-turn.prof"))
    print_results(results, console)
    write_json(results, args.out)
    if args.markdown is not None:
        from bench.markdown import render_markdown

        args.markdown.write_text(render_markdown(results))
    console.print(f"written: {args.out}")
    return 0
