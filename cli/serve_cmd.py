"""`support-agent serve`: the chat server, widget and storefront (and, in demo mode, the sandbox).

Demo mode (SANDBOX_MODE=true, the default) serves the demo wiring's app (`demo.server`): the sandbox
mounted under /sandbox and the agent on it. Otherwise the production app runs on the vendors the
settings name, and a real store never loads the emulator.
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from fastapi import FastAPI
from rich.console import Console

from agent.settings import Settings, export_to_child_processes
from cli.exposure import check_demo_exposure
from server.app import create_app, with_public_url

_WILDCARD_HOSTS = {"0.0.0.0", "::", ""}  # noqa: S104 (names, not a bind)


def serve_settings(args: argparse.Namespace) -> Settings:
    """Settings with the command line's overrides; the public URL follows --host/--port unless set."""
    overrides: dict[str, Any] = {}
    for name, field in (
        *((n, n) for n in ("host", "port", "model", "database_url")),
        ("platform", "store_platform"),
    ):
        value = getattr(args, name, None)
        if value is not None:
            overrides[field] = value
    settings = Settings(**overrides)
    host = "127.0.0.1" if settings.host in _WILDCARD_HOSTS else settings.host
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    return with_public_url(settings, f"http://{host}:{settings.port}")


# The command line's overrides, handed to worker processes through their environment.
_OVERRIDE_ENV = {
    "host": "HOST",
    "port": "PORT",
    "model": "MODEL",
    "database_url": "DATABASE_URL",
    "platform": "STORE_PLATFORM",
}


def worker_problem(settings: Settings, workers: int) -> str | None:
    """Why these settings cannot run `workers` processes, or None."""
    if workers <= 1:
        return None
    if not settings.database_url:
        return (
            "--workers needs PostgreSQL (DATABASE_URL): the SQLite file serves one process. "
            "Run one process, or set DATABASE_URL."
        )
    if settings.sandbox_mode:
        return (
            "--workers needs SANDBOX_MODE=false: each process would mount its own sandbox store. Run the "
            "sandbox once (`support-agent sandbox --port 8001`) and point the vendor settings at it."
        )
    return None


def create_worker_app() -> Any:
    """The app of one worker process (uvicorn's factory): settings from the environment."""
    settings = Settings()
    return create_server_app(with_public_url(settings, settings.public_url))


def create_server_app(settings: Settings) -> FastAPI:
    """The app `serve` runs: the demo (sandbox mounted) in sandbox mode, else the production app."""
    if settings.sandbox_mode:
        from demo.server import create_demo_app

        return create_demo_app(settings)
    return create_app(settings)


def run_serve(args: argparse.Namespace) -> int:
    settings = serve_settings(args)
    check_demo_exposure(settings.host, settings.sandbox_mode, settings.sandbox_control_token)
    console = Console(stderr=True)
    workers = int(getattr(args, "workers", 1) or 1)
    problem = worker_problem(settings, workers)
    if problem is not None:
        console.print(f"[red]{problem}[/red]")
        return 2
    if workers > 1:
        exported = {
            env: str(getattr(args, name)) for name, env in _OVERRIDE_ENV.items() if getattr(args, name, None)
        }
        export_to_child_processes({**exported, "PUBLIC_URL": settings.public_url})
        console.print(f"[bold]Support agent[/bold]: {workers} processes on {settings.public_url}")
        uvicorn.run(
            "cli.serve_cmd:create_worker_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            log_level=settings.log_level.lower(),
        )
        return 0
    app = create_server_app(settings)
    root = settings.public_url
    console.print(f"[bold]Support agent[/bold] with model [cyan]{settings.model}[/cyan]")
    console.print(f"  storefront  {root}/")
    console.print(f"  widget      {root}/widget.js")
    console.print(f"  API docs    {root}/api/docs")
    if settings.sandbox_mode:
        console.print(f"  sandbox     {root}/sandbox/_sandbox/  (docs: {root}/sandbox/_sandbox/docs)")
        if settings.sandbox_control_token is not None:
            console.print("              control API requires Authorization: Bearer $SANDBOX_CONTROL_TOKEN")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level.lower())
    return 0
