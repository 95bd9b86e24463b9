# Appeal Desk: `make run` serves the demo on 127.0.0.1:5000; `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export PORTAL_DATA_DIR ?= $(CURDIR)/instance

.PHONY: run test lint translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	@scripts/system-deps.sh fonts-wqy-microhei fonts-hanazono fonts-symbola || true
	$(BIN)/merchant-portal init-db
	$(BIN)/merchant-portal demo --if-empty
	$(BIN)/merchant-portal serve --host 127.0.0.1 --port 5000

lint: $(VENV)/.installed-test
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

# PG=1 runs the suite against a throwaway PostgreSQL (and Redis, when installed);
# CLOCK=+365d runs it with every clock of the tests and their servers moved ahead.
CLOCKED := $(if $(CLOCK),scripts/with-clock.sh $(CLOCK))
test: lint
ifeq ($(PG),1)
	scripts/with-services.sh $(CLOCKED) $(BIN)/python -m pytest $(PYTEST_ARGS)
else
	$(CLOCKED) $(BIN)/python -m pytest $(PYTEST_ARGS)
endif

translations: $(VENV)/.installed-test
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -k lazy_gettext --no-location \
	  --sort-output --project "Appeal Desk" -o merchant_portal/translations/messages.pot .
	$(BIN)/pybabel update -i merchant_portal/translations/messages.pot \
	  -d merchant_portal/translations -l zh_Hans_CN --no-fuzzy-matching
	$(BIN)/pybabel compile -d merchant_portal/translations --statistics

clean:
	rm -rf $(VENV) test-output
