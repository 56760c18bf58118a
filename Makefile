# bertsteps: every target sets up .venv first (once), so `make test` and `make serve`
# work on a fresh machine. Run `make help` for the list.

VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.bertsteps-installed
HOST   ?= 127.0.0.1
PORT   ?= 8000
# The CPU build of torch; a torch already in $(VENV) (CUDA, MPS, your own) is kept.
TORCH_CPU       ?= torch==2.13.0+cpu
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PYTHONDONTWRITEBYTECODE := 1
export NO_MKDOCS_2_WARNING := 1

.PHONY: help install check lint test site sites serve bench clean

help:
	@echo "make serve  set up .venv, build the site (every example executed), serve it on http://$(HOST):$(PORT)"
	@echo "make check  set up .venv, lint (ruff format --check, ruff check), type-check (mypy), run the fast tests (unit, docs blocks, doctests: pytest -m 'not slow'); under 2 minutes"
	@echo "make test   set up .venv, lint and type-check, then run every test (unit, docs blocks, examples, strict build, browser)"
	@echo "make site   build the site into site/ (strict)"
	@echo "make sites CHECKPOINTS=\"bert-base-uncased bundled\"  one rendering per checkpoint in site/<name>/, with a switcher"
	@echo "make bench  run every benchmark in benchmarks/ and check the performance goals"
	@echo "make clean  remove site/ and build caches (keeps .venv)"

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	@if $(PY) -c "import torch" 2>/dev/null; then \
	  echo "keeping the torch already installed: $$($(PY) -c 'import torch; print(torch.__version__)')"; \
	elif $(PY) -m pip install -q --dry-run --no-deps --no-index "$(TORCH_CPU)" >/dev/null 2>&1; then \
	  echo "installing $(TORCH_CPU) (found on this machine)"; \
	  $(PY) -m pip install -q "$(TORCH_CPU)"; \
	elif [ "$$(uname -s)" = "Linux" ]; then \
	  echo "installing the CPU build of torch from $(TORCH_CPU_INDEX)"; \
	  $(PY) -m pip install -q torch --index-url "$(TORCH_CPU_INDEX)" --extra-index-url https://pypi.org/simple; \
	fi
	$(PY) -m pip install -q -e ".[test]"
	@touch $(STAMP)

# The linters come from the test extra; a .venv set up before one was added gets it here.
TOOLS := $(VENV)/bin/ruff $(VENV)/bin/mypy
$(TOOLS): $(STAMP)
	@test -x $@ || { rm -f $(STAMP); $(MAKE) --no-print-directory $(STAMP); }
	@test -x $@ || { echo "$@ is missing after installing .[test]: add it to the test extra in pyproject.toml"; exit 1; }

# Lint and type-check: the first steps of both `make check` and `make test`.
lint: $(STAMP) $(TOOLS)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(PY) -m mypy

# The quick loop: everything but the tests marked slow (site builds, browsers, chapters run as scripts).
check: lint
	$(PY) -m pytest -m "not slow"

test: lint
	$(PY) -m pytest

site: $(STAMP)
	$(PY) -m mkdocs build --strict

# One rendering per checkpoint ("bundled" = the default), switched by the version selector.
CHECKPOINTS ?= bundled
SITES_OUT   ?= site
sites: $(STAMP)
	$(PY) hooks/sites.py --out $(SITES_OUT) $(CHECKPOINTS)

serve: site
	@echo "serving http://$(HOST):$(PORT)/ (Ctrl-C stops; pages rebuild when you edit them)"
	$(PY) -m mkdocs serve --strict --no-livereload -a $(HOST):$(PORT)

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf site .cache .pytest_cache .hypothesis test-artifacts
