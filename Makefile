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

.PHONY: help venv book execute site bench test nbval lint format clean

help:
	@echo "make book      execute the notebooks that changed (PROFILE=$(PROFILE)) and render the site into $(BUILD)/html"
	@echo "               JOBS=N notebooks at a time (default: one per core); FORCE=1 re-runs every notebook"
	@echo "make test      lint, unit tests, then the ci book build (each notebook once: its asserts are the"
	@echo "               regression tests) and the site in headless Chromium"
	@echo "make nbval     the notebooks under nbval in the ci profile (NB=notebooks/01_kmnist.ipynb for one)"
	@echo "make bench     time the training loops and write book/benchmarks.json (the appendix's table)"
	@echo "make student   the student edition (answers as ..., no solutions) and its site in $(BUILD)/student"
	@echo "make pdf       the executed book as one PDF, $(BUILD)/pdf/book.pdf (headless Chromium), a page per chapter"
	@echo "make lab       open the notebooks in JupyterLab"
	@echo "make clean     remove $(BUILD)"

# constraints.txt holds the tested pins (torch's CPU build here); the package's own requirements stay loose.
$(VENV)/.installed: pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 or run make PYTHON=python3"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -c constraints.txt -e ".[dev]"
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

# The student edition: the notebooks with each answer as ... and no solutions (cells tagged solution removed,
# outputs cleared) in $(BUILD)/student/notebooks, and its site, rendered unexecuted, in $(BUILD)/student/_build/html.
# OUTPUTS=1 keeps the last build's outputs (from $(EXEC)) in every cell but the answers.
.PHONY: student
student: venv
	$(PY) -m nnutils.book.student --build $(BUILD) $(if $(OUTPUTS),--outputs)
	$(VENV)/bin/jupyter-book build $(BUILD)/student --path-output $(BUILD)/student --keep-going
	@echo "The student site is in $(BUILD)/student/_build/html/index.html"

# The whole book as one PDF, $(BUILD)/pdf/book.pdf: the executed copies (like site, it executes nothing) rendered as a
# single HTML page, printed by headless Chromium and checked to have a page starting each chapter of _toc.yml.
# PDF_OPTIONAL=1 (make test) skips it without Chromium, as the browser test is, except with CI=true.
.PHONY: pdf
pdf: venv
	$(PY) -m nnutils.book.pdf --build $(BUILD) $(if $(PDF_OPTIONAL),--optional)

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

# The test command executes each notebook once, in the ci book build: its asserts are the regression checks, and a
# failing cell or assert fails the build and so the test. In order: a browser for the last step (Debian's chromium,
# else Playwright's own, fetched if it can be; without one the browser test is skipped with one line saying how to
# get it, and with CI=true make test stops here, at once); lint; the unit tests (no notebooks), JOBS at a time with
# one thread each; the ci book build; the site opened page by page in headless Chromium.
test: venv
	$(PY) -m nnutils.book.browser
	$(MAKE) lint
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 NNUTILS_PROGRESS=0 $(PY) -m pytest -n $(JOBS) tests \
	  --ignore=tests/test_site_browser.py
	$(MAKE) book PROFILE=ci
	$(MAKE) pdf PDF_OPTIONAL=1
	$(PY) -m pytest tests/test_site_browser.py

# The notebooks under nbval, for whoever wants that route (make test does not need it): NB=notebooks/01_kmnist.ipynb
# for one. Several at a time share the cores (OMP_NUM_THREADS = cores / JOBS): two kernels with every core each
# oversubscribe the CPU, and OpenMP then runs several times slower.
NB ?= notebooks
CORES := $(shell nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 1)
NBVAL_JOBS = $(if $(and $(filter 1,$(words $(NB))),$(filter %.ipynb,$(NB))),1,$(JOBS))
NBVAL_THREADS = $(shell expr $(CORES) / $(NBVAL_JOBS) \| 1)
nbval: venv
	NNUTILS_PROFILE=$(if $(filter command line,$(origin PROFILE)),$(PROFILE),ci) NNUTILS_PROGRESS=0 \
	  OMP_NUM_THREADS=$(NBVAL_THREADS) MKL_NUM_THREADS=$(NBVAL_THREADS) \
	  $(PY) -m pytest --nbval-lax -p no:cacheprovider $(if $(filter-out 1,$(NBVAL_JOBS)),-n $(NBVAL_JOBS) --dist loadfile) $(NB)

clean:
	rm -rf $(BUILD)
