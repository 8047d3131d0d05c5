"""The settings class is the only reader of the environment; secrets stay secret."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from agent.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["agent", "tools", "integrations", "sandbox", "prompts", "evals", "server", "demo", "cli"]


def test_defaults_are_the_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MODEL", "DATABASE_URL", "SHOPIFY_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.model == "offline"
    assert settings.database_url is None
    assert settings.shopify_access_token.get_secret_value() == "shpat_sandbox"


def test_environment_overrides_and_secrets_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", "shpat_real_value")
    monkeypatch.setenv("REFUND_AUTO_APPROVE_LIMIT", "250")
    settings = Settings(_env_file=None)
    assert settings.shopify_access_token.get_secret_value() == "shpat_real_value"
    assert "shpat_real_value" not in repr(settings)
    assert str(settings.refund_auto_approve_limit) == "250"


def _reads_environment(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in {"environ", "getenv"}
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            lines.append(node.lineno)
    return lines


def test_nothing_else_reads_the_environment() -> None:
    offenders = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if path == ROOT / "agent" / "settings.py":
                continue
            for line in _reads_environment(ast.parse(path.read_text(encoding="utf-8"))):
                offenders.append(f"{path.relative_to(ROOT)}:{line}")
    assert offenders == []


def test_env_example_lists_every_setting_and_loads() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    names = {line.split("=", 1)[0] for line in example.splitlines() if line and not line.startswith("#")}
    expected = {
        "SUPPORT_AGENT_FIXTURES" if field.validation_alias else name.upper()
        for name, field in Settings.model_fields.items()
    }
    assert names == expected
    loaded = Settings(_env_file=ROOT / ".env.example")  # type: ignore[call-arg]
    assert loaded.model == "offline"
    assert loaded.openai_api_key is None
