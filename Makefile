# The two commands that matter: `make run` and `make test`. Each builds .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format fuzz bench bench-report soak clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	@$(BIN)/customer-bot run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/pytest -n auto --dist loadgroup -q

# The long fuzz run: FUZZ_EXAMPLES tampered, signed requests per group (about 6 × that per
# database; PostgreSQL too when TEST_DATABASE_URL is set), each case's figures printed.
FUZZ_EXAMPLES ?= 4000
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -p no:cacheprovider -s -q tests/slack/test_fuzz.py

# Every benchmark (~15 minutes on 2 cores), then the README's Performance section in
# bench/results/performance.md; `make bench BENCH_QUICK=1` is a smoke run of a minute or two.
bench: $(STAMP)
	$(BIN)/python -m bench

# The Performance section again from the JSON already in bench/results/.
bench-report: $(STAMP)
	$(BIN)/python -m bench.report

# 30 minutes of mixed Slack traffic through two workers on a private PostgreSQL, with faults
# injected; checks invariants at the end (MINUTES=5 for a shorter run).
MINUTES ?= 30
soak: $(STAMP)
	$(BIN)/python -m tests.soak --minutes $(MINUTES)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
