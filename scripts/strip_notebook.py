"""Strip Jupyter notebooks for git: no outputs, no execution counts, no per-run metadata.

    python scripts/strip_notebook.py                      # every notebook under notebooks/
    python scripts/strip_notebook.py path/to/a.ipynb      # these files
    python scripts/strip_notebook.py --check              # exit 1 and name the files that are not stripped

Run it before committing a notebook you executed; `tests/test_notebook.py` runs the check.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

# Cell metadata that only records how a run went (timings, scroll and collapse state).
VOLATILE_CELL_METADATA = ("execution", "ExecuteTime", "collapsed", "scrolled", "jupyter", "vscode")
# Notebook metadata that depends on the machine or the session that last ran it.
VOLATILE_NOTEBOOK_METADATA = ("widgets", "signature", "vscode", "toc", "varInspector")


def strip(notebook: dict[str, Any]) -> dict[str, Any]:
    """The notebook without outputs, execution counts and volatile metadata (a new dict)."""
    stripped: dict[str, Any] = json.loads(json.dumps(notebook))
    metadata: dict[str, Any] = stripped.setdefault("metadata", {})
    for key in VOLATILE_NOTEBOOK_METADATA:
        metadata.pop(key, None)
    language = metadata.get("language_info")
    if isinstance(language, dict):
        # Keep only the name (syntax highlighting); the rest is the version of whoever ran it last.
        metadata["language_info"] = {"name": language.get("name", "python")}
    for cell in stripped.get("cells", []):
        cell_metadata: dict[str, Any] = cell.setdefault("metadata", {})
        for key in VOLATILE_CELL_METADATA:
            cell_metadata.pop(key, None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return stripped


def problems(notebook: dict[str, Any]) -> list[str]:
    """What `strip` would remove, for a readable `--check` failure."""
    found = []
    for index, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs"):
            found.append(f"cell {index} has outputs")
        if cell.get("execution_count") is not None:
            found.append(f"cell {index} has an execution count")
    if strip(notebook) != notebook and not found:
        found.append("volatile metadata")
    return found


def render(notebook: dict[str, Any]) -> str:
    """JSON as Jupyter writes it (one-space indent, sorted keys), so diffs stay small."""
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: notebooks/*.ipynb)")
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a notebook is not stripped"
    )
    args = parser.parse_args(argv)
    paths: list[Path] = args.paths or sorted(NOTEBOOKS.glob("*.ipynb"))
    dirty = 0
    for path in paths:
        text = path.read_text(encoding="utf-8")
        notebook = json.loads(text)
        if args.check:
            found = problems(notebook)
            if found:
                dirty += 1
                print(
                    f"{path}: not stripped ({', '.join(found)}); run: python scripts/strip_notebook.py {path}"
                )
            continue
        stripped = render(strip(notebook))
        if stripped != text:
            path.write_text(stripped, encoding="utf-8")
            print(f"stripped {path}")
    return 1 if dirty else 0


if __name__ == "__main__":
    sys.exit(main())
