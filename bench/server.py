"""`support-agent serve` as `make demo` runs it, in a subprocess on a free loopback port."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

CLI = Path(sys.executable).with_name("support-agent")
# Every simulated shopper comes from 127.0.0.1: only the per-address chat limit is lifted. The
# per-conversation limit and the sandbox's vendor limits (Gorgias 40 calls / 20 s) stay as shipped.
LIFTED_LIMITS = {"RATE_LIMIT_PER_IP_PER_MINUTE": "100000000"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_sandbox(log: Path, startup_timeout: float = 120.0) -> Iterator[str]:
    """`support-agent sandbox` on its own: one world and one Gorgias budget for several server
    processes (each `serve` in demo mode would mount its own)."""
    port = free_port()
    command = [str(CLI), "sandbox", "--host", "127.0.0.1", "--port", str(port)]
    with _process(
        command, {**os.environ}, log, f"http://127.0.0.1:{port}", "/_sandbox/", startup_timeout
    ) as base:
        yield base


def real_store_env(sandbox_url: str) -> dict[str, str]:
    """Settings of a real-store deployment whose vendors are the given sandbox (fresh strong secrets)."""
    return {
        "SANDBOX_MODE": "false",
        "SHOPIFY_API_BASE": f"{sandbox_url}/shopify/admin/api",
        "GORGIAS_BASE_URL": f"{sandbox_url}/gorgias/api",
        "EASYPOST_API_BASE": f"{sandbox_url}/easypost/v2",
        "STRIPE_API_BASE": f"{sandbox_url}/stripe",
        "SENDGRID_HOST": f"{sandbox_url}/sendgrid",
        "STORE_SECRET": secrets.token_urlsafe(32),
        "GORGIAS_WEBHOOK_SECRET": secrets.token_urlsafe(32),
        "SHOPIFY_WEBHOOK_SECRET": secrets.token_urlsafe(32),
    }


@contextmanager
def _process(
    command: list[str], env: dict[str, str], log: Path, base: str, ready_path: str, startup_timeout: float
) -> Iterator[str]:
    with log.open("wb") as log_file:  # one run per file: counts read from it stay per run
        process = subprocess.Popen(  # noqa: S603 (our own CLI)
            command, cwd=Path.cwd(), env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command[1]} exited with {process.returncode}; see {log}")
            try:
                if httpx.get(f"{base}{ready_path}", timeout=2.0).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[1]} did not answer within {startup_timeout} s; see {log}")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def workers_supported() -> bool:
    """Whether this `support-agent serve` accepts `--workers` (being added in another branch)."""
    help_text = subprocess.run(  # noqa: S603 (our own CLI, fixed arguments)
        [str(CLI), "serve", "--help"], capture_output=True, text=True, check=False, timeout=60
    ).stdout
    return "--workers" in help_text


@contextmanager
def running_server(
    workdir: Path,
    *,
    database_url: str | None,
    workers: int = 1,
    log: Path,
    sandbox_url: str | None = None,
    startup_timeout: float = 120.0,
) -> Iterator[str]:
    """Start the server, wait for /healthz, yield its base URL; stop it (SIGTERM, then SIGKILL).

    It runs from the current directory, as `make demo` does (same classifier cache); only its
    SQLite file lives in `workdir`. With `sandbox_url` it runs as a real store would
    (`SANDBOX_MODE=false`) with that sandbox as its vendors: the only way to run several processes.
    """
    port = free_port()
    env = {
        **os.environ,
        **LIFTED_LIMITS,
        "SQLITE_PATH": str(workdir / "support-agent.sqlite"),
        "DATABASE_URL": database_url or "",
        **(real_store_env(sandbox_url) if sandbox_url else {}),
    }
    command = [str(CLI), "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    with _process(command, env, log, f"http://127.0.0.1:{port}", "/healthz", startup_timeout) as base:
        yield base
