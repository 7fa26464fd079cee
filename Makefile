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

.PHONY: help venv book pdf test exercises bench lab clean distclean

help:
	@echo "make book       run every notebook and build the HTML book into _build/html"
	@echo "make pdf        the print edition: _build/latex/cnn-from-scratch.pdf (needs XeLaTeX, see README)"
	@echo "make test       ruff + pytest tests/ (incl. a strict book build) + nbval on chapters/"
	@echo "make exercises  the student edition: the chapters without solutions, in exercises/"
	@echo "make lab        JupyterLab on the chapters, with this project's environment"
	@echo "make bench      speed benchmarks: layers, steps, one epoch vs PyTorch, the limits, time to accuracy: old and new recipe in cnnlib and PyTorch (35 min), then the recipes over seeds (over an hour)"
	@echo "make clean      remove build outputs and caches (keeps .venv)"
	@echo "make distclean  also remove .venv"

$(VENV_STAMP): requirements.txt pyproject.toml
	@test -x $(VENV)/bin/python || { echo "Creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "Installing requirements into $(VENV) (quiet; takes a minute the first time)"
	$(VENV)/bin/python -m pip install --quiet -r requirements.txt
	$(VENV)/bin/python -m pip install --quiet -e ".[book]"
	@touch $@

# PyTorch (requirements-torch.txt), for chapter 12 and the tests' cross-checks; cnnlib
# itself never imports it. The default asks pip's configured index, as every other
# package. On Linux that is PyPI's CUDA build (GB); a reader who wants the CPU build
# (about 200 MB) names PyTorch's CPU index:
#     make book TORCH_INDEX=https://download.pytorch.org/whl/cpu
# TORCH=no installs no PyTorch: `make book` and `make pdf` then build chapter 12 without
# running it. `make test` always installs it: it runs every cross-check against PyTorch.
TORCH ?= yes
TORCH_INDEX ?=
TORCH_STAMP := $(VENV)/.installed-torch
WITH_TORCH := $(filter-out no,$(TORCH))

$(TORCH_STAMP): requirements-torch.txt $(VENV_STAMP)
	@echo "Installing PyTorch into $(VENV)$(if $(TORCH_INDEX), from $(TORCH_INDEX)) (TORCH=no skips it)"
	$(VENV)/bin/python -m pip install --quiet -r requirements-torch.txt \
	    $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	@touch $@

venv: $(VENV_STAMP) $(if $(WITH_TORCH),$(TORCH_STAMP))

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

# Without PyTorch (TORCH=no), every other chapter is built as usual (13 times no PyTorch); chapter
# 12 is built without running it (text and code, no outputs, a note at its top says why):
# tools/book_config_without_torch.py writes that configuration.
NO_TORCH_CONFIG := _build/config-without-torch.yml
BOOK_CONFIG := $(if $(WITH_TORCH),,--config $(NO_TORCH_CONFIG))

book: $(VENV_STAMP) $(if $(WITH_TORCH),$(TORCH_STAMP)) $(BOOK_CACHE_STAMP)
	$(if $(WITH_TORCH),,python tools/book_config_without_torch.py _config.yml $(NO_TORCH_CONFIG))
	jupyter-book build . $(BOOK_FLAGS) $(BOOK_CONFIG)
	@echo
	@echo "The book is built. Open it in a browser:"
	@echo "    file://$(CURDIR)/_build/html/index.html"

# The print edition. It shares `make book`'s execution cache (run `make book` first and no
# notebook runs again); XeLaTeX and the packages in the README do the rest. Interactive
# outputs print as a still picture (book_ext/print_edition.py, with Chromium when present).
PDF := _build/latex/cnn-from-scratch.pdf
pdf: $(VENV_STAMP) $(if $(WITH_TORCH),$(TORCH_STAMP)) $(BOOK_CACHE_STAMP)
	@command -v xelatex >/dev/null && command -v latexmk >/dev/null || { \
	    echo "make pdf needs xelatex and latexmk: see the README (Debian: apt install"; \
	    echo "texlive-xetex texlive-latex-extra texlive-latex-recommended"; \
	    echo "texlive-fonts-recommended latexmk xindy fonts-freefont-otf)"; exit 1; }
	$(if $(WITH_TORCH),,python tools/book_config_without_torch.py _config.yml $(NO_TORCH_CONFIG))
	rm -rf $(dir $(PDF))  # the LaTeX builder never deletes pictures of earlier builds
	jupyter-book build . --builder pdflatex $(BOOK_FLAGS) $(BOOK_CONFIG)
	@echo
	@echo "The print edition: $(CURDIR)/$(PDF)"

# Lint, then the tests (tests/ includes test_book_build.py, which builds the book into
# $(TEST_BOOK_DIR) with warnings as errors) and every chapter notebook under nbval.
# Lint failures do not hide test results: both run, and either fails the target.
# It always installs PyTorch (TORCH=no does not apply): every cross-check against it runs.
test: $(VENV_STAMP) $(TORCH_STAMP) $(TEST_CACHE_STAMP)
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
bench: $(VENV_STAMP) $(TORCH_STAMP)
	python benchmarks/run_all.py
	python benchmarks/bench_epoch.py --winograd $(if $(BENCH_BEFORE),--before $(BENCH_BEFORE))
	python benchmarks/bench_winograd.py
	python benchmarks/bench_limits.py
	python benchmarks/bench_recipes.py --time-to-accuracy
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
	rm -rf $(VENV) *.egg-info
