# The two commands a new user needs: `make serve` and `make test`. Each sets up everything itself.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Two stamps: the server's own dependencies, then the dev tools on top. `make serve` needs only
# the first; test, lint and bench need both. A changed pyproject.toml renews the first, and the
# second is then older than it, so the dev tools are reinstalled too on the next test or lint.
RUNTIME := $(VENV)/.installed-runtime
STAMP := $(VENV)/.installed

.PHONY: serve test lint format bench setup clean chromium containers

$(RUNTIME): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $(RUNTIME)

$(STAMP): $(RUNTIME)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# `make serve SERVE_ARGS='--host 0.0.0.0 --port 8080'` passes options on to `masthead serve`.
serve: $(RUNTIME)
	$(BIN)/masthead serve $(SERVE_ARGS)

# The web UI's browser tests drive Debian's chromium (never a browser Playwright downloads).
# Installed here when missing and we are root (apt caches the package); otherwise those tests
# skip and say why.
chromium:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 \
		|| (apt-get update >/dev/null && apt-get install -y --no-install-recommends chromium >/dev/null) \
		|| echo "chromium could not be installed: the browser tests will skip"; \
	fi

# The image and compose tests build and run containers with Debian's podman (runc for this
# machine's hybrid cgroups; debootstrap makes the base image, as no registry is reachable).
# Not podman-compose: Debian's cannot use host networking (tests/support/compose.py).
# Installed here when missing and we are root; otherwise those tests skip and say why.
CONTAINER_TOOLS := podman buildah runc debootstrap
containers:
	@missing=$$(for t in $(CONTAINER_TOOLS); do command -v $$t >/dev/null || echo $$t; done); \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y --no-install-recommends $$missing >/dev/null 2>&1 \
		|| (apt-get update >/dev/null && apt-get install -y --no-install-recommends $$missing >/dev/null) \
		|| echo "$$missing could not be installed: the container tests will skip"; \
	fi

test: $(STAMP) chromium containers
	$(BIN)/pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

# `make bench BENCH_ARGS=--profile` adds py-spy profiles (pip install py-spy); see --help.
bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
