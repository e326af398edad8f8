# Two commands on a fresh machine: `make run` and `make test`. Everything else is optional.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PACKAGES := sdk/pyproject.toml server/pyproject.toml classifier/pyproject.toml cost_tables/pyproject.toml

.PHONY: install run test lint typecheck proto proto-baseline proto-check buf-check unit bench image-check clean soak

$(STAMP): $(PACKAGES) requirements/constraints.txt requirements/dev.txt scripts/install-system-packages.sh
	bash scripts/install-system-packages.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements/constraints.txt \
		-e ./sdk -e './cost_tables[plot]' -e './classifier[train]' -e './server[replay,postgres]' -r requirements/dev.txt
	touch $(STAMP)

install: $(STAMP)

## Start the service on its embedded defaults (127.0.0.1:50051).
run: install
	$(BIN)/tierwise serve

## The whole test suite: generated-code freshness, buf, linters, types, pytest.
test: install proto-check buf-check lint typecheck unit

proto:
	$(BIN)/python scripts/gen_proto.py

## Record the current contract as the breaking-change baseline (at a release, deliberately).
proto-baseline:
	$(BIN)/buf build -o proto/baseline.binpb

proto-check:
	$(BIN)/python scripts/gen_proto.py --check

buf-check:
	$(BIN)/buf lint
	$(BIN)/buf breaking --against proto/baseline.binpb

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

## mypy --strict (pyproject [tool.mypy]) over every distribution, the bench and the scripts.
typecheck:
	$(BIN)/mypy sdk/src server/src cost_tables/src classifier/src bench scripts

unit:
	$(BIN)/pytest

bench: install
	$(BIN)/python -m bench.run

## A longer load test than the one in `make test`: 16 clients for 5 minutes.
soak: install
	$(BIN)/python tests/soak.py --clients 16 --duration-s 300

image-check: install
	bash scripts/image-check.sh

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
