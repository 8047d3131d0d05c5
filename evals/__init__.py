"""The eval harness: replay YAML conversations against the agent and a fresh sandbox world, score
behaviour and end state, report (DESIGN.md §8; the format is documented in evals/README.md).

- `evals.models`: the case format (pydantic; `evals/schema.json` is generated from it)
- `evals.loading`: case files and the world seed of a case
- `evals.runner`: replaying cases through the real runtime
- `evals.effects`, `evals.scoring`: what changed in the world, and the pure scorers
- `evals.metrics`, `evals.report`: suite metrics, the terminal table, report.json, report.html
- `evals.importer`: an exported Gorgias ticket -> a draft case

Run it with `support-agent eval` (`make eval`).
"""
