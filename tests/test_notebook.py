"""`notebooks/quickstart.ipynb` runs top to bottom on a fresh clone, and is committed without outputs.

The notebook runs in a kernel of this very interpreter (the project's virtualenv), registered under
a private kernelspec in a temporary Jupyter path, so neither a developer's own kernels nor a CI
machine's matter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "quickstart.ipynb"
STRIP = ROOT / "scripts" / "strip_notebook.py"
KERNEL = "support-agent-test-venv"
CELL_TIMEOUT_SECONDS = 300  # the first run on a fresh clone trains the offline classifier


def code_cells(notebook: dict[str, Any]) -> list[dict[str, Any]]:
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def test_committed_notebook_has_no_outputs() -> None:
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    cells = code_cells(notebook)
    assert cells, "the notebook has no code"
    with_outputs = [i for i, cell in enumerate(cells) if cell["outputs"]]
    counted = [i for i, cell in enumerate(cells) if cell["execution_count"] is not None]
    assert not with_outputs, f"code cells {with_outputs} have outputs: run python scripts/strip_notebook.py"
    assert not counted, f"code cells {counted} have execution counts: run python scripts/strip_notebook.py"
    check = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, str(STRIP), "--check", str(NOTEBOOK)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_strip_notebook_removes_outputs_counts_and_run_metadata(tmp_path: Path) -> None:
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    executed = json.loads(json.dumps(notebook))
    first = code_cells(executed)[0]
    first["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["hello\n"]}]
    first["execution_count"] = 3
    first["metadata"]["execution"] = {"iopub.status.idle": "2026-01-01T00:00:00Z"}
    executed["metadata"]["language_info"] = {"name": "python", "version": "3.11.7"}
    path = tmp_path / "executed.ipynb"
    path.write_text(json.dumps(executed), encoding="utf-8")

    def strip(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own script, fixed arguments
            [sys.executable, str(STRIP), *args, str(path)], capture_output=True, text=True, check=False
        )

    refused = strip("--check")
    assert refused.returncode == 1
    index = executed["cells"].index(first)
    assert f"cell {index} has outputs, cell {index} has an execution count" in refused.stdout

    assert strip().returncode == 0
    stripped = json.loads(path.read_text(encoding="utf-8"))
    assert stripped == notebook  # exactly the committed file: nothing else was touched
    assert strip("--check").returncode == 0


@pytest.fixture
def kernel_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernelspec for this interpreter, found first on a private Jupyter path."""
    spec_dir = tmp_path / "jupyter" / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "support-agent (test)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    return KERNEL


def outputs_text(notebook: Any) -> str:
    """Everything the cells printed or displayed as text."""
    parts: list[str] = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                parts.append(output["text"])
            elif "data" in output:
                parts.append(output["data"].get("text/plain", ""))
    return "\n".join(parts)


@pytest.mark.slow
def test_quickstart_notebook_runs_top_to_bottom(kernel_name: str) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    client = NotebookClient(
        notebook,
        kernel_name=kernel_name,
        timeout=CELL_TIMEOUT_SECONDS,
        # Where Jupyter would start it: the notebook's folder (the notebook moves to the repository root).
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on any error

    printed = outputs_text(notebook)
    # the WISMO conversation: tracking from the carrier, after verification
    assert "1Z84F2A90312345678" in printed and "UPS" in printed
    assert "call    verify_customer" in printed and "call    get_tracking_status" in printed
    # the return stopped at the confirm interrupt, then bought and emailed a label
    assert "next:       ('await_confirmation',)" in printed
    assert "'type': 'confirm'" in printed
    assert "SendGrid email to ['ben.okafor@example.com']" in printed
    assert "EasyPost shipment: shp_" in printed
    # the handoff, the human's reply, the silent bot and the hand-back
    assert "-- status: human_handling" in printed
    assert "Hi, Rosa here." in printed
    assert "status after handback: active" in printed
    # the eval cases ran and passed
    assert "pass rate" in printed and "100.0% (4/4)" in printed
    # the graph was drawn locally
    images = [o for c in notebook.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 1
