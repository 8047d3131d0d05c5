# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo sandbox test lint typecheck pytest eval bench fmt clean

install: $(STAMP)

# Reinstall only when the project definition changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: install
	$(BIN)/support-agent serve --host 127.0.0.1 --port 8000

sandbox: install
	$(BIN)/support-agent sandbox --port 8001

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest -q

test: lint typecheck pytest

eval: install
	$(BIN)/support-agent eval

# Not part of `make test`: measures (minutes), asserts nothing. Flags: make bench BENCH_ARGS="--duration 5 --levels 1,20"
bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache build *.egg-info bench-results.json
