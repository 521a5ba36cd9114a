# otnet.ports — one entry point for setting up, running the lab and testing.
#   make lab    set up everything on a fresh Debian machine and run the site rollout on a local lab (root)
#   make test   set up everything and run every test (root: the firewall tests use network namespaces)
#   make lab-down  remove the lab
#   make lab-runner  the lab's site rollout and plan through ansible-runner, as AWX runs them (root, lab up)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
CACHE := $(CURDIR)/.cache
COLLECTIONS := $(CACHE)/collections
BUILD := $(CURDIR)/build
# The collections we depend on come from the PyPI "ansible" package, never from Galaxy.
ANSIBLE_PACKAGE_VERSION := 12.3.0
DEP_COLLECTIONS := ansible.windows community.windows ansible.posix cisco.ios ansible.netcommon ansible.utils
DEBIAN_PACKAGES := nftables iproute2 openssh-server shellcheck graphviz python3-venv procps
COLLECTION_VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL := $(BUILD)/otnet-ports-$(COLLECTION_VERSION).tar.gz
INSTALLED := $(COLLECTIONS)/ansible_collections/otnet/ports/MANIFEST.json

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := false
export ANSIBLE_PYTHON_INTERPRETER := $(BIN)/python
export ANSIBLE_LOCAL_TEMP := $(CACHE)/ansible-tmp
export ANSIBLE_HOME := $(CACHE)/ansible-home
export ANSIBLE_NOCOLOR := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# Every file that goes into the collection tarball: a change rebuilds and reinstalls it.
COLLECTION_SOURCES := galaxy.yml README.md requirements.yml $(shell find meta plugins roles playbooks docs changelogs \
	examples -type f -not -path '*/__pycache__/*' 2>/dev/null)

TEST_TARGETS := lint unit unit-netns docs-check integration
include $(sort $(wildcard mk/*.mk))

.PHONY: help setup sysdeps venv deps build install test check lint unit docs docs-check integration \
	benchmark clean $(TEST_TARGETS)

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))
	@echo "other targets: setup check lint unit unit-netns docs integration benchmark clean $(EXTRA_HELP)"

## ---- setup -------------------------------------------------------------------------------
setup: sysdeps venv deps install

require-root:
	@if [ "$$(id -u)" != 0 ]; then \
	  echo "error: this target needs root (network namespaces, nftables, apt-get). Run it as root or with sudo." >&2; \
	  exit 1; fi

sysdeps: require-root
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; fi

venv: $(BIN)/.installed
$(BIN)/.installed: requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements-dev.txt -c constraints.txt
	touch $@

deps: $(COLLECTIONS)/.deps-$(ANSIBLE_PACKAGE_VERSION)
$(COLLECTIONS)/.deps-$(ANSIBLE_PACKAGE_VERSION): tools/vendor_collections.py | venv
	mkdir -p $(CACHE)/wheels $(COLLECTIONS)
	$(BIN)/pip download -q --no-deps --dest $(CACHE)/wheels ansible==$(ANSIBLE_PACKAGE_VERSION)
	$(BIN)/python tools/vendor_collections.py --wheel $(CACHE)/wheels/ansible-$(ANSIBLE_PACKAGE_VERSION)-py3-none-any.whl \
	  --dest $(COLLECTIONS) $(DEP_COLLECTIONS)
	touch $@

build: $(TARBALL)
$(TARBALL): $(COLLECTION_SOURCES) | venv
	mkdir -p $(BUILD)
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD) >/dev/null
	@echo "built $@"

install: $(INSTALLED)
$(INSTALLED): $(TARBALL) | deps
	$(BIN)/ansible-galaxy collection install --offline --no-deps --force -p $(COLLECTIONS) $(TARBALL) >/dev/null
	@echo "installed otnet.ports $(COLLECTION_VERSION) into $(COLLECTIONS)"

## ---- tests -----------------------------------------------------------------------------------
test: setup
	$(MAKE) --no-print-directory $(TEST_TARGETS)
	@echo "all tests passed: $(TEST_TARGETS)"

# The part of the tests that needs no root and no namespaces.
check: venv deps install lint unit docs-check integration

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/ansible-lint --offline --profile production
	$(BIN)/python tools/check_plugin_docs.py
	shellcheck $$(git ls-files '*.sh' .ci/run)

# Unit tests marked netns make network namespaces and run ip/nft in them: `unit` (and so `check`) leaves them out.
unit: install
	$(BIN)/python -m pytest -q -m "not netns" tests/unit

unit-netns: require-root install
	$(BIN)/python -m pytest -q -m netns tests/unit

docs: install
	$(BIN)/python tools/gen_docs.py --write
	cd examples/site && $(BIN)/ansible-playbook otnet.ports.diagram -e otnet_ports_diagram_dir=$(CURDIR)/docs/diagram \
	  -e otnet_ports_diagram_name=example-site >/dev/null

docs-check: install
	$(BIN)/python tools/gen_docs.py --check

integration: install
	$(BIN)/python -m pytest -q tests/integration

benchmark: install
	$(BIN)/python benchmarks/catalog_lookup.py

clean:
	rm -rf $(BUILD) $(CACHE)/ansible-tmp .pytest_cache .ruff_cache
