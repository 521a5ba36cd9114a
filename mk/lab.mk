## ---- lab: the site rollout for real on a local lab of network namespaces (tools/lab) ---------------
# `make lab` sets everything up (Debian packages, venv, the collection built and installed), copies examples/site,
# installs the tarball offline into its ./collections, builds routers and zones from its inventory as network
# namespaces, runs its site playbook for real (the Windows part plan-only), probes every flow and prints the
# report. The lab stays up for exploration; `make lab-down` removes it. Both need root.
LAB_DIR := $(CACHE)/lab
LAB_ARGS := --prefix otlab --mgmt-cidr 10.254.0.0/24
# The CI test runs its own lab next to any `make lab` one: other state directory, prefix and management network.
LAB_TEST_DIR := $(CACHE)/lab-test
LAB_TEST_ARGS := --prefix otlabt --mgmt-cidr 10.254.3.0/24 --prove-refusal --no-explore
LAB_TEST_TIMEOUT := 900
LAB_PYTHON = $(if $(wildcard $(BIN)/python),$(BIN)/python,python3)
TEST_TARGETS += test-lab
EXTRA_HELP += lab-down test-lab

.PHONY: lab lab-down test-lab

lab: require-root setup
	@$(LAB_PYTHON) -m tools.lab down --state-dir $(LAB_DIR) >/dev/null
	$(BIN)/python -m tools.lab up --state-dir $(LAB_DIR) --tarball $(TARBALL) $(LAB_ARGS)

lab-down: require-root
	$(LAB_PYTHON) -m tools.lab down --state-dir $(LAB_DIR)

# End to end, bounded in time, torn down whatever happens (by the PIDs and namespace names the lab recorded).
test-lab: require-root install
	@$(LAB_PYTHON) -m tools.lab down --state-dir $(LAB_TEST_DIR) >/dev/null
	@status=0; \
	timeout --kill-after=30 $(LAB_TEST_TIMEOUT) \
	  $(BIN)/python -m tools.lab up --state-dir $(LAB_TEST_DIR) --tarball $(TARBALL) $(LAB_TEST_ARGS) || status=$$?; \
	$(LAB_PYTHON) -m tools.lab down --state-dir $(LAB_TEST_DIR); \
	if [ $$status = 124 ]; then echo "test-lab: timed out after $(LAB_TEST_TIMEOUT) s" >&2; fi; \
	exit $$status
