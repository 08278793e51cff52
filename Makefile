# Set-up and everyday commands. `make demo` and `make test` work on a fresh machine:
# they create .venv and install the project first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench studio clean tables

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,studio]'
	touch $(STAMP)

# The parser's tables, shipped beside the grammar (policy_dsl/grammar_tables.py): rebuilt when stale.
tables: $(STAMP)
	$(BIN)/python -m policy_dsl.grammar_tables

demo: $(STAMP) tables
	$(BIN)/drgpolicy settle --policy policies --data sample --period 2024 --out out/demo --any-date

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) tables
	$(BIN)/pytest

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python bench/ratio_bench.py
	$(BIN)/python bench/settle_bench.py
	$(BIN)/python bench/monitor_bench.py
	$(BIN)/python bench/lang_bench.py
	$(BIN)/python bench/backends_bench.py

studio: $(STAMP) tables
	$(BIN)/drgpolicy studio

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
