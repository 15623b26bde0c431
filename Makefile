# Every target creates .venv and installs what it needs when missing (idempotent).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHAINLP_OFFLINE := 1

.PHONY: demo test bench lint format model clean help fuzz

help:
	@echo "make demo | test | bench | lint | format | model | clean"

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The C extensions (Cython) are built by the editable install, again when their source changes.
NATIVE := $(wildcard src/ocsea/*/*.pyx)

$(STAMP): pyproject.toml setup.py $(NATIVE) scripts/install-system-deps.sh scripts/fetch-web-assets.sh | $(BIN)/python
	bash scripts/install-system-deps.sh
	bash scripts/fetch-web-assets.sh
	$(BIN)/pip install -q -e ".[dev,media,cluster]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/ocsea demo --out demo-out

# The store tests run on SQLite and on a throw-away PostgreSQL (scripts/start-test-postgres.sh).
test: $(STAMP)
	OCSEA_TEST_POSTGRES_URL="$$(bash scripts/start-test-postgres.sh)" $(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

format: $(STAMP)
	$(BIN)/ruff format src tests bench scripts
	$(BIN)/ruff check --fix src tests bench scripts

# Retrain the shipped default model from the synthetic corpus (deterministic).
model: $(STAMP)
	$(BIN)/python scripts/build_default_model.py

bench: $(STAMP)
	$(BIN)/python bench/bench_text.py --out bench/results/text.json
	$(BIN)/python bench/bench_hash.py --out bench/results/hash.json
	$(BIN)/python bench/bench_media.py --out bench/results/media.json
	OCSEA_BENCH_POSTGRES_URL="$$(bash scripts/start-test-postgres.sh ocsea_bench)" $(BIN)/python bench/bench_triage.py --out bench/results/triage.json
	command -v wrk >/dev/null || apt-get install -y -qq wrk
	$(BIN)/python bench/bench_service.py --out bench/results/service.json
	$(BIN)/python bench/bench_referrals.py --out bench/results/referrals.json
	OCSEA_BENCH_POSTGRES_URL="$$(bash scripts/start-test-postgres.sh ocsea_bench)" $(BIN)/python bench/bench_audit.py --out bench/results/audit.json
	$(BIN)/python bench/bench_scale.py --out bench/results/scale.json

fuzz: $(STAMP)
	OCSEA_FUZZ_EXAMPLES=100 $(BIN)/pytest -q tests/test_openapi_fuzz.py

clean:
	rm -rf $(VENV) demo-out .cache .pytest_cache .hypothesis build
	rm -f $(NATIVE:.pyx=.c) $(NATIVE:.pyx=.cpython-*.so)
