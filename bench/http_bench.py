"""The HTTP part: each backend, each level, against a freshly started server and empty database."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from rich.console import Console

from bench.load import run_level
from bench.server import running_sandbox, running_server, workers_supported

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/bench"
BACKENDS = ("sqlite", "postgres-1", "postgres-2")


def reset_database(url: str) -> None:
    """Drop and recreate the benchmark's own database (never any other), so each run starts empty."""
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[-1].split("?", 1)[0]
    if name in ("", "postgres", "test", "template0", "template1"):
        raise ValueError(f"refusing to reset database {name!r}: give the benchmark its own (e.g. /bench)")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def run_backend(
    backend: str,
    levels: Sequence[int],
    duration: float,
    drain_timeout: float,
    postgres_url: str,
    console: Console,
    log_dir: Path,
) -> list[dict[str, Any]]:
    """Every level on one backend; a fresh server (and database) per level, so levels don't mix."""
    workers = 2 if backend == "postgres-2" else 1
    database_url = postgres_url if backend.startswith("postgres") else None
    if workers > 1 and not workers_supported():
        console.print(f"[yellow]{backend}: n/a (--workers not available)[/yellow]")
        return [
            {"backend": backend, "shoppers": n, "skipped": "n/a (--workers not available)"} for n in levels
        ]
    rows: list[dict[str, Any]] = []
    for shoppers in levels:
        console.print(f"[bold]{backend}[/bold]: {shoppers} shoppers for {duration:g} s …")
        try:
            if database_url:
                reset_database(database_url)
            with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp, ExitStack() as stack:
                log = log_dir / f"server-{backend}-{shoppers}.log"
                sandbox_url = None
                if workers > 1:  # one sandbox (one world, one Gorgias budget) for every process
                    sandbox_log = log_dir / f"sandbox-{backend}-{shoppers}.log"
                    sandbox_url = stack.enter_context(running_sandbox(sandbox_log))
                base = stack.enter_context(
                    running_server(
                        Path(tmp),
                        database_url=database_url,
                        workers=workers,
                        log=log,
                        sandbox_url=sandbox_url,
                    )
                )
                row = asyncio.run(run_level(base, shoppers, duration, drain_timeout, sandbox_url))
        except Exception as exc:  # one broken backend should not lose the other figures
            console.print(f"[red]{backend} at {shoppers}: {exc}[/red]")
            row = {"shoppers": shoppers, "skipped": f"failed: {exc}"}
        row = {"backend": backend, "workers": workers, **row}
        console.print(row)
        rows.append(row)
    return rows
