# vanthu — the commands a newcomer and CI use. `make test` is THE test command.
#   make up    ARGS="--data-dir /tmp/x"       start the embedded platform
#   make test  PYTEST_ARGS="-k signing -x"    run the test suite against real local servers
#   make lint                                  ruff
#   make bench ARGS="..."                      benchmarks
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Where `pip install --user uv` (scripts/bootstrap-system.sh) puts uv, for a first run.
export PATH := $(HOME)/.local/bin:$(PATH)

UV ?= uv
# Install exactly what uv.lock says, every workspace package included; never re-resolve here.
# Byte-compiled up front: processes started by tests and `vanthu up` then import fast even
# where PYTHONDONTWRITEBYTECODE is set.
UV_SYNC_FLAGS ?= --all-packages --frozen --compile-bytecode
UV_RUN := $(UV) run --frozen
ARGS ?=
PYTEST_ARGS ?=

.PHONY: help bootstrap bootstrap-system sync up test lint bench

help:
	@echo "make up [ARGS=...]          bootstrap, then start the embedded platform (vanthu up)"
	@echo "make test [PYTEST_ARGS=...] bootstrap, then run the test suite"
	@echo "make lint                   ruff check"
	@echo "make bench [ARGS=...]       bootstrap, then run the benchmarks (vanthu bench)"
	@echo "make bootstrap              system packages + uv + Python environment only"

bootstrap-system:
	@bash scripts/bootstrap-system.sh

sync: bootstrap-system
	$(UV) sync $(UV_SYNC_FLAGS)

bootstrap: sync

up: bootstrap
	$(UV_RUN) vanthu up $(ARGS)

# pytest exits 5 when it collected nothing: that is a failure here, said in words.
test: bootstrap
	@status=0; $(UV_RUN) pytest $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests - failing" >&2; fi; \
	exit $$status

lint:
	$(UV_RUN) ruff check .

bench: bootstrap
	$(UV_RUN) vanthu bench $(ARGS)
