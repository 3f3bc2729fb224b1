# Passkey Provisioner — build, test, demo.
#
#   make demo     the offline demo (sets everything up first)
#   make test     lint + unit tests + real-browser tests (sets everything up first)
#   make build    the unpacked extension in dist/extension/
#   make package  a store-ready zip in dist/
#   make bench    figures: sizes, timings
#
# Every target that needs tools calls `setup`, which installs only what is
# missing and is quick when nothing is.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
WASM_TARGET := wasm32-unknown-unknown
WASM_DIR := target/$(WASM_TARGET)/wasm-release
DIST := dist/extension
# wasm-bindgen-cli must match the wasm-bindgen crate exactly: read it from the lock.
WBG_VERSION = $(shell awk '/^name = "wasm-bindgen"$$/ { getline; gsub(/"/, "", $$3); print $$3; exit }' Cargo.lock)
# fonts-noto-cjk and fonts-noto-core: Chinese, Japanese, Korean, Arabic and
# Hebrew text in screenshots of the pages and the panel (not boxes).
APT_PACKAGES := chromium libssl-dev pkg-config zip fonts-noto-cjk fonts-noto-core
WASM_CRATES := ext-worker ext-ui
# Crates whose sources end up in the WASM; a change in any rebuilds it.
WASM_SOURCES := $(shell find crates/protocol crates/engine crates/chrome-api crates/ext-worker crates/ext-ui -name '*.rs' -o -name Cargo.toml) Cargo.toml Cargo.lock
STATIC := $(shell find extension -type f -not -path 'extension/build/*')
VERSION := $(shell sed -n 's/^  "version": "\(.*\)",/\1/p' manifest.json)

.SECONDARY:
.PHONY: FORCE setup setup-apt setup-rust setup-node setup-npm build test lint unit browser-test demo bench package clean fixtures

## setup: idempotent; installs only what is missing.
setup: setup-apt setup-rust setup-node setup-npm

# The build and the tests need Node.js 20 or later (node --test with
# --test-concurrency, fetch); Debian 12's own nodejs is 18.
setup-node:
	@v=$$( (node --version 2>/dev/null || echo v0) | sed 's/^v//; s/\..*//'); \
	if [ "$$v" -lt 20 ]; then \
	  echo "setup: Node.js 20 or later is needed (found '$$(node --version 2>/dev/null || echo none)'); installing nodejs and npm from Debian"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends nodejs npm; \
	  v=$$( (node --version 2>/dev/null || echo v0) | sed 's/^v//; s/\..*//'); \
	  if [ "$$v" -lt 20 ]; then echo "setup: Node.js $$v is too old; install Node.js 20 or later and run make again" >&2; exit 1; fi; \
	fi

setup-apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "setup: installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing fonts-liberation; \
	fi

setup-rust:
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	@test -f Cargo.lock || cargo generate-lockfile
	@want="$(WBG_VERSION)"; have="$$( (wasm-bindgen --version 2>/dev/null || true) | awk '{print $$2}')"; \
	if [ "$$have" != "$$want" ]; then \
	  echo "setup: installing wasm-bindgen-cli $$want (found '$$have'); takes a few minutes"; \
	  cargo install wasm-bindgen-cli --version "$$want" --force; \
	fi

setup-npm: setup-node tests/node_modules/.package-lock.json

tests/node_modules/.package-lock.json: tests/package-lock.json tests/package.json
	cd tests && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## build: the unpacked extension in dist/extension/.
build: setup-rust setup-node $(DIST)/manifest.json $(DIST)/wasm/ext_worker_bg.wasm $(DIST)/wasm/ext_ui_bg.wasm $(STATIC:extension/%=$(DIST)/%)

# One cargo run makes both (a grouped target, so make runs it once).
$(WASM_DIR)/ext_worker.wasm $(WASM_DIR)/ext_ui.wasm &: $(WASM_SOURCES)
	cargo build --profile wasm-release --target $(WASM_TARGET) $(addprefix -p ,$(WASM_CRATES))
	@touch $(WASM_DIR)/ext_worker.wasm $(WASM_DIR)/ext_ui.wasm

$(DIST)/wasm/%_bg.wasm: $(WASM_DIR)/%.wasm
	wasm-bindgen --target web --no-typescript --out-dir $(DIST)/wasm $<

# PANEL_ORIGINS goes into the manifest; a stamp that changes only with its
# value makes `PANEL_ORIGINS=... make build` rebuild the manifest.
ORIGINS_STAMP := target/panel-origins.stamp
$(ORIGINS_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(PANEL_ORIGINS)' | cmp -s - $@ || echo '$(PANEL_ORIGINS)' > $@

$(DIST)/manifest.json: manifest.json extension/build/manifest.mjs $(ORIGINS_STAMP)
	@mkdir -p $(DIST)
	node extension/build/manifest.mjs manifest.json $@

$(DIST)/%: extension/%
	@mkdir -p $(dir $@)
	cp $< $@

## test: everything CI checks.
test: setup build lint unit browser-test

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy --target $(WASM_TARGET) $(addprefix -p ,$(WASM_CRATES)) -p protocol -p chrome-api -- -D warnings

unit:
	cargo test --workspace

# The browser tests run the binaries `cargo test` builds (entra-sim, panel,
# examples); `--no-run` builds them with the same features, so nothing is
# compiled twice.
browser-test: setup-npm
	cargo test --workspace --no-run --quiet
	cd tests && node --test --test-concurrency=1 --test-reporter=spec

## demo: the offline demo (grows with the product).
demo: setup build
	cargo test --workspace --no-run --quiet
	cd tests && node demo.mjs

## fixtures: re-capture the engine's page fixtures from the simulator.
fixtures: setup build
	cargo test --workspace --no-run --quiet
	cd tests && node tools/capture-fixtures.mjs

## bench: figures, each a median or percentile over repeated runs. Never
## fails on a slow machine; compare runs on the same machine.
bench: setup build
	cargo test --workspace --no-run --quiet
	@echo "== extension: provisioning wall time, overhead per transition, cold start, WASM sizes"
	cd tests && node bench.mjs
	@echo "== simulator: page latency with 50 concurrent sign-in flows, memory"
	cargo run --quiet --release -p entra-sim --example bench -- --flows 50 --iterations 5
	@echo "== panel: API latency with 50 concurrent clients, import of 10,000 users"
	cargo test --quiet --release -p panel --test bench -- --ignored --nocapture

## package: a zip for the Chrome Web Store and Edge Add-ons (no dev key).
package: setup-apt build
	@rm -rf dist/package && mkdir -p dist/package
	cp -r $(DIST)/. dist/package/
	node extension/build/manifest.mjs manifest.json dist/package/manifest.json --store
	cd dist/package && zip -qr -X ../passkey-provisioner-$(VERSION).zip .
	@rm -rf dist/package
	@echo "dist/passkey-provisioner-$(VERSION).zip"

clean:
	rm -rf dist tests/artifacts
