# The two commands a newcomer runs: `make demo` and `make test`.
# Everything they need is installed here: Debian's Chromium, a virtualenv, npm packages.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
TS_SOURCES := $(shell find src style schema -type f 2>/dev/null) package.json tsconfig.json
LABEXT := jupyterlab_oidc/labextension/package.json
SHARED_LABEXT := $(VENV)/share/jupyter/labextensions/jupyterlab-oidc

.PHONY: demo demo-reset lint format test test-security test-compat test-dist bench install build dist clean screenshots

# make demo [LAB_PORT=8888] [IDP_PORT=5556] [APP=lab|notebook]; state kept in .demo/ (make demo-reset)
LAB_PORT ?= 8888
IDP_PORT ?= 5556
APP ?= lab
DEMO_DIR := .demo

demo: build
	$(PY) dev/demo.py --workdir $(DEMO_DIR) --lab-port $(LAB_PORT) --idp-port $(IDP_PORT) --app $(APP)

demo-reset:
	rm -rf $(DEMO_DIR)

# Style and types: ruff (lint + format) and mypy (strict on core/) for Python; stylelint,
# prettier and eslint for the frontend. `make format` rewrites what the formatters own.
lint: install
	$(PY) -m ruff check jupyterlab_oidc tests bench dev
	$(PY) -m ruff format --check jupyterlab_oidc tests bench dev
	$(PY) -m mypy
	npm run lint:check

format: install
	$(PY) -m ruff check --fix jupyterlab_oidc tests bench dev
	$(PY) -m ruff format jupyterlab_oidc tests bench dev
	npm run lint

test: build /usr/bin/chromium
	$(MAKE) --no-print-directory lint
	npm test
	node --test dev/idp/selftest.mjs
	$(PY) -m pytest
	@if [ -f ui-tests/playwright.config.ts ]; then npx playwright test -c ui-tests/playwright.config.ts; fi
	$(MAKE) --no-print-directory lite-test  # the JupyterLite site (dev/lite/lite.mk), its own ports

# Retake the README's pictures (docs/screenshots) on purpose: every other run compares against them.
screenshots: build /usr/bin/chromium
	npx playwright test -c ui-tests/playwright.config.ts screenshots.spec.ts --update-snapshots

# The security suite with its full budgets: 600 fuzzed requests per route (10,200 + 1,200 live-state
# callbacks), a 30 s provider outage, 100 SIGKILLs during store writes (make test runs smaller ones).
test-security: install
	OIDC_SECURITY_FULL=1 $(PY) -m pytest tests/security

# The smoke subset (tests/compat) against the oldest and the newest versions the package claims,
# one virtualenv each in .compat/ (kept between runs); prints versions -> result (dev/compat.py).
test-compat: build
	$(PY) dev/compat.py

# make dist's wheel and sdist, each in a clean virtualenv with only JupyterLab (.dist-check/):
# both extensions listed OK, jupyter oidc --help, twine check and the metadata (dev/dist_check.py).
test-dist: dist
	$(PY) dev/dist_check.py dist

# Benchmarks (figures and ratios against baselines measured in the same run) -> docs/performance.md
bench: build /usr/bin/chromium /usr/bin/wrk
	$(PY) -m pip install -q -e ".[test,bench]"
	$(PY) bench/run_all.py

/usr/bin/wrk:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk

install: $(VENV)/.installed node_modules/.installed

build: install $(LABEXT) $(SHARED_LABEXT)

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q -U pip
	HATCH_BUILD_NO_HOOKS=true $(PY) -m pip install -q -e ".[test]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

$(LABEXT): $(TS_SOURCES) $(VENV)/.installed node_modules/.installed
	npm run build
	touch $@

$(SHARED_LABEXT): $(LABEXT)
	mkdir -p $(dir $@)
	rm -rf $@  # an editable pip install copies a snapshot here; link the live build instead
	ln -s $(CURDIR)/jupyterlab_oidc/labextension $@

/usr/bin/chromium:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

dist: install
	npm run build:prod
	$(PY) -m build --no-isolation --wheel --sdist

clean:
	rm -rf lib jupyterlab_oidc/labextension tsconfig.tsbuildinfo dist

# make lite / lite-serve / lite-test: the JupyterLite site (docs in dev/lite/lite.mk)
include dev/lite/lite.mk
