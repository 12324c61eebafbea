# Two commands: `make run` and `make test`. Both bootstrap .venv on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint messages migrate seed docs screenshots clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/onetouch migrate
	$(BIN)/onetouch seed
	$(BIN)/onetouch serve

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app

messages: $(STAMP)
	$(BIN)/python scripts/messages.py

# The documentation site (MkDocs + Material) into site/; --strict fails on a broken link or a page left out.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# Re-take the pictures of docs/img/ from the browser journeys (ordinary test runs leave them alone).
screenshots: $(STAMP)
	DOCS_SCREENSHOTS=1 $(BIN)/pytest tests/browser/test_journeys.py -q

migrate: $(STAMP)
	$(BIN)/onetouch migrate

seed: $(STAMP)
	$(BIN)/onetouch seed

clean:
	rm -rf $(VENV) var site .pytest_cache .ruff_cache .mypy_cache
