"""`support-agent eval`: replay the eval suite and report; `eval intents`; `eval import`.

support-agent eval [PATHS...] [--model M] [--k N] [--report DIR] [--tags T...] [--min-pass-rate F]
support-agent eval intents          # the offline classifier's figures
support-agent eval import TICKET.json [--out DIR]   # a Gorgias ticket export -> draft case(s)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from evals.results import RunResult

# `add_arguments` runs whenever `support-agent` builds its parser: the agent, the model and the
# harness are imported only when an eval actually runs.

DEFAULT_REPORT_DIR = Path("var/eval-report")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATHS",
        help="case files or folders (default: the built-in suite in evals/cases); "
        "or `intents` (classifier figures), or `import FILE...` (Gorgias ticket export -> draft case)",
    )
    parser.add_argument(
        "--model",
        default=None,
        help="`offline`, `openai:offline` or `openai:<name>` (default: MODEL, offline)",
    )
    parser.add_argument("--k", type=int, default=1, help="replay each case k times (pass^k), default 1")
    parser.add_argument(
        "--report",
        default=str(DEFAULT_REPORT_DIR),
        metavar="DIR",
        help="where report.json and report.html go",
    )
    parser.add_argument(
        "--tags", nargs="+", default=[], metavar="TAG", help="only cases with any of these tags"
    )
    parser.add_argument(
        "--case", action="append", default=[], metavar="ID", help="only this case (repeatable)"
    )
    parser.add_argument(
        "--min-pass-rate",
        type=float,
        default=1.0,
        metavar="F",
        help="exit 0 when at least this fraction of runs pass (default 1.0: every case)",
    )
    parser.add_argument("--workers", type=int, default=1, help="cases replayed side by side (default 1)")
    parser.add_argument("--show-passed", action="store_true", help="list passing cases in the table too")
    parser.add_argument("--out", default=None, metavar="DIR", help="for `import`: write drafts here")
    parser.add_argument(
        "--keep-personal-data", action="store_true", help="for `import`: keep emails and phone numbers"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show the agent's warnings")


def run_eval(args: argparse.Namespace) -> int:
    paths: list[str] = list(args.paths)
    err = Console(stderr=True)
    if paths and paths[0] == "intents":
        return _intents(err)
    if paths and paths[0] == "import":
        return _import(paths[1:], args, err)
    return _run(paths, args, err)


def _intents(err: Console) -> int:
    from agent.offline.nlu.evaluate import evaluate_intents, render_report
    from agent.settings import Settings

    settings = Settings()
    try:
        report = evaluate_intents(settings.fixtures_dir, settings.cache_dir)
    except FileNotFoundError as exc:
        err.print(f"[red]{escape(str(exc))}[/red] (set SUPPORT_AGENT_FIXTURES to the shared fixtures folder)")
        return 2
    print(render_report(report))
    return 0


def _import(files: list[str], args: argparse.Namespace, err: Console) -> int:
    from evals.importer import import_file

    if not files:
        err.print("[red]usage: support-agent eval import TICKET.json... [--out DIR][/red]")
        return 2
    out_dir = Path(args.out) if args.out else None
    for name in files:
        try:
            drafts = import_file(Path(name), out_dir, keep_personal_data=args.keep_personal_data)
        except (OSError, ValueError) as exc:
            err.print(f"[red]{escape(name)}: {escape(str(exc))}[/red]")
            return 2
        for identifier, text in drafts:
            if out_dir is None:
                print(text, end="" if text.endswith("\n") else "\n")
            else:
                err.print(f"wrote {escape(str(out_dir / (identifier + '.yaml')))}")
    return 0


def _run(paths: list[str], args: argparse.Namespace, err: Console) -> int:
    from rich.logging import RichHandler
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from agent.models import ConfigError
    from agent.settings import Settings
    from evals.loading import load_cases, select
    from evals.metrics import compute_metrics
    from evals.platforms import split_for_platform
    from evals.report import print_summary, write_reports
    from evals.runner import eval_settings, run_suite

    logging.basicConfig(
        level=logging.WARNING if args.verbose else logging.CRITICAL,
        handlers=[RichHandler(console=err, show_path=False)],
        force=True,
    )
    if args.k < 1 or args.workers < 1:
        err.print("[red]--k and --workers must be at least 1[/red]")
        return 2
    try:
        cases = select(load_cases([Path(p) for p in paths]), args.tags, args.case)
    except (OSError, ValueError) as exc:
        err.print(f"[red]Cannot load the cases:[/red] {escape(str(exc))}")
        return 2
    settings = eval_settings(Settings(), args.model)
    cases, skipped = split_for_platform(cases, settings.store_platform)
    for loaded, reason in skipped:
        err.print(
            f"[yellow]skipped on {settings.store_platform}:[/yellow] {loaded.case.id}: {escape(reason)}"
        )
    if not cases:
        err.print("[red]No case matches.[/red]")
        return 2
    started = time.perf_counter()
    failures = 0
    with Progress(
        TextColumn("[bold]eval[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failures]} failing"),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("starting…", total=len(cases) * args.k, failures=0)

        def on_result(result: RunResult) -> None:
            nonlocal failures
            failures += 0 if result.passed else 1
            progress.update(task, advance=1, description=result.case_id, failures=failures)

        try:
            results = asyncio.run(
                run_suite(cases, settings, k=args.k, workers=args.workers, on_result=on_result)
            )
        except ConfigError as exc:
            err.print(f"[red]Configuration error:[/red] {escape(str(exc))}")
            return 2
    metrics = compute_metrics(results, k=args.k, duration_s=time.perf_counter() - started)
    # Piped into a file or CI log, rich would assume 80 columns and squeeze the table.
    out = Console(soft_wrap=False, width=None if sys.stdout.isatty() else 160)
    print_summary(out, results, metrics, show_passed=args.show_passed)
    meta = {
        "model": settings.model,
        "k": args.k,
        "cases": len(cases),
        "paths": ", ".join(paths) or "evals/cases",
        "tags": ", ".join(args.tags) or "all",
        "store_platform": settings.store_platform,
        "skipped": "; ".join(f"{c.case.id} ({reason})" for c, reason in skipped) or "none",
    }
    json_path, html_path = write_reports(Path(args.report), results, metrics, meta)
    err.print(f"Reports: {escape(str(json_path))} · {escape(str(html_path))}")
    if metrics.pass_rate + 1e-9 < args.min_pass_rate:
        err.print(
            f"[red]Pass rate {metrics.pass_rate:.1%} is below the minimum {args.min_pass_rate:.1%}.[/red]"
        )
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="support-agent eval")
    add_arguments(parser)
    return run_eval(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
