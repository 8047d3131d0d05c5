"""The default graph for LangGraph's own tools (`langgraph dev`, LangGraph Studio) and notebooks.

`langgraph.json` names `make_graph`, a graph factory LangGraph calls when it first needs the graph;
`from demo.studio import graph` gives the same graph. Nothing happens at import time: the first call
serves the sandbox demo store on a loopback port for the life of the process and compiles the graph
with the configured model (offline by default). The LangGraph server supplies the checkpointer.
"""

from __future__ import annotations

from contextlib import ExitStack
from functools import cache
from typing import Any

from agent.deps import build_services, store_name
from agent.graph import AgentDeps, build_graph
from agent.logs import configure_logging
from agent.models import build_model
from agent.settings import get_settings
from demo.sandbox import demo_settings, ensure_chat_backend, new_sandbox_app, world_clock
from sandbox.serve import serve_in_thread

_process_lifetime = ExitStack()


@cache
def default_graph() -> Any:
    """A compiled graph on the sandbox demo store with the configured model (offline by default)."""
    settings = get_settings()
    configure_logging(settings.log_level)
    app = new_sandbox_app(settings)
    ensure_chat_backend(app, settings)
    url = _process_lifetime.enter_context(serve_in_thread(app))
    settings = demo_settings(settings, app, url)
    services = build_services(settings, None, clock=world_clock(app))
    deps = AgentDeps(tools=services.tools, store_name=store_name(settings))
    return build_graph(build_model(settings, clock=services.tools.clock), deps)


def make_graph() -> Any:
    """The graph factory `langgraph.json` points at (LangGraph calls it with no arguments)."""
    return default_graph()


def __getattr__(name: str) -> Any:
    # `graph` is built on first access, not at import time.
    if name == "graph":
        return default_graph()
    raise AttributeError(name)
