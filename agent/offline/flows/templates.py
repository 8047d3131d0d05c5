"""The offline model's reply templates: ``prompts/offline/<file>.md``.

The format and the machinery are ``prompts.templates`` (shared with the graph's fixed texts in
``prompts/fixed/``); this module binds them to the ``offline`` folder. Translations live in
``prompts/offline/<language>/<file>.md`` (``es``, ``fr``, ``de``); a situation not translated is
answered in English.
"""

from __future__ import annotations

from prompts import templates
from prompts.templates import Replies, TemplateError, placeholders

__all__ = ["Replies", "TemplateError", "placeholders", "template_files", "translations", "variants"]

_ROOT = "offline"


def variants(file: str, language: str = "en") -> dict[str, tuple[str, ...]]:
    """Every situation of ``prompts/offline/<file>.md`` (or its translation) with its variants."""
    return templates.variants(_ROOT, file, language)


def translations() -> list[str]:
    """The languages with translated templates (folders of ``prompts/offline``)."""
    return templates.translations(_ROOT)


def template_files() -> list[str]:
    """Names of every template file (without ``.md``)."""
    return templates.template_files(_ROOT)
