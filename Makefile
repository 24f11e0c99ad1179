# Two entry points for a fresh clone; both create .venv with the pinned tools on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint clean

$(BIN)/invoke: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(BIN)/invoke

demo: $(BIN)/invoke  ## render the default openFDA connector and run its `invoke test` against a local sample API
	$(BIN)/invoke demo

test: $(BIN)/invoke  ## the template's whole test suite
	$(BIN)/invoke test

lint: $(BIN)/invoke
	$(BIN)/invoke lint

clean:
	rm -rf $(VENV) build
