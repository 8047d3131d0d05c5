"""`make bench` / `python -m bench`: how fast a turn is, and what a store's traffic does to the server.

Not part of `make test`: it prints figures measured side by side and asserts nothing about time.
Parts: `inprocess` (a WISMO turn through the real conversation service next to a bare-LangGraph
floor), `http` (closed-loop shoppers against `support-agent serve`), `profile` (where a turn's CPU
goes). See `python -m bench --help`.
"""
