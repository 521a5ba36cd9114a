## ---- lab: the site rollout for real on a local lab of network namespaces (tools/lab) ---------------
# `make lab` sets everything up (Debian packages, venv, the collection built and installed), copies examples/site,
# installs the tarball offline into its ./collections, builds routers and zones from its inventory as network
# namespaces, runs its site playbook for real (the Windows part plan-only), probes every flow and prints the
# report. The lab stays up for exploration; `make lab-down` removes it. Both need root.
LAB_DIR := $(CACHE)/lab
LAB_ARGS := --prefix otlab --mgmt-cidr 10.254.0.0/24
# The CI test runs its own lab next to any `make lab` one: other state directory, prefix and management network.
LAB_TEST_DIR := $(CACHE)/lab-test
LAB_TEST_ARGS := --prefix otlabt --mgmt-cidr 10.254.3.0/24 --prove-refusal --prove-audit --prove-runner --prove-slicing \
	--no-explore
LAB_TEST_TIMEOUT := 900
LAB_PYTHON = $(if $(wildcard $(BIN)/python),$(BIN)/python,python3)
TEST_TARGETS += test-lab
EXTRA_HELP += lab-down lab-audit lab-runner test-lab benchmark-scale

.PHONY: lab lab-down lab-audit lab-runner test-lab benchmark-scale

lab: require-root setup
	@$(LAB_PYTHON) -m tools.lab down --state-dir $(LAB_DIR) >/dev/null
	$(BIN)/python -m tools.lab up --state-dir $(LAB_DIR) --tarball $(TARBALL) $(LAB_ARGS)

lab-down: require-root
	$(LAB_PYTHON) -m tools.lab down --state-dir $(LAB_DIR)

# The site audit (ansible-playbook otnet.ports.audit, read-only) against the running `make lab`; the lab's Igor
# gateway is plan-only, so it is reported not_audited and never contacted. Prints where the report is; exits 0 right
# after `make lab`, non-zero when a host has an error or warning finding.
lab-audit: require-root
	$(LAB_PYTHON) -m tools.lab audit --state-dir $(LAB_DIR)

# The site as AWX runs it, against the running `make lab`: an ansible-runner private data dir in .cache/lab/runner
# (project = the lab's copy of examples/site, inventory = the lab's inventory flattened, env/extravars, env/envvars),
# then `ansible-runner run` (process isolation off) of the project's site.yml and of otnet.ports.plan. Prints the
# artifacts' path; exits non-zero unless both jobs are `successful`.
lab-runner: require-root
	$(BIN)/python -m tools.lab runner --state-dir $(LAB_DIR)

# End to end, bounded in time, torn down whatever happens (by the PIDs and namespace names the lab recorded).
test-lab: require-root install
	@$(LAB_PYTHON) -m tools.lab down --state-dir $(LAB_TEST_DIR) >/dev/null
	@status=0; \
	timeout --kill-after=30 $(LAB_TEST_TIMEOUT) \
	  $(BIN)/python -m tools.lab up --state-dir $(LAB_TEST_DIR) --tarball $(TARBALL) $(LAB_TEST_ARGS) || status=$$?; \
	$(LAB_PYTHON) -m tools.lab down --state-dir $(LAB_TEST_DIR); \
	if [ $$status = 124 ]; then echo "test-lab: timed out after $(LAB_TEST_TIMEOUT) s" >&2; fi; \
	exit $$status

# The site rollout at 1, 8 and 32 segment routers (benchmarks/site_scale.py): wall time, time per host and the ratio
# to one router, then the no-op rerun. Its own namespaces (otsc-*) and management network, each size torn down after
# it (netlab's down, by the names and PIDs it recorded).
benchmark-scale: require-root install
	$(BIN)/python benchmarks/site_scale.py --variant current=$(TARBALL)
