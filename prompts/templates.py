"""Reply templates in several languages: ``prompts/<root>/<file>.md`` and its translations.

A file holds several situations, each a ``## name`` heading followed by one or more variants
separated by lines holding only ``---``. Text before the first heading is a comment for the
people who edit the file. Variants are rendered with ``string.Template.substitute``, so a missing
variable raises ``KeyError`` instead of sending a reply with a hole in it; which variant is used
is chosen by a hash of a seed (the conversation), so a replayed conversation gets the same words.

Translations live in ``prompts/<root>/<language>/<file>.md`` (``es``, ``fr``, ``de``), with the
same situation names and variables; a situation not translated is answered in English.

Two roots use this: ``offline`` (the offline model's replies) and ``fixed`` (what the graph and
the tools say without a model: the hand-off confirmation, approval outcomes, confirmation
questions).
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from string import Template

_HEADING = re.compile(r"^##\s+([a-z0-9_]+)\s*$")
_SEPARATOR = "---"


class TemplateError(LookupError):
    """A template file or situation that does not exist."""


def _folder(root: str) -> Traversable:
    return resources.files("prompts").joinpath(root)


@cache
def variants(root: str, file: str, language: str = "en") -> dict[str, tuple[str, ...]]:
    """Every situation of ``prompts/<root>/<file>.md`` (or its translation) with its variants."""
    folder = _folder(root)
    if language != "en":
        translated = folder.joinpath(language, f"{file}.md")
        return _parse(translated.read_text(encoding="utf-8")) if translated.is_file() else {}
    try:
        text = folder.joinpath(f"{file}.md").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TemplateError(f"no reply template file prompts/{root}/{file}.md") from None
    return _parse(text)


def translations(root: str) -> list[str]:
    """The languages with translated templates (sub-folders of ``prompts/<root>``)."""
    return sorted(
        entry.name for entry in _folder(root).iterdir() if entry.is_dir() and not entry.name.startswith("_")
    )


def template_files(root: str) -> list[str]:
    """Names of every template file of ``prompts/<root>`` (without ``.md``)."""
    return sorted(
        entry.name[: -len(".md")]
        for entry in _folder(root).iterdir()
        if entry.name.endswith(".md") and entry.name != "README.md"
    )


def _parse(text: str) -> dict[str, tuple[str, ...]]:
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for line in text.splitlines():
        heading = _HEADING.match(line)
        if heading:
            current = sections.setdefault(heading.group(1), [[]])
            continue
        if current is None:
            continue
        if line.strip() == _SEPARATOR:
            current.append([])
        else:
            current[-1].append(line)
    result: dict[str, tuple[str, ...]] = {}
    for name, blocks in sections.items():
        texts = tuple(t for t in ("\n".join(block).strip() for block in blocks) if t)
        if texts:
            result[name] = texts
    return result


def placeholders(template: str) -> set[str]:
    """The variable names a template uses."""
    names: set[str] = set()
    for match in Template.pattern.finditer(template):
        name = match.group("named") or match.group("braced")
        if name:
            names.add(name)
    return names


class Replies:
    """Renders ``prompts/<root>`` templates, choosing variants deterministically from a seed."""

    def __init__(self, seed: str, language: str = "en", root: str = "offline") -> None:
        self._seed = seed
        self._root = root
        self.language = language

    def render(self, key: str, **values: object) -> str:
        """Render ``"file.situation"`` with ``values``; raises ``KeyError`` for a missing variable."""
        file, _, situation = key.partition(".")
        options = variants(self._root, file, self.language).get(situation) or variants(self._root, file).get(
            situation
        )
        if not options:
            raise TemplateError(f"no reply template {situation!r} in prompts/{self._root}/{file}.md")
        digest = hashlib.sha256(f"{self._seed}\x00{key}".encode()).digest()
        chosen = options[int.from_bytes(digest[:4], "big") % len(options)]
        return Template(chosen).substitute({name: str(value) for name, value in values.items()})


def say(key: str, language: str = "en", **values: object) -> str:
    """A fixed text (``prompts/fixed/<file>.md``, ``"file.situation"``) in the shopper's language."""
    return Replies("", language, root="fixed").render(key, **values)
