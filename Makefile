# The workbook's two everyday commands: `make book` (build the site) and `make test` (run every check).
# Both create the virtual environment .venv on first use. Choose a profile with PROFILE=ci|full.

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= full
JOBS ?= 2
BUILD := _build
EXEC := $(BUILD)/executed
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))

export PYTHONHASHSEED := 0

.PHONY: help venv book execute site bench test lint format clean

help:
	@echo "make book      execute the notebooks that changed (PROFILE=$(PROFILE)) and render the site into $(BUILD)/html"
	@echo "               JOBS=N notebooks at a time (default: one per core); FORCE=1 re-runs every notebook"
	@echo "make test      lint, unit tests and notebook regression tests (ci profile)"
	@echo "make bench     time the training loops and write book/benchmarks.json (the appendix's table)"
	@echo "make lab       open the notebooks in JupyterLab"
	@echo "make clean     remove $(BUILD)"

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 or run make PYTHON=python3"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[dev]"
	touch $@

venv: $(VENV)/.installed

# Execute the notebooks with papermill into $(EXEC), several at a time; a notebook whose source, profile and
# nnutils sources are unchanged since its last successful run is skipped. The sources stay as committed.
BUILD_JOBS := $(if $(filter command line environment,$(origin JOBS)),--jobs $(JOBS))
execute: venv
	$(PY) -m nnutils.book.build --profile $(PROFILE) $(BUILD_JOBS) $(if $(FORCE),--force) --build $(BUILD)

# Render the executed copies (notebook execution is off in _config.yml).
site: venv
	$(PY) -m nnutils.book.build --stage-only --build $(BUILD)
	$(VENV)/bin/jupyter-book build $(EXEC) --path-output . --keep-going
	@echo "The site is in $(BUILD)/html/index.html"

book: execute site

# Time the training loops against the reports' style of loop; the appendix page renders book/benchmarks.json.
bench: venv
	$(PY) -m nnutils.book.bench

lab: venv
	$(VENV)/bin/jupyter lab notebooks

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: venv
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# First a browser for the last step (Debian's chromium, else Playwright's own, fetched if it can be): without one
# the browser test is skipped with one line saying how to get it, and with CI=true make test stops here, at once.
# Then unit tests and every notebook under nbval in the ci profile (NNUTILS_PROFILE overrides the parameter), then
# the site built in the ci profile and opened page by page in headless Chromium.
test: venv
	$(PY) -m nnutils.book.browser
	$(MAKE) lint
	NNUTILS_PROFILE=ci NNUTILS_PROGRESS=0 $(PY) -m pytest -n $(JOBS) --dist loadfile tests notebooks --nbval-lax \
	  --ignore=tests/test_site_browser.py
	$(MAKE) book PROFILE=ci
	$(PY) -m pytest tests/test_site_browser.py

clean:
	rm -rf $(BUILD)
