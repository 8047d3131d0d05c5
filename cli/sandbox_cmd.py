"""`support-agent sandbox`: the vendor emulators over HTTP."""

from __future__ import annotations

import argparse
from datetime import datetime

import uvicorn
from rich.console import Console

from agent.helpdesks import helpdesk_spec
from agent.models import build_model
from agent.settings import get_settings
from cli.exposure import check_demo_exposure
from demo.openai_compat import attach_chat_backend
from sandbox.app import VENDOR_BASES, create_sandbox_app
from sandbox.control import summary
from sandbox.seed import load_seed
from sandbox.world import World


def run_sandbox(args: argparse.Namespace) -> int:
    settings = get_settings()
    console = Console(stderr=True)
    try:
        seed = load_seed(args.seed or settings.sandbox_seed)
    except (FileNotFoundError, ValueError) as exc:
        console.print(f"[red]Cannot load the sandbox seed {args.seed!r}:[/red] {exc}")
        return 2
    check_demo_exposure(args.host, True, settings.sandbox_control_token)
    token = settings.sandbox_control_token
    app = create_sandbox_app(seed=seed, control_token=token.get_secret_value() if token else None)

    def world_clock() -> datetime:
        current: World = app.state.world
        return current.now()

    # The offline model says "arrives tomorrow" relative to the sandbox's (movable) clock.
    attach_chat_backend(app, build_model(settings, "offline", clock=world_clock))
    world: World = app.state.world
    world.helpdesk = settings.helpdesk  # the control API's ticket routes act on the configured helpdesk
    if args.helpdesk_webhook:
        world.helpdesk_webhook.url = args.helpdesk_webhook
        header, secret = helpdesk_spec(settings.helpdesk).sandbox_webhook(settings)
        world.helpdesk_webhook.secret_header, world.helpdesk_webhook.secret = header, secret
    root = f"http://{args.host}:{args.port}"
    info = summary(world)
    console.print(
        f"[bold]Sandbox[/bold] for {info['shop']}: {info['orders']} orders, {info['customers']} customers"
    )
    for vendor, base in VENDOR_BASES.items():
        console.print(f"  {vendor:<9} {root}{base}")
    console.print(f"  control   {root}/_sandbox/  (docs: {root}/_sandbox/docs)")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
