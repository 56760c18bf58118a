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

.PHONY: help install test site sites serve bench clean

help:
	@echo "make serve  set up .venv, build the site (every example executed), serve it on http://$(HOST):$(PORT)"
	@echo "make test   set up .venv, run every test (unit, docs blocks, examples, strict build, browser)"
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

test: $(STAMP)
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
