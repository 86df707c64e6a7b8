PYTHON ?= python3
VENV := .venv
SUPERVISOR_VENV := .venv-supervisor
BIN := $(VENV)/bin

.PHONY: run test e2e lint install dev supervisor-ref browser bench bench-streams bench-quick bench-scale clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .

dev: $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'

# Supervisor 4.3.0 in a venv of its own: the reference the compatibility tests compare against.
supervisor-ref: $(SUPERVISOR_VENV)/bin/supervisord

$(SUPERVISOR_VENV)/bin/supervisord:
	$(PYTHON) -m venv $(SUPERVISOR_VENV)
	$(SUPERVISOR_VENV)/bin/pip install -q supervisor==4.3.0 superlance==2.0.0

# Debian's chromium for the dashboard's browser tests (Playwright drives it; its own browser
# download is never used). Installed only when missing; the package lists are refreshed only
# when the install fails without them.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium

browser: $(CHROMIUM)

$(CHROMIUM):
	$(APT_INSTALL) || ($(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update && $(APT_INSTALL))

run: install
	mkdir -p examples/run
	cd examples && ../$(BIN)/supervisord -n -c supervisord.conf

lint: dev
	$(BIN)/ruff check .
	$(BIN)/mypy

test: dev supervisor-ref browser lint
	$(BIN)/pytest -n 2 --dist loadgroup tests

# Supervisor 4.3.0's own end-to-end suite against vigil's commands (also part of `test`).
e2e: dev supervisor-ref
	$(BIN)/pytest -n 0 tests/e2e

# vigil's byte-code compiled first, as an install compiles it (and as Supervisor's venv is):
# an editable install under PYTHONDONTWRITEBYTECODE would otherwise compile every module at
# every daemon start, and the benchmark would measure the compiler.
bench: dev supervisor-ref
	$(BIN)/python -m compileall -q vigil
	$(BIN)/python -m bench

# The live streams of issue 12 (bench/streams.py): state changes and log lines to followers,
# 200 subscribers on 500 programs, the JSON process list beside getAllProcessInfo.
# Options through STREAMS_ARGS, e.g. `make bench-streams STREAMS_ARGS="--quick"`.
bench-streams: dev supervisor-ref
	$(BIN)/python -m compileall -q vigil
	$(BIN)/python -m bench.streams $(STREAMS_ARGS)

bench-quick: dev supervisor-ref
	$(BIN)/python -m compileall -q vigil
	$(BIN)/python -m bench --quick

# The large-fleet workload (bench/scale.py): 1,000 to 10,000 programs, Supervisor up to 2,000.
# Options through SCALE_ARGS, e.g. `make bench-scale SCALE_ARGS="--sizes 1000,2000 --reps 1"`.
bench-scale: dev supervisor-ref
	$(BIN)/python -m compileall -q vigil
	$(BIN)/python -m bench.scale $(SCALE_ARGS)

clean:
	rm -rf $(VENV) $(SUPERVISOR_VENV) build *.egg-info
