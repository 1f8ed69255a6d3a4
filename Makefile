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

.PHONY: help venv book execute site test lint format clean

help:
	@echo "make book      execute every notebook (PROFILE=$(PROFILE)) and render the site into $(BUILD)/html"
	@echo "make test      lint, unit tests and notebook regression tests (ci profile)"
	@echo "make lab       open the notebooks in JupyterLab"
	@echo "make clean     remove $(BUILD)"

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 or run make PYTHON=python3"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[dev]"
	touch $@

venv: $(VENV)/.installed

# Execute each notebook with papermill into the build folder; the sources stay as committed.
execute: venv
	@mkdir -p $(EXEC)/notebooks $(BUILD)/results
	@for nb in $(NOTEBOOKS); do \
	  echo "== executing $$nb (profile $(PROFILE))"; \
	  NNUTILS_PROGRESS=0 NNUTILS_RESULTS=$(abspath $(BUILD)/results) $(VENV)/bin/papermill "$$nb" "$(EXEC)/$$nb" \
	    -p profile $(PROFILE) --cwd notebooks --kernel python3 --no-progress-bar || exit 1; \
	done

# Render the executed copies (notebook execution is off in _config.yml).
site: venv
	@mkdir -p $(EXEC)
	cp _config.yml _toc.yml $(EXEC)/
	cp -r book $(EXEC)/
	$(VENV)/bin/jupyter-book build $(EXEC) --path-output . --keep-going
	@echo "The site is in $(BUILD)/html/index.html"

book: execute site

lab: venv
	$(VENV)/bin/jupyter lab notebooks

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: venv
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# Unit tests and every notebook under nbval in the ci profile (NNUTILS_PROFILE overrides the parameter).
test: lint
	NNUTILS_PROFILE=ci NNUTILS_PROGRESS=0 $(PY) -m pytest -n $(JOBS) --dist loadfile tests notebooks --nbval-lax

clean:
	rm -rf $(BUILD)
