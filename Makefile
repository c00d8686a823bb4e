# Enclave: the two commands are `make run` and `make test`. Every other target is a step of
# those two. Each install step checks first, so a second run skips it in well under a second.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CARGO_LEPTOS_VERSION := 0.3.10
WASM_OPT_VERSION := 0.116.1
# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/ {getline; gsub(/"/, "", $$3); print $$3; exit}' Cargo.lock)
CHROMIUM := /usr/bin/chromium
TEST_DATABASE_URL ?=
export TEST_DATABASE_URL

.PHONY: bench help run build test tools browser e2e-deps fmt-check clippy test-rust e2e screenshots clean-e2e api-conformance conformance-deps aws-mock-deps

help:
	@echo "make run   - build a release and serve Enclave on http://127.0.0.1:3000 (SQLite in data/), proxy on 127.0.0.1:6432"
	@echo "make test  - install what is missing, then fmt, clippy, Rust tests and browser tests"

## ---- installs (idempotent) ------------------------------------------------------------

tools:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown \
	  || rustup target add wasm32-unknown-unknown
	@cargo install --list | grep -qx 'cargo-leptos v$(CARGO_LEPTOS_VERSION):' \
	  || cargo install cargo-leptos --version $(CARGO_LEPTOS_VERSION) --locked --features no_downloads
	@test -n "$(WASM_BINDGEN_VERSION)" || { echo "wasm-bindgen not found in Cargo.lock"; exit 1; }
	@cargo install --list | grep -qx 'wasm-bindgen-cli v$(WASM_BINDGEN_VERSION):' \
	  || cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)
	@cargo install --list | grep -qx 'wasm-opt v$(WASM_OPT_VERSION):' \
	  || cargo install wasm-opt --version $(WASM_OPT_VERSION) --locked

browser:
	@test -x $(CHROMIUM) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# Reinstalls only when the lockfile changed since the last install.
end2end/node_modules/.installed: end2end/package-lock.json
	cd end2end && npm ci --no-audit --no-fund
	@touch $@

e2e-deps: end2end/node_modules/.installed

# schemathesis (PyPI), pinned, in a virtualenv under target/.
SCHEMATHESIS_VERSION := 4.32.5
SCHEMATHESIS_VENV := target/schemathesis-venv
$(SCHEMATHESIS_VENV)/.installed-$(SCHEMATHESIS_VERSION):
	python3 -m venv $(SCHEMATHESIS_VENV)
	$(SCHEMATHESIS_VENV)/bin/pip install --quiet --disable-pip-version-check schemathesis==$(SCHEMATHESIS_VERSION)
	@touch $@

conformance-deps: $(SCHEMATHESIS_VENV)/.installed-$(SCHEMATHESIS_VERSION)

# moto (PyPI), pinned, in a virtualenv under target/: the AWS stand-in the AWS provider's
# tests start (scripts/aws_mock.py adds the endpoint-connection calls moto lacks).
MOTO_VERSION := 5.2.5
AWS_MOCK_VENV := target/aws-mock-venv
$(AWS_MOCK_VENV)/.installed-$(MOTO_VERSION):
	python3 -m venv $(AWS_MOCK_VENV)
	$(AWS_MOCK_VENV)/bin/pip install --quiet --disable-pip-version-check 'moto[server,ec2,elbv2]==$(MOTO_VERSION)'
	@touch $@

aws-mock-deps: $(AWS_MOCK_VENV)/.installed-$(MOTO_VERSION)

## ---- build and run -------------------------------------------------------------------

# --precompress writes a brotli and a gzip copy of every static file, served to browsers that
# accept them.
build: tools
	cargo leptos build --release --precompress

run: build
	LEPTOS_SITE_ROOT=target/site ./target/release/enclave serve --migrate --demo --embedded-proxy 127.0.0.1:6432

## ---- tests -------------------------------------------------------------------------------

fmt-check:
	cargo fmt --all -- --check

# The server side (app with `ssr`) and the browser side (app with `hydrate`, for wasm) are
# linted separately, as they are built: features must not be unified across them.
clippy: tools
	cargo clippy -p enclave -p app --all-targets --locked -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown --locked -- -D warnings

test-rust: aws-mock-deps
	cargo test -p enclave -p app --locked

e2e: build browser e2e-deps
	cd end2end && npx playwright test

# The REST API against its own OpenAPI document: no 5xx, nothing the document does not allow.
api-conformance: build conformance-deps
	scripts/api-conformance.sh target/release/enclave $(SCHEMATHESIS_VENV)/bin/st

test: tools browser e2e-deps conformance-deps aws-mock-deps fmt-check clippy test-rust api-conformance e2e

# Figures, printed (never asserted): islands wasm size (raw and gzip) and its ten biggest
# contributors (twiggy), what the first load transfers (brotli, against 250 KB), the server time to
# render a project's Network Security page, Postgres connections per second and pgbench
# (-C with 1 and 16 clients, -S with 16) through `enclave proxy` and directly, with ratios
# (needs the local Postgres on 127.0.0.1:5432).
TWIGGY_VERSION := 0.7.0
bench: build
	@cargo install --list | grep -qx 'twiggy v$(TWIGGY_VERSION):' \
	  || cargo install twiggy --version $(TWIGGY_VERSION) --locked
	python3 scripts/bench.py target/release/enclave target/site

# Copies the screenshots the last browser run took into docs/ (run by hand, then commit).
screenshots:
	mkdir -p docs/screenshots
	cp target/screenshots/*.png docs/screenshots/
