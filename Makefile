# Every target sets up .venv itself from a fresh clone; nothing is assumed beyond
# the machine's Rust toolchain and Python 3.11.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
BOOTSTRAP := $(VENV)/.bootstrap
BUILT := $(VENV)/.built
RUST_SOURCES := $(shell find rust -name '*.rs' -o -name Cargo.toml) Cargo.toml $(wildcard Cargo.lock)

.PHONY: dev run test test-rust test-python lint proto bench peer-venv clean

$(BOOTSTRAP):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "maturin>=1.9,<2"
	touch $@

# Build the extension (release: benchmarks and tests run the real thing) and
# install the package editable with its dev extras.
$(BUILT): $(BOOTSTRAP) pyproject.toml $(RUST_SOURCES)
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin develop --release --extras dev --quiet
	touch $@

dev: $(BUILT) ## set up .venv with the package and dev tools

run: $(BUILT) ## the system in paper mode: simulators, embedded NATS, engine, files (see README)
	$(PY) -m oms run --demo

test: test-rust test-python ## cargo tests + pytest

test-rust:
	cargo test --release -p oms-core

test-python: $(BUILT)
	$(PY) -m pytest -q tests

proto: $(BUILT) ## regenerate python/oms/v1 from proto/oms/v1/*.proto
	scripts/gen_proto.sh

lint: $(BUILT) ## ruff, mypy --strict, clippy, rustfmt, stubtest of oms._core, proto drift
	rm -rf .proto-check && scripts/gen_proto.sh .proto-check >/dev/null
	diff -r python/oms/v1 .proto-check/oms/v1 -x __pycache__ || (echo "python/oms/v1 is stale: run make proto"; exit 1)
	rm -rf .proto-check
	$(VENV)/bin/ruff check python tests benches
	$(VENV)/bin/ruff format --check python tests benches
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy --strict benches
	cargo clippy --workspace --all-targets -- -D warnings
	cargo fmt --all -- --check
	$(PY) -m mypy.stubtest oms._core --allowlist .stubtest-allowlist

bench: $(BUILT) ## criterion (Rust) and Python benchmarks with baselines
	cargo bench -p oms-core --bench core
	$(PY) benches/bench_core.py

# NautilusTrader in a virtualenv of its own (never a project dependency): `make bench`
# then measures it on the same workload in the same run (../shared/peer-bench).
peer-venv: .venv-peer/bin/python
.venv-peer/bin/python:
	python3.11 -m venv .venv-peer
	.venv-peer/bin/pip install --quiet nautilus_trader==1.221.0 numpy pandas

clean:
	rm -rf $(VENV) target
