"""`support-agent`: the one command line of the product.

Subcommands import what they need lazily, so `support-agent --help` is instant and a command
never pays for the others' dependencies.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from pydantic import ValidationError

Handler = Callable[[argparse.Namespace], int]


def _sandbox(args: argparse.Namespace) -> int:
    from cli.sandbox_cmd import run_sandbox

    return run_sandbox(args)


def _serve(args: argparse.Namespace) -> int:
    from cli.serve_cmd import run_serve

    return run_serve(args)


def _chat(args: argparse.Namespace) -> int:
    from cli.chat_cmd import run_chat

    return run_chat(args)


def _eval(args: argparse.Namespace) -> int:
    from cli.eval_cmd import run_eval

    return run_eval(args)


def _classify(args: argparse.Namespace) -> int:
    from cli.classify_cmd import run_classify

    return run_classify(args)


def _keygen(args: argparse.Namespace) -> int:
    from cli.keygen_cmd import run_keygen

    return run_keygen(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="support-agent",
        description=(
            "An AI support agent for online stores. With no configuration it runs against the built-in "
            "sandbox store with the offline model: try `support-agent sandbox`."
        ),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sandbox = commands.add_parser(
        "sandbox",
        help="serve the sandbox: every vendor API emulated locally, plus /_sandbox/ to inspect and control it",
        description=(
            "Serve emulators of Shopify, Gorgias, EasyPost, Stripe and SendGrid over HTTP, seeded with the demo "
            "store, plus the inspection and control API under /_sandbox/ (docs at /_sandbox/docs)."
        ),
    )
    sandbox.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    sandbox.add_argument("--port", type=int, default=8001, help="port to bind (default 8001)")
    sandbox.add_argument(
        "--seed",
        default=None,
        help="world seed: a name in sandbox/seeds or a JSON file (default: demo_store)",
    )
    sandbox.add_argument(
        "--helpdesk-webhook",
        default=None,
        metavar="URL",
        help="where the emulated helpdesk posts human replies / closes / hand-backs",
    )
    sandbox.set_defaults(handler=_sandbox)

    chat = commands.add_parser(
        "chat",
        help="talk to the agent in the terminal (sandbox store and offline model by default)",
        description=(
            "A terminal chat with the agent. On a terminal it is interactive; otherwise it reads one shopper "
            "message per line from stdin and prints the replies, so it can be scripted."
        ),
    )
    chat.add_argument("--model", default=None, help="`offline` or `openai:<name>` (default: MODEL, offline)")
    chat.add_argument(
        "--email", default=None, help="start as this verified shopper (as a signed widget identity)"
    )
    chat.add_argument("--conversation", default=None, metavar="ID", help="resume a conversation")
    chat.add_argument("--database-url", default=None, help="PostgreSQL URL (default: the SQLite file)")
    chat.set_defaults(handler=_chat)

    evaluate = commands.add_parser(
        "eval",
        help="replay the eval suite against the sandbox and report (also: `eval intents`, `eval import`)",
        description=(
            "Replay eval cases (YAML, evals/cases by default) against a fresh sandbox world, score them, print a "
            "table and write report.json and report.html. `eval intents` prints the offline classifier's "
            "figures; `eval import TICKET.json` drafts a case from an exported Gorgias ticket."
        ),
    )
    from cli.eval_cmd import add_arguments as add_eval_arguments

    add_eval_arguments(evaluate)
    evaluate.set_defaults(handler=_eval)

    classify = commands.add_parser(
        "classify",
        help="classify utterances (one per stdin line) with the offline intent classifier; prints JSON lines",
        description=(
            "Reads one utterance per line on stdin and prints one JSON object per line: "
            '{"text", "intent", "confidence", "order_number", "email"}. Intents: wismo, returns, refunds, '
            "order_change, escalation, other."
        ),
    )
    classify.set_defaults(handler=_classify)

    keygen = commands.add_parser(
        "keygen",
        help="print fresh signing secrets and a CREDENTIAL_KEYS key as .env lines",
        description=(
            "Print new random values for STORE_SECRET, GORGIAS_WEBHOOK_SECRET and SANDBOX_CONTROL_TOKEN and a "
            "Fernet key for CREDENTIAL_KEYS, as .env lines (SHOPIFY_WEBHOOK_SECRET is your Shopify app's secret)."
        ),
    )
    keygen.add_argument(
        "--credential-key", action="store_true", help="print only a new CREDENTIAL_KEYS key (for rotation)"
    )
    keygen.set_defaults(handler=_keygen)

    serve = commands.add_parser(
        "serve",
        help="serve the chat API, the widget and the demo storefront (with the sandbox in demo mode)",
        description=(
            "Serve the chat API, /widget.js and a demo storefront at /. In demo mode (SANDBOX_MODE, the "
            "default) the sandbox store is mounted under /sandbox and every client points at it."
        ),
    )
    serve.add_argument("--host", default=None, help="address to bind (default: HOST, 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port to bind (default: PORT, 8000)")
    serve.add_argument("--model", default=None, help="`offline` or `openai:<name>` (default: MODEL, offline)")
    serve.add_argument(
        "--platform",
        choices=("shopify", "woocommerce", "bigcommerce"),
        default=None,
        help="store platform (default: STORE_PLATFORM, shopify); the demo store is the same on each",
    )
    serve.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL URL for conversations (default: DATABASE_URL, SQLite)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes (more than 1 needs PostgreSQL and SANDBOX_MODE=false; SQLite is one process)",
    )
    serve.set_defaults(handler=_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        from agent.logs import configure_logging
        from agent.settings import get_settings

        configure_logging(get_settings().log_level)
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except ValidationError as exc:
        # A setting from the environment or .env has the wrong form: name it and say how to fix it.
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "a setting"
            print(
                f"Configuration error: {name}: {error['msg']} (got {error.get('input')!r}).", file=sys.stderr
            )
        print("Fix it in the environment or in .env; .env.example lists every setting.", file=sys.stderr)
        return 2
    except _config_errors() as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2


def _config_errors() -> tuple[type[Exception], ...]:
    from agent.models import ConfigError
    from integrations.credentials import CredentialError
    from tools.policy import PolicyError

    return (ConfigError, PolicyError, CredentialError)


if __name__ == "__main__":
    sys.exit(main())
