"""The graph LangGraph's own tools open (`langgraph dev`, LangGraph Studio, `langgraph.json`).

It runs the offline model against the sandbox demo store, served on a loopback port for the
life of the process; the LangGraph server supplies the checkpointer.
"""

from __future__ import annotations

from contextlib import ExitStack
from functools import cache
from typing import Any

from agent.deps import build_services, sandbox_settings
from agent.graph import AgentDeps, build_graph
from agent.logs import configure_logging
from agent.models import build_model
from agent.openai_compat import attach_chat_backend
from agent.settings import get_settings
from sandbox.app import create_sandbox_app
from sandbox.seed import load_seed
from sandbox.serve import serve_in_thread
from sandbox.world import World

_process_lifetime = ExitStack()


@cache
def default_graph() -> Any:
    """A compiled graph on the sandbox demo store with the configured model (offline by default)."""
    settings = get_settings()
    configure_logging(settings.log_level)
    app = create_sandbox_app(seed=load_seed(settings.sandbox_seed))
    model = build_model(settings)
    attach_chat_backend(app, build_model(settings, "offline"))
    url = _process_lifetime.enter_context(serve_in_thread(app))

    def clock() -> Any:
        world: World = app.state.world
        return world.now()

    services = build_services(sandbox_settings(settings, url), None, clock=clock)
    world: World = app.state.world
    deps = AgentDeps(tools=services.tools, store_name=world.shopify.shop_name)
    return build_graph(model, deps)


# `langgraph.json` points here. LangGraph's loader reads the module's variables (a module
# `__getattr__` is not consulted), so the graph is built when LangGraph's tools load this file.
graph = default_graph()
