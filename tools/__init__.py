"""Typed tool functions: the only way the agent acts. Policy, identity and idempotency live here, in code."""
