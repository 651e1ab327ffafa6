# 非煤矿山安全监管门户 — the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
# Python 3.11 (pyproject.toml: >=3.11,<3.12); plain python3 when it is 3.11 under that name.
BASE_PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
STAMP := $(VENV)/.installed
# pip and setuptools of the virtualenv, above the releases with known advisories (security/pip-audit.md).
VENV_TOOLS := pip==26.3 setuptools==84.2.1

.PHONY: help venv install run test lint pytest bench assets prod-run prod-smoke load security backup restore

help:
	@echo "make run       install, migrate, load demo data, start web + worker + beat (Ctrl-C stops all three)"
	@echo "make test      install, lint (ruff, mypy, migrations) and the whole suite on SQLite and on PostgreSQL"
	@echo "make lint      ruff check, ruff format --check, mypy, makemigrations --check"
	@echo "make security  bandit over our code, every nosec justified, pip-audit of the installed packages (security/)"
	@echo "make bench     query counts and server times at province scale"
	@echo "make prod-run  PostgreSQL + Redis + nginx + gunicorn + worker + beat on loopback, DEBUG=0 (as in docker-compose.yml)"
	@echo "make prod-smoke  the production-like stack through HTTP (ledger, 销号, report job) and its fault drills (tests/prod)"
	@echo "make load      50 users for 60 s against prod-run at county scale (locust), writes checked in the DB"
	@echo "make assets    copy the pinned front-end packages into static/vendor"
	@echo "make backup    database + uploaded files into one .tar.gz in BACKUP_DIR (default var/backups), with a manifest"
	@echo "make restore ARCHIVE=var/backups/portal-backup-....tar.gz [FORCE=1]  check the archive, restore, verify"

# The virtualenv is (re)installed only when a requirements file changed.
$(STAMP): requirements.txt requirements-dev.txt
	@test -n "$(BASE_PYTHON)" || { echo "Python 3.11 not found: install python3.11 (Debian: apt-get install python3 python3-venv)"; exit 1; }
	@$(BASE_PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is needed, $(BASE_PYTHON) is " + sys.version.split()[0])'
	test -x $(PY) || $(BASE_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check --quiet --upgrade $(VENV_TOOLS)
	$(PY) -m pip install --disable-pip-version-check --quiet -r requirements-dev.txt
	touch $@

venv install: $(STAMP)

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	bash scripts/run.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(PY) manage.py makemigrations --check --dry-run

# The two sessions run side by side (one per core; each is a single process): PostgreSQL's in
# the background, its output printed when both are done. Both always run; the target fails when
# either failed.
PYTEST_PG_LOG := var/pytest-postgresql.log
pytest: install
	@mkdir -p var; status=0; \
	echo "== pytest on PostgreSQL: started in the background (a throwaway server; browser and process tests run on SQLite) =="; \
	$(BIN)/pytest --durations=10 --db=postgresql -m "not browser and not processes" > $(PYTEST_PG_LOG) 2>&1 & pg=$$!; \
	trap 'kill -TERM $$pg 2>/dev/null; wait $$pg; exit 130' INT TERM; \
	echo "== pytest on SQLite =="; \
	$(BIN)/pytest --durations=10 || status=1; \
	wait $$pg || status=1; \
	echo "== pytest on PostgreSQL (from $(PYTEST_PG_LOG)) =="; \
	cat $(PYTEST_PG_LOG); \
	exit $$status

test: lint security pytest

# bandit over our code (config: [tool.bandit] in pyproject.toml), then pip-audit of the installed
# packages: fails on a known vulnerability, names what could not be audited (security/pip-audit.md).
SECURITY_CODE := portal hazards inspections reporting bench $(wildcard load)
security: install
	$(PY) security/nosec_reasons.py $(SECURITY_CODE) security
	$(BIN)/bandit -c pyproject.toml -r $(SECURITY_CODE) security -q 2> >(grep -v 'nosec encountered' >&2)
	$(PY) security/audit_deps.py

bench: install
	$(PY) -m bench

assets:
	bash scripts/copy_assets.sh

prod-run: install
	bash scripts/prod_run.sh

# tests/prod: PostgreSQL, Redis, web, worker and beat as compose starts them; the smoke journey and the
# fault drills (also run by `make test`, in the SQLite session: they carry the processes marker).
prod-smoke: install
	$(BIN)/pytest tests/prod -q

# LOAD_USERS, LOAD_SECONDS, LOAD_WAIT, LOAD_KEEP: see load/run.py. Report in var/load/report.txt.
load: install
	$(PY) -m load.run

# Backup and restore (README "Backup and restore"): the database configured by DATABASE_URL and MEDIA_ROOT.
BACKUP_DIR ?= var/backups
backup: install
	$(PY) manage.py backup --output $(BACKUP_DIR)

restore: install
	@test -n "$(ARCHIVE)" || { echo "usage: make restore ARCHIVE=var/backups/portal-backup-YYYYmmdd-HHMMSS.tar.gz [FORCE=1] [ALLOW_UNSIGNED=1]"; exit 2; }
	$(PY) manage.py restore "$(ARCHIVE)" $(if $(FORCE),--force) $(if $(ALLOW_UNSIGNED),--allow-unsigned)
