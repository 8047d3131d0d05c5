"""The command line: every subcommand has help, and the scriptable ones work on stdin."""

from __future__ import annotations

import io
import json

import pytest

from cli.main import build_parser, main


def test_every_subcommand_has_a_help_text(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    subcommands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"sandbox", "serve", "chat", "classify", "keygen"} <= set(subcommands)
    for name, sub in subcommands.items():
        assert sub.description or sub.format_help(), name
        with pytest.raises(SystemExit) as exit_info:
            main([name, "--help"])
        assert exit_info.value.code == 0
        assert "usage: support-agent " + name in capsys.readouterr().out


def test_classify_prints_one_json_object_per_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        "sys.stdin", io.StringIO("where's my package #1001\n\nI want a refund, ana@example.com\n")
    )
    assert main(["classify"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["intent"] for r in rows] == ["wismo", "refunds"]
    assert rows[0]["order_number"] == "1001"
    assert rows[1]["email"] == "ana@example.com"
    assert all(0 <= r["confidence"] <= 1 for r in rows)


def test_keygen_prints_a_usable_credential_key(capsys: pytest.CaptureFixture[str]) -> None:
    from integrations.credentials import CredentialStore

    assert main(["keygen", "--credential-key"]) == 0
    key = capsys.readouterr().out.strip()
    assert CredentialStore([key]).decrypt(CredentialStore([key]).encrypt("x")) == "x"


def test_keygen_prints_env_lines_with_strong_fresh_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    from agent.secret_strength import weakness
    from integrations.credentials import CredentialStore

    assert main(["keygen"]) == 0
    first = capsys.readouterr().out
    assert main(["keygen"]) == 0
    second = capsys.readouterr().out
    values = dict(line.split("=", 1) for line in first.splitlines() if line and not line.startswith("#"))
    assert set(values) == {
        "STORE_SECRET",
        "GORGIAS_WEBHOOK_SECRET",
        "SANDBOX_CONTROL_TOKEN",
        "CREDENTIAL_KEYS",
    }
    for name in ("STORE_SECRET", "GORGIAS_WEBHOOK_SECRET", "SANDBOX_CONTROL_TOKEN"):
        assert weakness(values[name]) is None, name
        assert values[name] not in second, "every run makes new secrets"
    key = values["CREDENTIAL_KEYS"]
    assert CredentialStore([key]).decrypt(CredentialStore([key]).encrypt("x")) == "x"
    assert "SHOPIFY_WEBHOOK_SECRET" in first  # explained: Shopify makes that one


def _chat(args: list[str], stdin: str, tmp_path: object) -> tuple[str, str]:
    import subprocess
    import sys
    from pathlib import Path

    env = {
        "PATH": "/usr/bin:/bin",
        "SQLITE_PATH": str(Path(str(tmp_path)) / "chat.sqlite"),
        "CACHE_DIR": str(tmp_path),
    }
    done = subprocess.run(  # noqa: S603 (our own CLI)
        [sys.executable, "-m", "cli.main", "chat", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr


def test_chat_reads_stdin_and_resumes_a_conversation(tmp_path: object) -> None:
    out, err = _chat([], "where is order #1001? my email is ana.silva@example.com\n", tmp_path)
    assert "UPS" in out and "1Z84F2A90312345678" in out
    conversation = err.split("--conversation")[-1].strip(" )\n")
    out, err = _chat(["--conversation", conversation], "and when will it arrive?\n", tmp_path)
    assert "Resuming conversation" in err
    assert "Assistant:" in out


def test_chat_with_a_pre_verified_email_skips_verification(tmp_path: object) -> None:
    out, _ = _chat(["--email", "ben.okafor@example.com"], "where is my order 1002?\n", tmp_path)
    assert "delivered" in out.lower()
    assert "email" not in out.lower().split("delivered")[0]
