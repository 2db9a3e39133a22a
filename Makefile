# Every target bootstraps .venv itself, so a fresh machine needs only `make run` / `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
STAMP := $(VENV)/.installed

.PHONY: run test lint bench install migrate seed clean vendor messages

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/servicepoint db upgrade

seed: migrate
	$(BIN)/servicepoint seed

run: seed
	$(BIN)/servicepoint serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: install
	$(BIN)/python -m bench

# Refresh the vendored front-end files from the npm registry (not needed at run time).
vendor:
	cd /tmp && rm -rf sp-vendor && mkdir sp-vendor && cd sp-vendor && npm init -y >/dev/null && \
	  npm install --silent htmx.org@2.0.11 leaflet@1.9.4 axe-core@4.14.1 swagger-ui-dist@5.35.0 \
	    json-logic-js@2.0.5
	cp /tmp/sp-vendor/node_modules/htmx.org/dist/htmx.min.js src/servicepoint/web/static/vendor/htmx/
	cp /tmp/sp-vendor/node_modules/leaflet/dist/leaflet.js /tmp/sp-vendor/node_modules/leaflet/dist/leaflet.css src/servicepoint/web/static/vendor/leaflet/
	cp /tmp/sp-vendor/node_modules/axe-core/axe.min.js tests/e2e/vendor/
	cp /tmp/sp-vendor/node_modules/json-logic-js/logic.js /tmp/sp-vendor/node_modules/json-logic-js/LICENSE src/servicepoint/web/static/vendor/json-logic/
	cp /tmp/sp-vendor/node_modules/swagger-ui-dist/swagger-ui-bundle.js /tmp/sp-vendor/node_modules/swagger-ui-dist/swagger-ui.css src/servicepoint/web/static/vendor/swagger-ui/

clean:
	rm -rf $(VENV) servicepoint.db*

messages: install
	$(BIN)/python scripts/update_messages.py
