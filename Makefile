# PSaaS Portal. `make run` and `make test` are the two commands a new user needs.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test check lint format e2e clean schemathesis schema

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# Installs are pinned by requirements.lock (used as constraints) and redone when it changes.
$(VENV)/.installed-run: pyproject.toml requirements.lock | $(PY)
	$(PY) -m pip install -q -c requirements.lock -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml requirements.lock | $(PY)
	$(PY) -m pip install -q -c requirements.lock -e ".[dev]"
	touch $@ $(VENV)/.installed-run

# Test-only JavaScript (axe-core for the browser tests' accessibility checks), pinned by
# package-lock.json; nothing of it is served.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

# The banner (URL and demo logins) is printed once the web server answers; the worker and
# beat run quiet (-q: no start-up banners; warnings still show), and load_demo has already
# delivered the demo's emails (nothing is queued for the worker; a second start sends none).
run: $(VENV)/.installed-run
	$(PY) manage.py migrate --noinput -v 0
	SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)} $(PY) manage.py load_demo -v 0
	@SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)} DJANGO_RUNSERVER_HIDE_WARNING=true bash -c 'trap "kill 0" EXIT; \
	  $(VENV)/bin/celery -A psaas_portal -q worker --loglevel=WARNING --concurrency=1 & \
	  $(VENV)/bin/celery -A psaas_portal -q beat --loglevel=WARNING & \
	  $(PY) manage.py runserver --noreload $(HOST):$(PORT) & \
	  $(PY) manage.py run_banner http://$(HOST):$(PORT)/; wait'

test: $(VENV)/.installed-dev node_modules/.installed
	$(PY) -m pytest $(PYTEST_ARGS)

# schemathesis over every operation of the API schema, against a live server with a
# token (also part of `make test`). SCHEMATHESIS_MAX_EXAMPLES=50 for a longer run.
schemathesis: $(VENV)/.installed-dev
	$(PY) -m pytest tests/api/test_schemathesis.py -s -p no:logging $(PYTEST_ARGS)

# The OpenAPI schema as a file (also served at /api/schema/), validated.
schema: $(VENV)/.installed-run
	$(PY) manage.py spectacular --validate --fail-on-warn --file var/openapi.yaml

check: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null
	DEBUG=0 SECRET_KEY=check-deploy-$$(date +%s)-a-long-random-value-for-the-deploy-check-only \
	  ALLOWED_HOSTS=portal.example.com $(PY) manage.py check --deploy --fail-level WARNING

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf var/ .pytest_cache node_modules
