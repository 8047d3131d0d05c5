"""`langgraph dev` serves the graph `langgraph.json` names, and it answers a run against the sandbox.

The in-memory LangGraph server (`langgraph-cli[inmem]`) runs as a subprocess on a free loopback
port, offline:

- `--no-browser` (no LangGraph Studio tab), `--no-reload` (no file watcher);
- `LANGGRAPH_CLI_NO_ANALYTICS=1`: the CLI does not report the command it ran;
- `LANGGRAPH_NO_VERSION_CHECK=true`: the server does not ask PyPI for a newer version;
- `LANGSMITH_TRACING=false` and no LangSmith / LangGraph keys or licence in the environment: no
  traces and no usage metadata leave the machine.

The server keeps its state in `.langgraph_api/` under its working directory, so it runs in a
temporary directory with a copy of `langgraph.json` whose relative paths are made absolute.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client

ROOT = Path(__file__).resolve().parents[1]
LANGGRAPH = Path(sys.executable).with_name("langgraph")
GRAPH_ID = "support_agent"
READY_ATTEMPTS = 400  # x (at most 0.25 s waiting on the process + 0.5 s per request): about a minute at worst

pytestmark = pytest.mark.slow

# Variables that would make the server or the SDK talk to LangSmith / LangGraph Platform.
REMOVED_ENV = (
    "LANGSMITH_API_KEY",
    "LANGCHAIN_API_KEY",
    "LANGGRAPH_API_KEY",
    "LANGGRAPH_CLOUD_LICENSE_KEY",
    "LANGSMITH_CONTROL_PLANE_API_KEY",
    "LANGSMITH_ENDPOINT",
    "LANGCHAIN_ENDPOINT",
)
OFFLINE_ENV = {
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    "LANGGRAPH_NO_VERSION_CHECK": "true",
    "LANGSMITH_TRACING": "false",
    "LANGCHAIN_TRACING_V2": "false",
}


@dataclass
class DevServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-6000:]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def absolute_config(tmp: Path) -> Path:
    """`langgraph.json` with its graph and dependency paths resolved against the repository."""
    config: dict[str, Any] = json.loads((ROOT / "langgraph.json").read_text(encoding="utf-8"))
    for graph_id, spec in config["graphs"].items():
        path, _, variable = spec.partition(":")
        config["graphs"][graph_id] = f"{(ROOT / path).resolve()}:{variable}"
    config["dependencies"] = [str((ROOT / dep).resolve()) for dep in config.get("dependencies", [])]
    target = tmp / "langgraph.json"
    target.write_text(json.dumps(config), encoding="utf-8")
    return target


def server_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in REMOVED_ENV}
    env.update(OFFLINE_ENV)
    # The graph's own settings: the demo store and the offline model, whatever the developer's shell
    # says; the trained classifier is shared with the rest of the repository.
    env.update(
        {
            "MODEL": "offline",
            "SANDBOX_MODE": "true",
            "SANDBOX_SEED": "demo_store",
            "CACHE_DIR": str(ROOT / "var" / "cache"),
        }
    )
    return env


def wait_until_ready(server: DevServer) -> None:
    """Poll `/ok`; fail early with the server's output if it exits."""
    for _ in range(READY_ATTEMPTS):
        try:
            server.process.wait(timeout=0.25)
        except subprocess.TimeoutExpired:
            pass  # still running: ask it
        else:
            pytest.fail(f"langgraph dev exited with {server.process.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.url}/ok", timeout=0.5).status_code == 200:
                return
        except httpx.TransportError:
            continue  # not listening yet
    pytest.fail(f"langgraph dev did not become ready:\n{server.output()}")


@pytest.fixture
def dev_server(tmp_path: Path) -> Iterator[DevServer]:
    assert LANGGRAPH.exists(), "langgraph-cli[inmem] is missing: make install (dev extras)"
    config = absolute_config(tmp_path)
    port = free_port()
    log = tmp_path / "langgraph-dev.log"
    command = [
        str(LANGGRAPH),
        "dev",
        "--config",
        str(config),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-browser",
        "--no-reload",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own venv's executable, fixed arguments
            command, cwd=tmp_path, env=server_env(), stdout=out, stderr=subprocess.STDOUT
        )
    server = DevServer(url=f"http://127.0.0.1:{port}", process=process, log=log)
    try:
        wait_until_ready(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


async def test_langgraph_dev_serves_the_graph_and_answers_a_wismo_run(dev_server: DevServer) -> None:
    client = get_client(url=dev_server.url, api_key=None, timeout=60.0)
    try:
        assistants = await client.assistants.search(graph_id=GRAPH_ID)
        assert [a["graph_id"] for a in assistants] == [GRAPH_ID]
        drawing = await client.assistants.get_graph(assistants[0]["assistant_id"])
        nodes = {node["id"] for node in drawing["nodes"]}
        assert {"takeover", "classify", "wismo", "confirm", "handoff", "human"} <= nodes

        thread = await client.threads.create()
        question: dict[str, Any] = {
            "messages": [
                {"type": "human", "content": "where is order #1001? my email is ana.silva@example.com"}
            ]
        }
        result = await client.runs.wait(thread["thread_id"], GRAPH_ID, input=question)
        assert isinstance(result, dict), result
        reply = result["messages"][-1]
        assert reply["type"] == "ai"
        assert "UPS" in reply["content"] and "1Z84F2A90312345678" in reply["content"]
        assert result["intent"] == "wismo"
        assert result["customer"]["email"] == "ana.silva@example.com"
        called = [c["name"] for m in result["messages"] if m["type"] == "ai" for c in m.get("tool_calls", [])]
        assert called == ["verify_customer", "get_tracking_status"]

        # The server checkpointed the conversation: the thread's state is the run's result.
        state = await client.threads.get_state(thread["thread_id"])
        assert state["next"] == []
        assert isinstance(state["values"], dict)
        assert state["values"]["messages"][-1]["content"] == reply["content"]
    finally:
        await client.aclose()
