"""`support-agent chat`: talk to the agent in the terminal (against the sandbox store by default).

Interactive on a terminal; otherwise one shopper message per stdin line and the replies on
stdout, so conversations can be scripted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from contextlib import AbstractAsyncContextManager
from typing import Any

from rich.console import Console
from rich.markup import escape

from agent.conversation import ChatEvent, ConversationNotFound
from agent.deps import Runtime, open_runtime
from agent.models import ConfigError
from agent.settings import Settings


def chat_settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if args.model:
        overrides["model"] = args.model
    if args.database_url:
        overrides["database_url"] = args.database_url
    return Settings(**overrides)


def describe_card(card: dict[str, Any] | None) -> str | None:
    """A one-line text rendering of a widget card."""
    if not card:
        return None
    kind = card.get("type")
    if kind == "tracking":
        parts = []
        for parcel in card.get("parcels", []):
            eta = parcel.get("estimated_delivery") or "no estimate"
            parts.append(
                f"{parcel.get('carrier')} {parcel.get('tracking_number')}: {parcel.get('status')} (ETA {eta})"
            )
        return "tracking · " + "; ".join(parts)
    if kind == "label":
        return f"label · {card.get('carrier')} {card.get('tracking_number')} → {card.get('label_url')}"
    if kind == "confirm":
        return "confirm · answer yes or no"
    if kind == "handoff":
        return f"handoff · ticket {card.get('ticket_id')}"
    if kind == "order":
        return f"order #{card.get('order_number')} · {card.get('status')} · {card.get('total')} {card.get('currency')}"
    if kind == "refund":
        return f"refund · #{card.get('order_number')} {card.get('amount')} {card.get('currency')} {card.get('status') or ''}"
    return None


def render(event: ChatEvent, out: Console, err: Console, *, interactive: bool) -> None:
    if event.type == "message" and event.data.get("role") in ("assistant", "agent"):
        who = "Assistant" if event.data["role"] == "assistant" else (event.data.get("author") or "Agent")
        style = "bold cyan" if event.data["role"] == "assistant" else "bold magenta"
        out.print(f"[{style}]{escape(who)}:[/{style}] {escape(event.data['text'])}", highlight=False)
        card = describe_card(event.data.get("card"))
        if card:
            out.print(f"  [dim]\\[{escape(card)}][/dim]", highlight=False)
    elif event.type == "progress" and interactive:
        err.print(f"[dim]{escape(event.data.get('text', ''))}[/dim]")
    elif event.type == "error":
        err.print(f"[red]{escape(event.data.get('error', 'error'))}[/red]")


async def chat(args: argparse.Namespace) -> int:
    settings = chat_settings(args)
    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True)
    interactive = sys.stdin.isatty()
    try:
        async with _open(settings) as runtime:
            service = runtime.service
            if args.conversation:
                try:
                    view = await service.get(args.conversation)
                except ConversationNotFound:
                    err.print(
                        f"[red]No conversation {escape(args.conversation)} in {runtime.persistence.backend}.[/red]"
                    )
                    return 2
                conversation_id = view.id
                err.print(f"Resuming conversation {conversation_id} ({view.status}).")
            else:
                conversation_id = await service.start(verified_email=args.email)
            if interactive:
                store = runtime.settings.store_name or "the store"
                err.print(
                    f"[bold]Chatting with the {escape(store)} assistant[/bold] (model {settings.model})."
                )
                err.print(
                    "Try: [italic]where is order #1001? my email is ana.silva@example.com[/italic] · /quit to leave"
                )
            while True:
                line = await asyncio.to_thread(_read_line, interactive)
                if line is None or line.strip() in ("/quit", "/exit"):
                    break
                if not line.strip():
                    continue
                async for event in service.send(conversation_id, line.strip()):
                    render(event, out, err, interactive=interactive)
            err.print(
                f"[dim]Conversation {conversation_id} (resume with --conversation {conversation_id})[/dim]"
            )
    except ConfigError as exc:
        err.print(f"[red]Configuration error:[/red] {escape(str(exc))}")
        return 2
    return 0


def _open(settings: Settings) -> AbstractAsyncContextManager[Runtime]:
    """The agent on the sandbox store (demo mode) or on the store the settings name."""
    if settings.sandbox_mode:
        from demo.runtime import open_demo_runtime  # a real store never loads the emulator

        return open_demo_runtime(settings)
    return open_runtime(settings)


def _read_line(interactive: bool) -> str | None:
    if interactive:
        try:
            return input("You: ")
        except EOFError:
            return None
    line = sys.stdin.readline()
    return line if line else None


def run_chat(args: argparse.Namespace) -> int:
    return asyncio.run(chat(args))
