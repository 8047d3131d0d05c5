"""Demo wiring: the same agent and server, composed with the sandbox instead of a real store.

The layer above `server/` and `agent/` (which never import the emulator): it serves the sandbox,
points the vendor settings at it, delivers the sandbox helpdesk's webhooks in-process, serves the
offline model over the OpenAI protocol and builds the default graph for LangGraph's tools.
`cli/` uses it in demo mode (SANDBOX_MODE=true); evals, tests and notebooks use it directly.
"""
