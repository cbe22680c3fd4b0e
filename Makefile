# Two commands matter: `make book` (execute every chapter, build the Jupyter Book into
# _build/html) and `make test` (the test suite). Both create .venv when it is missing and
# install the package with its extras; when .venv is up to date they go straight to work.
#
#   PROFILE=smoke|default|full   how big the runs are (book, verify)      default: default
#   DEVICE=auto|cpu|cuda|mps     where notebooks train                    default: auto
#   CONSTRAINTS=FILE             pinned versions (CUDA machines: .ci/constraints-gpu.txt)

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= default
DEVICE ?= auto
CONSTRAINTS ?= $(if $(filter cuda,$(DEVICE)),.ci/constraints-gpu.txt,.ci/constraints-cpu.txt)
STAMP := $(VENV)/.installed-$(notdir $(CONSTRAINTS))
PYTEST_ARGS ?=

.PHONY: setup book test lint format verify bench gpu-check clean distclean

setup: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e ".[dev]"
	@rm -f $(VENV)/.installed-*
	@touch $@

book: setup
	$(BIN)/ptft book --profile $(PROFILE) --device $(DEVICE)

test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

verify: setup
	$(BIN)/ptft run-all --profile $(PROFILE) --device $(DEVICE) --out runs/verify-$(PROFILE)
	$(BIN)/ptft verify runs/verify-$(PROFILE)

bench: setup
	@mkdir -p bench-results
	@set -e; for script in tests/benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script; done

# On a CUDA machine: every chapter's smoke profile and one chapter's full profile with device=cuda,
# each record checked for the GPU it ran on, and a table of wall times beside the CPU's
# (ptft_utils/dist/gpu_check.py; about 8 minutes on one modern GPU).
gpu-check:
	@command -v nvidia-smi >/dev/null || { echo "make gpu-check: no NVIDIA GPU here (nvidia-smi not found); see book/gpu.md" >&2; exit 2; }
	$(MAKE) setup DEVICE=cuda
	$(BIN)/python -m ptft_utils.dist.gpu_check --out runs/gpu-check $(GPU_CHECK_ARGS)

clean:
	rm -rf _build runs bench-results test-artifacts .pytest_cache .ruff_cache .mypy_cache
	find . -name __pycache__ -type d -not -path "./$(VENV)/*" -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
