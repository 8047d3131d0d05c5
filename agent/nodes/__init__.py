"""The graph's nodes, one module per concern. Each node is a module-level function of the state
and one typed `Wiring` (model, tools, policy texts); `agent/graph.py` binds them and lays out the
topology, `agent/routing.py` decides the edges."""
