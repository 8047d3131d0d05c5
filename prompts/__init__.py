"""Prompts are markdown files in this package, rendered with `string.Template`.

A missing variable raises `KeyError`: a prompt never goes out with a hole in it.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Template


@cache
def load(name: str) -> str:
    """The raw text of `prompts/<name>.md` (name may contain a sub-folder, e.g. `offline/wismo`)."""
    path = resources.files("prompts").joinpath(f"{name}.md")
    return path.read_text(encoding="utf-8")


def render(name: str, **variables: object) -> str:
    """The prompt with every `$variable` substituted; raises KeyError when one is missing."""
    return Template(load(name)).substitute({k: str(v) for k, v in variables.items()})
