# customer-health: the two commands of the README, and the steps they are made of.
#   make demo   installs everything, generates the demo data, builds the warehouse
#   make test   runs every check CI runs (.ci/run calls it)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_RAW := data/raw
CI_RAW := data/test_raw

# Nothing phones home; dbt finds the project's profiles.yml.
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false
export DBT_PROFILES_DIR := $(CURDIR)

.PHONY: setup browser demo test lint lint-sql lint-python dbt-build-ci pytest clean

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

setup: $(BIN)/.installed
	mkdir -p warehouse/tmp

demo: setup
	$(BIN)/python -m scripts.orchestrator demo-data --out $(DEMO_RAW)
	$(BIN)/python -m scripts.orchestrator run --raw-dir $(DEMO_RAW)

lint: lint-python lint-sql

lint-python: setup
	$(BIN)/ruff check scripts tests sqlfluff_libs
	$(BIN)/ruff format --check scripts tests sqlfluff_libs

lint-sql: setup
	$(BIN)/sqlfluff lint models analyses tests --processes 2

# A small dirty data set, built and tested end to end on a throw-away warehouse,
# from scratch every time: a leftover one would take the incremental path that a
# clean clone (CI) never takes.
dbt-build-ci: setup
	$(BIN)/python scripts/generate_demo_data.py --out $(CI_RAW) --accounts 120 --days 200
	rm -f warehouse/ci.duckdb warehouse/ci.duckdb.wal
	CUSTOMER_HEALTH_DB=warehouse/ci.duckdb $(BIN)/dbt build --vars '{raw_path: $(CI_RAW)}'

# Headless Chromium for the report's render test (Debian's package). Installed when
# missing and we may (root, as in CI); otherwise that one test is skipped with a reason.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium not installed: the HTML report render test will be skipped"

# Some tests read the warehouse dbt-build-ci built: the conventions test compares
# documented columns with the built ones; the backtest test checks the score
# separates the generator's churners.
pytest: setup browser dbt-build-ci
	CUSTOMER_HEALTH_TEST_WAREHOUSE=warehouse/ci.duckdb \
	CUSTOMER_HEALTH_BACKTEST_DB=warehouse/ci.duckdb \
	CUSTOMER_HEALTH_BACKTEST_MANIFEST=$(CI_RAW)/_manifest.json \
		$(BIN)/pytest -q tests/python

test: lint dbt-build-ci pytest

clean:
	rm -rf target logs warehouse runs $(CI_RAW)
