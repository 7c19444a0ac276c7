# `make lite`: the JupyterLite site of jupyterlab-oidc, from registry packages only
# (included from the Makefile). Cached under dev/lite/: a rebuild with the caches takes seconds.
LITE_DIR ?= dev/lite
LITE_VENV ?= $(LITE_DIR)/.venv
LITE_CACHE ?= $(LITE_DIR)/.cache
LITE_SITE ?= $(LITE_DIR)/_site
LITE_PORT ?= 18910
LITE_IDP_PORT ?= 18911
LITE_PYODIDE ?= 314.0.7
LITE_JUPYTERLITE ?= 0.8.6
# The PyPI wheels (the kernel's micropip, packaging, comm, ipython, jedi and their lock
# dependencies; pyodide-http and requests) are pinned to the versions of Pyodide's lock file:
# `build_site.py --requirements` prints them.
LITE_REQUIREMENTS = $(LITE_CACHE)/requirements-$(LITE_PYODIDE).txt

.PHONY: lite lite-serve lite-test lite-clean

$(LITE_VENV)/bin/jupyter-lite:
	python3 -m venv $(LITE_VENV)
	$(LITE_VENV)/bin/pip install -q jupyterlite-core==$(LITE_JUPYTERLITE) jupyterlite-pyodide-kernel==$(LITE_JUPYTERLITE)

$(LITE_CACHE)/pyodide-$(LITE_PYODIDE).tgz:
	mkdir -p $(LITE_CACHE)
	cd $(LITE_CACHE) && npm pack --silent pyodide@$(LITE_PYODIDE)

$(LITE_REQUIREMENTS): $(LITE_VENV)/bin/jupyter-lite $(LITE_CACHE)/pyodide-$(LITE_PYODIDE).tgz $(LITE_DIR)/build_site.py
	$(LITE_VENV)/bin/python $(LITE_DIR)/build_site.py --pyodide-tgz $(LITE_CACHE)/pyodide-$(LITE_PYODIDE).tgz --requirements > $@.tmp
	mv $@.tmp $@

$(LITE_CACHE)/wheels/.done: $(LITE_REQUIREMENTS)
	$(LITE_VENV)/bin/pip download -q --no-deps --only-binary=:all: --python-version 3.14 -d $(LITE_CACHE)/wheels -r $(LITE_REQUIREMENTS)
	touch $@

lite: $(LITE_VENV)/bin/jupyter-lite $(LITE_CACHE)/pyodide-$(LITE_PYODIDE).tgz $(LITE_CACHE)/wheels/.done build
	$(LITE_VENV)/bin/python $(LITE_DIR)/build_site.py --pyodide-tgz $(LITE_CACHE)/pyodide-$(LITE_PYODIDE).tgz \
	  --wheels $(LITE_CACHE)/wheels --out $(LITE_SITE) --issuer http://127.0.0.1:$(LITE_IDP_PORT) --expose-app
	@du -sh $(LITE_SITE)

# Serve the site on 127.0.0.1 (static files only; nothing else runs).
lite-serve: lite
	python3 -m http.server $(LITE_PORT) --bind 127.0.0.1 --directory $(LITE_SITE)

# Playwright against the site and the dev provider (both on 127.0.0.1).
lite-test: lite
	OIDC_LITE_SITE=$(CURDIR)/$(LITE_SITE) OIDC_LITE_PORT=$(LITE_PORT) OIDC_LITE_IDP_PORT=$(LITE_IDP_PORT) \
	  npx playwright test -c ui-tests/lite.config.ts

lite-clean:
	rm -rf $(LITE_SITE) $(LITE_CACHE) $(LITE_VENV)
