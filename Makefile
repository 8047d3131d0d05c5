# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo sandbox test lint typecheck pytest eval eval-helpdesks bench fmt clean

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

# The whole suite, then the helpdesk cases (evals/helpdesks.py) once per helpdesk the agent supports.
HELPDESK_TAGS = $(shell $(BIN)/python -c "from evals.helpdesks import HELPDESK_TAGS; print(*HELPDESK_TAGS)")
HELPDESK_NAMES = $(shell $(BIN)/python -c "from agent.helpdesks import HELPDESK_SPECS; print(*HELPDESK_SPECS)")

eval: install
	$(BIN)/support-agent eval
	$(MAKE) eval-helpdesks

eval-helpdesks: install
	status=0; for desk in $(HELPDESK_NAMES); do \
	  echo "== helpdesk cases with HELPDESK=$$desk"; \
	  HELPDESK=$$desk $(BIN)/support-agent eval --report var/eval-report/helpdesk-$$desk --tags $(HELPDESK_TAGS) || status=1; \
	done; exit $$status

# Not part of `make test`: measures (minutes), asserts nothing. Flags: make bench BENCH_ARGS="--duration 5 --levels 1,20"
bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache build *.egg-info bench-results.json
