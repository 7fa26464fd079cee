# The two commands a reader types: `make book` and `make test`. See README.md.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# Reinstall only when the requirements or the package metadata change.
VENV_STAMP := $(VENV)/.installed

# The venv's tools come first, so notebook kernels ("python" in the kernel spec) run
# the venv's interpreter with cnnlib installed.
export PATH := $(BIN):$(PATH)
export VIRTUAL_ENV := $(CURDIR)/$(VENV)

# The CIFAR-10 subset that sits beside the repository, unless the caller chose a folder.
ifeq ($(origin CNNLIB_DATA),undefined)
ifneq ($(wildcard ../shared/data/cifar10),)
export CNNLIB_DATA := $(abspath ../shared/data/cifar10)
endif
endif

# `make test` trains briefly. Its book build goes to its own folder (with its own
# execution cache), so `make book` never reuses short-trained outputs.
TEST_EPOCHS ?= 1
TEST_TRAIN_SUBSET ?= 1000
TEST_ENV := CNNLIB_EPOCHS=$(TEST_EPOCHS) CNNLIB_TRAIN_SUBSET=$(TEST_TRAIN_SUBSET)
TEST_BOOK_DIR := _build/test
NOTEBOOKS := $(sort $(wildcard chapters/*.ipynb))
PYTEST_ARGS ?=

BOOK_FLAGS := -W -n --keep-going
LAB_ARGS ?=
LAB_START := /lab/tree/chapters
# Jupyter refuses to run as root without this (containers, CI machines).
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: help venv vendor book test exercises bench lab clean distclean

help:
	@echo "make book       run every notebook and build the HTML book into _build/html"
	@echo "make test       ruff + pytest tests/ (incl. a strict book build) + nbval on chapters/"
	@echo "make exercises  the student edition: the chapters without solutions, in exercises/"
	@echo "make lab        JupyterLab on the chapters, with this project's environment"
	@echo "make bench      speed benchmarks: layers, steps, one epoch vs PyTorch, the limits, time to accuracy (tables; the last alone takes over an hour)"
	@echo "make clean      remove build outputs and caches (keeps .venv and _vendor)"
	@echo "make distclean  also remove .venv and _vendor"

$(VENV_STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(VENV)/bin/python || { echo "Creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "Installing requirements into $(VENV) (quiet; takes a minute the first time)"
	$(VENV)/bin/python -m pip install --quiet -r requirements-dev.txt
	$(VENV)/bin/python -m pip install --quiet -e ".[book]"
	@touch $@

venv: $(VENV_STAMP)

# MathJax, require.js and the widget manager from the npm registry into _vendor/
# (skipped when already there).
vendor:
	@tools/vendor_js.sh

# The execution cache is keyed on each notebook's own code, not on the cnnlib code it
# imports: when cnnlib changes, drop the cache so every figure and number is recomputed.
# Every file of the package, in every subfolder (find, not a one-level wildcard).
CNNLIB_SOURCES := $(shell find cnnlib -type f \( -name '*.py' -o -name '*.js' -o -name '*.css' \) -not -path '*/__pycache__/*')
BOOK_CACHE_STAMP := _build/.cnnlib-stamp
TEST_CACHE_STAMP := $(TEST_BOOK_DIR)/.cnnlib-stamp

define clear_cache_when_cnnlib_changed
	@if [ -d $(1) ]; then echo "cnnlib changed: clearing $(1)"; rm -rf $(1); fi
	@mkdir -p $(dir $@) && touch $@
endef

$(BOOK_CACHE_STAMP): $(CNNLIB_SOURCES)
	$(call clear_cache_when_cnnlib_changed,_build/.jupyter_cache)

$(TEST_CACHE_STAMP): $(CNNLIB_SOURCES)
	$(call clear_cache_when_cnnlib_changed,$(TEST_BOOK_DIR)/_build/.jupyter_cache)

book: $(VENV_STAMP) vendor $(BOOK_CACHE_STAMP)
	jupyter-book build . $(BOOK_FLAGS)
	@echo
	@echo "The book is built. Open it in a browser:"
	@echo "    file://$(CURDIR)/_build/html/index.html"

# Lint, then the tests (tests/ includes test_book_build.py, which builds the book into
# $(TEST_BOOK_DIR) with warnings as errors) and every chapter notebook under nbval.
# Lint failures do not hide test results: both run, and either fails the target.
test: $(VENV_STAMP) vendor $(TEST_CACHE_STAMP)
	@ruff_status=0; ruff check . || ruff_status=$$?; \
	pytest_status=0; \
	$(TEST_ENV) CNNLIB_BOOK_TEST_DIR=$(TEST_BOOK_DIR) \
	    python -m pytest tests $(NOTEBOOKS) --nbval-lax --nbval-current-env $(PYTEST_ARGS) \
	    || pytest_status=$$?; \
	if [ $$ruff_status -ne 0 ]; then echo "ruff check failed (exit $$ruff_status)"; fi; \
	if [ $$pytest_status -ne 0 ]; then echo "pytest failed (exit $$pytest_status)"; fi; \
	[ $$ruff_status -eq 0 ] && [ $$pytest_status -eq 0 ]

# The student edition: every chapter without its exercise-solution cells, outputs cleared.
# A notebook already in exercises/ is kept (it may hold a reader's work); pass
# EXERCISES_ARGS=--force to overwrite.
EXERCISES_ARGS ?=
exercises: $(VENV_STAMP)
	python tools/make_exercises.py --out exercises $(EXERCISES_ARGS)
	@echo "Open them in JupyterLab: make lab LAB_START=/lab/tree/exercises"

# BENCH_BEFORE=DIR (another checkout, e.g. `git worktree add /tmp/before <commit>`) adds
# that cnnlib to the end-to-end table, for before/after numbers from one run.
BENCH_BEFORE ?=
bench: $(VENV_STAMP)
	python benchmarks/run_all.py
	python benchmarks/bench_epoch.py --winograd $(if $(BENCH_BEFORE),--before $(BENCH_BEFORE))
	python benchmarks/bench_winograd.py
	python benchmarks/bench_limits.py
	python benchmarks/bench_recipes.py

# The notebook server is offline: no news feed, no update check.
lab: $(VENV_STAMP)
	jupyter lab --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=$(LAB_START) \
	    --LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate \
	    $(LAB_ROOT) $(LAB_ARGS)

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) _vendor *.egg-info
