# Set-up and everyday commands. `make demo` and `make test` work on a fresh machine:
# they create .venv and install the project first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench studio clean tables lock

# constraints.txt: the exact versions `make test` last passed with, so that a commit's CI gives
# the same result next week (on 2026-12-07 a fresh install resolved polars 2.2.0 and moved every
# manifest). pyproject.toml keeps the ranges a user's own install resolves within.
$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,studio]'
	touch $(STAMP)

# Move the versions on purpose: what a fresh install resolves today, in a throwaway venv;
# then `make clean test` and commit constraints.txt with the result (and, if Lark moved,
# policy_dsl/grammar_tables.json, which `make tables` rebuilds for the new version).
lock:
	rm -rf .venv-lock
	$(PY) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --upgrade pip
	.venv-lock/bin/pip install --quiet -e '.[dev,studio]'
	{ echo "# pip constraints: the versions make test passed with (make lock moves them)"; \
	  .venv-lock/bin/pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf .venv-lock

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
