# Termino — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test lint bench image install messages browser tools clean help

help:
	@echo "make run    start Termino (embedded PostgreSQL + Redis, web, worker, beat) on http://localhost:8000/"
	@echo "make test   ruff, the import contracts and the whole test suite"
	@echo "make bench  benchmarks, one JSON line per measure"
	@echo "make image  the container image (needs a Docker engine with BuildKit)"

install: $(STAMP)

# Reinstalls only when pyproject.toml changed (the stamp carries its checksum).
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Termino needs Python 3.11 or newer (found " + sys.version.split()[0] + "); set PYTHON=python3.12 or similar.")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing Python packages into $(VENV) (first time takes a minute) ..."
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,local]'
	@rm -f $(VENV)/.installed-*
	@touch $@

messages: install
	@$(BIN)/python -m termino.shared.compile_messages

run: install messages
	@$(BIN)/python -m termino.devserver run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

browser:
	@scripts/ensure-chromium.sh

tools:
	@scripts/ensure-tools.sh

# Two workers (pytest-xdist), each with its own PostgreSQL and Redis; a file's tests stay on one worker.
# (Three on two cores were only 7% faster and made browser tests time out under the load.)
# Against servers given in DATABASE_URL/REDIS_URL one process, since the workers would share them.
PYTEST_WORKERS ?= $(if $(DATABASE_URL),0,2)
test: install messages browser tools lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

bench: install messages tools
	@for script in bench/provisioning.py bench/routing.py bench/availability.py bench/reminders.py bench/fanout.py bench/booking_load.py bench/tenant_scale.py bench/pgbouncer.py bench/migrations.py; do $(BIN)/python $$script || exit 1; done

# One image for web, worker, beat and migrations (deploy/README.md). IMAGE=registry.example/termino:1.0.0
IMAGE ?= termino:latest
image:
	@docker info >/dev/null 2>&1 || { echo "make image needs a running Docker engine (docker info failed)." >&2; exit 1; }
	DOCKER_BUILDKIT=1 docker build -f deploy/Dockerfile -t $(IMAGE) .

clean:
	rm -rf .run/test-* .run/screenshots .pytest_cache .ruff_cache
